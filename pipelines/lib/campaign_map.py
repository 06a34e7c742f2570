"""marts.campaign_map: which ad campaign each GA4 campaign belongs with, and one key across platforms.

GA4 knows a campaign by `sessionCampaignId` (utm_id, or the Ads id with auto-tagging) and by its free-text
utm_campaign; the ad platforms by their own ids and (mutable) names. Pairs are found in this order, per
GA4 campaign:
- `manual`: a link in okr_defs/campaign_map.yaml (added on top of the automatic pairs);
- `id`: the GA4 campaign id equals an ad campaign's id (a GA4 campaign without an id is keyed by its name
  in the raw layer, and that name is no id);
- `name`: only for a GA4 campaign with no manual or id pair: its normalized name (campaign_key) equals the
  normalized name an ad campaign had on any day.

Every mart row then gets `unified_campaign_id`, the key that KR filters (`unified_campaign`) select:
- a GA4 campaign: its normalized name; without a name, its pair's key; else its normalized id;
- an ad campaign: the key of its strongest GA4 pair (manual, then id, then name; ties alphabetical);
  unpaired, its own normalized latest name (else its id);
- GA4 rows without a campaign ((not set), (direct), (organic), ...): NULL, so they stay "unattributed".

Everything is set-based SQL over the staged mart rows; the normalization is one Python function
(connectors.campaign_key) registered as a DuckDB function, so YAML and SQL normalize alike.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import duckdb
import pandas as pd

from connectors.campaign_key import campaign_key

if TYPE_CHECKING:
    from pipelines.lib.spec import OkrDefs

KEY_FUNCTION = "okr_campaign_key"
GA4 = "ga4"
LINK_COLUMNS = [
    "link_no",
    "file",
    "line",
    "note",
    "ga4_source",
    "ga4_campaign_id",
    "ga4_campaign_name",
    "ga4_campaign_key",
    "ads_source",
    "ads_campaign_id",
    "ads_campaign_name",
    "ads_campaign_key",
]
DDL = [
    """CREATE TABLE IF NOT EXISTS marts.campaign_map_links (
        link_no INTEGER PRIMARY KEY, file VARCHAR, line INTEGER, note VARCHAR,
        ga4_source VARCHAR, ga4_campaign_id VARCHAR, ga4_campaign_name VARCHAR, ga4_campaign_key VARCHAR,
        ads_source VARCHAR, ads_campaign_id VARCHAR, ads_campaign_name VARCHAR, ads_campaign_key VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS marts.campaign_map (
        ga4_source VARCHAR NOT NULL, ga4_account_id VARCHAR NOT NULL, ga4_campaign_id VARCHAR NOT NULL,
        ga4_campaign_name VARCHAR, ads_source VARCHAR NOT NULL, ads_platform VARCHAR NOT NULL,
        ads_account_id VARCHAR NOT NULL, ads_campaign_id VARCHAR NOT NULL, ads_campaign_name VARCHAR,
        match_method VARCHAR NOT NULL, link_no INTEGER, unified_campaign_id VARCHAR)""",
]

_GA4_ID = (
    "g.source = {p}ga4_source AND g.account_id = {p}ga4_account_id AND g.campaign_id = {p}ga4_campaign_id "
    "AND g.campaign_name IS NOT DISTINCT FROM {p}ga4_campaign_name"
)
_ADS_ID = (
    "a.source = {p}ads_source AND a.platform = {p}ads_platform AND a.account_id = {p}ads_account_id "
    "AND a.campaign_id = {p}ads_campaign_id"
)
_PAIR = (
    "g.source AS ga4_source, g.account_id AS ga4_account_id, g.campaign_id AS ga4_campaign_id, "
    "g.campaign_name AS ga4_campaign_name, a.source AS ads_source, a.platform AS ads_platform, "
    "a.account_id AS ads_account_id, a.campaign_id AS ads_campaign_id"
)
_GA4_SIDE = "ga4_source, ga4_account_id, ga4_campaign_id, ga4_campaign_name"
_ADS_SIDE = "ads_source, ads_platform, ads_account_id, ads_campaign_id"

STEPS = [
    # GA4 campaigns that are real campaigns (a placeholder name and id is no campaign)
    f"""CREATE OR REPLACE TEMP TABLE cm_ga4 AS
    SELECT * FROM (
        SELECT source, account_id, campaign_id, campaign_name,
               {KEY_FUNCTION}(campaign_name) AS name_key,
               -- a campaign keyed by its name (no utm_id) has no id to match
               CASE WHEN campaign_id IS DISTINCT FROM campaign_name THEN {KEY_FUNCTION}(campaign_id) END AS id_key
        FROM (SELECT DISTINCT source, account_id, campaign_id, campaign_name FROM mart_stage WHERE platform = '{GA4}')
    ) WHERE name_key IS NOT NULL OR id_key IS NOT NULL""",  # noqa: S608 (project constants only)
    # ad campaigns: one row each, with the name of their latest day and their own key
    f"""CREATE OR REPLACE TEMP TABLE cm_ads AS
    SELECT *, coalesce({KEY_FUNCTION}(campaign_name), {KEY_FUNCTION}(campaign_id)) AS own_key
    FROM (
        SELECT source, platform, account_id, campaign_id, arg_max(campaign_name, report_date) AS campaign_name
        FROM mart_stage WHERE platform <> '{GA4}'
        GROUP BY source, platform, account_id, campaign_id
    )""",  # noqa: S608 (project constants only)
    # every name an ad campaign had, normalized (a renamed campaign matches under any of them)
    f"""CREATE OR REPLACE TEMP TABLE cm_ads_names AS
    SELECT DISTINCT source, platform, account_id, campaign_id, {KEY_FUNCTION}(campaign_name) AS name_key
    FROM (
        SELECT DISTINCT source, platform, account_id, campaign_id, campaign_name
        FROM mart_stage WHERE platform <> '{GA4}'
    )""",  # noqa: S608 (project constants only)
    # pairs: manual links, equal ids, and equal names for GA4 campaigns left without either
    f"""CREATE OR REPLACE TEMP TABLE cm_pairs AS
    WITH manual AS (
        SELECT DISTINCT {_PAIR}, 'manual' AS match_method, 1 AS priority, l.link_no
        FROM marts.campaign_map_links AS l
        JOIN cm_ga4 AS g
          ON (l.ga4_source IS NULL OR g.source = l.ga4_source)
         AND (l.ga4_campaign_id IS NULL OR g.campaign_id = l.ga4_campaign_id)
         AND (l.ga4_campaign_key IS NULL OR g.name_key = l.ga4_campaign_key)
        JOIN cm_ads_names AS a
          ON (l.ads_source IS NULL OR a.source = l.ads_source)
         AND (l.ads_campaign_id IS NULL OR a.campaign_id = l.ads_campaign_id)
         AND (l.ads_campaign_key IS NULL OR a.name_key = l.ads_campaign_key)
    ),
    by_id AS (
        SELECT {_PAIR}, 'id' AS match_method, 2 AS priority, CAST(NULL AS INTEGER) AS link_no
        FROM cm_ga4 AS g
        JOIN cm_ads AS a ON g.id_key IS NOT NULL AND a.campaign_id = g.campaign_id
    ),
    paired AS (
        SELECT {_GA4_SIDE} FROM manual UNION SELECT {_GA4_SIDE} FROM by_id
    ),
    by_name AS (
        SELECT DISTINCT {_PAIR}, 'name' AS match_method, 3 AS priority, CAST(NULL AS INTEGER) AS link_no
        FROM cm_ga4 AS g
        JOIN cm_ads_names AS a ON a.name_key = g.name_key
        ANTI JOIN paired AS p ON {_GA4_ID.format(p="p.")}
    )
    SELECT {_GA4_SIDE}, {_ADS_SIDE},
           arg_min(match_method, priority) AS match_method, min(priority) AS priority, min(link_no) AS link_no
    FROM (SELECT * FROM manual UNION ALL SELECT * FROM by_id UNION ALL SELECT * FROM by_name)
    GROUP BY {_GA4_SIDE}, {_ADS_SIDE}""",  # noqa: S608 (project constants only)
    f"""CREATE OR REPLACE TEMP TABLE ga4_keys AS
    SELECT
        g.source, g.account_id, g.campaign_id, g.campaign_name,
        coalesce(any_value(g.name_key), first(a.own_key ORDER BY p.priority, a.own_key), any_value(g.id_key))
            AS unified_campaign_id
    FROM cm_ga4 AS g
    LEFT JOIN cm_pairs AS p ON {_GA4_ID.format(p="p.")}
    LEFT JOIN cm_ads AS a ON {_ADS_ID.format(p="p.")}
    GROUP BY g.source, g.account_id, g.campaign_id, g.campaign_name""",  # noqa: S608 (project constants only)
    f"""CREATE OR REPLACE TEMP TABLE ads_keys AS
    SELECT
        a.source, a.platform, a.account_id, a.campaign_id,
        coalesce(first(g.unified_campaign_id ORDER BY p.priority, g.unified_campaign_id), any_value(a.own_key))
            AS unified_campaign_id
    FROM cm_ads AS a
    LEFT JOIN cm_pairs AS p ON {_ADS_ID.format(p="p.")}
    LEFT JOIN ga4_keys AS g ON {_GA4_ID.format(p="p.")}
    GROUP BY a.source, a.platform, a.account_id, a.campaign_id""",  # noqa: S608 (project constants only)
    "DELETE FROM marts.campaign_map",
    f"""INSERT INTO marts.campaign_map BY NAME
    SELECT
        p.ga4_source, p.ga4_account_id, p.ga4_campaign_id, p.ga4_campaign_name,
        p.ads_source, p.ads_platform, p.ads_account_id, p.ads_campaign_id, a.campaign_name AS ads_campaign_name,
        p.match_method, p.link_no, g.unified_campaign_id
    FROM cm_pairs AS p
    JOIN cm_ads AS a ON {_ADS_ID.format(p="p.")}
    JOIN ga4_keys AS g ON {_GA4_ID.format(p="p.")}""",  # noqa: S608 (project constants only)
]
TEMP_TABLES = ["cm_ga4", "cm_ads", "cm_ads_names", "cm_pairs", "ga4_keys", "ads_keys"]


def register_key_function(conn: duckdb.DuckDBPyConnection) -> None:
    """Make campaign_key callable from SQL on this connection (once; a second call is a no-op).

    The lookup runs a query to completion first: DuckDB refuses to register a function while a caller's
    earlier result on the connection is still unread.
    """
    known = conn.execute(
        "SELECT count(*) FROM duckdb_functions() WHERE function_name = ? AND function_type = 'scalar'", [KEY_FUNCTION]
    ).fetchall()
    if known[0][0] == 0:
        conn.create_function(
            KEY_FUNCTION, campaign_key, ["VARCHAR"], "VARCHAR", null_handling="special", side_effects=False
        )


def links_frame(defs: OkrDefs) -> pd.DataFrame:
    """The links of campaign_map.yaml as rows (LINK_COLUMNS), each with the file and line it was written at."""
    rows = []
    for i, link in enumerate(defs.campaign_map, start=1):
        anchor = defs.anchor(link)
        rows.append(
            {
                "link_no": i,
                "file": anchor.file.name,
                "line": anchor.line,
                "note": link.note,
                "ga4_source": link.ga4.source,
                "ga4_campaign_id": link.ga4.campaign_id,
                "ga4_campaign_name": link.ga4.campaign_name,
                "ga4_campaign_key": link.ga4.key,
                "ads_source": link.ads.source,
                "ads_campaign_id": link.ads.campaign_id,
                "ads_campaign_name": link.ads.campaign_name,
                "ads_campaign_key": link.ads.key,
            }
        )
    return pd.DataFrame(rows, columns=LINK_COLUMNS).astype({"link_no": "int64", "line": "int64"})


def build_campaign_map(conn: duckdb.DuckDBPyConnection, links: pd.DataFrame | None) -> None:
    """Rebuild marts.campaign_map(_links) and the temp tables ga4_keys/ads_keys from temp table mart_stage.

    Runs inside the mart build's transaction; `links=None` keeps the stored links (a rebuild without defs).
    """
    register_key_function(conn)
    if links is not None:
        conn.execute("DELETE FROM marts.campaign_map_links")
        if len(links):
            conn.register("incoming_links", links.loc[:, LINK_COLUMNS])
            try:
                conn.execute("INSERT INTO marts.campaign_map_links BY NAME SELECT * FROM incoming_links")
            finally:
                conn.unregister("incoming_links")
    for statement in STEPS:
        conn.execute(statement)


def drop_temp_tables(conn: duckdb.DuckDBPyConnection) -> None:
    for table in TEMP_TABLES:
        conn.execute(f"DROP TABLE IF EXISTS {table}")


UNMATCHED_SQL = f"""
WITH ga4_rows AS (
    SELECT
        m.source, m.account_id, m.campaign_id, m.campaign_name, m.channel, m.source_medium, m.report_date,
        sum(m.value) FILTER (WHERE m.metric = $sessions) AS sessions,
        bool_or(p.ga4_source IS NOT NULL) AS matched
    FROM marts.campaign_daily_metrics AS m
    LEFT JOIN (
        SELECT DISTINCT ga4_source, ga4_account_id, ga4_campaign_id, ga4_campaign_name FROM marts.campaign_map
    ) AS p
      ON p.ga4_source = m.source AND p.ga4_account_id = m.account_id AND p.ga4_campaign_id = m.campaign_id
     AND p.ga4_campaign_name IS NOT DISTINCT FROM m.campaign_name
    WHERE m.platform = '{GA4}' AND m.unified_campaign_id IS NOT NULL
      AND m.report_date BETWEEN $start AND $end
    GROUP BY ALL
)
SELECT
    count(DISTINCT (source, account_id, campaign_id, campaign_name)) AS campaigns,
    count(DISTINCT (source, account_id, campaign_id, campaign_name)) FILTER (WHERE NOT matched) AS campaigns_unmatched,
    count(*) AS rows,
    count(*) FILTER (WHERE NOT matched) AS rows_unmatched,
    CAST(sum(sessions) AS DOUBLE) AS sessions,
    CAST(coalesce(sum(sessions) FILTER (WHERE NOT matched), 0) AS DOUBLE) AS sessions_unmatched
FROM ga4_rows
"""  # noqa: S608 (GA4 is a project constant)

ADS_SQL = f"""
WITH ads AS (
    SELECT m.source, m.platform, m.account_id, m.campaign_id, m.currency_code, m.metric, m.value,
           p.ads_source IS NOT NULL AS matched
    FROM marts.campaign_daily_metrics AS m
    LEFT JOIN (
        SELECT DISTINCT ads_source, ads_platform, ads_account_id, ads_campaign_id FROM marts.campaign_map
    ) AS p
      ON p.ads_source = m.source AND p.ads_platform = m.platform AND p.ads_account_id = m.account_id
     AND p.ads_campaign_id = m.campaign_id
    WHERE m.platform <> '{GA4}' AND m.report_date BETWEEN $start AND $end
)
SELECT
    currency_code,
    count(DISTINCT (source, platform, account_id, campaign_id)) AS campaigns,
    count(DISTINCT (source, platform, account_id, campaign_id)) FILTER (WHERE NOT matched) AS campaigns_unmatched,
    CAST(sum(value) FILTER (WHERE metric = $spend) AS DOUBLE) AS spend,
    CAST(coalesce(sum(value) FILTER (WHERE metric = $spend AND NOT matched), 0) AS DOUBLE) AS spend_unmatched
FROM ads
GROUP BY currency_code
ORDER BY currency_code NULLS LAST
"""  # noqa: S608 (GA4 is a project constant)


def _share(part: float | None, whole: float | None) -> float | None:
    return None if not whole or part is None else part / whole


def unmatched_share(
    conn: duckdb.DuckDBPyConnection,
    start: dt.date | None = None,
    end: dt.date | None = None,
    sessions_metric: str = "sessions",
    spend_metric: str = "spend",
) -> dict[str, Any]:
    """How much of the mart the campaign map leaves unpaired, for a data-quality asset check.

    GA4 side: rows (campaign-days per channel and source/medium) and sessions of real campaigns (not the
    (not set)/(direct)/(organic) placeholders) whose campaign has no ad campaign. Ads side: spend of ad
    campaigns with no GA4 campaign. Spend is summed per currency; the single `ads_spend_unmatched_share`
    is given only when the mart holds one currency (after conversion to a reporting currency it does),
    else see `ads_spend_unmatched_share_by_currency`. A share is None when its denominator is 0.
    Optionally limited to report dates in [start, end].
    """
    window = {"start": start or dt.date.min, "end": end or dt.date.max}
    ga4 = conn.execute(UNMATCHED_SQL, window | {"sessions": sessions_metric}).fetchone()
    ads = conn.execute(ADS_SQL, window | {"spend": spend_metric}).fetchall()
    g_campaigns, g_unmatched, g_rows, g_rows_unmatched, sessions, sessions_unmatched = ga4
    by_currency = {
        cur: {"spend": spend, "spend_unmatched": unmatched, "share": _share(unmatched, spend)}
        for cur, _c, _u, spend, unmatched in ads
        if spend is not None
    }
    single = next(iter(by_currency.values())) if len(by_currency) == 1 else None
    links = conn.execute(
        "SELECT l.file, l.line FROM marts.campaign_map_links AS l "
        "ANTI JOIN marts.campaign_map AS m ON m.link_no = l.link_no ORDER BY l.link_no"
    ).fetchall()
    return {
        "ga4_campaigns": int(g_campaigns),
        "ga4_campaigns_unmatched": int(g_unmatched),
        "ga4_rows": int(g_rows),
        "ga4_rows_unmatched": int(g_rows_unmatched),
        "ga4_rows_unmatched_share": _share(g_rows_unmatched, g_rows),
        "ga4_sessions": sessions or 0.0,
        "ga4_sessions_unmatched": sessions_unmatched,
        "ga4_sessions_unmatched_share": _share(sessions_unmatched, sessions),
        "ads_campaigns": sum(int(c) for _cur, c, _u, _s, _su in ads),
        "ads_campaigns_unmatched": sum(int(u) for _cur, _c, u, _s, _su in ads),
        "ads_spend": single["spend"] if single else None,
        "ads_spend_unmatched": single["spend_unmatched"] if single else None,
        "ads_spend_unmatched_share": single["share"] if single else None,
        "ads_spend_currency": next(iter(by_currency)) if single else None,
        "ads_spend_unmatched_share_by_currency": {cur: v["share"] for cur, v in by_currency.items()},
        "unused_manual_links": [f"{file}:{line}" for file, line in links],
    }
