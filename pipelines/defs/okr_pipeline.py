"""The one @dg.definitions of the location: assets built from OKR_DEFS_DIR (default ./okr_defs)."""

import dagster as dg

from pipelines.assets.build import build_definitions
from pipelines.assets.resources import db_path_from_env, defs_dir_from_env


@dg.definitions
def okr_pipeline() -> dg.Definitions:
    return build_definitions(defs_dir_from_env(), db_path_from_env())
