"""The `okr` command line: validate, run, scores, demo."""
