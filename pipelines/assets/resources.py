"""Resources shared by the assets: where okr_defs live and the one DuckDB file."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource

from pipelines.lib import db
from pipelines.lib.paths import DEFAULT_DB_PATH, DEFAULT_DEFS_DIR, db_path_from_env, defs_dir_from_env  # noqa: F401
from pipelines.lib.spec import OkrDefs, load_defs


class OkrDefsResource(dg.ConfigurableResource):
    """The analysts' okr_defs folder; loaded (and fully validated) each time a step needs it."""

    path: str

    def load(self) -> OkrDefs:
        return load_defs(Path(self.path))


class WarehouseResource(DuckDBResource):
    """DuckDBResource whose connections attach the file as catalog `warehouse` (see pipelines.lib.db)."""

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with db.connect(self.database) as conn:
            yield conn
