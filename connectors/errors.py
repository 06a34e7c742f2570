"""Errors a source raises for bad data: each names the file, the row (or line) and the column."""

from __future__ import annotations

from dataclasses import dataclass

MAX_LISTED = 20


@dataclass(frozen=True, order=True)
class CellError:
    """One bad cell (or row, when column is None) in a source file."""

    file: str
    row: int
    column: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.row}"
        return f"{where}: column {self.column!r}: {self.message}" if self.column else f"{where}: {self.message}"


class SourceDataError(Exception):
    """A source's rows failed validation; nothing from that load may be written."""

    def __init__(self, source: str, errors: list[CellError]):
        self.source = source
        self.errors = sorted(errors)
        shown = [str(e) for e in self.errors[:MAX_LISTED]]
        more = len(self.errors) - len(shown)
        if more:
            shown.append(f"... and {more} more")
        super().__init__(f"source {source!r}: {len(self.errors)} bad value(s)\n" + "\n".join(shown))
