"""YAML loading that remembers where every key and value came from.

pydantic reports an error as a location path (`objectives.0.key_results.1.target`); to print
`file:line:column` we keep the composed YAML node tree and walk it along that path. Loading uses
PyYAML's SafeLoader only: no tag can construct a Python object.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class Position:
    line: int  # 1-based
    column: int  # 1-based


def _pos(node: yaml.Node) -> Position:
    return Position(node.start_mark.line + 1, node.start_mark.column + 1)


class LocatedYaml:
    """A parsed YAML document plus its node tree for mapping error paths to positions."""

    def __init__(self, path: Path, data: Any, root: yaml.Node | None):
        self.path = path
        self.data = data
        self.root = root

    def value_pos(self, loc: Loc) -> Position:
        """Position of the deepest node reachable along `loc` (the parent when a key is missing)."""
        node = self.root
        if node is None:
            return Position(1, 1)
        for part in loc:
            child = _child(node, part)
            if child is None:
                break
            node = child
        return _pos(node)

    def key_pos(self, loc: Loc) -> Position:
        """Position of the key itself for a mapping entry (what an analyst looks for), else of the value."""
        if not loc:
            return self.value_pos(loc)
        parent = self.root
        for part in loc[:-1]:
            parent = _child(parent, part)
            if parent is None:
                return self.value_pos(loc)
        if isinstance(parent, yaml.MappingNode):
            for key, _value in parent.value:
                if isinstance(key, yaml.ScalarNode) and key.value == str(loc[-1]):
                    return _pos(key)
        return self.value_pos(loc)

    def has(self, loc: Loc) -> bool:
        node = self.root
        for part in loc:
            node = _child(node, part)
            if node is None:
                return False
        return True


def _child(node: yaml.Node | None, part: str | int) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                return value
        return None
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        return node.value[part]
    return None


def load_yaml(path: Path) -> LocatedYaml:
    """Parse one YAML file; syntax errors surface as `yaml.MarkedYAMLError` with the mark intact."""
    text = path.read_text(encoding="utf-8-sig")
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    data = yaml.safe_load(text) if root is not None else None
    return LocatedYaml(path, data, root)
