"""Metric expressions: parsed with sqlglot, checked against an allow-list, compiled by the project.

An analyst may write `(sum(revenue) - sum(spend)) / nullif(sum(spend), 0)`. The YAML text never
reaches DuckDB: we parse it, accept only catalogue base metrics inside sum/count/min/max, numbers,
+ - * / and nullif/coalesce, and emit SQL from our own walker, with every metric name bound as a
parameter. Anything else (`; DROP TABLE`, `read_csv(...)`, strings, subqueries) is a definition error.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import sqlglot
from sqlglot import exp

AGGREGATES: dict[type[exp.Expression], str] = {exp.Sum: "sum", exp.Count: "count", exp.Min: "min", exp.Max: "max"}
BINARY: dict[type[exp.Expression], str] = {exp.Add: "+", exp.Sub: "-", exp.Mul: "*", exp.Div: "/"}
ALLOWED_TEXT = "base metrics inside sum/count/min/max, numbers, + - * /, parentheses, nullif and coalesce"


class ExpressionError(ValueError):
    """The expression uses something outside the allow-list; the message says what."""


@dataclass(frozen=True)
class Expression:
    """A checked expression: the base metrics it reads and its parsed tree."""

    text: str
    metrics: tuple[str, ...]
    tree: exp.Expression


def parse_expression(text: str, base_metrics: set[str]) -> Expression:
    """Parse and check; raises ExpressionError naming the first thing not allowed."""
    try:
        statements = [s for s in sqlglot.parse(text, read="duckdb") if s is not None]
    except (sqlglot.errors.ParseError, sqlglot.errors.TokenError) as exc:
        raise ExpressionError(f"cannot parse expression: {str(exc).splitlines()[0]}") from None
    if len(statements) != 1:
        raise ExpressionError("an expression is exactly one formula (no ';')")
    tree = statements[0]
    metrics: list[str] = []
    _check(tree, base_metrics, metrics, inside_aggregate=False)
    if not metrics:
        raise ExpressionError("an expression must aggregate at least one base metric, e.g. sum(revenue)")
    return Expression(text, tuple(dict.fromkeys(metrics)), tree)


def _check(node: exp.Expression, base: set[str], found: list[str], inside_aggregate: bool) -> None:
    if isinstance(node, exp.Paren | exp.Neg):
        _check(node.this, base, found, inside_aggregate)
    elif type(node) in BINARY:
        _check(node.left, base, found, inside_aggregate)
        _check(node.right, base, found, inside_aggregate)
    elif isinstance(node, exp.Literal):
        if node.is_string or not math.isfinite(float(node.this)):
            raise ExpressionError(f"only numbers are allowed as constants, not {node.sql()}")
    elif type(node) in AGGREGATES:
        if inside_aggregate:
            raise ExpressionError(f"aggregates cannot be nested: {node.sql()}")
        arg = node.this
        if not isinstance(arg, exp.Column) or arg.table:
            raise ExpressionError(f"{AGGREGATES[type(node)]}() takes one base metric name, not {arg.sql()}")
        _check(arg, base, found, inside_aggregate=True)
    elif isinstance(node, exp.Column):
        _check_column(node, base, found, inside_aggregate)
    elif isinstance(node, exp.Nullif):
        _check(node.this, base, found, inside_aggregate)
        _check(node.expression, base, found, inside_aggregate)
    elif isinstance(node, exp.Coalesce):
        for part in [node.this, *node.expressions]:
            _check(part, base, found, inside_aggregate)
    else:
        raise ExpressionError(f"{node.sql()!r} is not allowed; use {ALLOWED_TEXT}")


def _check_column(node: exp.Column, base: set[str], found: list[str], inside_aggregate: bool) -> None:
    name = node.name
    if name not in base:
        raise ExpressionError(f"unknown base metric {name!r} in expression")
    if not inside_aggregate:
        raise ExpressionError(f"wrap {name} in sum(), count(), min() or max()")
    found.append(name)


def compile_expression(expr: Expression, param_prefix: str, stored: dict[str, str]) -> tuple[str, dict[str, str]]:
    """SQL over the columns `metric` and `value` of matched mart rows, and its bound parameters.

    `stored` maps a catalogue metric to the stored measure it reads. Only project-written tokens and
    `$param` placeholders appear in the returned text.
    """
    params: dict[str, str] = {}

    def emit(node: exp.Expression) -> str:
        if isinstance(node, exp.Paren):
            return f"({emit(node.this)})"
        if isinstance(node, exp.Neg):
            return f"(-{emit(node.this)})"
        if type(node) in BINARY:
            return f"({emit(node.left)} {BINARY[type(node)]} {emit(node.right)})"
        if isinstance(node, exp.Literal):
            return repr(float(node.this))
        if type(node) in AGGREGATES:
            name = f"{param_prefix}_{len(params)}"
            params[name] = stored.get(node.this.name, node.this.name)
            return f"CAST({AGGREGATES[type(node)]}(value) FILTER (WHERE metric = ${name}) AS DOUBLE)"
        if isinstance(node, exp.Nullif):
            return f"nullif({emit(node.this)}, {emit(node.expression)})"
        if isinstance(node, exp.Coalesce):
            return "coalesce(" + ", ".join(emit(p) for p in [node.this, *node.expressions]) + ")"
        raise ExpressionError(f"{node.sql()!r} is not allowed")  # unreachable after parse_expression

    return emit(expr.tree), params
