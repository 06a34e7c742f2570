"""Pure logic importable without a Dagster instance: okr_defs spec, DuckDB storage, scoring SQL."""
