"""Properties of the scoring engine on real DuckDB files, checked against arithmetic done here in Python.

Why: test_engine.py pins hand-picked rows; the rules it illustrates (a ratio is Σnum/Σden over the
window and filters, a sum is the sum, scores are clamped to 0-1, a decrease KR mirrors an increase KR,
an objective is the weighted mean of its scored KRs) must hold for any rows an export can bring.

Each example scores its own DuckDB file in a fresh temporary folder: hypothesis runs every example of a
test inside one pytest call, so the function-scoped tmp_path fixture would be shared between them.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import math
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, Phase, given, note, settings
from hypothesis import strategies as st

from pipelines.lib import db, storage
from pipelines.lib.scoring import ScoreRun, score_all
from pipelines.lib.scoring.explain import explain
from pipelines.lib.spec import DefsErrors, load_defs

SCORING = settings(
    max_examples=40,  # each example creates, fills and scores a DuckDB file (≈1 s each)
    deadline=None,
    phases=[Phase.explicit, Phase.generate, Phase.shrink],  # explain re-runs slow examples for minutes
    database=None,  # no .hypothesis/ folder in the repository; a failure prints its reproducing example
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)

# allowed_lag_days is large so that no KR turns `stale` (the freshness rule has its own tests); the
# heartbeat rows below give every source a day of data on the as-of date.
SOURCES = """
sources:
  s_meta:
    type: file
    path: meta.csv
    platform: meta_ads
    account_id: a
    date: {column: d}
    campaign_name: c
    allowed_lag_days: 100000
    metrics: {spend: s, revenue: r, clicks: k, conversions: v}
  s_google:
    type: file
    path: google.csv
    platform: google_ads
    account_id: a
    date: {column: d}
    campaign_name: c
    allowed_lag_days: 100000
    metrics: {spend: s, revenue: r, clicks: k, conversions: v}
"""
METRICS = """
metrics:
  spend: {agg: sum, unit: currency}
  revenue: {agg: sum, unit: currency}
  clicks: {agg: sum}
  conversions: {agg: sum}
  peak_clicks: {column: clicks, agg: max}
  last_clicks: {column: clicks, agg: last}
  click_days: {column: clicks, agg: count}
  cpa: {ratio: [spend, conversions], unit: currency}
  roas: {ratio: [revenue, spend], unit: ratio}
  roas_expr: {expr: "sum(revenue) / sum(spend)", unit: ratio}
  spend_bn: {expr: "sum(spend) / (1000 * 1000 * 1000 * 1000 * 1000)", unit: currency}
"""
SOURCE_OF = {"meta_ads": "s_meta", "google_ads": "s_google"}
PERIOD = (dt.date(2026, 1, 1), dt.date(2026, 1, 31))
CAMPAIGNS = ["c1", "c2", "Tết 2026 - Sale", "O'Brien"]
CHANNELS = ["social", "search"]
UNSCORED = {"no_data", "not_started", "invalid", "stale"}


@dataclass(frozen=True)
class Row:
    day: dt.date
    platform: str
    campaign: str
    channel: str
    metric: str
    value: float | None


def mart_frame(rows: list[Row]) -> pd.DataFrame:
    """The mart's long layout; campaign_id = campaign name, as for a file source without an id column."""
    return pd.DataFrame(
        {
            "source": [SOURCE_OF[r.platform] for r in rows],
            "platform": [r.platform for r in rows],
            "account_id": "a",
            "campaign_id": [r.campaign for r in rows],
            "campaign_name": [r.campaign for r in rows],
            "channel": [r.channel for r in rows],
            "report_date": [r.day for r in rows],
            "currency_code": "USD",
            "account_timezone": "UTC",
            "metric": [r.metric for r in rows],
            "value": [r.value for r in rows],
            "extracted_at": pd.Timestamp("2026-01-01"),
        }
    )


def score(rows: list[Row], objectives: dict, as_of: dt.date) -> tuple[ScoreRun, pd.DataFrame, list[tuple]]:
    """Score `objectives` (YAML data) over `rows` in a new DuckDB file: (run, KR rows by id, objective rows)."""
    heartbeat = [Row(as_of, p, "heartbeat", "none", "heartbeat", 0.0) for p in SOURCE_OF]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "defs"
        (folder / "objectives").mkdir(parents=True)
        (folder / "sources.yaml").write_text(SOURCES, encoding="utf-8")
        (folder / "metrics.yaml").write_text(METRICS, encoding="utf-8")
        (folder / "objectives" / "o.yaml").write_text(yaml.safe_dump(objectives, allow_unicode=True), encoding="utf-8")
        defs = load_defs(folder)
        path = Path(tmp) / "w.duckdb"
        with db.connect(path) as conn:
            storage.ensure_schema(conn)
            conn.register("incoming", mart_frame(rows + heartbeat))
            conn.execute("INSERT INTO marts.campaign_daily_metrics BY NAME SELECT * FROM incoming")
            run = score_all(conn, defs, as_of)
            stored = conn.execute(
                "SELECT objective_id, score, scored_children, unscored_children FROM okr.objective_scores ORDER BY 1"
            ).fetchall()
    return run, run.kr_scores.set_index("kr_id"), stored


def clamp(x: float) -> float:
    """The documented score: progress clamped to 0-1."""
    return max(0.0, min(1.0, x))


def approx_or_none(got: Any, want: float | None) -> bool:
    """Equal within floating-point noise, or both missing (DuckDB NULL arrives as NaN in pandas)."""
    if want is None:
        return got is None or pd.isna(got)
    return got is not None and not pd.isna(got) and math.isclose(float(got), want, rel_tol=1e-9, abs_tol=1e-9)


# ---------------------------------------------------------------------------------------------------
# Generators
# ---------------------------------------------------------------------------------------------------

QUARTERS = st.integers(0, 4000).map(lambda q: q / 4)  # exact in DECIMAL(38, 6) and in binary floating point
DAYS = st.dates(PERIOD[0] - dt.timedelta(days=15), PERIOD[1] + dt.timedelta(days=15))
AS_OF = st.dates(PERIOD[0], PERIOD[1] + dt.timedelta(days=10))


def rows_of(metrics: list[str], values: st.SearchStrategy, max_size: int = 40) -> st.SearchStrategy[list[Row]]:
    """Mart rows, unique on the mart's grain (day, platform, campaign, channel, metric)."""
    grain = st.tuples(DAYS, st.sampled_from(list(SOURCE_OF)), st.sampled_from(CAMPAIGNS), st.sampled_from(CHANNELS), st.sampled_from(metrics))  # fmt: skip
    return st.dictionaries(grain, values, max_size=max_size).map(
        lambda d: [Row(*key, value) for key, value in sorted(d.items(), key=str)]
    )


@st.composite
def windows(draw: st.DrawFn, as_of: dt.date) -> tuple[dict | None, tuple[dt.date, dt.date]]:
    """(the KR's `window` as written, the dates it covers) — None means the objective's period."""
    kind = draw(st.sampled_from(["period", "fixed", "trailing"]))
    if kind == "period":
        return None, PERIOD
    if kind == "trailing":
        days = draw(st.integers(1, 40))
        return {"trailing": f"{days}d"}, (as_of - dt.timedelta(days=days - 1), as_of)
    start = PERIOD[0] + dt.timedelta(days=draw(st.integers(0, 30)))
    end = start + dt.timedelta(days=draw(st.integers(0, (PERIOD[1] - start).days)))
    return {"start": start, "end": end}, (start, end)


FILTER_VALUES = {
    "campaign": st.one_of(st.sampled_from(CAMPAIGNS), st.sampled_from(["c*", "Tết*", "*"])),
    "platform": st.sampled_from(list(SOURCE_OF)),
    "channel": st.sampled_from(CHANNELS),
}
FIELD_OF = {"campaign": "campaign", "platform": "platform", "channel": "channel"}


@st.composite
def filters(draw: st.DrawFn) -> dict[str, list[str]]:
    """Up to three dimensions, each with one or two values (exact or a `*` glob); often none at all."""
    dims = draw(st.lists(st.sampled_from(list(FILTER_VALUES)), unique=True, max_size=3))
    return {d: draw(st.lists(FILTER_VALUES[d], min_size=1, max_size=2, unique=True)) for d in dims}


def matches(row: Row, flt: dict[str, list[str]], window: tuple[dt.date, dt.date], as_of: dt.date) -> bool:
    """The documented matching rule: window start through min(window end, as-of); every filtered
    dimension matches one of its values (the values generated here glob with `*` only)."""
    if not window[0] <= row.day <= min(window[1], as_of):
        return False
    return all(
        any(
            fnmatch.fnmatchcase(getattr(row, FIELD_OF[dim]), v) if "*" in v else getattr(row, FIELD_OF[dim]) == v
            for v in values
        )
        for dim, values in flt.items()
    )


def total(rows: list[Row], metric: str) -> float | None:
    """A sum as SQL does it: NULL values skipped, NULL when nothing is left."""
    values = [r.value for r in rows if r.metric == metric and r.value is not None]
    return float(sum(values)) if values else None


def kr_yaml(kr_id: str, metric: str, flt: dict, window: dict | None, **rest: Any) -> dict:
    """A KR as an analyst writes it, without the keys that are left at their default."""
    kr: dict[str, Any] = {"id": kr_id, "metric": metric, **rest}
    if flt:
        kr["filters"] = flt
    if window is not None:
        kr["window"] = window
    return kr


def objective(key_results: list[dict], **rest: Any) -> dict:
    """One objective over PERIOD holding the given KRs."""
    return {"objectives": [{"id": "o", "title": "O", "period": {"start": PERIOD[0], "end": PERIOD[1]}, **rest, "key_results": key_results}]}  # fmt: skip


BASELINE_TARGET = st.tuples(st.integers(-500, 500), st.integers(-500, 500)).filter(lambda bt: bt[0] != bt[1])


# ---------------------------------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------------------------------


@SCORING
@given(
    st.data(),
    rows_of(["clicks"], QUARTERS),
    rows_of(["conversions"], st.one_of(QUARTERS, st.none()), max_size=15),
    AS_OF,
    filters(),
    BASELINE_TARGET,
)
def test_sum_max_last_krs_equal_python_over_window_and_filters(data, clicks, conversions, as_of, flt, bt) -> None:
    """sum = Σ of the matched rows (NULL cells skipped), max = largest daily total, last = last day's total."""
    window, dates = data.draw(windows(as_of))
    baseline, target = bt
    krs = [
        kr_yaml("total", "clicks", flt, window, baseline=baseline, target=target),
        kr_yaml("conv", "conversions", flt, window, baseline=baseline, target=target),
        kr_yaml("peak", "peak_clicks", flt, window, baseline=baseline, target=target),
        kr_yaml("latest", "last_clicks", flt, window, baseline=baseline, target=target),
    ]
    _, got, _ = score(clicks + conversions, objective(krs), as_of)
    matched = [r for r in clicks + conversions if matches(r, flt, dates, as_of)]
    daily: dict[dt.date, float] = {}
    for r in matched:
        if r.metric == "clicks":
            daily[r.day] = daily.get(r.day, 0.0) + r.value
    want = {
        "total": total(matched, "clicks"),
        "conv": total(matched, "conversions"),
        "peak": max(daily.values()) if daily else None,
        "latest": daily[max(daily)] if daily else None,
    }
    note(f"window={dates} as_of={as_of} filters={flt} want={want}")
    for kr_id, actual in want.items():
        row = got.loc[kr_id]
        assert approx_or_none(row["actual"], actual), (kr_id, row["actual"], actual)
        if actual is None:
            assert pd.isna(row["score"]) and row["status"] in {"no_data", "not_started"}, row.to_dict()
        else:
            progress = (actual - baseline) / (target - baseline)
            assert approx_or_none(row["progress"], progress) and approx_or_none(row["score"], clamp(progress))


@SCORING
@given(
    st.data(),
    rows_of(["spend", "conversions", "revenue"], st.one_of(QUARTERS, st.integers(0, 3).map(float))),
    AS_OF,
    filters(),
)
def test_ratio_kr_is_the_ratio_of_sums_never_the_mean_of_daily_ratios(data, rows, as_of, flt) -> None:
    window, dates = data.draw(windows(as_of))
    krs = [
        kr_yaml("cpa", "cpa", flt, window, baseline=100, target=50),
        kr_yaml("roas", "roas", flt, window, baseline=1, target=4),
    ]
    _, got, _ = score(rows, objective(krs), as_of)
    matched = [r for r in rows if matches(r, flt, dates, as_of)]
    for kr_id, (num, den) in {"cpa": ("spend", "conversions"), "roas": ("revenue", "spend")}.items():
        n, d = total(matched, num), total(matched, den)
        want = None if n is None or d is None or d == 0 else n / d
        row = got.loc[kr_id]
        note(f"{kr_id}: Σ{num}={n} Σ{den}={d} → {want}; engine {row['actual']}")
        assert approx_or_none(row["numerator"], n) and approx_or_none(row["denominator"], d)
        assert approx_or_none(row["actual"], want), (kr_id, row["actual"], want)
        if want is None:
            assert pd.isna(row["score"]) and row["status"] in {"no_data", "not_started", "invalid"}


@st.composite
def mixed_krs(draw: st.DrawFn, as_of: dt.date) -> list[dict]:
    """KRs of every measured kind: sums, ratios, relative targets on measured baselines, stay_above /
    stay_below (share of days or at the end), milestones."""
    krs = []
    for i in range(draw(st.integers(1, 6))):
        window, _ = draw(windows(as_of))
        flt = draw(filters())
        shape = draw(st.sampled_from(["number", "relative", "stay", "milestone"]))
        metric = draw(st.sampled_from(["clicks", "spend", "cpa", "roas", "peak_clicks", "last_clicks"]))
        baseline, target = draw(BASELINE_TARGET)
        extra: dict[str, Any]
        if shape == "number":
            extra = {"baseline": baseline, "target": target}
        elif shape == "relative":
            extra = {
                "baseline": {draw(st.sampled_from(["previous_period", "same_period_last_year"])): True},
                "target": draw(st.sampled_from(["x2", "x0.5", "+30%", "-15%", "x10"])),
            }
        elif shape == "stay":
            extra = {"direction": draw(st.sampled_from(["stay_above", "stay_below"])), "target": target}
            extra["measure"] = draw(st.sampled_from(["share_of_days", "at_end"]))
        else:
            extra = {"direction": "milestone", "target": target}
        krs.append(kr_yaml(f"k{i}", metric, flt, window, weight=draw(st.integers(1, 5)), **extra))
    return krs


@SCORING
@given(st.data(), rows_of(["clicks", "spend", "conversions", "revenue"], QUARTERS, max_size=60), AS_OF)
def test_scores_stay_between_zero_and_one(data, rows, as_of) -> None:
    krs = data.draw(mixed_krs(as_of))
    kind = data.draw(st.sampled_from(["committed", "aspirational"]))
    run, got, _ = score(rows, objective(krs, type=kind), as_of)
    assert len(got) == len(krs)
    for kr_id, row in got.iterrows():
        for column in ("score", "forecast_score"):
            if not pd.isna(row[column]):
                assert 0.0 <= row[column] <= 1.0, (kr_id, column, row.to_dict())
        if row["status"] not in UNSCORED:
            assert not pd.isna(row["score"]), row.to_dict()
        if not pd.isna(row["progress"]):
            assert row["score"] == clamp(row["progress"]), row.to_dict()
        else:
            assert pd.isna(row["score"]), row.to_dict()
    (obj,) = run.objective_scores
    assert obj.score is None or 0.0 <= obj.score <= 1.0


@SCORING
@given(
    st.data(),
    st.dictionaries(st.tuples(DAYS, st.sampled_from(["spend", "clicks"])), st.integers(1, 2000).map(lambda q: q / 4), max_size=30),
    st.dictionaries(DAYS, st.integers(1, 40).map(float), max_size=30),
    AS_OF,
    st.sampled_from(["number", "measured", "relative"]),
    st.sampled_from(["clicks", "cpa"]),
)  # fmt: skip
def test_a_decrease_kr_mirrors_an_increase_kr_on_negated_data(data, values, conversions, as_of, how, metric) -> None:
    """Decrease KR (baseline B, target T) on A ≡ increase KR (baseline −B, target −T) on −A: same progress,
    score, forecast score and status. For cpa only the spend is negated, so the ratio is."""
    rows = []
    for (day, m), v in values.items():
        rows += [Row(day, "meta_ads", "pos", "social", m, v), Row(day, "meta_ads", "neg", "social", m, -v)]
    for day, v in conversions.items():
        rows += [Row(day, "meta_ads", c, "social", "conversions", v) for c in ("pos", "neg")]
    window, _ = data.draw(windows(as_of))
    high = data.draw(st.integers(1, 500))
    low = data.draw(st.integers(0, high - 1))
    if how == "number":
        pos = {"baseline": high, "target": low}
        neg = {"baseline": -high, "target": -low}
    elif how == "measured":
        pos = {"baseline": {"previous_period": True}, "target": low}
        neg = {"baseline": {"previous_period": True}, "target": -low}
    else:
        pos = neg = {
            "baseline": {"previous_period": True},
            "target": data.draw(st.sampled_from(["-15%", "x0.5", "x0"])),
        }
    krs = [
        kr_yaml("down", metric, {"campaign": ["pos"]}, window, **pos),
        kr_yaml("up", metric, {"campaign": ["neg"]}, window, **neg),
    ]
    _, got, _ = score(rows, objective(krs), as_of)
    down, up = got.loc["down"], got.loc["up"]
    note(f"down={down.to_dict()}\nup={up.to_dict()}")
    if how == "number":
        assert (down["direction"], up["direction"]) == ("decrease", "increase")
    for column in ("progress", "score", "forecast_score", "expected_progress"):
        assert approx_or_none(up[column], None if pd.isna(down[column]) else float(down[column])), column
    for column in ("actual", "baseline", "target", "forecast"):
        assert approx_or_none(up[column], None if pd.isna(down[column]) else -float(down[column])), column
    assert up["status"] == down["status"]


@SCORING
@given(
    st.data(),
    rows_of(["clicks"], QUARTERS, max_size=50),
    AS_OF,
    st.lists(st.tuples(filters(), BASELINE_TARGET, st.floats(0.1, 10), st.booleans()), min_size=1, max_size=5),
)
def test_objective_score_is_the_weighted_mean_of_its_scored_krs(data, rows, as_of, specs) -> None:
    krs, want_scores, weights = [], {}, {}
    for i, (flt, (baseline, target), weight, nothing) in enumerate(specs):
        window, dates = data.draw(windows(as_of))
        flt = {"campaign": ["no such campaign"]} if nothing else flt  # a KR left out: no_data, not 0 %
        krs.append(kr_yaml(f"k{i}", "clicks", flt, window, baseline=baseline, target=target, weight=weight))
        actual = total([r for r in rows if matches(r, flt, dates, as_of)], "clicks")
        want_scores[f"k{i}"] = None if actual is None else clamp((actual - baseline) / (target - baseline))
        weights[f"k{i}"] = weight
    run, got, stored = score(rows, objective(krs), as_of)
    for kr_id, want_score in want_scores.items():
        assert approx_or_none(got.loc[kr_id, "score"], want_score), (kr_id, got.loc[kr_id].to_dict())
    parts = [(weights[k], s) for k, s in want_scores.items() if s is not None]
    want = sum(w * s for w, s in parts) / sum(w for w, _ in parts) if parts else None
    scored, left_out = len(parts), len(want_scores) - len(parts)
    (obj,) = run.objective_scores
    note(f"parts={parts} want={want} got={obj}")
    assert approx_or_none(obj.score, want)
    assert (obj.scored_children, obj.unscored_children) == (scored, left_out)
    assert stored == [("o", pytest.approx(want) if want is not None else None, scored, left_out)]


# ---------------------------------------------------------------------------------------------------
# Bugs found by the properties above, pinned as their smallest reproductions
# ---------------------------------------------------------------------------------------------------

JAN = dt.date(2026, 1, 2)


def test_count_metric_counts_days_with_a_value() -> None:
    """README: `count` (days with a value). Two campaigns on 1 Jan and one on 2 Jan are 2 days, not the 3
    campaign-day rows it used to count."""
    rows = [
        Row(dt.date(2026, 1, 1), "meta_ads", "c1", "social", "clicks", 1.0),
        Row(dt.date(2026, 1, 1), "meta_ads", "c2", "social", "clicks", 1.0),
        Row(dt.date(2026, 1, 2), "meta_ads", "c1", "social", "clicks", 1.0),
    ]
    _, got, _ = score(rows, objective([kr_yaml("days", "click_days", {}, None, baseline=0, target=10)]), JAN)
    assert got.loc["days", "actual"] == 2


@pytest.mark.parametrize(("revenue", "target"), [(5.0, 3), (0.0, 3), (5.0, 0.5)])
def test_expression_dividing_by_zero_is_not_scored(revenue: float, target: float) -> None:
    """A ratio metric turns x/0 into no data, and so does an expression metric now; it used to give inf/NaN,
    which the clamp made 1.0 (NaN, too: least(1, NaN) is 1 in DuckDB): no spend at all showed 100 % on_track."""
    rows = [
        Row(dt.date(2026, 1, 1), "meta_ads", "c1", "social", "revenue", revenue),
        Row(dt.date(2026, 1, 1), "meta_ads", "c1", "social", "spend", 0.0),
    ]
    _, got, _ = score(rows, objective([kr_yaml("k", "roas_expr", {}, None, baseline=1, target=target)]), JAN)
    assert pd.isna(got.loc["k", "score"]) and got.loc["k", "status"] not in {"on_track", "at_risk", "off_track"}


def test_literal_only_product_does_not_abort_the_run() -> None:
    """compile_expression used to write literals as `1000.0`, which DuckDB types DECIMAL; five of them
    multiplied overflowed, and the error aborted the whole scoring run, every other KR with it."""
    rows = [Row(dt.date(2026, 1, 1), "meta_ads", "c1", "social", "spend", 5.0)]
    krs = [
        kr_yaml("bn", "spend_bn", {}, None, baseline=0, target=1),
        kr_yaml("k", "spend", {}, None, baseline=0, target=10),
    ]
    _, got, _ = score(rows, objective(krs), JAN)
    assert got.loc["k", "actual"] == 5.0 and got.loc["bn", "actual"] == pytest.approx(5e-15)


def test_kr_and_kpi_keys_never_collide() -> None:
    """Objective `kpi` + KR `x` and KPI `x` used to share the key `kpi/x`: a PRIMARY KEY violation on
    okr.kr_daily aborted the run. A KPI's key is `kpi:x` now, which no KR key can be."""
    rows = [
        Row(dt.date(2026, 1, 1), "meta_ads", "c1", "social", "clicks", 10.0),
        Row(dt.date(2026, 1, 1), "meta_ads", "c1", "social", "spend", 7.0),
    ]
    defs = {
        "objectives": [{"id": "kpi", "title": "K", "period": {"start": PERIOD[0], "end": PERIOD[1]},
                        "key_results": [kr_yaml("x", "clicks", {}, None, baseline=0, target=100)]}],
        "kpis": [{"id": "x", "title": "X", "metric": "spend", "band": {"stay_below": 100}}],
    }  # fmt: skip
    _, got, _ = score(rows, defs, JAN)
    by_kind = got.reset_index().set_index("kind")
    assert (by_kind.loc["kr", "actual"], by_kind.loc["kpi", "actual"]) == (10.0, 7.0)


def test_explain_tells_the_kpi_from_the_kr_of_an_objective_named_kpi(tmp_path: Path) -> None:
    """`kpi:x` always names the KPI; `kpi/x` names the KR `x` of objective `kpi` when there is one."""
    rows = [
        Row(dt.date(2026, 1, 1), "meta_ads", "c1", "social", "clicks", 10.0),
        Row(dt.date(2026, 1, 1), "meta_ads", "c1", "social", "spend", 7.0),
    ]
    folder = tmp_path / "defs"
    (folder / "objectives").mkdir(parents=True)
    (folder / "sources.yaml").write_text(SOURCES, encoding="utf-8")
    (folder / "metrics.yaml").write_text(METRICS, encoding="utf-8")
    objectives = {
        "objectives": [{"id": "kpi", "title": "K", "period": {"start": PERIOD[0], "end": PERIOD[1]},
                        "key_results": [kr_yaml("x", "clicks", {}, None, baseline=0, target=100)]}],
        "kpis": [{"id": "x", "title": "X", "metric": "spend", "band": {"stay_below": 100}}],
    }  # fmt: skip
    (folder / "objectives" / "o.yaml").write_text(yaml.safe_dump(objectives), encoding="utf-8")
    database = tmp_path / "w.duckdb"
    with db.connect(database) as conn:
        storage.ensure_schema(conn)
        conn.register("incoming", mart_frame(rows))
        conn.execute("INSERT INTO marts.campaign_daily_metrics BY NAME SELECT * FROM incoming")
    defs = load_defs(folder)
    assert explain(database, defs, "kpi/x", JAN).score["actual"] == 10.0
    assert explain(database, defs, "kpi:x", JAN).score["actual"] == 7.0


def test_an_empty_filter_list_is_rejected() -> None:
    """An emptied list (e.g. a template with no campaigns left) used to load and mean every campaign."""
    rows = [Row(dt.date(2026, 1, 1), "meta_ads", "c1", "social", "clicks", 10.0)]
    with pytest.raises(DefsErrors) as caught:
        score(rows, objective([kr_yaml("k", "clicks", {"campaign": []}, None, baseline=0, target=100)]), JAN)
    (err,) = caught.value.errors
    assert err.file.name == "o.yaml" and err.message.startswith("objectives.0.key_results.0.filters.campaign: ")


def test_properties_helpers_agree_with_a_hand_computed_case() -> None:
    """The Python side of the properties (matching, sums) on rows whose answer is known by hand."""
    rows = [
        Row(dt.date(2026, 1, 1), "meta_ads", "c1", "social", "clicks", 1.0),
        Row(dt.date(2026, 1, 2), "google_ads", "c2", "search", "clicks", 10.0),
        Row(dt.date(2026, 1, 3), "meta_ads", "Tết 2026 - Sale", "social", "clicks", 100.0),
        Row(dt.date(2026, 2, 1), "meta_ads", "c1", "social", "clicks", 1000.0),
        Row(dt.date(2026, 1, 1), "meta_ads", "c1", "social", "conversions", None),
    ]
    as_of = dt.date(2026, 1, 31)
    assert total([r for r in rows if matches(r, {}, PERIOD, as_of)], "clicks") == 111.0
    assert total([r for r in rows if matches(r, {"campaign": ["c*"]}, PERIOD, as_of)], "clicks") == 11.0
    assert total([r for r in rows if matches(r, {"platform": ["meta_ads"], "channel": ["social"]}, PERIOD, as_of)], "clicks") == 101.0  # fmt: skip
    assert total(rows, "conversions") is None
    _, got, _ = score(
        rows, objective([kr_yaml("k", "clicks", {"campaign": ["c*"]}, None, baseline=0, target=22)]), as_of
    )
    assert (got.loc["k", "actual"], got.loc["k", "score"]) == (11.0, 0.5)
