"""JSON Schema for the okr_defs file kinds, so editors complete and check keys as analysts type.

Files in okr_defs carry `# yaml-language-server: $schema=schema/<kind>.schema.json`; the YAML
language server (VS Code, JetBrains, Neovim) then validates against what `okr schema` writes here.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from pipelines.lib.spec.campaign_map_model import CampaignMapFile
from pipelines.lib.spec.models import MetricsFile, ObjectivesFile, SourcesFile

KINDS: dict[str, type[BaseModel]] = {
    "sources": SourcesFile,
    "metrics": MetricsFile,
    "objectives": ObjectivesFile,
    "campaign_map": CampaignMapFile,
}
TITLES = {
    "sources": "okr_defs sources.yaml: where the numbers come from",
    "metrics": "okr_defs metrics.yaml: the metric catalogue",
    "objectives": "okr_defs objectives/*.yaml: objectives, key results and KPIs",
    "campaign_map": "okr_defs campaign_map.yaml: GA4-to-ad campaign links no automatic rule finds",
}


def schema_text(kind: str) -> str:
    schema = KINDS[kind].model_json_schema()
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": TITLES[kind], **schema}
    return json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def write_schemas(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for kind in KINDS:
        path = folder / f"{kind}.schema.json"
        path.write_text(schema_text(kind), encoding="utf-8")
        written.append(path)
    return written
