"""`python -m pipelines.cli` is the same as the `okr` console script."""

from pipelines.cli.app import main

main()
