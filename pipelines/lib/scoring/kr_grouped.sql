-- One pass over all KRs: the mart rows each KR's filters match, from the window start through the
-- as-of date, summed two ways at once (GROUPING SETS): per KR per day (okr.kr_daily: what the score
-- is computed from) and per KR per campaign and channel (okr.kr_contributions: what is behind the
-- value and behind its change over the last 7 days). Every filter value is bound data from kr_filters.
WITH spec AS (
    SELECT *, least(window_end, CAST($as_of AS DATE)) AS through
    FROM kr_spec
),
dims AS (
    SELECT DISTINCT kr_key, dimension FROM kr_filters
),
matched AS (
    SELECT
        s.kr_key, s.through, m.report_date, m.platform, m.channel, m.campaign_id, m.campaign_name,
        m.value, m.currency_code, m.metric = s.num_metric AS is_num
    FROM spec AS s
    JOIN marts.campaign_daily_metrics AS m
      ON (m.metric = s.num_metric OR m.metric = s.den_metric)
     AND m.report_date BETWEEN s.window_start AND s.through
    WHERE NOT EXISTS (
        SELECT 1
        FROM dims AS d
        WHERE d.kr_key = s.kr_key
          AND NOT EXISTS (
              SELECT 1
              FROM kr_filters AS f
              WHERE f.kr_key = d.kr_key
                AND f.dimension = d.dimension
                AND CASE
                        WHEN f.is_glob THEN (
                            CASE f.dimension
                                WHEN 'platform' THEN m.platform
                                WHEN 'account_id' THEN m.account_id
                                WHEN 'channel' THEN m.channel
                                WHEN 'campaign_name' THEN m.campaign_name
                                WHEN 'campaign_id' THEN m.campaign_id
                                WHEN 'source' THEN m.source
                            END
                        ) GLOB f.pattern
                        ELSE (
                            CASE f.dimension
                                WHEN 'platform' THEN m.platform
                                WHEN 'account_id' THEN m.account_id
                                WHEN 'channel' THEN m.channel
                                WHEN 'campaign_name' THEN m.campaign_name
                                WHEN 'campaign_id' THEN m.campaign_id
                                WHEN 'source' THEN m.source
                            END
                        ) = f.pattern
                    END
          )
    )
)
SELECT
    kr_key,
    report_date,
    platform,
    channel,
    campaign_id,
    GROUPING(report_date) = 0 AS is_daily,
    any_value(campaign_name) AS campaign_name,
    CAST(sum(value) FILTER (WHERE is_num) AS DOUBLE) AS num_sum,
    count(value) FILTER (WHERE is_num) AS num_count,
    CAST(sum(value) FILTER (WHERE NOT is_num) AS DOUBLE) AS den_sum,
    count(*) AS rows,
    list(DISTINCT currency_code) FILTER (WHERE currency_code IS NOT NULL) AS currencies,
    CAST(sum(value) FILTER (WHERE is_num AND report_date > through - 7) AS DOUBLE) AS num_last7,
    CAST(sum(value) FILTER (WHERE NOT is_num AND report_date > through - 7) AS DOUBLE) AS den_last7,
    CAST(sum(value) FILTER (WHERE is_num AND report_date BETWEEN through - 13 AND through - 7) AS DOUBLE)
        AS num_prev7,
    CAST(sum(value) FILTER (WHERE NOT is_num AND report_date BETWEEN through - 13 AND through - 7) AS DOUBLE)
        AS den_prev7
FROM matched
GROUP BY GROUPING SETS ((kr_key, report_date), (kr_key, platform, channel, campaign_id))
