"""Shared by the campaign-map and FX tests: file sources loaded the way the raw file asset loads them,
then the mart built the way the mart asset builds it (pipelines.lib.mart.build_mart)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from connectors import read_file_feed
from pipelines.lib import db, storage
from pipelines.lib.feeds import file_feed
from pipelines.lib.mart import build_mart
from pipelines.lib.spec import OkrDefs, load_defs
from pipelines.lib.spec.models import FileSource
from tests.conftest import write_defs


def load_files(conn: duckdb.DuckDBPyConnection, defs: OkrDefs) -> None:
    """Every file source of defs into the raw layer (read, validate, replace its window)."""
    storage.ensure_schema(conn)
    for name, source in defs.sources.items():
        if not isinstance(source, FileSource):
            continue
        feed = file_feed(defs, name)
        load = read_file_feed(feed)
        long = storage.to_long(load.frame, name, list(feed.metrics))
        storage.replace_source_window(conn, "file", name, long, load.date_range)


def make_defs(root: Path, files: dict[str, str]) -> OkrDefs:
    return load_defs(write_defs(root, files))


def build_warehouse(tmp_path: Path, files: dict[str, str]) -> tuple[OkrDefs, Path]:
    """Write okr_defs (and data files) under tmp_path, load the raw layer and build the mart."""
    defs = make_defs(tmp_path / "okr_defs", files)
    path = tmp_path / "okr.duckdb"
    with db.connect(path) as conn:
        load_files(conn, defs)
        build_mart(conn, defs)
    return defs, path
