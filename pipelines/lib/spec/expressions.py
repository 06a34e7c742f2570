"""Metric expressions: parsed with sqlglot, checked against an allow-list, compiled by the project.

An analyst may write `(sum(revenue) - sum(spend)) / nullif(sum(spend), 0)`. The YAML text never
reaches DuckDB: we parse it, accept only catalogue base metrics inside sum/count/min/max, numbers,
+ - * / and nullif/coalesce, and emit SQL from our own walker, with every metric name bound as a
parameter. Anything else (`; DROP TABLE`, `read_csv(...)`, strings, subqueries) is a definition error.

The compiled SQL computes in DOUBLE throughout (a DECIMAL literal product overflows at 18 digits and
aborts the whole scoring run) and a division by zero gives no value, as in a ratio metric: DuckDB's
IEEE division would give ±inf or NaN, which the 0-1 clamp turns into a 100 % score.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.tokens import Token, TokenType

AGGREGATES: dict[type[exp.Expression], str] = {exp.Sum: "sum", exp.Count: "count", exp.Min: "min", exp.Max: "max"}
BINARY: dict[type[exp.Expression], str] = {exp.Add: "+", exp.Sub: "-", exp.Mul: "*", exp.Div: "/"}
ALLOWED_TEXT = "base metrics inside sum/count/min/max, numbers, + - * /, parentheses, nullif and coalesce"
# sqlglot's parser recurses ~23 Python frames per bracket level and exhausts the stack near 42 levels;
# the checker, the compiler and DuckDB's own parser recurse once per operation. Both limits are far
# beyond any formula an analyst writes, and leave room for the caller's stack (Dagster, a test runner).
MAX_NESTING = 20
MAX_DEPTH = 100
_OPENING = {TokenType.L_PAREN, TokenType.L_BRACKET, TokenType.L_BRACE}
_CLOSING = {TokenType.R_PAREN, TokenType.R_BRACKET, TokenType.R_BRACE}
# Arguments sqlglot sets on an aggregate by itself (`count` is parsed with big_int=True).
_AGGREGATE_FLAGS = {"this", "big_int"}


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
    dialect = Dialect.get_or_raise("duckdb")
    try:
        tokens = dialect.tokenize(text)
        _check_nesting(tokens)
        statements = [s for s in dialect.parser().parse(tokens, text) if s is not None]
    except (sqlglot.errors.ParseError, sqlglot.errors.TokenError) as exc:
        raise ExpressionError(f"cannot parse expression: {str(exc).splitlines()[0]}") from None
    except RecursionError:
        # e.g. hundreds of unary minus signs: nesting without brackets
        raise ExpressionError("the expression is nested too deeply to read; simplify it") from None
    if len(statements) != 1:
        raise ExpressionError("an expression is exactly one formula (no ';')")
    tree = statements[0]
    if _depth(tree) > MAX_DEPTH:
        raise ExpressionError(f"the expression nests more than {MAX_DEPTH} operations deep; simplify it")
    metrics: list[str] = []
    _check(tree, base_metrics, metrics, inside_aggregate=False)
    if not metrics:
        raise ExpressionError("an expression must aggregate at least one base metric, e.g. sum(revenue)")
    return Expression(text, tuple(dict.fromkeys(metrics)), tree)


def _check_nesting(tokens: list[Token]) -> None:
    """Refuse deep bracket nesting before the recursive parser sees it (its RecursionError is no message)."""
    depth = 0
    for token in tokens:
        if token.token_type in _OPENING:
            depth += 1
            if depth > MAX_NESTING:
                raise ExpressionError(
                    f"more than {MAX_NESTING} nested parentheses (at column {token.col}); simplify the expression"
                )
        elif token.token_type in _CLOSING:
            depth -= 1


def _depth(tree: exp.Expression) -> int:
    """The tree's depth, counted without recursion."""
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in node.iter_expressions())
    return deepest


def _check(node: exp.Expression, base: set[str], found: list[str], inside_aggregate: bool) -> None:
    if isinstance(node, exp.Paren | exp.Neg):
        _check(node.this, base, found, inside_aggregate)
    elif type(node) in BINARY:
        _check(node.left, base, found, inside_aggregate)
        _check(node.right, base, found, inside_aggregate)
    elif isinstance(node, exp.Literal):
        if node.is_string or not _finite_number(node.this):
            raise ExpressionError(f"only numbers are allowed as constants, not {node.sql()}")
    elif type(node) in AGGREGATES:
        _check_aggregate(node, base, found, inside_aggregate)
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


def _finite_number(text: str) -> bool:
    """sqlglot takes `1e4000.5` for one number token; Python's float() cannot read it."""
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def _check_aggregate(node: exp.Expression, base: set[str], found: list[str], inside_aggregate: bool) -> None:
    """One base metric name, nothing else: sqlglot keeps `max(spend, clicks)` as max(spend) with the
    second argument aside, and the compiler would silently drop it."""
    name = AGGREGATES[type(node)]
    if inside_aggregate:
        raise ExpressionError(f"aggregates cannot be nested: {node.sql()}")
    extra = [value for key, value in node.args.items() if key not in _AGGREGATE_FLAGS and value not in (None, [])]
    if extra:
        count = 1 + sum(len(v) if isinstance(v, list) else 1 for v in extra)
        raise ExpressionError(f"{name}() takes exactly one base metric name, not {count} arguments")
    arg = node.this
    if not isinstance(arg, exp.Column) or arg.table:
        raise ExpressionError(f"{name}() takes one base metric name, not {arg.sql()}")
    _check(arg, base, found, inside_aggregate=True)


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
    `$param` placeholders appear in the returned text. Every value is DOUBLE (literals included) and
    a divisor of zero makes the quotient NULL.
    """
    params: dict[str, str] = {}

    def emit(node: exp.Expression) -> str:
        if isinstance(node, exp.Paren):
            return f"({emit(node.this)})"
        if isinstance(node, exp.Neg):
            return f"(-{emit(node.this)})"
        if isinstance(node, exp.Div):
            return f"({emit(node.left)} / nullif({emit(node.right)}, 0))"
        if type(node) in BINARY:
            return f"({emit(node.left)} {BINARY[type(node)]} {emit(node.right)})"
        if isinstance(node, exp.Literal):
            return f"CAST({float(node.this)!r} AS DOUBLE)"
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
