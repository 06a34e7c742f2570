"""The credential scan walks every YAML node once, even through an alias that points back at itself."""

from __future__ import annotations

from pathlib import Path

import yaml

from pipelines.lib.spec.credentials import _scan


def test_a_self_referencing_alias_is_scanned_once_and_ends(tmp_path: Path) -> None:
    path = tmp_path / "objectives.yaml"
    text = "objectives: &loop [*loop, {note: 'token=ya29.a0AfH6SMBexampleexampleexample'}]\n"
    root = yaml.compose(text)
    errors = _scan(path, root, check_keys=False)
    assert [(e.line, e.column) for e in errors] == [(1, 34)]
    assert "looks like" in errors[0].message
