-- Per KR per day: numerator and denominator sums after the KR's filters, from the window start
-- through the as-of date. One pass over all KRs; every filter value is bound data from kr_filters.
WITH spec AS (
    SELECT *, least(window_end, CAST($as_of AS DATE)) AS through
    FROM kr_spec
),
dims AS (
    SELECT DISTINCT kr_key, dimension FROM kr_filters
),
matched AS (
    SELECT s.kr_key, m.report_date, m.value, m.currency_code, m.metric = s.num_metric AS is_num
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
    CAST(sum(value) FILTER (WHERE is_num) AS DOUBLE) AS num_sum,
    count(value) FILTER (WHERE is_num) AS num_count,
    CAST(sum(value) FILTER (WHERE NOT is_num) AS DOUBLE) AS den_sum,
    count(*) AS rows,
    list(DISTINCT currency_code) FILTER (WHERE currency_code IS NOT NULL) AS currencies
FROM matched
GROUP BY kr_key, report_date
