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


class SourceApiError(Exception):
    """A platform API refused a request, or kept failing after bounded retries; nothing from that load may be written.

    It carries what a person needs to act on it (the platform's error code, its request id, the offending field)
    and never a credential: messages from the platform are redacted before they get here.
    """

    def __init__(
        self,
        source: str,
        message: str,
        *,
        code: str | None = None,
        request_id: str | None = None,
        field: str | None = None,
        transient: bool = False,
    ):
        self.source = source
        self.code = code
        self.request_id = request_id
        self.field = field
        self.transient = transient
        super().__init__(f"source {source!r}: {message}")


class Ga4Error(Exception):
    """A GA4 load that a retry cannot fix (bad config, permission, invalid field, quota gone).

    The message names the source, the property and, when one is to blame, the field, so an analyst can
    fix `sources.yaml` without reading a stack trace. It never carries credentials or tokens.
    """

    def __init__(self, source: str, property_id: str, message: str, field: str | None = None):
        self.source = source
        self.property_id = property_id
        self.field = field
        super().__init__(f"source {source!r}, GA4 property {property_id}: {message}")
