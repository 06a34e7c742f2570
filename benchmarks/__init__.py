"""Benchmarks of the scoring engine against a hand-written SQL pass and an analyst's pandas loop (`make bench`)."""
