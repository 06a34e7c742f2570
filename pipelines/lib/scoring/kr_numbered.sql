-- The KRs, KPIs and measured baselines measured from the mart, numbered once per scoring pass (temp table
-- kr_numbered), so that kr_members.sql, the prefix sums (prefix_sums.py) and kr_grouped.sql agree on kr_no.
-- coarse: the KR filters only on the columns of kr_series.coarse_no (source, platform, account, channel,
-- source/medium), so every series of one coarse series is either all in or all out, and its days can be
-- summed over the few coarse series (prefix_sums.py). A filter on any other column makes it fine-grained.
CREATE OR REPLACE TEMP TABLE kr_numbered AS
SELECT
    s.*,
    least(s.window_end, CAST($as_of AS DATE)) AS through,
    CAST(row_number() OVER (ORDER BY s.kr_key) AS INTEGER) AS kr_no,
    NOT EXISTS (
        SELECT 1 FROM kr_filters AS f
        WHERE f.kr_key = s.kr_key
          AND f.dimension NOT IN ('source', 'platform', 'account_id', 'channel', 'source_medium')
    ) AS coarse
FROM kr_spec AS s
WHERE NOT s.self_reported
