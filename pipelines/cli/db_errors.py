"""DuckDB failures as one message a person can act on, never a traceback.

Why: the database file is the one resource every command shares. When another process holds its lock
(a second `okr run`, `dagster dev`, a notebook) or the disk is full, DuckDB's own message already names
the file and the cause; the command prints it with what to do, and exits 1. Every write is one
transaction, so the file keeps its previous contents.
"""

from __future__ import annotations

import duckdb

LOCKED = "Could not set lock on file"


def describe(exc: duckdb.Error) -> str:
    """DuckDB's message plus the next step for the faults an operator meets."""
    message = str(exc).strip()
    if LOCKED in message:
        hint = (
            "another process is using the database (a second `okr run`, `dagster dev` or a notebook): "
            "wait for it to finish or close it, then run again"
        )
    elif "File too large" in message or "No space left" in message:
        hint = "the disk (or the process's file size limit) is full: free space, then run again"
    else:
        hint = "the database was not changed by the failed step"
    return f"database error: {message}\n{hint}; the database keeps its previous contents"
