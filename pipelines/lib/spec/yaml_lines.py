"""YAML loading that remembers where every key and value came from.

pydantic reports an error as a location path (`objectives.0.key_results.1.target`); to print
`file:line:column` we keep the composed YAML node tree and walk it along that path. Loading uses
PyYAML's SafeLoader only: no tag can construct a Python object.

Two things an analyst can type make PyYAML itself fail outside its own error types: a value whose
form promises a type it cannot be (`2026-02-30`, `!!int soon`) raises a bare ValueError/KeyError,
and deep nesting (`[[[[...`) exhausts the Python stack in the recursive composer. Both are turned
into `yaml.MarkedYAMLError`s here, located at the node, so the loader reports them like any typo.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

Loc = tuple[str | int, ...]

# Far deeper than any okr_defs file (≈ 6 levels) and far below what the recursive composer can take.
MAX_DEPTH = 64
# Tags whose constructors raise plain Python errors on a bad value, and what the value had to be.
_EXPECTED = {"timestamp": "a valid date", "int": "a whole number", "float": "a number", "bool": "true or false"}


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


class UnreadableValue(yaml.constructor.ConstructorError):
    """A value the safe loader recognised by its form or tag but could not build, with its path."""

    def __init__(self, loc: Loc, problem: str, mark: yaml.Mark):
        super().__init__(None, None, problem, mark)
        self.loc = loc


class _Unbuilt(Exception):
    """Internal: carries the node whose constructor failed up to `load_yaml`, which knows the tree."""

    def __init__(self, node: yaml.Node, cause: Exception):
        super().__init__(str(cause))
        self.node = node
        self.cause = cause


class _Loader(yaml.SafeLoader):
    """SafeLoader with a nesting limit and constructor failures tied to their node."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        """Refuse nesting beyond MAX_DEPTH before the recursive composer runs out of stack."""
        if self._depth >= MAX_DEPTH:
            mark = self.peek_event().start_mark
            raise yaml.composer.ComposerError(None, None, f"nested more than {MAX_DEPTH} levels deep", mark)
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        """PyYAML's scalar constructors raise ValueError, KeyError, AttributeError, IndexError on a
        bad value (`!!bool soon`, `2026-13-01`); keep the node so the error can say where."""
        try:
            return super().construct_object(node, deep)
        except (yaml.YAMLError, _Unbuilt):
            raise
        except (ArithmeticError, AttributeError, LookupError, TypeError, ValueError) as exc:
            raise _Unbuilt(node, exc) from None


def _path_to(root: yaml.Node, target: yaml.Node) -> Loc:
    """The key path of `target` inside `root` (iterative: the tree may be deep; aliases may repeat)."""
    stack: list[tuple[yaml.Node, Loc]] = [(root, ())]
    seen: set[int] = set()
    while stack:
        node, loc = stack.pop()
        if node is target:
            return loc
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                name = key.value if isinstance(key, yaml.ScalarNode) else "?"
                if key is target:
                    return (*loc, name)
                stack.append((value, (*loc, name)))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((value, (*loc, i)) for i, value in enumerate(node.value))
    return ()


def _unreadable(root: yaml.Node, failed: _Unbuilt) -> UnreadableValue:
    node = failed.node
    kind = str(node.tag).rsplit(":", 1)[-1]
    shown = node.value if isinstance(node, yaml.ScalarNode) else node.tag
    problem = f"{shown!r} is not {_EXPECTED.get(kind, f'a valid !!{kind}')}"
    if kind == "timestamp" and isinstance(failed.cause, ValueError):
        problem += f" ({failed.cause})"
    loc = _path_to(root, node)
    where = ".".join(str(p) for p in loc) or "(document)"
    return UnreadableValue(loc, f"{where}: {problem}", node.start_mark)


def load_yaml(path: Path) -> LocatedYaml:
    """Parse one YAML file; every problem surfaces as a `yaml.MarkedYAMLError` with its mark intact
    (`UnreadableValue` for a value that cannot be built, with the path of its key)."""
    text = path.read_text(encoding="utf-8-sig")
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return LocatedYaml(path, None, None)
        try:
            data = loader.construct_document(root)
        except _Unbuilt as failed:
            raise _unreadable(root, failed) from None
        return LocatedYaml(path, data, root)
    finally:
        loader.dispose()
