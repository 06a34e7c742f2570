-- KR, KPI and measured-baseline values as of a date, from the grouped pass (kr_grouped):
-- ratio of sums over the window (never a mean of daily ratios), measured baselines and relative
-- targets, stay_above/stay_below share of days, milestones, linear pace, a run-rate forecast, and a
-- status that is never "0 %" for missing data.
WITH spec AS (
    SELECT *,
           least(window_end, CAST($as_of AS DATE)) AS through,
           CAST(datediff('day', window_start, window_end) + 1 AS DOUBLE) AS window_days,
           CAST(datediff('day', pace_start, pace_end) + 1 AS DOUBLE) AS pace_days
    FROM kr_spec
),
daily AS (
    SELECT
        g.*,
        CASE
            WHEN s.expr_id IS NOT NULL THEN g.expr_value
            WHEN s.has_den THEN g.num_sum / nullif(g.den_sum, 0)
            ELSE g.num_sum
        END AS day_value
    FROM kr_grouped AS g
    JOIN spec AS s USING (kr_key)
    WHERE g.is_daily
),
currencies AS (
    -- the currencies of the rows behind a KR: kr_grouped keeps them on its campaign rows
    SELECT kr_key, min(currency_min) AS currency_min, max(currency_max) AS currency_max
    FROM kr_grouped
    WHERE is_campaign
    GROUP BY kr_key
),
agg AS (
    SELECT
        s.kr_key,
        CASE any_value(s.num_agg)
            -- agg count sums too: a day's num_sum is 1 when it has a value (kr_grouped.sql)
            WHEN 'max' THEN max(d.num_sum)
            WHEN 'last' THEN arg_max(d.num_sum, d.report_date)
            ELSE sum(d.num_sum)
        END AS numerator,
        sum(d.den_sum) AS denominator,
        max(d.report_date) AS data_through,
        count(d.report_date) AS days_with_data,
        -- a day without rows before the newest loaded day is a real zero for a summed measure (the source's
        -- window was written whole, so that day's extract succeeded): it is measured, and holds or fails
        -- as 0 does (held, below); for a ratio or an expression it has no value and is not measured
        CASE
            WHEN NOT any_value(s.has_den) AND any_value(s.expr_id) IS NULL
                 AND any_value(s.num_agg) IN ('sum', 'count') AND max(d.report_date) IS NOT NULL
                THEN datediff('day', any_value(s.window_start), max(d.report_date)) + 1
            ELSE count(d.day_value)
        END AS days_measured,
        CASE WHEN any_value(c.currency_min) IS NULL THEN CAST([] AS VARCHAR[])
             ELSE list_distinct([any_value(c.currency_min), any_value(c.currency_max)]) END AS currencies
    FROM spec AS s
    LEFT JOIN daily AS d ON d.kr_key = s.kr_key
    LEFT JOIN currencies AS c ON c.kr_key = s.kr_key
    GROUP BY s.kr_key
),
totals AS (
    SELECT kr_key, expr_value FROM kr_grouped WHERE NOT is_daily AND NOT is_campaign
),
actuals AS (
    SELECT
        s.*,
        a.numerator, a.denominator, a.days_with_data, a.days_measured, a.currencies,
        CASE WHEN s.self_reported THEN s.reported_on ELSE a.data_through END AS data_through,
        CASE
            WHEN s.self_reported THEN s.reported_value
            WHEN s.expr_id IS NOT NULL THEN t.expr_value
            WHEN s.has_den THEN a.numerator / nullif(a.denominator, 0)
            ELSE a.numerator
        END AS actual,
        greatest(0, least(datediff('day', s.pace_start, CAST($as_of AS DATE)) + 1, s.pace_days)) AS elapsed,
        datediff('day', s.window_start, a.data_through) + 1 AS elapsed_data
    FROM spec AS s
    JOIN agg AS a USING (kr_key)
    LEFT JOIN totals AS t USING (kr_key)
),
based AS (
    -- measured baselines are rows of the same pass; relative targets apply to whichever baseline
    SELECT
        k.*,
        CASE WHEN k.baseline_key IS NOT NULL THEN b.actual ELSE k.baseline END AS baseline_value,
        CASE
            WHEN k.target_factor IS NOT NULL
                THEN (CASE WHEN k.baseline_key IS NOT NULL THEN b.actual ELSE k.baseline END) * k.target_factor
            ELSE k.target
        END AS target_value,
        b.window_start AS baseline_start,
        b.window_end AS baseline_end
    FROM actuals AS k
    LEFT JOIN actuals AS b ON b.kr_key = k.baseline_key
    WHERE k.kind IN ('kr', 'kpi')
),
pace_curve AS (
    -- seasonal pacing: the share of last year's window total reached by each day of that window
    SELECT
        d.kr_key AS pace_key,
        d.report_date,
        sum(d.num_sum) OVER (PARTITION BY d.kr_key ORDER BY d.report_date) / nullif(sum(d.num_sum) OVER (PARTITION BY d.kr_key), 0) AS share
    FROM daily AS d
    JOIN spec AS s ON s.kr_key = d.kr_key AND s.kind = 'pace'
),
paced AS (
    SELECT
        b.kr_key,
        max(c.share) AS seasonal_share
    FROM based AS b
    JOIN spec AS p ON p.kr_key = b.pace_key
    LEFT JOIN pace_curve AS c
      ON c.pace_key = b.pace_key
     AND c.report_date <= p.window_start + CAST(datediff('day', b.window_start, b.data_through) AS INTEGER)
    GROUP BY b.kr_key
),
held AS (
    -- stay_above / stay_below: days whose value held against the (possibly relative) threshold
    SELECT
        b.kr_key,
        count_if(CASE b.direction
                     WHEN 'stay_above' THEN d.day_value >= b.target_value
                     WHEN 'stay_below' THEN d.day_value <= b.target_value
                 END)
        + CASE
              WHEN (any_value(b.direction) = 'stay_above' AND 0 >= any_value(b.target_value))
                OR (any_value(b.direction) = 'stay_below' AND 0 <= any_value(b.target_value))
                  THEN any_value(b.days_measured) - count(d.day_value)  -- the zero days (see agg)
              ELSE 0
          END AS days_held
    FROM based AS b
    LEFT JOIN daily AS d ON d.kr_key = b.kr_key
    GROUP BY b.kr_key
),
recent AS (
    -- the last 14 calendar days with data through: the rate and the day-to-day spread the forecast uses
    SELECT
        s.kr_key,
        sum(d.num_sum) AS r_num,
        sum(d.den_sum) AS r_den,
        coalesce(stddev_samp(d.num_sum), 0) AS sd_num,
        coalesce(stddev_samp(d.day_value), 0) AS sd_value,
        least(14, datediff('day', s.window_start, a.data_through) + 1) AS r_days,
        greatest(0, datediff('day', a.data_through, s.window_end)) AS days_left
    FROM spec AS s
    JOIN agg AS a USING (kr_key)
    LEFT JOIN daily AS d ON d.kr_key = s.kr_key AND d.report_date > a.data_through - 14
    GROUP BY s.kr_key, s.window_start, s.window_end, a.data_through
),
history_asks AS (
    -- open cumulative KRs forecast by their run rate: the metric summed, the last day with data, the days
    -- left and the recent days the rate comes from
    SELECT s.kr_key, m.metric, a.data_through AS t_end, CAST(r.days_left AS INTEGER) AS horizon,
           CAST(r.r_days AS INTEGER) AS n
    FROM spec AS s
    JOIN agg AS a USING (kr_key)
    JOIN recent AS r USING (kr_key)
    JOIN kr_metrics AS m ON m.kr_key = s.kr_key AND m.role = 'num'
    WHERE s.num_agg = 'sum' AND s.cumulative AND s.direction IN ('increase', 'decrease', 'milestone')
      AND s.kind IN ('kr', 'kpi') AND r.days_left > 0 AND r.r_days > 0
),
history_totals AS (
    -- the metric's own history: all of its mart rows (whatever the KR's filters), per day, over the year
    -- (and the recent window) before each KR's last day with data
    SELECT m.metric, m.report_date, sum(m.value) AS total
    FROM marts.campaign_daily_metrics AS m
    JOIN (
        SELECT metric, min(t_end) - 365 - 14 AS from_day, max(t_end) AS to_day FROM history_asks GROUP BY metric
    ) AS q ON q.metric = m.metric AND m.report_date BETWEEN q.from_day AND q.to_day
    GROUP BY m.metric, m.report_date
),
history_running AS (
    -- running total per calendar day from the day before the metric's first row (a day without rows adds 0)
    SELECT c.metric, c.day, coalesce(sum(t.total) OVER (PARTITION BY c.metric ORDER BY c.day), 0) AS running
    FROM (
        SELECT metric, CAST(unnest(generate_series(min(report_date) - 1, max(report_date), INTERVAL 1 DAY)) AS DATE) AS day
        FROM history_totals
        GROUP BY metric
    ) AS c
    LEFT JOIN history_totals AS t ON t.metric = c.metric AND t.report_date = c.day
),
history_errors AS (
    -- the run-rate forecast made on each day t of that year, for the same days left (horizon) from the same
    -- number of recent days (n): (what the next `horizon` days added - horizon x the n-day rate to t), in
    -- units of horizon x that rate
    SELECT
        q.kr_key,
        (CAST(fut.running - cur.running AS DOUBLE) - q.horizon * CAST(cur.running - past.running AS DOUBLE) / q.n)
            / (q.horizon * CAST(cur.running - past.running AS DOUBLE) / q.n) AS rel_error
    FROM history_asks AS q
    JOIN history_running AS cur
      ON cur.metric = q.metric AND cur.day BETWEEN q.t_end - 365 AND q.t_end - q.horizon
    JOIN history_running AS past ON past.metric = q.metric AND past.day = cur.day - q.n
    JOIN history_running AS fut ON fut.metric = q.metric AND fut.day = cur.day + q.horizon
    WHERE cur.running > past.running
),
history_band AS (
    -- its 10th and 90th percentiles, once there are four weeks of them
    SELECT kr_key, quantile_cont(rel_error, 0.1) AS q_low, quantile_cont(rel_error, 0.9) AS q_high
    FROM history_errors
    GROUP BY kr_key
    HAVING count(*) >= 28
),
projected AS (
    -- where the window will land: recent daily rate over the days left (cumulative KRs), the ratio of the
    -- projected sums (ratio KRs), the current value (levels); with an 80 % band (z = 1.2816). The band's
    -- variance is the predictive one for L days left from n observed: s^2 * L * (1 + L / n) (day-to-day
    -- noise plus the uncertainty of the rate itself). Day-to-day noise cannot see the level changes of the
    -- days left (seasons, sale days, growth), which is most of a run rate's error, so a cumulative KR's band
    -- also covers the 10th-90th percentile of the errors the same run-rate forecast made on the metric's
    -- own last year (history_band); backtested in docs/forecast-backtest.md.
    SELECT
        b.*,
        h.days_held,
        r.days_left,
        pc.seasonal_share,
        CASE WHEN NOT coalesce(pc.seasonal_share >= 0.05, false) THEN hb.q_low * r.r_num / r.r_days * r.days_left END
            AS history_low,
        CASE WHEN NOT coalesce(pc.seasonal_share >= 0.05, false) THEN hb.q_high * r.r_num / r.r_days * r.days_left END
            AS history_high,
        CASE
            WHEN pc.seasonal_share >= 0.05 AND r.days_left > 0 THEN numerator / pc.seasonal_share
            WHEN r.r_days > 0 AND cumulative AND direction IN ('increase', 'decrease', 'milestone')
                THEN numerator + r.r_num / r.r_days * r.days_left
            WHEN r.r_days > 0 AND has_den AND expr_id IS NULL
                THEN (numerator + coalesce(r.r_num, 0) / r.r_days * r.days_left)
                     / nullif(denominator + coalesce(r.r_den, 0) / r.r_days * r.days_left, 0)
            ELSE actual
        END AS forecast,
        CASE
            WHEN r.r_days > 0 AND cumulative AND direction IN ('increase', 'decrease', 'milestone')
                THEN 1.2816 * r.sd_num * sqrt(r.days_left * (1 + r.days_left / r.r_days))
            WHEN r.r_days > 0 AND has_den AND expr_id IS NULL
                THEN 1.2816 * r.sd_value * sqrt(r.days_left * (1 + r.days_left / r.r_days))
                     * (coalesce(r.r_den, 0) / r.r_days)
                     / nullif(denominator + coalesce(r.r_den, 0) / r.r_days * r.days_left, 0)
            WHEN r.days_left > 0 THEN 1.2816 * r.sd_value
            ELSE 0
        END AS forecast_margin
    FROM based AS b
    JOIN held AS h USING (kr_key)
    LEFT JOIN recent AS r USING (kr_key)
    LEFT JOIN paced AS pc USING (kr_key)
    LEFT JOIN history_band AS hb USING (kr_key)
),
freshness AS (
    -- stale: a source behind the KR has data older than its allowed lag (never "0 %" for late data)
    SELECT
        ks.kr_key,
        list(ks.source || ' has data through ' || coalesce(CAST(f.data_through AS VARCHAR), 'no day yet')
             || ' (allowed lag ' || ks.allowed_lag_days || ' days)' ORDER BY ks.source)
            FILTER (WHERE f.data_through IS NULL OR f.data_through < CAST($as_of AS DATE) - ks.allowed_lag_days)
            AS late_sources
    FROM kr_sources AS ks
    LEFT JOIN (
        SELECT source, max(report_date) AS data_through
        FROM marts.campaign_daily_metrics
        WHERE report_date <= CAST($as_of AS DATE)
        GROUP BY source
    ) AS f USING (source)
    GROUP BY ks.kr_key
),
last_good AS (
    SELECT kind || ':' || coalesce(objective_id, '') || '/' || kr_id AS history_key,
           arg_max(score, as_of) AS score, max(as_of) AS as_of
    FROM okr.score_history
    WHERE status NOT IN ('stale', 'no_data', 'invalid', 'not_started') AND as_of < CAST($as_of AS DATE)
    GROUP BY 1
),
progressed AS (
    SELECT
        *,
        kr_progress(actual, direction, measure, baseline_value, target_value,
                    days_held / nullif(days_measured, 0), self_reported) AS progress,
        kr_progress(forecast, direction, measure, baseline_value, target_value,
                    days_held / nullif(days_measured, 0), self_reported) AS forecast_progress,
        coalesce(len(fr.late_sources), 0) > 0 AS is_stale,
        array_to_string(fr.late_sources, '; ') AS stale_note,
        lg.score AS last_good_score,
        lg.as_of AS last_good_as_of
    FROM projected
    LEFT JOIN freshness AS fr USING (kr_key)
    LEFT JOIN last_good AS lg ON lg.history_key = kind || ':' || coalesce(objective_id, '') || '/' || kr_id
)
SELECT
    CAST($as_of AS DATE) AS as_of, kind, objective_id, kr_id, title, metric, unit, owner, direction,
    window_start, window_end, numerator, denominator, actual,
    baseline_value AS baseline, target_value AS target, band_low, band_high,
    progress,
    -- greatest/least skip NULLs in DuckDB: keep a missing progress missing, never 0 or 1.
    -- A stale KR shows the last score computed with complete data (score_as_of says when).
    CASE
        WHEN is_stale AND CAST($as_of AS DATE) >= window_start THEN last_good_score
        WHEN progress IS NOT NULL THEN greatest(0.0, least(1.0, progress))
    END AS score,
    CASE WHEN is_stale AND CAST($as_of AS DATE) >= window_start THEN last_good_as_of
         ELSE CAST($as_of AS DATE) END AS score_as_of,
    CASE
        WHEN kind <> 'kr' THEN NULL
        WHEN seasonal_share IS NOT NULL AND CAST($as_of AS DATE) < window_end THEN seasonal_share
        ELSE elapsed / pace_days
    END AS expected_progress,
    forecast,
    -- least/greatest skip NULLs: without a year of history the band is the day-to-day one
    least(forecast - forecast_margin, forecast + history_low) AS forecast_low,
    greatest(forecast + forecast_margin, forecast + history_high) AS forecast_high,
    CASE WHEN forecast_progress IS NOT NULL THEN greatest(0.0, least(1.0, forecast_progress)) END AS forecast_score,
    CASE
        WHEN CAST($as_of AS DATE) < window_start THEN 'not_started'
        WHEN len(currencies) > 1 THEN 'invalid'
        WHEN is_stale AND NOT self_reported THEN 'stale'
        WHEN actual IS NULL THEN 'no_data'
        WHEN baseline_key IS NOT NULL AND baseline_value IS NULL THEN 'no_data'
        WHEN kind = 'kpi' THEN
            CASE WHEN (band_low IS NULL OR actual >= band_low) AND (band_high IS NULL OR actual <= band_high)
                 THEN 'healthy' ELSE 'breached' END
        WHEN forecast_progress IS NULL THEN 'invalid'
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
        WHEN is_stale AND NOT self_reported THEN 'late data: ' || stale_note
        WHEN baseline_key IS NOT NULL AND baseline_value IS NULL
            THEN 'no data in the baseline window ' || baseline_start || '..' || baseline_end
        WHEN target_value = baseline_value THEN 'the measured baseline equals the target'
        WHEN denominator = 0 THEN 'denominator is zero over the window'
    END AS note,
    weight,
    position,
    baseline_kind,
    target_text,
    self_reported,
    CAST(days_held AS INTEGER) AS days_held,
    CAST(days_measured AS INTEGER) AS days_measured,
    definition_hash,
    CAST($run_id AS VARCHAR) AS run_id,
    CAST($computed_at AS TIMESTAMP) AS computed_at
FROM progressed
ORDER BY position
