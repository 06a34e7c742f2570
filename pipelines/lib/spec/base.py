"""Shared building blocks of the okr_defs models."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints
from pydantic_core import PydanticCustomError

Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_.-]*$", max_length=80)]
MetricName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=63)]


class Strict(BaseModel):
    """Unknown keys are errors: a misspelt setting must never be silently ignored.

    Numbers must be finite: YAML reads `.inf` and `.nan` as floats, and either one passes `weight > 0`
    or a baseline check yet makes every score it touches meaningless.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True, allow_inf_nan=False)


def field_error(field: str, message: str) -> PydanticCustomError:
    """A model-level error that points at one key: the loader reports it at that key's position."""
    return PydanticCustomError("field_error", message.replace("{", "{{").replace("}", "}}"), {"field": field})
