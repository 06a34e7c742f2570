"""The okr_defs language: pydantic models, a line-aware YAML loader and cross-file checks."""

from pipelines.lib.spec.errors import DefsError, DefsErrors
from pipelines.lib.spec.loader import OkrDefs, load_defs

__all__ = ["DefsError", "DefsErrors", "OkrDefs", "load_defs"]
