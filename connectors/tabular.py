"""Read CSV and Parquet exports into string-typed frames that remember each row's file and line.

The csv module (not pandas' parser) reads CSV so that every record keeps its physical line number:
an analyst told `export.csv:4127` can open the file at that line.
"""

from __future__ import annotations

import codecs
import csv
import glob
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from connectors.errors import CellError, SourceDataError

FILE_COL = "__file"
LINE_COL = "__line"
SNIFF_DELIMITERS = ",;\t|"


@dataclass(frozen=True)
class TableFormat:
    format: str | None = None  # "csv" | "parquet"; from the extension when None
    delimiter: str | None = None  # sniffed when None
    encoding: str = "utf-8-sig"  # strips a UTF-8 BOM when present


def expand(pattern: str) -> list[Path]:
    """Files matching a glob, sorted so that loads are deterministic."""
    return sorted(Path(p) for p in glob.glob(pattern, recursive=True) if Path(p).is_file())


def read_tables(source: str, files: list[Path], fmt: TableFormat, required: dict[str, str]) -> pd.DataFrame:
    """Concatenate files into one frame of raw cells plus __file and __line columns.

    Every file must carry the `required` columns ({role: header name}); all missing ones are reported.
    """
    frames = [_read_one(source, path, fmt) for path in files]
    errors = [
        CellError(str(path), 1, column, f"column for {role} not found in the header")
        for path, frame in zip(files, frames, strict=True)
        for role, column in required.items()
        if column not in frame.columns
    ]
    if errors:
        raise SourceDataError(source, errors)
    if not frames:
        return pd.DataFrame(columns=[FILE_COL, LINE_COL])
    return pd.concat(frames, ignore_index=True)


def _read_one(source: str, path: Path, fmt: TableFormat) -> pd.DataFrame:
    kind = fmt.format or ("parquet" if path.suffix.lower() in {".parquet", ".pq"} else "csv")
    if kind == "parquet":
        frame = pd.read_parquet(path)
        frame[LINE_COL] = range(1, len(frame) + 1)  # parquet has rows, not lines
        frame[FILE_COL] = str(path)
        return frame
    return _read_csv(source, path, fmt)


def _read_csv(source: str, path: Path, fmt: TableFormat) -> pd.DataFrame:
    """Records with their line numbers; undecodable bytes or an unreadable record fail as a SourceDataError
    naming the line, like any bad cell (never a bare UnicodeDecodeError or csv.Error)."""
    try:
        return _parse_csv(source, path, fmt)
    except UnicodeDecodeError as exc:
        message = f"not valid {fmt.encoding} text ({exc.reason}); set `encoding` for this source in sources.yaml"
        raise SourceDataError(
            source, [CellError(str(path), _line_of_bad_byte(path, fmt.encoding), None, message)]
        ) from None
    except LookupError:
        message = f"unknown encoding {fmt.encoding!r}; set `encoding` to a Python codec name, e.g. utf-8 or cp1252"
        raise SourceDataError(source, [CellError(str(path), 1, None, message)]) from None


def _parse_csv(source: str, path: Path, fmt: TableFormat) -> pd.DataFrame:
    with path.open(encoding=fmt.encoding, newline="") as handle:
        delimiter = fmt.delimiter or _sniff(handle.read(65536))
        handle.seek(0)
        reader = csv.reader(handle, delimiter=delimiter)
        try:
            header = next(reader, None)
        except csv.Error as exc:
            raise SourceDataError(source, [CellError(str(path), 1, None, f"unreadable CSV header: {exc}")]) from None
        if header is None:
            return pd.DataFrame(columns=[FILE_COL, LINE_COL])
        header = [h.strip() for h in header]
        rows, lines, errors = [], [], []
        while True:
            try:
                record = next(reader, None)
            except csv.Error as exc:  # e.g. a field over the csv module's size limit: the rest cannot be trusted
                errors.append(CellError(str(path), reader.line_num, None, f"unreadable CSV record: {exc}"))
                break
            if record is None:
                break
            if not record or all(not cell.strip() for cell in record):
                continue
            if len(record) != len(header):
                errors.append(
                    CellError(
                        str(path),
                        reader.line_num,
                        None,
                        f"expected {len(header)} fields, found {len(record)}",
                    )
                )
                continue
            rows.append(record)
            lines.append(reader.line_num)
    if errors:
        raise SourceDataError(source, errors)
    frame = pd.DataFrame(rows, columns=_dedupe(header), dtype=object)
    frame[LINE_COL] = lines
    frame[FILE_COL] = str(path)
    return frame


def _line_of_bad_byte(path: Path, encoding: str) -> int:
    """The 1-based line holding the first undecodable byte (the file is decoded whole once, on failure only)."""
    data = path.read_bytes()
    try:
        data.decode(encoding)
    except UnicodeDecodeError as exc:
        # utf-8-sig reports offsets after the BOM it strips
        skipped = len(codecs.BOM_UTF8) if "sig" in encoding.lower() and data.startswith(codecs.BOM_UTF8) else 0
        return data.count(b"\n", 0, exc.start + skipped) + 1
    return 1


def _sniff(sample: str) -> str:
    """The candidate that splits the header line most often; csv.Sniffer guesses wrong on one-line samples."""
    header = sample.splitlines()[0] if sample else ""
    counts = {d: header.count(d) for d in SNIFF_DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _dedupe(header: list[str]) -> list[str]:
    """Repeated header names get a suffix, as pandas would, so no column silently shadows another."""
    seen: dict[str, int] = {}
    out = []
    for name in header:
        count = seen.get(name, 0)
        out.append(name if count == 0 else f"{name}.{count}")
        seen[name] = count + 1
    return out
