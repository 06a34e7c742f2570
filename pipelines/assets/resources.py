"""Resources shared by the assets: where okr_defs live and the one DuckDB file."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource

from pipelines.lib import db
from pipelines.lib.spec import OkrDefs, load_defs

DEFAULT_DEFS_DIR = "okr_defs"
DEFAULT_DB_PATH = "data/okr.duckdb"


class OkrDefsResource(dg.ConfigurableResource):
    """The analysts' okr_defs folder; loaded (and fully validated) each time a step needs it."""

    path: str

    def load(self) -> OkrDefs:
        return load_defs(Path(self.path))


def defs_dir_from_env() -> Path:
    """OKR_DEFS_DIR, else ./okr_defs. Called when the code location loads, never at import."""
    return Path(os.environ.get("OKR_DEFS_DIR") or DEFAULT_DEFS_DIR)


def db_path_from_env() -> Path:
    """DUCKDB_PATH, else ./data/okr.duckdb."""
    return Path(os.environ.get("DUCKDB_PATH") or DEFAULT_DB_PATH)


class WarehouseResource(DuckDBResource):
    """DuckDBResource whose connections attach the file as catalog `warehouse` (see pipelines.lib.db)."""

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with db.connect(self.database) as conn:
            yield conn
