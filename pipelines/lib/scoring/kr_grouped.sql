-- One pass over all KRs, KPIs and measured baselines: the mart rows each one's filters match, from
-- its window start through the as-of date, summed three ways at once (GROUPING SETS):
--   per KR per day            -> okr.kr_daily (pace, trends, stay_above/stay_below days)
--   per KR per campaign       -> okr.kr_contributions (what is behind the value and its 7-day change)
--   per KR over the window    -> expression metrics, which are not decomposable into days
-- Filter values are bound data from kr_filters; {expr_sql} is SQL the project compiled from checked
-- expression trees, with metric names bound as $parameters.
-- For a metric with agg `count` a day's num_sum is 1 when the metric has a value that day (the metric
-- counts days, not campaign-day rows), so every sum over days (actual, pace, forecast) counts days.
WITH spec AS (
    SELECT *, least(window_end, CAST($as_of AS DATE)) AS through
    FROM kr_spec
    WHERE NOT self_reported
),
entities AS (
    -- the distinct campaign/channel tuples of the mart: filters are matched here (small), not per row
    SELECT row_number() OVER () AS entity_id, *
    FROM (
        SELECT DISTINCT source, platform, account_id, campaign_id, campaign_name, channel, source_medium,
               unified_campaign_id
        FROM marts.campaign_daily_metrics
    )
),
filter_hits AS (
    -- per KR and tuple: how many of the KR's filtered dimensions at least one of its values matches
    SELECT f.kr_key, e.entity_id, count(DISTINCT f.dimension) AS dims_matched
    FROM kr_filters AS f
    CROSS JOIN entities AS e
    CROSS JOIN LATERAL (
        SELECT CASE f.dimension
                   WHEN 'platform' THEN e.platform
                   WHEN 'account_id' THEN e.account_id
                   WHEN 'channel' THEN e.channel
                   WHEN 'campaign_name' THEN e.campaign_name
                   WHEN 'campaign_id' THEN e.campaign_id
                   WHEN 'unified_campaign_id' THEN e.unified_campaign_id
                   WHEN 'source' THEN e.source
                   WHEN 'source_medium' THEN e.source_medium
               END AS dim_value
    ) AS v
    WHERE CASE WHEN f.is_glob THEN v.dim_value GLOB f.pattern ELSE v.dim_value = f.pattern END
    GROUP BY f.kr_key, e.entity_id
),
filter_dims AS (
    SELECT kr_key, count(DISTINCT dimension) AS dims FROM kr_filters GROUP BY kr_key
),
kr_entities AS (
    -- a tuple belongs to a KR when every dimension the KR filters on is matched (no filter: all tuples)
    SELECT s.kr_key, e.*
    FROM spec AS s
    CROSS JOIN entities AS e
    LEFT JOIN filter_dims AS d ON d.kr_key = s.kr_key
    LEFT JOIN filter_hits AS h ON h.kr_key = s.kr_key AND h.entity_id = e.entity_id
    WHERE coalesce(h.dims_matched, 0) = coalesce(d.dims, 0)
),
matched AS (
    -- equi-joins on the matched tuples and the KR's measures; the date range last
    SELECT
        s.kr_key, s.through, s.expr_id, r.role, m.metric, m.report_date, m.platform, m.channel,
        m.campaign_id, m.campaign_name, m.value, m.currency_code
    FROM kr_entities AS k
    JOIN spec AS s ON s.kr_key = k.kr_key
    JOIN kr_metrics AS r ON r.kr_key = k.kr_key
    JOIN marts.campaign_daily_metrics AS m
      ON m.source = k.source
     AND m.platform = k.platform
     AND m.account_id = k.account_id
     AND m.campaign_id = k.campaign_id
     AND m.campaign_name IS NOT DISTINCT FROM k.campaign_name
     AND m.channel = k.channel
     AND m.source_medium = k.source_medium
     AND m.metric = r.metric
     AND m.report_date BETWEEN s.window_start AND s.through
),
grouped AS (
    SELECT
        kr_key,
        report_date,
        platform,
        channel,
        campaign_id,
        GROUPING(report_date) = 0 AS is_daily,
        GROUPING(campaign_id) = 0 AS is_campaign,
        any_value(campaign_name) AS campaign_name,
        CAST(sum(value) FILTER (WHERE role = 'num') AS DOUBLE) AS num_sum,
        count(value) FILTER (WHERE role = 'num') AS num_count,
        CAST(sum(value) FILTER (WHERE role = 'den') AS DOUBLE) AS den_sum,
        {expr_sql} AS expr_value,
        count(*) AS rows,
        min(currency_code) AS currency_min,
        max(currency_code) AS currency_max,
        CAST(sum(value) FILTER (WHERE role = 'num' AND report_date > through - 7) AS DOUBLE) AS num_last7,
        CAST(sum(value) FILTER (WHERE role = 'den' AND report_date > through - 7) AS DOUBLE) AS den_last7,
        CAST(sum(value) FILTER (WHERE role = 'num' AND report_date BETWEEN through - 13 AND through - 7) AS DOUBLE)
            AS num_prev7,
        CAST(sum(value) FILTER (WHERE role = 'den' AND report_date BETWEEN through - 13 AND through - 7) AS DOUBLE)
            AS den_prev7
    FROM matched
    GROUP BY GROUPING SETS ((kr_key, report_date), (kr_key, platform, channel, campaign_id), (kr_key))
)
SELECT
    g.* REPLACE (
        CASE WHEN s.num_agg = 'count' AND g.is_daily THEN CASE WHEN g.num_count > 0 THEN CAST(1 AS DOUBLE) END
             ELSE g.num_sum END AS num_sum,
        -- an expression can still overflow to ±inf; the 0-1 clamp would make that a 100 % score
        CASE WHEN isfinite(g.expr_value) THEN g.expr_value END AS expr_value
    )
FROM grouped AS g
JOIN spec AS s USING (kr_key)
