-- What GA4 said about the data behind each KR, KPI and measured baseline over its window (through as-of):
--   daily  : days of the window loaded from a GA4 source behind it (kr_sources), from day_quality
--            (a snapshot of raw.ga4_day_quality): how many were thresholded, sampled, rolled into (other)
--   period : the whole-window query a distinct-count KR reads (kr_period + period_values)
-- okr explain prints it; the report's data-quality notes list the KRs with any flag.
WITH spec AS (
    SELECT kr_key, kind, coalesce(base_key, kr_key) AS reader_key, num_agg,
           window_start, least(window_end, CAST($as_of AS DATE)) AS through
    FROM kr_spec
    WHERE NOT self_reported AND window_start <= CAST($as_of AS DATE)
),
daily AS (
    SELECT
        s.kr_key, s.reader_key, s.kind, ks.source, 'daily' AS origin,
        any_value(s.window_start) AS window_start, any_value(s.through) AS window_end,
        CAST(NULL AS VARCHAR) AS filter_text,
        count(*) AS checked,
        count_if(q.thresholded) AS thresholded,
        count_if(q.sampled) AS sampled,
        min(q.sampling_ratio) AS min_sampling_ratio,
        count_if(q.data_loss_from_other_row) AS other_row
    FROM spec AS s
    JOIN kr_sources AS ks USING (kr_key)
    JOIN day_quality AS q ON q.source = ks.source AND q.report_date BETWEEN s.window_start AND s.through
    WHERE s.num_agg IS DISTINCT FROM 'period'
    GROUP BY s.kr_key, s.reader_key, s.kind, ks.source
),
period AS (
    SELECT
        s.kr_key, s.reader_key, s.kind, l.source, 'period' AS origin,
        l.window_start, l.window_end,
        any_value(l.filter_text) AS filter_text,
        count(*) AS checked,
        count_if(p.thresholded) AS thresholded,
        count_if(p.sampled) AS sampled,
        min(p.sampling_ratio) AS min_sampling_ratio,
        count_if(p.data_loss_from_other_row) AS other_row
    FROM spec AS s
    JOIN kr_period AS l USING (kr_key)
    JOIN period_values AS p
      ON p.source = l.source AND p.metric = l.metric AND p.filter_key = l.filter_key
     AND p.window_start = l.window_start AND p.window_end = l.window_end
    GROUP BY s.kr_key, s.reader_key, s.kind, l.source, l.window_start, l.window_end
)
SELECT * FROM daily
UNION ALL BY NAME
SELECT * FROM period
