"""The file source on real exports (../shared/data) and on files that exercise every parsing rule."""

from __future__ import annotations

import collections
import csv
import datetime as dt
import math
from pathlib import Path

import pandas as pd
import pytest

from connectors import FileFeed, MetricColumn, SourceDataError, read_file_feed
from connectors.tabular import TableFormat

AB_METRICS = {
    "spend": MetricColumn("Spend [USD]"),
    "impressions": MetricColumn("# of Impressions"),
    "clicks": MetricColumn("# of Website Clicks"),
    "conversions": MetricColumn("# of Purchase"),
}


def ab_feed(pattern: str, **overrides) -> FileFeed:
    settings = dict(
        name="ab_test",
        pattern=pattern,
        platform="meta_ads",
        account_id="ab-test",
        date_column="Date",
        date_format="%d.%m.%Y",
        campaign_id_column="Campaign Name",
        campaign_name_column="Campaign Name",
        channel="paid_social",
        currency="USD",
        metrics=AB_METRICS,
        table=TableFormat(delimiter=";"),
        nonnegative=frozenset({"impressions", "clicks", "conversions"}),
    )
    return FileFeed(**(settings | overrides))


@pytest.mark.shared_data
def test_ab_test_totals_and_missing_cells(shared_data: Path) -> None:
    load = read_file_feed(ab_feed(str(shared_data / "ab_test_campaigns" / "*.csv")))
    frame = load.frame
    assert (load.rows_read, len(frame), load.duplicate_rows) == (60, 60, 0)
    totals = frame.groupby("campaign_name")[["spend", "impressions", "clicks", "conversions"]].sum()
    assert totals.loc["Control Campaign"].tolist() == [68653, 3177233 - 0, 154303, 15161]
    assert totals.loc["Test Campaign"].tolist() == [76892, 2237544, 180970, 15637]
    # The Control Campaign's 5 Aug row has spend and nothing else: missing, counted, never zero.
    assert load.missing_values == {"spend": 0, "impressions": 1, "clicks": 1, "conversions": 1}
    row = frame.loc[(frame["campaign_id"] == "Control Campaign") & (frame["report_date"] == dt.date(2019, 8, 5))]
    assert row["spend"].item() == 1835
    assert all(math.isnan(row[m].item()) for m in ("impressions", "clicks", "conversions"))
    assert load.date_range == (dt.date(2019, 8, 1), dt.date(2019, 8, 30))


@pytest.mark.shared_data
def test_olist_leads_per_channel_per_day_match_a_direct_count(shared_data: Path) -> None:
    path = shared_data / "olist_marketing_funnel" / "olist_marketing_qualified_leads_dataset.csv"
    feed = FileFeed(
        name="olist",
        pattern=str(path),
        platform="olist",
        account_id="olist",
        date_column="first_contact_date",
        date_format="%m/%d/%Y",
        campaign_id_column="origin",
        channel_column="origin",
        metrics={"leads": MetricColumn(count_rows=True)},
    )
    load = read_file_feed(feed)
    expected: collections.Counter = collections.Counter()
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            day = dt.datetime.strptime(row["first_contact_date"], "%m/%d/%Y").date()
            expected[(day, row["origin"].strip() or "(not set)")] += 1
    got = {(r.report_date, r.channel): r.leads for r in load.frame.itertuples()}
    assert got == expected
    assert sum(got.values()) == load.rows_read == 8000
    assert expected[next(k for k in expected if k[1] == "(not set)")] > 0  # empty origins kept, not lost


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def test_bom_crlf_quotes_and_sniffed_delimiter(tmp_path: Path) -> None:
    _write(
        tmp_path / "export.csv",
        (
            "Day;Campaign;Channel;Cost;Clicks\r\n"
            '2026-01-02;"Tết; Lì xì";;"1250000,5";10\r\n'
            "2026-01-02;;Paid Social;100;\r\n"
            '2026-01-03;"Tết; Lì xì";Email;200;3\r\n'
        ),
        encoding="utf-8-sig",
    )
    feed = FileFeed(
        name="x",
        pattern=str(tmp_path / "*.csv"),
        platform="meta_ads",
        account_id="1",
        date_column="Day",
        campaign_name_column="Campaign",
        channel_column="Channel",
        decimal=",",
        currency="VND",
        metrics={"spend": MetricColumn("Cost"), "clicks": MetricColumn("Clicks")},
    )
    load = read_file_feed(feed)
    rows = {(r.report_date.isoformat(), r.campaign_id, r.channel): (r.spend, r.clicks) for r in load.frame.itertuples()}
    assert rows[("2026-01-02", "Tết; Lì xì", "(not set)")] == (1250000.5, 10)
    spend, clicks = rows[("2026-01-02", "(not set)", "Paid Social")]
    assert spend == 100 and math.isnan(clicks)
    assert rows[("2026-01-03", "Tết; Lì xì", "Email")] == (200, 3)
    assert load.missing_values == {"spend": 0, "clicks": 1}


def test_duplicates_are_counted_and_dropped_only_when_asked(tmp_path: Path) -> None:
    _write(tmp_path / "a.csv", "date,campaign,spend\n2026-01-01,c1,5\n2026-01-01,c1,5\n2026-01-01,c1,7\n")
    feed = FileFeed(
        name="d",
        pattern=str(tmp_path / "a.csv"),
        platform="p",
        account_id="a",
        date_column="date",
        campaign_name_column="campaign",
        metrics={"spend": MetricColumn("spend")},
    )
    kept = read_file_feed(feed)
    assert (kept.duplicate_rows, kept.dropped_duplicates, kept.frame["spend"].item()) == (1, 0, 17)
    dropped = read_file_feed(FileFeed(**{**feed.__dict__, "drop_duplicates": True}))
    assert (dropped.duplicate_rows, dropped.dropped_duplicates, dropped.frame["spend"].item()) == (1, 1, 12)
    assert dropped.rows_read == 3


def test_parquet_and_csv_files_from_one_glob(tmp_path: Path) -> None:
    pd.DataFrame(
        {"date": pd.to_datetime(["2026-02-01", "2026-02-02"]), "campaign": ["c1", "c1"], "spend": [1.5, 2.5]}
    ).to_parquet(tmp_path / "part-1.parquet")
    pd.DataFrame({"date": ["2026-02-02"], "campaign": ["c1"], "spend": [4]}).to_parquet(tmp_path / "part-2.parquet")
    feed = FileFeed(
        name="pq",
        pattern=str(tmp_path / "part-*.parquet"),
        platform="p",
        account_id="a",
        date_column="date",
        campaign_name_column="campaign",
        metrics={"spend": MetricColumn("spend")},
    )
    load = read_file_feed(feed)
    assert load.frame.set_index("report_date")["spend"].to_dict() == {
        dt.date(2026, 2, 1): 1.5,
        dt.date(2026, 2, 2): 6.5,
    }
    assert len(load.files) == 2


def test_bad_cells_fail_with_file_line_and_column(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "bad.csv",
        (
            "date,campaign,spend,clicks\n"
            "2026-01-01,c1,10,1\n"
            "2026-01-02,c1,ten,2\n"
            "2026-13-01,c1,5,3\n"
            "2026-01-04,c1,5,-4\n"
        ),
    )
    feed = FileFeed(
        name="bad",
        pattern=str(path),
        platform="p",
        account_id="a",
        date_column="date",
        campaign_name_column="campaign",
        nonnegative=frozenset({"clicks"}),
        metrics={"spend": MetricColumn("spend"), "clicks": MetricColumn("clicks")},
    )
    with pytest.raises(SourceDataError) as info:
        read_file_feed(feed)
    messages = [str(e) for e in info.value.errors]
    assert messages == [
        f"{path}:3: column 'spend': 'ten' is not a number",
        f"{path}:4: column 'date': date '2026-13-01' is not an ISO date",
        f"{path}:5: column 'clicks': -4.0 fails check must not be negative",
    ]


def test_missing_column_and_short_row_are_reported(tmp_path: Path) -> None:
    path = _write(tmp_path / "short.csv", "date,campaign,spend\n2026-01-01,c1\n")
    feed = FileFeed(
        name="s",
        pattern=str(path),
        platform="p",
        account_id="a",
        date_column="date",
        campaign_name_column="campaign",
        metrics={"spend": MetricColumn("spend")},
    )
    with pytest.raises(SourceDataError, match=r"short.csv:2: expected 3 fields, found 2"):
        read_file_feed(feed)
    feed = FileFeed(**{**feed.__dict__, "metrics": {"spend": MetricColumn("Cost")}})
    path.write_text("date,campaign,spend\n2026-01-01,c1,3\n")
    with pytest.raises(SourceDataError, match=r"short.csv:1: column 'Cost': column for metric spend not found"):
        read_file_feed(feed)


def test_no_matching_file_is_an_error(tmp_path: Path) -> None:
    feed = FileFeed(
        name="none",
        pattern=str(tmp_path / "*.csv"),
        platform="p",
        account_id="a",
        date_column="d",
        campaign_name_column="c",
        metrics={"spend": MetricColumn("s")},
    )
    with pytest.raises(SourceDataError, match="no file matches this path"):
        read_file_feed(feed)


def test_a_campaign_with_a_name_but_no_id_is_keyed_by_its_name(tmp_path: Path) -> None:
    _write(
        tmp_path / "ga4.csv",
        "date,id,name,sessions\n"
        "2026-01-01,(not set),tet-2026,30\n"
        "2026-01-01,(not set),newsletter_jan,20\n"
        "2026-01-01,(not set),(not set),5\n"
        "2026-01-01,,(direct),4\n"
        "2026-01-01,111,Spring,7\n",
    )
    feed = FileFeed(
        name="ga4",
        pattern=str(tmp_path / "*.csv"),
        platform="ga4",
        account_id="1",
        date_column="date",
        campaign_id_column="id",
        campaign_name_column="name",
        metrics={"sessions": MetricColumn("sessions")},
    )
    frame = read_file_feed(feed).frame
    rows = sorted(zip(frame["campaign_id"], frame["campaign_name"], frame["sessions"], strict=True))
    assert rows == [
        ("(not set)", "(direct)", 9.0),
        ("111", "Spring", 7.0),
        ("newsletter_jan", "newsletter_jan", 20.0),
        ("tet-2026", "tet-2026", 30.0),
    ]
