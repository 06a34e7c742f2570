"""Tables the scoring step owns. `okr.score_history` is append-only: rows are never updated or deleted."""

KR_COLUMNS = """
    as_of DATE NOT NULL, kind VARCHAR NOT NULL, objective_id VARCHAR, kr_id VARCHAR NOT NULL,
    title VARCHAR, metric VARCHAR, unit VARCHAR, owner VARCHAR, direction VARCHAR,
    window_start DATE NOT NULL, window_end DATE NOT NULL,
    numerator DOUBLE, denominator DOUBLE, actual DOUBLE, baseline DOUBLE, target DOUBLE,
    band_low DOUBLE, band_high DOUBLE,
    progress DOUBLE, score DOUBLE, expected_progress DOUBLE, forecast DOUBLE, forecast_score DOUBLE,
    status VARCHAR NOT NULL, data_through DATE, days_with_data INTEGER, currency_code VARCHAR, note VARCHAR,
    weight DOUBLE, position INTEGER, baseline_kind VARCHAR, target_text VARCHAR, self_reported BOOLEAN,
    days_held INTEGER, days_measured INTEGER, definition_hash VARCHAR, score_as_of DATE,
    forecast_low DOUBLE, forecast_high DOUBLE,
    run_id VARCHAR NOT NULL, computed_at TIMESTAMP NOT NULL"""

SCORE_DDL = [
    f"CREATE TABLE IF NOT EXISTS okr.kr_scores ({KR_COLUMNS})",
    f"CREATE TABLE IF NOT EXISTS okr.score_history ({KR_COLUMNS})",
    """CREATE TABLE IF NOT EXISTS okr.kr_daily (
        kr_key VARCHAR NOT NULL, report_date DATE NOT NULL,
        numerator DOUBLE, numerator_rows INTEGER NOT NULL, denominator DOUBLE, value DOUBLE, rows INTEGER NOT NULL,
        run_id VARCHAR NOT NULL,
        PRIMARY KEY (kr_key, report_date))""",
    """CREATE TABLE IF NOT EXISTS okr.kr_contributions (
        kr_key VARCHAR NOT NULL, platform VARCHAR NOT NULL, channel VARCHAR NOT NULL, campaign_id VARCHAR NOT NULL,
        campaign_name VARCHAR, numerator DOUBLE, denominator DOUBLE,
        numerator_last7 DOUBLE, denominator_last7 DOUBLE, numerator_prev7 DOUBLE, denominator_prev7 DOUBLE,
        run_id VARCHAR NOT NULL,
        PRIMARY KEY (kr_key, platform, channel, campaign_id))""",
    # What GA4 said about the data behind each KR over its window (pipelines/lib/scoring/kr_quality.sql):
    # origin daily = days loaded (checked) and how many were thresholded / sampled / rolled into (other);
    # origin period = the whole-window query of a distinct-count KR. Replaced by every scoring run.
    """CREATE TABLE IF NOT EXISTS okr.kr_quality (
        kr_key VARCHAR NOT NULL, reader_key VARCHAR NOT NULL, kind VARCHAR NOT NULL, source VARCHAR NOT NULL,
        origin VARCHAR NOT NULL, window_start DATE, window_end DATE, filter_text VARCHAR,
        checked INTEGER NOT NULL, thresholded INTEGER NOT NULL, sampled INTEGER NOT NULL,
        min_sampling_ratio DOUBLE, other_row INTEGER NOT NULL, run_id VARCHAR NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS okr.objective_scores (
        as_of DATE NOT NULL, objective_id VARCHAR NOT NULL, title VARCHAR, owner VARCHAR, parent VARCHAR,
        type VARCHAR NOT NULL, period_start DATE, period_end DATE,
        score DOUBLE, forecast_score DOUBLE, expected_progress DOUBLE, status VARCHAR NOT NULL,
        scored_children INTEGER NOT NULL, unscored_children INTEGER NOT NULL,
        run_id VARCHAR NOT NULL, computed_at TIMESTAMP NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS okr.objective_history (
        as_of DATE NOT NULL, objective_id VARCHAR NOT NULL, title VARCHAR, owner VARCHAR, parent VARCHAR,
        type VARCHAR NOT NULL, period_start DATE, period_end DATE,
        score DOUBLE, forecast_score DOUBLE, expected_progress DOUBLE, status VARCHAR NOT NULL,
        scored_children INTEGER NOT NULL, unscored_children INTEGER NOT NULL,
        run_id VARCHAR NOT NULL, computed_at TIMESTAMP NOT NULL)""",
]
