-- Progress of a value (the actual, or the forecast) towards a KR's target, by kind of KR. One definition
-- for both, so "where we are" and "where we will land" can never be computed two different ways.
CREATE OR REPLACE TEMP MACRO kr_progress(v, direction, measure, baseline_value, target_value, held_share, self_reported) AS
    CASE direction
        WHEN 'stay_above' THEN CASE WHEN measure = 'at_end' THEN CAST(v >= target_value AS DOUBLE) ELSE held_share END
        WHEN 'stay_below' THEN CASE WHEN measure = 'at_end' THEN CAST(v <= target_value AS DOUBLE) ELSE held_share END
        WHEN 'milestone' THEN CASE
            WHEN self_reported THEN v
            WHEN baseline_value IS NULL OR target_value >= baseline_value THEN CAST(v >= target_value AS DOUBLE)
            ELSE CAST(v <= target_value AS DOUBLE) END
        WHEN 'band' THEN NULL
        ELSE (v - baseline_value) / nullif(target_value - baseline_value, 0)
    END
