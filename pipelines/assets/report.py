"""report/progress_page: the marketer's HTML report, rewritten after every scoring run.

No `from __future__ import annotations` here: Dagster reads the config and resource annotations at run
time.
"""

import os
from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource

from pipelines.assets.ingest import OWNERS
from pipelines.assets.scores import KR_SCORES, OBJECTIVE_SCORES, SCORE_HISTORY
from pipelines.report.format import LANGS
from pipelines.report.render import default_path, write_report

PROGRESS_PAGE = dg.AssetKey(["report", "progress_page"])
REPORT_PATH_ENV = "OKR_REPORT_PATH"


class ReportConfig(dg.Config):
    """lang: the language the page opens in (en or vi); both are always in the file."""

    lang: str = "en"


def report_path(db_path: Path) -> Path:
    """OKR_REPORT_PATH when set (read at run time, so the UI can point it at a web root), else beside the DB."""
    configured = os.environ.get(REPORT_PATH_ENV)
    return Path(configured) if configured else default_path(db_path)


@dg.asset(
    key=PROGRESS_PAGE,
    deps=[KR_SCORES, OBJECTIVE_SCORES, SCORE_HISTORY],
    group_name="report",
    kinds={"html"},
    owners=OWNERS,
    pool="duckdb",
    description="One self-contained HTML page (English and Vietnamese): scores, pace, forecast, trends, movers.",
)
def progress_page(context: dg.AssetExecutionContext, config: ReportConfig, duckdb: DuckDBResource):
    if config.lang not in LANGS:
        raise dg.Failure(description=f"lang {config.lang!r}: use one of {', '.join(LANGS)}", allow_retries=False)
    db_path = Path(duckdb.database)
    written = write_report(db_path, report_path(db_path), config.lang)
    context.log.info(f"wrote {written.path} ({written.size_bytes} bytes) as of {written.as_of}")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(written.path)),
            "size_bytes": written.size_bytes,
            "as_of": str(written.as_of),
            "objectives": written.objectives,
            "key_results": written.key_results,
            "kpis": written.kpis,
            "statuses": dg.MetadataValue.json(written.statuses),
        }
    )
