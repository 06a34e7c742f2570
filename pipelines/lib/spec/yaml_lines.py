"""YAML loading that remembers where every value came from.

pydantic reports an error as a location path (`objectives.0.key_results.1.target`); to print
`file:line` we keep the composed YAML node tree and walk it along that path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


class LocatedYaml:
    """A parsed YAML document plus its node tree for mapping error paths to line numbers."""

    def __init__(self, path: Path, data: Any, root: yaml.Node | None):
        self.path = path
        self.data = data
        self.root = root

    def line_of(self, loc: tuple[str | int, ...]) -> int:
        """1-based line of the deepest node reachable along `loc` (the parent when a key is missing)."""
        node = self.root
        line = node.start_mark.line + 1 if node is not None else 1
        for part in loc:
            child = _child(node, part)
            if child is None:
                break
            node = child
            line = node.start_mark.line + 1
        return line

    def key_line(self, loc: tuple[str | int, ...]) -> int:
        """Line of the key itself for a mapping entry (what an analyst would look for)."""
        if not loc:
            return self.line_of(loc)
        parent = self.root
        for part in loc[:-1]:
            parent = _child(parent, part)
            if parent is None:
                return self.line_of(loc)
        if isinstance(parent, yaml.MappingNode):
            for key, _value in parent.value:
                if key.value == loc[-1]:
                    return key.start_mark.line + 1
        return self.line_of(loc)


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
