"""report/progress_page: written after each run, where OKR_REPORT_PATH says (read at run time) or beside the DB."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from pipelines.assets.report import PROGRESS_PAGE, progress_page
from pipelines.assets.resources import WarehouseResource
from tests.pipelines.report.conftest import SMALL_AS_OF, small_db  # noqa: F401  (the shared scored database)


def materialize(database: Path, lang: str = "en") -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [progress_page],
        resources={"duckdb": WarehouseResource(database=str(database))},
        run_config=dg.RunConfig(ops={"report__progress_page": {"config": {"lang": lang}}}),
        raise_on_error=False,
    )


def metadata(result: dg.ExecuteInProcessResult) -> dict:
    (event,) = result.get_asset_materialization_events()
    mat = event.event_specific_data.materialization
    assert mat.asset_key == PROGRESS_PAGE
    return {k: v.value for k, v in mat.metadata.items()}


def test_writes_to_okr_report_path(small_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    target = tmp_path / "www" / "okr" / "index.html"
    monkeypatch.setenv("OKR_REPORT_PATH", str(target))
    result = materialize(small_db, "vi")
    assert result.success
    meta = metadata(result)
    assert meta["path"] == str(target.resolve()) and meta["size_bytes"] == target.stat().st_size > 10_000
    assert (meta["as_of"], meta["objectives"], meta["key_results"], meta["kpis"]) == (str(SMALL_AS_OF), 3, 6, 1)
    assert meta["statuses"] == {"on_track": 5, "no_data": 1, "healthy": 1}
    assert '<html lang="vi"' in target.read_text(encoding="utf-8")


def test_defaults_to_report_html_beside_the_database(small_db: Path) -> None:  # noqa: F811
    result = materialize(small_db)
    assert result.success and metadata(result)["path"] == str(small_db.parent.resolve() / "report.html")


def test_unknown_language_fails_the_step(small_db: Path) -> None:  # noqa: F811
    result = materialize(small_db, "fr")
    assert not result.success
    (failure,) = result.get_step_failure_events()
    assert "lang 'fr'" in failure.step_failure_data.user_failure_data.description


def test_spec_of_the_asset() -> None:
    spec = progress_page.specs_by_key[PROGRESS_PAGE]
    assert spec.group_name == "report" and spec.kinds == {"html"} and spec.owners == ["team:marketing-analytics"]
    assert {d.asset_key.to_user_string() for d in spec.deps} == {
        "okr/kr_scores",
        "okr/objective_scores",
        "okr/score_history",
    }
