-- The distinct series of the mart, numbered once per scoring pass (temp table kr_series), and the mart's
-- rows tagged with their series (temp view kr_series_rows), for kr_members.sql, kr_grouped.sql and the
-- prefix sums (prefix_sums.py). A series is one entity (campaign/channel tuple: the columns a KR filter can
-- name) x metric x currency; the mart's primary key makes it at most one row a day.
-- It is a table, not a CTE, so that the planner knows it is small (thousands of rows against millions of
-- mart rows) and builds its hash tables on it, and so that every reference sees the same numbers.
--   series_hash: how a mart row finds its series (one 64-bit key instead of ten strings); the few
--                series that share a hash (shares_hash) are told apart by their columns
--   entity_id:   filters are matched once per entity, not per row
--   campaign_no: the (platform, channel, campaign_id) of okr.kr_contributions
--   first_date, last_date: the series' first and last row (prefix_sums.py lays its days out between them)
--   coarse_no:   the series with the same columns but the campaign's (source, platform, account, channel,
--                source/medium, metric, currency): a KR that filters on none of the campaign columns sums
--                its days over these few coarse series instead of every campaign's
CREATE OR REPLACE TEMP TABLE kr_series AS
SELECT
    CAST(row_number() OVER () AS INTEGER) AS series_id,
    CAST(dense_rank() OVER (ORDER BY source, platform, account_id, campaign_id, campaign_name, channel,
                                     source_medium, unified_campaign_id) AS INTEGER) AS entity_id,
    CAST(dense_rank() OVER (ORDER BY platform, channel, campaign_id) AS INTEGER) AS campaign_no,
    CAST(dense_rank() OVER (ORDER BY source, platform, account_id, channel, source_medium, metric, currency_code)
         AS INTEGER) AS coarse_no,
    count(*) OVER (PARTITION BY series_hash) > 1 AS shares_hash,
    *
FROM (
    SELECT
        source, platform, account_id, campaign_id, campaign_name, channel, source_medium, unified_campaign_id,
        metric, currency_code,
        hash(source, platform, account_id, campaign_id, campaign_name, channel, source_medium,
             unified_campaign_id, metric, currency_code) AS series_hash,
        min(report_date) AS first_date,
        max(report_date) AS last_date
    FROM marts.campaign_daily_metrics
    GROUP BY ALL
);

CREATE OR REPLACE TEMP VIEW kr_series_rows AS
SELECT x.series_id, x.coarse_no, m.metric, m.report_date, m.value
FROM marts.campaign_daily_metrics AS m
JOIN kr_series AS x
  ON x.series_hash = hash(m.source, m.platform, m.account_id, m.campaign_id, m.campaign_name, m.channel,
                          m.source_medium, m.unified_campaign_id, m.metric, m.currency_code)
 AND (NOT x.shares_hash
      OR (m.source = x.source AND m.platform = x.platform AND m.account_id = x.account_id
          AND m.campaign_id = x.campaign_id AND m.campaign_name IS NOT DISTINCT FROM x.campaign_name
          AND m.channel = x.channel AND m.source_medium = x.source_medium
          AND m.unified_campaign_id IS NOT DISTINCT FROM x.unified_campaign_id AND m.metric = x.metric
          AND m.currency_code IS NOT DISTINCT FROM x.currency_code));
