-- Which series each KR, KPI and measured baseline reads (temp table kr_members), matched once per entity
-- of kr_series, never per mart row. An entity belongs to a KR when every dimension the KR filters on is
-- matched by at least one of its values (no filter: every entity). Filter values are bound data from
-- kr_filters, never SQL text.
CREATE OR REPLACE TEMP TABLE kr_members AS
WITH entities AS (
    SELECT DISTINCT
        entity_id, source, platform, account_id, campaign_id, campaign_name, channel, source_medium,
        unified_campaign_id
    FROM kr_series
),
entity_values AS (
    -- one row per entity and filterable dimension with a value (a NULL matches no filter)
    UNPIVOT entities
    ON source, platform, account_id, campaign_id, campaign_name, channel, source_medium, unified_campaign_id
    INTO NAME dimension VALUE dim_value
),
hits AS (
    -- exact values by a hash join on (dimension, value); patterns tried on their dimension's values only
    SELECT f.kr_key, f.dimension, v.entity_id
    FROM kr_filters AS f
    JOIN entity_values AS v ON v.dimension = f.dimension AND v.dim_value = f.pattern
    WHERE NOT f.is_glob
    UNION ALL
    SELECT f.kr_key, f.dimension, v.entity_id
    FROM kr_filters AS f
    JOIN entity_values AS v ON v.dimension = f.dimension
    WHERE f.is_glob AND v.dim_value GLOB f.pattern
),
filter_hits AS (
    -- per KR and entity: how many of the KR's filtered dimensions at least one of its values matches
    SELECT kr_key, entity_id, count(DISTINCT dimension) AS dims_matched
    FROM hits
    GROUP BY kr_key, entity_id
),
filter_dims AS (
    SELECT kr_key, count(DISTINCT dimension) AS dims FROM kr_filters GROUP BY kr_key
),
kr_entities AS (
    -- a KR without filters reads every entity; one with filters, those matched on all its dimensions
    SELECT s.kr_no, e.entity_id
    FROM kr_numbered AS s
    CROSS JOIN entities AS e
    WHERE s.kr_key NOT IN (SELECT kr_key FROM filter_dims)
    UNION ALL
    SELECT s.kr_no, h.entity_id
    FROM kr_numbered AS s
    JOIN filter_dims AS d ON d.kr_key = s.kr_key
    JOIN filter_hits AS h ON h.kr_key = s.kr_key AND h.dims_matched = d.dims
)
-- one row per KR, matched series and role (num/den/expr) of a measure the KR reads
SELECT s.kr_no, x.series_id, r.role
FROM kr_entities AS k
JOIN kr_numbered AS s ON s.kr_no = k.kr_no
JOIN kr_metrics AS r ON r.kr_key = s.kr_key
JOIN kr_series AS x ON x.entity_id = k.entity_id AND x.metric = r.metric
WHERE s.window_start <= s.through;
