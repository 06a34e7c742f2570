"""Suite-wide fixtures: the public data in ../shared/data, isolated environment, okr_defs builders."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

REPO = Path(__file__).resolve().parent.parent

# Property tests in CI must be reproducible: a failure seen there has to fail again on a rerun and on a
# laptop, not vanish with the next random seed. `derandomize` seeds each test from its own source, so every
# CI run tries the same examples (and implies no example database). Example counts stay what each test's
# own settings say (FAST, HEAVY with `-m slow`, ...). Hypothesis would load its own built-in "ci" profile
# whenever a CI variable exists with any value; this replaces it and applies the suite's one rule for CI
# (CI=true, as for the shared data). Loaded here, at import: the tests' settings objects copy their unset
# values from the profile active when their module is imported.
settings.register_profile("ci", settings.get_profile("default"), derandomize=True)
settings.load_profile("ci" if os.environ.get("CI", "").lower() == "true" else "default")


# Examples per heavy property test (the `slow` marker, run by CI after `make test`): 2,500 each, so the four
# heavy tests over okr_defs and expressions execute 10,000 examples and the export fuzzer 2,500 more, in about
# ten minutes on two cores. OKR_HEAVY_EXAMPLES=10000 runs the deep version (about an hour).
HEAVY_EXAMPLES = int(os.environ.get("OKR_HEAVY_EXAMPLES", "2500"))


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


@pytest.fixture(autouse=True)
def _no_instance_from_an_earlier_test() -> Iterator[None]:
    """Each test starts with no Dagster instance in context and leaves none behind.

    Building a repository reads the definitions-state storage of the instance last entered in the process
    (a context variable). Under xdist a test once found there the instance of an earlier test whose
    Postgres server or temporary folder was already gone, and failed with "unable to open database file".
    """
    from dagster._core.storage.defs_state.base import set_defs_state_storage

    with set_defs_state_storage(None):
        yield


def write_defs(root: Path, files: dict[str, str]) -> Path:
    """Write an okr_defs folder from {relative path: YAML text}; returns the folder."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root
