"""Facts read off PromQL text with promql-parser: which series it selects, with which labels,
and which counter functions it applies to which metric. Used by the model's reference checks
(for hand-written `raw` PromQL) and by the offline linter."""

from __future__ import annotations

from dataclasses import dataclass, field

import promql_parser

from .promql import COUNTER_FUNCTIONS


@dataclass(frozen=True)
class SelectedSeries:
    metric: str
    labels: frozenset[str]
    matchers: tuple[tuple[str, str, str], ...]  # (label, op, value)


@dataclass
class Facts:
    selectors: list[SelectedSeries] = field(default_factory=list)
    counter_calls: list[tuple[str, str]] = field(default_factory=list)  # (function, metric)
    functions: set[str] = field(default_factory=set)
    ranges: list[tuple[str, float]] = field(default_factory=list)  # (metric, seconds)
    range_selectors: list[tuple[SelectedSeries, float]] = field(default_factory=list)  # with matchers (job, ...)
    quantile_groupings: list[tuple[str, ...] | None] = field(default_factory=list)


_OPS = {"Equal": "=", "NotEqual": "!=", "Re": "=~", "NotRe": "!~"}


class PromQLSyntaxError(ValueError):
    pass


def parse(text: str) -> promql_parser.Expr:
    try:
        return promql_parser.parse(text)
    except Exception as exc:
        raise PromQLSyntaxError(str(exc).strip() or "does not parse") from None


def _selected(node: object) -> SelectedSeries:
    name = getattr(node, "name", None)
    matchers = []
    for m in getattr(getattr(node, "matchers"), "matchers"):
        op = _OPS.get(str(m.op).rsplit(".", 1)[-1], str(m.op))
        if m.name == "__name__" and op == "=":
            name = m.value
            continue
        matchers.append((m.name, op, m.value))
    return SelectedSeries(name or "", frozenset(m[0] for m in matchers), tuple(matchers))


def facts(text: str) -> Facts:
    """Parse `text` (raises PromQLSyntaxError) and collect what the checks need."""
    ast = parse(text)
    found = Facts()

    def visit(node: object) -> None:
        kind = type(node).__name__
        if kind == "VectorSelector":
            found.selectors.append(_selected(node))
        elif kind == "MatrixSelector":
            series = _selected(getattr(node, "vector_selector"))
            found.ranges.append((series.metric, getattr(node, "range").total_seconds()))
            found.range_selectors.append((series, getattr(node, "range").total_seconds()))
        elif kind == "Call":
            name = getattr(getattr(node, "func"), "name")
            found.functions.add(name)
            args = getattr(node, "args")
            if name in COUNTER_FUNCTIONS and args and type(args[0]).__name__ == "MatrixSelector":
                found.counter_calls.append((name, _selected(getattr(args[0], "vector_selector")).metric))
            if name == "histogram_quantile" and len(args) == 2:
                found.quantile_groupings.append(_grouping(args[1]))

    promql_parser.walk(ast, pre_visit=visit)
    return found


def _grouping(node: object) -> tuple[str, ...] | None:
    """The `by` labels of the aggregation feeding histogram_quantile (None: not aggregated)."""
    while type(node).__name__ == "ParenExpr":
        node = getattr(node, "expr")
    if type(node).__name__ != "AggregateExpr":
        return None
    modifier = getattr(node, "modifier")
    if modifier is None:
        return ()
    if str(getattr(modifier, "type", "")).endswith("Without"):
        return None
    return tuple(getattr(modifier, "labels"))
