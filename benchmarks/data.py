"""Deterministic synthetic mart rows, generated inside DuckDB so that 10M rows take seconds, not minutes.

Rows are made by SQL `range()` and `hash()` (no Python loop, no random state), so every run with the same
row count and seed scores exactly the same numbers. The layout is the real `marts.campaign_daily_metrics`,
created by `ensure_schema`, so the engine reads the table (and primary-key index) it reads in production.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from pipelines.lib import db, storage

START = dt.date(2024, 3, 1)
DAYS = 730  # two years of daily data: 2024-03-01 .. 2026-02-28
AS_OF = START + dt.timedelta(days=DAYS - 1)
METRICS = ("impressions", "clicks", "conversions", "spend", "conversions_value")
PLATFORMS = ("google_ads", "meta_ads", "tiktok_ads")
CHANNELS = ("Paid Search", "Paid Social", "Display", "Video")
THEMES = ("Tết", "Black Friday", "Back to School", "Mid-Autumn", "Always on", "Brand", "Retargeting", "Summer")
KINDS = ("Sale", "Search", "Awareness", "Lì xì Sale", "Prospecting")
YEARS = ("2024", "2025", "2026")
ACCOUNT_IDS = {"google_ads": "5550001234", "meta_ads": "1029384756", "tiktok_ads": "7000000042"}

# One row per (campaign, day, metric): i -> campaign-day i // 5, metric i % 5. Dimension values depend on the
# campaign only; the five measures of a campaign-day are coherent (clicks from impressions, spend from clicks).
# About 0.5 % of values are NULL, as an empty export cell would be (sums must skip them, never count 0).
GENERATE_SQL = """
INSERT INTO marts.campaign_daily_metrics BY NAME
WITH grain AS (
    SELECT i, (i // 5) % $days AS day_index, (i // 5) // $days AS campaign, i % 5 AS metric_index,
           hash(i // 5, $seed) AS h
    FROM range($rows) AS t(i)
),
measures AS (
    SELECT *,
           200 + h % 50000 AS impressions,
           (200 + h % 50000) * (5 + hash(i // 5, $seed, 1) % 60) // 1000 AS clicks
    FROM grain
),
valued AS (
    SELECT *,
           clicks * (hash(i // 5, $seed, 2) % 80) // 1000 AS conversions,
           CAST(clicks * (0.2 + (hash(i // 5, $seed, 3) % 2800000) / 1000000) AS DECIMAL(38, 6)) AS spend,
           CAST((clicks * (hash(i // 5, $seed, 2) % 80) // 1000) * (10 + (hash(i // 5, $seed, 4) % 900000) / 10000)
                AS DECIMAL(38, 6)) AS conversions_value,
           1 + CAST(hash(campaign, $seed, 5) % 3 AS BIGINT) AS platform_index,
           1 + CAST(hash(campaign, $seed, 6) % 8 AS BIGINT) AS theme_index,
           1 + CAST(hash(campaign, $seed, 7) % 3 AS BIGINT) AS year_index,
           1 + CAST(hash(campaign, $seed, 8) % 5 AS BIGINT) AS kind_index,
           1 + CAST(hash(campaign, $seed, 9) % 4 AS BIGINT) AS channel_index
    FROM measures
)
SELECT
    $platforms[platform_index] AS source,
    $platforms[platform_index] AS platform,
    $accounts[platform_index] AS account_id,
    'c' || lpad(CAST(campaign AS VARCHAR), 6, '0') AS campaign_id,
    $themes[theme_index] || ' ' || $years[year_index] || ' - ' || $kinds[kind_index] || ' #' || campaign
        AS campaign_name,
    $channels[channel_index] AS channel,
    CAST($start AS DATE) + CAST(day_index AS INTEGER) AS report_date,
    'USD' AS currency_code,
    'UTC' AS account_timezone,
    $metrics[1 + CAST(metric_index AS BIGINT)] AS metric,
    CASE WHEN hash(i, $seed, 10) % 200 = 0 THEN NULL
         ELSE CASE metric_index WHEN 0 THEN CAST(impressions AS DECIMAL(38, 6))
                                WHEN 1 THEN CAST(clicks AS DECIMAL(38, 6))
                                WHEN 2 THEN CAST(conversions AS DECIMAL(38, 6))
                                WHEN 3 THEN spend
                                ELSE conversions_value END
    END AS value,
    TIMESTAMP '2026-03-01 06:00:00' AS extracted_at
FROM valued
"""


@dataclass(frozen=True)
class MartFacts:
    """What the generated mart holds, for the report and for the KR generator's campaign lists."""

    rows: int
    campaigns: int
    days: int
    null_values: int


def generate_mart(path: Path, rows: int, seed: int) -> None:
    """Create the schema and insert `rows` mart rows; run in a child process so its memory is not ours."""
    params = {
        "rows": rows,
        "seed": seed,
        "days": DAYS,
        "start": START,
        "platforms": list(PLATFORMS),
        "channels": list(CHANNELS),
        "themes": list(THEMES),
        "years": list(YEARS),
        "kinds": list(KINDS),
        "metrics": list(METRICS),
        "accounts": [ACCOUNT_IDS[p] for p in PLATFORMS],
    }
    with db.connect(path) as conn:
        conn.execute("SET enable_progress_bar = false")  # the parent's rich display owns the terminal
        storage.ensure_schema(conn)
        conn.execute(GENERATE_SQL, params)
        conn.execute("CHECKPOINT")


def mart_facts(path: Path) -> MartFacts:
    """Count what was generated (read-only: the benchmark never changes the mart after generation)."""
    with db.connect(path, read_only=True) as conn:
        rows, campaigns, days, nulls = conn.execute(
            "SELECT count(*), count(DISTINCT campaign_id), count(DISTINCT report_date), count(*) - count(value) "
            "FROM marts.campaign_daily_metrics"
        ).fetchone()
    return MartFacts(rows=rows, campaigns=campaigns, days=days, null_values=nulls)
