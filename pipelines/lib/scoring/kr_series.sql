-- The distinct series of the mart, numbered once per scoring pass (temp table kr_series), for kr_grouped.sql.
-- A series is one entity (campaign/channel tuple: the columns a KR filter can name) x metric x currency.
-- It is a table, not a CTE, so that the planner knows it is small (thousands of rows against millions of
-- mart rows) and builds its hash tables on it, and so that every reference sees the same numbers.
--   series_hash: how a mart row finds its series (one 64-bit key instead of ten strings); the few
--                series that share a hash (shares_hash) are told apart by their columns
--   entity_id:   filters are matched once per entity, not per row
--   campaign_no: the (platform, channel, campaign_id) of okr.kr_contributions
CREATE OR REPLACE TEMP TABLE kr_series AS
SELECT
    CAST(row_number() OVER () AS INTEGER) AS series_id,
    CAST(dense_rank() OVER (ORDER BY source, platform, account_id, campaign_id, campaign_name, channel,
                                     source_medium, unified_campaign_id) AS INTEGER) AS entity_id,
    CAST(dense_rank() OVER (ORDER BY platform, channel, campaign_id) AS INTEGER) AS campaign_no,
    count(*) OVER (PARTITION BY series_hash) > 1 AS shares_hash,
    *
FROM (
    SELECT DISTINCT
        source, platform, account_id, campaign_id, campaign_name, channel, source_medium, unified_campaign_id,
        metric, currency_code,
        hash(source, platform, account_id, campaign_id, campaign_name, channel, source_medium,
             unified_campaign_id, metric, currency_code) AS series_hash
    FROM marts.campaign_daily_metrics
)
