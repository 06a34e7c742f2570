"""Fuzzing the file source: whatever bytes an export holds, a load either succeeds and stores exactly what it
read, or fails with `SourceDataError` (file, line, column) and the database is left as it was.

Why fuzz here: CSV exports are the one input nobody on the team controls (any platform, any spreadsheet,
any encoding). The cases mix well-formed rows with BOMs, other delimiters, broken quoting, stray bytes,
huge or negative numbers and text meant to break SQL. 100 examples by default; the `slow`-marked variant
runs OKR_HEAVY_EXAMPLES (2,500 by default; `pytest -m slow`, run by CI).
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, given, note, settings
from hypothesis import strategies as st

from connectors.errors import SourceDataError
from connectors.file_source import FileFeed, MetricColumn, read_file_feed
from pipelines.lib import db, storage
from tests.conftest import HEAVY_EXAMPLES
from tests.reliability_kit import checksums_of

FAST = settings(
    max_examples=100,
    deadline=None,
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
    database=None,  # no .hypothesis/ folder in the repository; a failure prints its reproducing example
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)
HEAVY = settings(FAST, max_examples=HEAVY_EXAMPLES)
SLOW_SELECTED = "'slow' in config.getoption('markexpr') and 'not slow' not in config.getoption('markexpr')"
heavy_only = pytest.mark.skipif(f"not ({SLOW_SELECTED})", reason="heavy fuzzing: run with -m slow")

HEADER = ["day", "campaign", "clicks", "spend"]
HOSTILE_TEXT = [
    "x'; DROP TABLE raw.file_exports; --",
    '"; DELETE FROM okr.score_history; --',
    "Robert'); TRUNCATE marts.campaign_daily_metrics;--",
    "<script>alert(1)</script>",
    "${jndi:ldap://x}",
    "Tết 🎉",
    "(not set)",
    "",
    " ",
    "=1+1",
    "\\N",
    "NULL",
    "%s%s%n",
]
NUMBERS = [
    "0",
    "-0",
    "1",
    "12.5",
    "-3",
    "1e308",
    "1e309",
    "-1e40",
    "123456789012345678901234567890123",
    "99999999999999999999999999999999.999999",
    "0.0000001",
    "1,000",
    "1 000",
    "nan",
    "NaN",
    "inf",
    "-Infinity",
    "0x10",
    "1_000",
    "٣",  # Arabic-Indic three
    "",
]
DATES = ["2026-01-01", "2026-01-02", "2026-1-3", "2026-02-30", "01/02/2026", "20260104", "9999-12-31", "0001-01-01", ""]


VALID = {
    "day": st.sampled_from(["2026-01-01", "2026-01-02", "2026-01-31", "2025-12-31", " 2026-01-05 "]),
    "campaign": st.one_of(st.sampled_from(HOSTILE_TEXT), st.text(max_size=12)),
    "clicks": st.one_of(st.integers(0, 10**9).map(str), st.sampled_from(["", "0", "12.0", " 7 "])),
    "spend": st.one_of(
        st.decimals(-(10**9), 10**9, places=6, allow_nan=False, allow_infinity=False).map(str),
        st.sampled_from(["", "-0", "1e3", "0.000001"]),
    ),
}


def cell(kind: str, clean: bool) -> st.SearchStrategy[str]:
    """A cell of the column: one a platform would write, or (unless the export is clean) anything at all."""
    if clean:
        return VALID[kind]
    choices = {"day": DATES, "campaign": HOSTILE_TEXT, "clicks": NUMBERS, "spend": NUMBERS}[kind]
    return st.one_of(VALID[kind], st.sampled_from(choices), st.text(max_size=12))


@st.composite
def exports(draw: st.DrawFn) -> bytes:
    """An export file: a header (maybe reordered, maybe missing a column) and rows, written as a platform
    would, or with broken quoting, another delimiter, a BOM, CRLF, stray bytes, or cut short."""
    clean = draw(st.booleans())  # half the exports are well formed, so loads that succeed are checked too
    header = draw(st.permutations(HEADER))
    if not clean and draw(st.integers(0, 9)) == 0:
        header = header[:-1]  # a column the feed needs is missing
    extra = draw(st.sampled_from([[], ["note"]]))
    columns = [*header, *extra]
    rows = draw(
        st.lists(
            st.fixed_dictionaries({c: cell(c, clean) if c in HEADER else st.text(max_size=8) for c in columns}),
            max_size=8,
        )
    )
    if rows and draw(st.booleans()):
        rows.append(dict(rows[0]))  # an exact duplicate row
    delimiter = draw(st.sampled_from([",", ";", "\t", "|"]))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    quoting = "csv" if clean else draw(st.sampled_from(["csv", "raw", "broken"]))

    def line(values: list[str]) -> str:
        if quoting == "raw":  # cells pasted with the delimiter: embedded delimiters shift the columns
            return delimiter.join(values)
        quoted = ['"' + v.replace('"', '""') + '"' if any(ch in v for ch in f'{delimiter}"\r\n') else v for v in values]
        if quoting == "broken" and quoted:
            quoted[0] = '"' + quoted[0]  # an opening quote that never closes
        return delimiter.join(quoted)

    text = newline.join([line(columns)] + [line([r[c] for c in columns]) for r in rows]) + newline
    data = text.encode(draw(st.sampled_from(["utf-8", "utf-8-sig"])), errors="surrogatepass")
    damage = "none" if clean else draw(st.sampled_from(["none", "bytes", "cut", "nul"]))
    if damage == "bytes":
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(min_size=1, max_size=6)) + data[at:]
    elif damage == "cut":
        data = data[: draw(st.integers(0, len(data)))]
    elif damage == "nul":
        at = draw(st.integers(0, len(data)))
        data = data[:at] + b"\x00" + data[at:]
    return data


@dataclass
class Sandbox:
    """An export folder and an open database shared by the examples, and the database's checksum: every
    example must leave it so (rejected loads write nothing; accepted ones are checked, then removed)."""

    folder: Path
    conn: duckdb.DuckDBPyConnection
    checksum: dict[str, str]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    """The database holds another source's rows, which no example may touch."""
    root = Path(tempfile.mkdtemp(prefix="okr-fuzz-"))
    folder, database = root / "exports", root / "okr.duckdb"
    folder.mkdir()
    keep = pd.DataFrame(
        {
            "platform": "meta_ads",
            "account_id": "acct",
            "campaign_id": ["kept-1", "kept-2"],
            "campaign_name": ["Kept 1", "Kept 2"],
            "channel": "paid_social",
            "source_medium": "(not set)",
            "report_date": [dt.date(2026, 1, 1), dt.date(2026, 1, 2)],
            "currency_code": "USD",
            "account_timezone": "UTC",
            "source_rows": 1,
            "clicks": [5.0, 7.0],
            "spend": [1.25, 2.5],
        }
    )
    with db.connect(database) as conn:
        storage.ensure_schema(conn)
        long = storage.to_long(keep, "kept", ["clicks", "spend"])
        storage.replace_source_window(conn, "file", "kept", long, (dt.date(2026, 1, 1), dt.date(2026, 1, 2)))
        yield Sandbox(folder, conn, checksums_of(conn))
    shutil.rmtree(root, ignore_errors=True)


def feed(folder: Path, drop_duplicates: bool) -> FileFeed:
    return FileFeed(
        name="fuzz",
        pattern=str(folder / "*.csv"),
        platform="meta_ads",
        account_id="acct",
        date_column="day",
        campaign_id_column="campaign",
        campaign_name_column="campaign",
        currency="USD",
        metrics={"clicks": MetricColumn("clicks"), "spend": MetricColumn("spend")},
        nonnegative=frozenset({"clicks"}),
        drop_duplicates=drop_duplicates,
    )


def load_and_store(sandbox: Sandbox, data: bytes, drop_duplicates: bool) -> None:
    """What the file asset does: read and validate, then replace the window in one transaction."""
    folder, conn, before = sandbox.folder, sandbox.conn, sandbox.checksum
    (folder / "export.csv").write_bytes(data)
    note(repr(data))
    try:
        load = read_file_feed(feed(folder, drop_duplicates))
    except SourceDataError as exc:
        assert exc.errors and all(e.file.endswith("export.csv") and e.row >= 0 for e in exc.errors), exc
        assert checksums_of(conn) == before  # rejected before anything was written
        return
    if load.date_range is None:
        assert load.frame.empty and checksums_of(conn) == before
        return
    long = storage.to_long(load.frame, "fuzz", ["clicks", "spend"])
    storage.replace_source_window(conn, "file", "fuzz", long, load.date_range)
    stored = conn.execute(
        "SELECT campaign_id, report_date, metric, value FROM raw.file_exports WHERE source = 'fuzz' ORDER BY ALL"
    ).fetchall()
    conn.execute("DELETE FROM raw.file_exports WHERE source = 'fuzz'")  # the next example starts clean
    expected = sorted(
        (r.campaign_id, r.report_date, r.metric, None if pd.isna(r.value) else round(float(r.value), 6))
        for r in long.itertuples()
    )
    assert [(c, d, m, None if v is None else float(v)) for c, d, m, v in stored] == expected
    assert checksums_of(conn) == before  # the other source's rows never moved


@FAST
@given(data=exports(), drop_duplicates=st.booleans())
def test_any_export_loads_exactly_or_fails_with_a_source_data_error(
    sandbox, data: bytes, drop_duplicates: bool
) -> None:
    load_and_store(sandbox, data, drop_duplicates)


@heavy_only
@pytest.mark.slow
@HEAVY
@given(data=exports(), drop_duplicates=st.booleans())
def test_any_export_loads_exactly_or_fails_with_a_source_data_error_heavy(
    sandbox, data: bytes, drop_duplicates: bool
) -> None:
    load_and_store(sandbox, data, drop_duplicates)


@FAST
@given(data=st.binary(max_size=300))
def test_random_bytes_never_crash_the_load(sandbox, data: bytes) -> None:
    load_and_store(sandbox, data, False)
