"""Demo team: generated exports and the shipped okr_defs."""
