"""Reading export files: what cannot be read at all is a SourceDataError naming the file and line, like a bad cell."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.errors import SourceDataError
from connectors.tabular import TableFormat, read_tables

REQUIRED = {"date": "day", "metric clicks": "clicks"}


def read(path: Path, fmt: TableFormat | None = None) -> list[str]:
    with pytest.raises(SourceDataError) as caught:
        read_tables("shop", [path], fmt or TableFormat(), REQUIRED)
    return [str(e) for e in caught.value.errors]


def test_bytes_that_are_not_utf8_name_their_line_and_the_setting_to_change(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes("day,clicks\n2026-01-01,3\n2026-01-02,4\nCafé,5\n".encode("cp1252"))  # a spreadsheet's export
    assert read(path) == [
        f"{path}:4: not valid utf-8-sig text (invalid continuation byte); set `encoding` for this source in sources.yaml"
    ]
    frame = read_tables("shop", [path], TableFormat(encoding="cp1252"), REQUIRED)  # the fix the message names
    assert frame["day"].tolist() == ["2026-01-01", "2026-01-02", "Café"]
    assert frame["__line"].tolist() == [2, 3, 4]


def test_a_field_over_the_csv_size_limit_fails_at_its_line(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text("day,clicks\n2026-01-01,1\n2026-01-02," + "9" * 200_000 + "\n2026-01-03,2\n", encoding="utf-8")
    assert read(path) == [f"{path}:3: unreadable CSV record: field larger than field limit (131072)"]


def test_an_unknown_encoding_is_a_source_error_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text("day,clicks\n2026-01-01,1\n", encoding="utf-8")
    assert read(path, TableFormat(encoding="utf-9")) == [
        f"{path}:1: unknown encoding 'utf-9'; set `encoding` to a Python codec name, e.g. utf-8 or cp1252"
    ]
