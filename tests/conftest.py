"""Suite-wide fixtures: the public data in ../shared/data, isolated environment, okr_defs builders."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def shared_data_dir() -> Path:
    return Path(os.environ.get("OKR_SHARED_DATA") or REPO.parent / "shared" / "data")


@pytest.fixture
def shared_data() -> Path:
    """../shared/data: required in CI (CI=true), skipped on a clone without it."""
    path = shared_data_dir()
    if not path.is_dir():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but the shared data folder {path} is missing")
        pytest.skip(f"shared data folder {path} not present on this clone")
    return path


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads the developer's database, defs or Dagster instance."""
    for name in ("DUCKDB_PATH", "OKR_DEFS_DIR", "DAGSTER_HOME"):
        monkeypatch.delenv(name, raising=False)


def write_defs(root: Path, files: dict[str, str]) -> Path:
    """Write an okr_defs folder from {relative path: YAML text}; returns the folder."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root
