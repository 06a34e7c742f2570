"""Where okr_defs and the database are by default. Light on imports: every `okr` command reads it."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_DEFS_DIR = "okr_defs"
DEFAULT_DB_PATH = "data/okr.duckdb"


def defs_dir_from_env() -> Path:
    """OKR_DEFS_DIR, else ./okr_defs. Called when needed, never at import."""
    return Path(os.environ.get("OKR_DEFS_DIR") or DEFAULT_DEFS_DIR)


def db_path_from_env() -> Path:
    """DUCKDB_PATH, else ./data/okr.duckdb."""
    return Path(os.environ.get("DUCKDB_PATH") or DEFAULT_DB_PATH)
