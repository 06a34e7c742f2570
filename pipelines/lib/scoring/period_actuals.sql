-- KRs, KPIs and measured baselines on a distinct count (agg: period): their actual is the value GA4 gave
-- for the whole window under the KR's filter (period_values, a snapshot of marts.period_metrics), never a
-- sum of days or campaigns. One row per KR, shaped like a kr_grouped day row dated at the window's last
-- day, so the scoring pass reads it like any other: actual = that value, progress/score/status as for a
-- level KR, forecast = the value so far (kr_scores.sql: not cumulative, no denominator).
-- kr_period links each spec key to its (source, metric, filter fingerprint, window): data, bound by DuckDB.
INSERT INTO kr_grouped BY NAME
SELECT
    l.kr_key,
    l.window_end AS report_date,
    true AS is_daily,
    false AS is_campaign,
    CAST(sum(p.value) AS DOUBLE) AS num_sum,
    count(p.value) AS num_count,
    CAST(sum(p.source_rows) AS BIGINT) AS rows
FROM kr_period AS l
JOIN period_values AS p
  ON p.source = l.source
 AND p.metric = l.metric
 AND p.filter_key = l.filter_key
 AND p.window_start = l.window_start
 AND p.window_end = l.window_end
-- no GA4 row (nothing matched the filter, or no users at all): no value, so the KR reads no_data, not 0 %
WHERE p.value IS NOT NULL
GROUP BY l.kr_key, l.window_end
