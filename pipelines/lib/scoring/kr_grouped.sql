-- One pass over all KRs, KPIs and measured baselines: the mart rows each one's filters match, from
-- its window start through the as-of date, summed
--   per KR per day            -> okr.kr_daily (actuals, pace, trends, stay_above/stay_below days)
--   per KR per campaign       -> okr.kr_contributions (what is behind the value and its 7-day change),
--                                and the currencies of the rows behind the KR
--   per KR over the window    -> expression metrics only: they are not decomposable into days. Every
--                                other KR's total is the sum of its daily rows (kr_scores.sql sums them).
-- Filter values are bound data from kr_filters; {expr_sql} is SQL the project compiled from checked
-- expression trees, with metric names bound as $parameters.
-- For a metric with agg `count` a day's num_sum is 1 when the metric has a value that day (the metric
-- counts days, not campaign-day rows), so every sum over days (actual, pace, forecast) counts days.
--
-- Why it is shaped this way (measurements in docs/performance.md):
--   * filters are matched once per entity of kr_series (kr_series.sql), never per mart row;
--   * a mart row finds its series by one integer hash join on kr_series;
--   * each KR's matched series gets one row per calendar month its window touches, so the main join is an
--     equi-join on (series, month): a mart row meets only the KRs whose window covers its month, and the
--     exact date range is checked on those few candidates;
--   * the (KR, row) pairs are summed twice, each time with only the aggregates that grouping needs and
--     integer keys (KR number, day; KR number, series); campaigns, names and currencies are small
--     roll-ups of the per-series sums (a series has one currency).
WITH spec AS MATERIALIZED (
    -- materialized: kr_no must be the same number wherever it is read
    SELECT *, least(window_end, CAST($as_of AS DATE)) AS through, CAST(row_number() OVER () AS INTEGER) AS kr_no
    FROM kr_spec
    WHERE NOT self_reported
),
entities AS (
    SELECT DISTINCT
        entity_id, source, platform, account_id, campaign_id, campaign_name, channel, source_medium,
        unified_campaign_id
    FROM kr_series
),
filter_hits AS (
    -- per KR and entity: how many of the KR's filtered dimensions at least one of its values matches
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
    -- an entity belongs to a KR when every dimension the KR filters on is matched (no filter: all)
    SELECT s.kr_no, e.entity_id
    FROM spec AS s
    CROSS JOIN entities AS e
    LEFT JOIN filter_dims AS d ON d.kr_key = s.kr_key
    LEFT JOIN filter_hits AS h ON h.kr_key = s.kr_key AND h.entity_id = e.entity_id
    WHERE coalesce(h.dims_matched, 0) = coalesce(d.dims, 0)
),
parts AS (
    -- one row per KR, matched series (of a measure the KR reads) and calendar month (year * 12 + month)
    -- the KR's window touches
    SELECT
        s.kr_no, x.series_id, r.role = 'num' AS is_num, r.role = 'den' AS is_den, s.expr_id,
        s.window_start, s.through,
        unnest(range(year(s.window_start) * 12 + month(s.window_start), year(s.through) * 12 + month(s.through) + 1))
            AS month_no
    FROM kr_entities AS k
    JOIN spec AS s ON s.kr_no = k.kr_no
    JOIN kr_metrics AS r ON r.kr_key = s.kr_key
    JOIN kr_series AS x ON x.entity_id = k.entity_id AND x.metric = r.metric
    WHERE s.window_start <= s.through
),
tagged AS (
    -- every mart row up to the as-of date with its series and month
    SELECT
        x.series_id, m.metric, m.report_date, year(m.report_date) * 12 + month(m.report_date) AS month_no, m.value
    FROM marts.campaign_daily_metrics AS m
    JOIN kr_series AS x
      ON x.series_hash = hash(m.source, m.platform, m.account_id, m.campaign_id, m.campaign_name, m.channel,
                              m.source_medium, m.unified_campaign_id, m.metric, m.currency_code)
     AND (NOT x.shares_hash
          OR (m.source = x.source AND m.platform = x.platform AND m.account_id = x.account_id
              AND m.campaign_id = x.campaign_id AND m.campaign_name IS NOT DISTINCT FROM x.campaign_name
              AND m.channel = x.channel AND m.source_medium = x.source_medium
              AND m.unified_campaign_id IS NOT DISTINCT FROM x.unified_campaign_id AND m.metric = x.metric
              AND m.currency_code IS NOT DISTINCT FROM x.currency_code))
    WHERE m.report_date <= CAST($as_of AS DATE)
),
matched AS MATERIALIZED (
    -- the (KR, row) pairs: equi-join on (series, month), the exact date range last. Read by three
    -- groupings; DuckDB streams it to them, it is not stored
    SELECT p.kr_no, p.is_num, p.is_den, p.expr_id, p.through, t.series_id, t.metric, t.report_date, t.value
    FROM parts AS p
    JOIN tagged AS t
      ON t.series_id = p.series_id
     AND t.month_no = p.month_no
     AND t.report_date BETWEEN p.window_start AND p.through
),
daily AS (
    SELECT
        kr_no,
        report_date,
        CAST(sum(value) FILTER (WHERE is_num) AS DOUBLE) AS num_sum,
        count(value) FILTER (WHERE is_num) AS num_count,
        CAST(sum(value) FILTER (WHERE is_den) AS DOUBLE) AS den_sum,
        {expr_sql} AS expr_value,
        count(*) AS rows
    FROM matched
    GROUP BY kr_no, report_date
),
by_series AS (
    -- per KR, series and role: sums over the window, its last 7 days and the 7 before (exact decimals)
    SELECT
        kr_no, series_id, is_num, is_den,
        sum(value) AS v_sum,
        count(value) AS v_count,
        count(*) AS v_rows,
        sum(value) FILTER (WHERE report_date > through - 7) AS v_last7,
        sum(value) FILTER (WHERE report_date BETWEEN through - 13 AND through - 7) AS v_prev7
    FROM matched
    GROUP BY kr_no, series_id, is_num, is_den
),
by_campaign AS (
    SELECT
        b.kr_no,
        x.campaign_no,
        any_value(b.series_id) AS any_series,
        CAST(sum(b.v_sum) FILTER (WHERE b.is_num) AS DOUBLE) AS num_sum,
        sum(b.v_count) FILTER (WHERE b.is_num) AS num_count,
        CAST(sum(b.v_sum) FILTER (WHERE b.is_den) AS DOUBLE) AS den_sum,
        sum(b.v_rows) AS rows,
        min(x.currency_code) AS currency_min,
        max(x.currency_code) AS currency_max,
        CAST(sum(b.v_last7) FILTER (WHERE b.is_num) AS DOUBLE) AS num_last7,
        CAST(sum(b.v_last7) FILTER (WHERE b.is_den) AS DOUBLE) AS den_last7,
        CAST(sum(b.v_prev7) FILTER (WHERE b.is_num) AS DOUBLE) AS num_prev7,
        CAST(sum(b.v_prev7) FILTER (WHERE b.is_den) AS DOUBLE) AS den_prev7
    FROM by_series AS b
    JOIN kr_series AS x ON x.series_id = b.series_id
    GROUP BY b.kr_no, x.campaign_no
),
totals AS (
    -- expression metrics only; the filter reaches the spec scan, so without them this joins nothing
    SELECT kr_no, {expr_sql} AS expr_value, count(*) AS rows
    FROM matched
    WHERE expr_id IS NOT NULL
    GROUP BY kr_no
),
campaigns AS (
    SELECT DISTINCT campaign_no, platform, channel, campaign_id FROM kr_series
),
grouped AS (
    SELECT
        s.kr_key,
        d.report_date,
        true AS is_daily,
        false AS is_campaign,
        CASE WHEN s.num_agg = 'count' THEN CASE WHEN d.num_count > 0 THEN CAST(1 AS DOUBLE) END
             ELSE d.num_sum END AS num_sum,
        d.num_count,
        d.den_sum,
        -- an expression can still overflow to ±inf; the 0-1 clamp would make that a 100 % score
        CASE WHEN isfinite(d.expr_value) THEN d.expr_value END AS expr_value,
        d.rows
    FROM daily AS d
    JOIN spec AS s ON s.kr_no = d.kr_no
    UNION ALL BY NAME
    SELECT
        s.kr_key,
        c.platform,
        c.channel,
        c.campaign_id,
        false AS is_daily,
        true AS is_campaign,
        n.campaign_name,  -- of one of the campaign's series: a campaign renamed mid-window has several
        g.num_sum,
        g.num_count,
        g.den_sum,
        g.rows,
        g.currency_min,
        g.currency_max,
        g.num_last7,
        g.den_last7,
        g.num_prev7,
        g.den_prev7
    FROM by_campaign AS g
    JOIN spec AS s ON s.kr_no = g.kr_no
    JOIN campaigns AS c ON c.campaign_no = g.campaign_no
    JOIN kr_series AS n ON n.series_id = g.any_series
    UNION ALL BY NAME
    SELECT
        s.kr_key,
        false AS is_daily,
        false AS is_campaign,
        CASE WHEN isfinite(t.expr_value) THEN t.expr_value END AS expr_value,
        t.rows
    FROM totals AS t
    JOIN spec AS s ON s.kr_no = t.kr_no
)
SELECT
    kr_key, report_date, platform, channel, campaign_id, is_daily, is_campaign, campaign_name, num_sum, num_count,
    den_sum, expr_value, rows, currency_min, currency_max, num_last7, den_last7, num_prev7, den_prev7
FROM grouped
