-- KR and KPI scores as of a date, from okr.kr_daily: ratio of sums over the window (never a mean of
-- daily ratios), linear pace, a run-rate forecast, and a status that is never "0 %" for missing data.
WITH spec AS (
    SELECT *,
           least(window_end, CAST($as_of AS DATE)) AS through,
           CAST(datediff('day', window_start, window_end) + 1 AS DOUBLE) AS window_days
    FROM kr_spec
),
agg AS (
    SELECT
        s.kr_key,
        CASE any_value(s.num_agg)
            WHEN 'count' THEN sum(d.num_count)
            WHEN 'max' THEN max(d.num_sum)
            WHEN 'last' THEN arg_max(d.num_sum, d.report_date)
            ELSE sum(d.num_sum)
        END AS numerator,
        sum(d.den_sum) AS denominator,
        max(d.report_date) FILTER (WHERE d.num_count > 0) AS data_through,
        count(d.report_date) FILTER (WHERE d.num_count > 0) AS days_with_data,
        list_distinct(flatten(list(d.currencies) FILTER (WHERE d.currencies IS NOT NULL))) AS currencies
    FROM spec AS s
    LEFT JOIN kr_daily_new AS d ON d.kr_key = s.kr_key
    GROUP BY s.kr_key
),
actuals AS (
    SELECT
        s.*,
        a.numerator, a.denominator, a.data_through, a.days_with_data, a.currencies,
        CASE WHEN s.den_metric IS NULL THEN a.numerator ELSE a.numerator / nullif(a.denominator, 0) END AS actual,
        greatest(0, least(datediff('day', s.window_start, CAST($as_of AS DATE)) + 1, s.window_days)) AS elapsed,
        datediff('day', s.window_start, a.data_through) + 1 AS elapsed_data
    FROM spec AS s
    JOIN agg AS a USING (kr_key)
),
projected AS (
    SELECT
        *,
        CASE
            WHEN cumulative AND elapsed_data > 0 THEN numerator / elapsed_data * window_days
            ELSE actual
        END AS forecast
    FROM actuals
),
progressed AS (
    SELECT
        *,
        (actual - baseline) / (target - baseline) AS progress,
        (forecast - baseline) / (target - baseline) AS forecast_progress
    FROM projected
)
SELECT
    CAST($as_of AS DATE) AS as_of, kind, objective_id, kr_id, title, metric, unit, owner, direction,
    window_start, window_end, numerator, denominator, actual, baseline, target, band_low, band_high,
    progress,
    -- greatest/least skip NULLs in DuckDB: keep a missing progress missing, never 0 or 1.
    CASE WHEN progress IS NOT NULL THEN greatest(0.0, least(1.0, progress)) END AS score,
    CASE WHEN kind = 'kr' THEN elapsed / window_days END AS expected_progress,
    forecast,
    CASE WHEN forecast_progress IS NOT NULL THEN greatest(0.0, least(1.0, forecast_progress)) END AS forecast_score,
    CASE
        WHEN CAST($as_of AS DATE) < window_start THEN 'not_started'
        WHEN len(currencies) > 1 THEN 'invalid'
        WHEN actual IS NULL THEN 'no_data'
        WHEN kind = 'kpi' THEN
            CASE WHEN (band_low IS NULL OR actual >= band_low) AND (band_high IS NULL OR actual <= band_high)
                 THEN 'healthy' ELSE 'breached' END
        WHEN objective_type = 'committed' THEN
            CASE WHEN forecast_progress >= 1.0 THEN 'on_track'
                 WHEN forecast_progress >= 0.7 THEN 'at_risk' ELSE 'off_track' END
        ELSE
            CASE WHEN forecast_progress >= 0.7 THEN 'on_track'
                 WHEN forecast_progress >= 0.4 THEN 'at_risk' ELSE 'off_track' END
    END AS status,
    data_through,
    CAST(days_with_data AS INTEGER) AS days_with_data,
    CASE WHEN len(currencies) = 1 THEN currencies[1] END AS currency_code,
    CASE
        WHEN len(currencies) > 1 THEN 'rows in several currencies: ' || array_to_string(list_sort(currencies), ', ')
        WHEN denominator = 0 THEN 'denominator is zero over the window'
    END AS note,
    weight,
    position,
    CAST($run_id AS VARCHAR) AS run_id,
    CAST($computed_at AS TIMESTAMP) AS computed_at
FROM progressed
ORDER BY position
