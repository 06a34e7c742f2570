"""Definition errors located at a file, line and column, so an analyst sees `file:line:column: message`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, order=True)
class DefsError:
    """One problem in okr_defs, located at the YAML key (or value) it concerns; 1-based line and column."""

    file: Path
    line: int
    column: int
    message: str
    warning: bool = False

    def __str__(self) -> str:
        kind = "warning: " if self.warning else ""
        return f"{self.file}:{self.line}:{self.column}: {kind}{self.message}"


class DefsErrors(Exception):
    """All problems found in one pass over okr_defs; raised only after every file has been checked."""

    def __init__(self, errors: list[DefsError]):
        self.errors = sorted(set(errors), key=lambda e: (str(e.file), e.line, e.column, e.message))
        super().__init__("\n".join(str(e) for e in self.errors))

    @property
    def error_count(self) -> int:
        return sum(not e.warning for e in self.errors)
