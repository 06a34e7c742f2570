"""okr-autoscore: the Dagster code location and the pure logic it runs (spec, storage, scoring)."""
