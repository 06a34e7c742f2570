"""Plain-Python source clients (no dagster import): each returns rows at the unified campaign-day grain."""

from connectors.errors import CellError, SourceDataError
from connectors.file_source import FileFeed, FileLoad, MetricColumn, read_file_feed

__all__ = ["CellError", "FileFeed", "FileLoad", "MetricColumn", "SourceDataError", "read_file_feed"]
