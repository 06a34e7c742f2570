"""The JSON Schema that editors use is current, accepts the shipped okr_defs and rejects a typo."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import yaml

from pipelines.lib.spec.schema import KINDS, schema_text, write_schemas
from tests.conftest import REPO

DEFS = REPO / "okr_defs"


def as_json(value):
    """YAML dates as the strings an editor's YAML language server sees."""
    if isinstance(value, dict):
        return {k: as_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_json(v) for v in value]
    return value.isoformat() if hasattr(value, "isoformat") else value


def test_committed_schema_matches_the_models() -> None:
    for kind in KINDS:
        assert (DEFS / "schema" / f"{kind}.schema.json").read_text(encoding="utf-8") == schema_text(kind), (
            f"okr_defs/schema/{kind}.schema.json is stale: run `okr schema`"
        )


def test_shipped_files_validate_and_carry_the_editor_comment(tmp_path: Path) -> None:
    import json

    write_schemas(tmp_path)
    files = {
        "sources": [DEFS / "sources.yaml"],
        "metrics": [DEFS / "metrics.yaml"],
        "objectives": sorted((DEFS / "objectives").glob("*.yaml")),
    }
    for kind, paths in files.items():
        schema = json.loads((tmp_path / f"{kind}.schema.json").read_text())
        for path in paths:
            text = path.read_text(encoding="utf-8")
            assert text.startswith("# yaml-language-server: $schema=") and f"{kind}.schema.json" in text.splitlines()[0]
            jsonschema.validate(as_json(yaml.safe_load(text)), schema)


def test_schema_rejects_an_unknown_key() -> None:
    import json

    schema = json.loads(schema_text("sources"))
    data = yaml.safe_load((DEFS / "sources.yaml").read_text(encoding="utf-8"))
    data["sources"]["google_ads"]["drop_duplicate"] = True
    try:
        jsonschema.validate(data, schema)
    except jsonschema.ValidationError as exc:
        assert "drop_duplicate" in exc.message
    else:
        raise AssertionError("the schema accepted an unknown key")
