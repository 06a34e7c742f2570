"""Definition errors that carry a file and line, so an analyst sees `file:line: message`, never a traceback."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, order=True)
class DefsError:
    """One problem in okr_defs, located at the line of the YAML node it concerns."""

    file: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class DefsErrors(Exception):
    """All problems found in one pass over okr_defs; raised only after every file has been checked."""

    def __init__(self, errors: list[DefsError]):
        self.errors = sorted(set(errors))
        super().__init__("\n".join(str(e) for e in self.errors))
