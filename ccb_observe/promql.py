"""A typed PromQL expression builder.

Every PromQL text this package emits is rendered from these nodes: label values and regexes are
escaped here and nowhere else, numbers are exact decimals, and operands are parenthesised by
precedence. `Raw` is the one escape hatch, for text a user writes by hand; it is parsed before use.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Callable, Iterator, Literal, Mapping, Sequence, TypeVar, Union

from .durations import Duration, DurationLike, as_duration

ValueKind = Literal["scalar", "vector", "matrix", "string"]
MatchOp = Literal["=", "!=", "=~", "!~"]

METRIC_NAME_RE = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
LABEL_NAME_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_RE2_SPECIAL = set("\\.+*?()|[]{}^$")


_ESCAPES = {ord("\\"): "\\\\", ord('"'): '\\"', ord("\n"): "\\n", ord("\t"): "\\t", ord("\r"): "\\r"}
_ESCAPES.update({c: f"\\x{c:02x}" for c in (*range(0x20), 0x7F) if c not in _ESCAPES})


def quote(text: str) -> str:
    """A PromQL double-quoted string literal whose value is exactly `text`."""
    return '"' + text.translate(_ESCAPES) + '"'


def regex_escape(text: str) -> str:
    """`text` as an RE2 pattern that matches only itself."""
    return "".join("\\" + ch if ch in _RE2_SPECIAL else ch for ch in text)


def format_number(value: Decimal) -> str:
    """Exact decimal text: 0.001, 14.4, 10 — never 1E-3 or float noise."""
    if value.is_infinite():
        return "-Inf" if value < 0 else "+Inf"
    if not value.is_finite():
        raise ValueError(f"not a number: {value}")
    return format(value.normalize(), "f")


def to_decimal(value: Union[int, float, str, Decimal]) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))  # the shortest text that round-trips, not the binary expansion
    return Decimal(value)


_Node = TypeVar("_Node")


def _rendered_once(render: Callable[[_Node], str]) -> Callable[[_Node], str]:
    """Render an immutable node once: selectors and matchers recur in every rule of an SLO."""

    @functools.wraps(render)
    def cached(self: Any) -> str:
        text: str | None = self.__dict__.get("_rendered")
        if text is None:
            text = self.__dict__["_rendered"] = render(self)  # frozen dataclass: not a field, never compared
        return text

    return cached


# ---------------------------------------------------------------- matchers


@dataclass(frozen=True)
class Matcher:
    label: str
    op: MatchOp
    value: str

    def __post_init__(self) -> None:
        if not LABEL_NAME_RE.match(self.label):
            raise ValueError(f"invalid label name {self.label!r}")
        if self.op in ("=~", "!~"):
            try:
                re.compile(self.value)
            except re.error as exc:
                raise ValueError(f"invalid regex for label {self.label!r}: {exc}") from None

    @_rendered_once
    def render(self) -> str:
        return f"{self.label}{self.op}{quote(self.value)}"


@dataclass(frozen=True)
class Match:
    """A matcher without its label: the value side of `label=...` keyword arguments."""

    op: MatchOp
    value: str


def not_equal(value: str) -> Match:
    return Match("!=", value)


def matches(regex: str) -> Match:
    return Match("=~", regex)


def not_matches(regex: str) -> Match:
    return Match("!~", regex)


def one_of(*values: str) -> Match:
    """Equal to any of `values`, each escaped (so `0.5` does not also match `0x5`)."""
    if not values:
        raise ValueError("one_of needs at least one value")
    return Match("=~", "|".join(regex_escape(v) for v in values))


MatchValue = Union[str, Match]


def make_matchers(labels: Mapping[str, MatchValue]) -> tuple[Matcher, ...]:
    out = []
    for label, value in sorted(labels.items()):
        if isinstance(value, Match):
            out.append(Matcher(label, value.op, value.value))
        else:
            out.append(Matcher(label, "=", value))
    return tuple(out)


# ---------------------------------------------------------------- expressions

_PRECEDENCE = {
    "or": 1,
    "and": 2,
    "unless": 2,
    "==": 3,
    "!=": 3,
    ">": 3,
    "<": 3,
    ">=": 3,
    "<=": 3,
    "+": 4,
    "-": 4,
    "*": 5,
    "/": 5,
    "%": 5,
    "atan2": 5,
    "^": 6,
}
_ATOM = 9
_COMPARISONS = {"==", "!=", ">", "<", ">=", "<="}
_SET_OPS = {"and", "or", "unless"}

Operand = Union["Expr", int, float, str, Decimal]


def lit(value: Operand) -> "Expr":
    return value if isinstance(value, Expr) else Number(to_decimal(value))


class Expr:
    """A PromQL expression. Subclasses are frozen dataclasses."""

    precedence: int = _ATOM

    @property
    def kind(self) -> ValueKind:
        raise NotImplementedError

    def render(self) -> str:
        raise NotImplementedError

    def children(self) -> tuple["Expr", ...]:
        return ()

    def walk(self) -> Iterator["Expr"]:
        yield self
        for child in self.children():
            yield from child.walk()

    def __str__(self) -> str:
        return self.render()

    # arithmetic
    def __add__(self, other: Operand) -> "Binary":
        return Binary("+", self, lit(other))

    def __sub__(self, other: Operand) -> "Binary":
        return Binary("-", self, lit(other))

    def __mul__(self, other: Operand) -> "Binary":
        return Binary("*", self, lit(other))

    def __truediv__(self, other: Operand) -> "Binary":
        return Binary("/", self, lit(other))

    def __rsub__(self, other: Operand) -> "Binary":
        return Binary("-", lit(other), self)

    def __rmul__(self, other: Operand) -> "Binary":
        return Binary("*", lit(other), self)

    # comparisons (methods, since == must stay dataclass equality)
    def gt(self, other: Operand, bool_: bool = False) -> "Binary":
        return Binary(">", self, lit(other), bool_=bool_)

    def ge(self, other: Operand, bool_: bool = False) -> "Binary":
        return Binary(">=", self, lit(other), bool_=bool_)

    def lt(self, other: Operand, bool_: bool = False) -> "Binary":
        return Binary("<", self, lit(other), bool_=bool_)

    def le(self, other: Operand, bool_: bool = False) -> "Binary":
        return Binary("<=", self, lit(other), bool_=bool_)

    def eq(self, other: Operand, bool_: bool = False) -> "Binary":
        return Binary("==", self, lit(other), bool_=bool_)

    def ne(self, other: Operand, bool_: bool = False) -> "Binary":
        return Binary("!=", self, lit(other), bool_=bool_)

    def and_(self, other: "Expr", on: Sequence[str] | None = None) -> "Binary":
        return Binary("and", self, other, on=_labels(on))

    def or_(self, other: "Expr", on: Sequence[str] | None = None) -> "Binary":
        return Binary("or", self, other, on=_labels(on))

    def unless(self, other: "Expr", on: Sequence[str] | None = None) -> "Binary":
        return Binary("unless", self, other, on=_labels(on))


def _labels(labels: Sequence[str] | None) -> tuple[str, ...] | None:
    if labels is None:
        return None
    for label in labels:
        if not LABEL_NAME_RE.match(label):
            raise ValueError(f"invalid label name {label!r}")
    return tuple(labels)


def _wrap(child: Expr, parent_precedence: int, tighter: bool) -> str:
    text = child.render()
    if child.precedence < parent_precedence or (tighter and child.precedence == parent_precedence):
        return f"({text})"
    return text


@dataclass(frozen=True)
class Number(Expr):
    value: Decimal

    @property
    def kind(self) -> ValueKind:
        return "scalar"

    def render(self) -> str:
        text = format_number(self.value)
        return text

    @property
    def precedence(self) -> int:  # type: ignore[override]
        return _PRECEDENCE["+"] if self.value < 0 else _ATOM


@dataclass(frozen=True)
class String(Expr):
    value: str

    @property
    def kind(self) -> ValueKind:
        return "string"

    def render(self) -> str:
        return quote(self.value)


@dataclass(frozen=True)
class Selector(Expr):
    """An instant vector selector: `metric{label="value", ...}`."""

    metric: str  # "" selects by matchers alone: {__name__=~"slo:.+"}
    matchers: tuple[Matcher, ...] = ()

    def __post_init__(self) -> None:
        if self.metric == "" and not self.matchers:
            raise ValueError("a selector names a metric or has matchers")
        if self.metric and not METRIC_NAME_RE.match(self.metric):
            raise ValueError(f"invalid metric name {self.metric!r}")

    @property
    def kind(self) -> ValueKind:
        return "vector"

    @_rendered_once
    def render(self) -> str:
        if not self.matchers:
            return self.metric
        return self.metric + "{" + ", ".join(m.render() for m in self.matchers) + "}"

    def where(self, **labels: MatchValue) -> "Selector":
        """The same selector with more matchers (a later matcher on a label replaces the earlier)."""
        added = make_matchers(labels)
        kept = tuple(m for m in self.matchers if m.label not in labels)
        return Selector(self.metric, tuple(sorted(kept + added, key=lambda m: (m.label, m.op))))

    def over(self, window: "DurationLike | RangeVariable") -> "RangeSelector":
        return RangeSelector(self, window if isinstance(window, RangeVariable) else as_duration(window))

    def __getitem__(self, window: "DurationLike | RangeVariable") -> "RangeSelector":
        return self.over(window)


def selector(metric: str, **labels: MatchValue) -> Selector:
    return Selector(metric, make_matchers(labels))


@dataclass(frozen=True)
class RangeVariable:
    """A range Grafana fills in at query time (`$__rate_interval`): dashboards only, never rules.
    `sample` is the window it stands for when the text is parsed offline (see `parseable`)."""

    name: str
    sample: Duration

    def __post_init__(self) -> None:
        if not LABEL_NAME_RE.match(self.name):
            raise ValueError(f"invalid variable name {self.name!r}")

    def __str__(self) -> str:
        return "$" + self.name


RATE_INTERVAL = RangeVariable("__rate_interval", Duration(300))
INTERVAL = RangeVariable("__interval", Duration(60))
RANGE = RangeVariable("__range", Duration(86400))
_RANGE_VARIABLE_RE = re.compile(r"\[\$(\w+)([]:])")


def parseable(text: str, variables: Sequence[RangeVariable] = (RATE_INTERVAL, INTERVAL, RANGE)) -> str:
    """PromQL text with Grafana range variables replaced by their sample windows, for parsers that
    know only durations. An unknown variable is left in place, so the text fails to parse."""
    samples = {v.name: str(v.sample) for v in variables}
    return _RANGE_VARIABLE_RE.sub(lambda m: f"[{samples.get(m[1], '$' + m[1])}{m[2]}", text)


@dataclass(frozen=True)
class RangeSelector(Expr):
    selector: Selector
    window: Duration | RangeVariable

    @property
    def kind(self) -> ValueKind:
        return "matrix"

    def render(self) -> str:
        return f"{self.selector.render()}[{self.window}]"

    def children(self) -> tuple[Expr, ...]:
        return (self.selector,)


@dataclass(frozen=True)
class Subquery(Expr):
    expr: Expr
    window: Duration
    step: Duration | None = None

    def __post_init__(self) -> None:
        if self.expr.kind != "vector":
            raise TypeError("a subquery needs an instant vector expression")

    @property
    def kind(self) -> ValueKind:
        return "matrix"

    def render(self) -> str:
        step = str(self.step) if self.step else ""
        return f"{_wrap(self.expr, _ATOM, False)}[{self.window}:{step}]"

    def children(self) -> tuple[Expr, ...]:
        return (self.expr,)


# Functions Prometheus 2.42 knows that this builder offers: argument kinds and result kind.
_FUNCTIONS: dict[str, tuple[tuple[ValueKind, ...], ValueKind]] = {
    "abs": (("vector",), "vector"),
    "absent": (("vector",), "vector"),
    "absent_over_time": (("matrix",), "vector"),
    "avg_over_time": (("matrix",), "vector"),
    "ceil": (("vector",), "vector"),
    "changes": (("matrix",), "vector"),
    "clamp_max": (("vector", "scalar"), "vector"),
    "clamp_min": (("vector", "scalar"), "vector"),
    "count_over_time": (("matrix",), "vector"),
    "delta": (("matrix",), "vector"),
    "deriv": (("matrix",), "vector"),
    "floor": (("vector",), "vector"),
    "histogram_quantile": (("scalar", "vector"), "vector"),
    "idelta": (("matrix",), "vector"),
    "increase": (("matrix",), "vector"),
    "irate": (("matrix",), "vector"),
    "label_replace": (("vector", "string", "string", "string", "string"), "vector"),
    "last_over_time": (("matrix",), "vector"),
    "max_over_time": (("matrix",), "vector"),
    "min_over_time": (("matrix",), "vector"),
    "predict_linear": (("matrix", "scalar"), "vector"),
    "rate": (("matrix",), "vector"),
    "resets": (("matrix",), "vector"),
    "round": (("vector",), "vector"),
    "scalar": (("vector",), "scalar"),
    "sum_over_time": (("matrix",), "vector"),
    "time": ((), "scalar"),
    "timestamp": (("vector",), "vector"),
    "vector": (("scalar",), "vector"),
}
COUNTER_FUNCTIONS = frozenset({"rate", "irate", "increase", "resets"})


@dataclass(frozen=True)
class Call(Expr):
    function: str
    args: tuple[Expr, ...] = ()

    def __post_init__(self) -> None:
        if self.function not in _FUNCTIONS:
            raise ValueError(f"unknown or unsupported function {self.function}()")
        want, _ = _FUNCTIONS[self.function]
        got = tuple(a.kind for a in self.args)
        if got != want:
            raise TypeError(f"{self.function}() takes ({', '.join(want)}), got ({', '.join(got)})")

    @property
    def kind(self) -> ValueKind:
        return _FUNCTIONS[self.function][1]

    def render(self) -> str:
        return f"{self.function}({', '.join(a.render() for a in self.args)})"

    def children(self) -> tuple[Expr, ...]:
        return self.args


_AGGREGATIONS = frozenset({"sum", "avg", "min", "max", "count", "group", "stddev", "stdvar", "topk", "bottomk", "quantile", "count_values"})
_PARAMETRIC = frozenset({"topk", "bottomk", "quantile", "count_values"})


@dataclass(frozen=True)
class Aggregation(Expr):
    op: str
    expr: Expr
    by: tuple[str, ...] | None = None
    without: tuple[str, ...] | None = None
    param: Expr | None = None

    def __post_init__(self) -> None:
        if self.op not in _AGGREGATIONS:
            raise ValueError(f"unknown aggregation {self.op!r}")
        if self.expr.kind != "vector":
            raise TypeError(f"{self.op}() needs an instant vector, got a {self.expr.kind}")
        if (self.op in _PARAMETRIC) != (self.param is not None):
            raise TypeError(f"{self.op}() {'needs' if self.op in _PARAMETRIC else 'takes no'} parameter")
        if self.by is not None and self.without is not None:
            raise ValueError("use `by` or `without`, not both")
        _labels(self.by)
        _labels(self.without)

    @property
    def kind(self) -> ValueKind:
        return "vector"

    def render(self) -> str:
        grouping = ""
        if self.by is not None:
            grouping = f" by ({', '.join(self.by)})"
        elif self.without is not None:
            grouping = f" without ({', '.join(self.without)})"
        inner = self.expr.render() if self.param is None else f"{self.param.render()}, {self.expr.render()}"
        return f"{self.op}{grouping} ({inner})" if grouping else f"{self.op}({inner})"

    def children(self) -> tuple[Expr, ...]:
        return (self.expr,) if self.param is None else (self.param, self.expr)


@dataclass(frozen=True)
class Binary(Expr):
    op: str
    lhs: Expr
    rhs: Expr
    bool_: bool = False
    on: tuple[str, ...] | None = None
    ignoring: tuple[str, ...] | None = None
    group_left: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.op not in _PRECEDENCE:
            raise ValueError(f"unknown operator {self.op!r}")
        if self.op in _SET_OPS and (self.lhs.kind != "vector" or self.rhs.kind != "vector"):
            raise TypeError(f"`{self.op}` needs vectors on both sides")
        for side in (self.lhs, self.rhs):
            if side.kind not in ("vector", "scalar"):
                raise TypeError(f"`{self.op}` cannot take a {side.kind}")
        if self.bool_ and self.op not in _COMPARISONS:
            raise ValueError("`bool` only goes with comparisons")

    @property
    def precedence(self) -> int:  # type: ignore[override]
        return _PRECEDENCE[self.op]

    @property
    def kind(self) -> ValueKind:
        return "scalar" if self.lhs.kind == self.rhs.kind == "scalar" else "vector"

    def render(self) -> str:
        right_assoc = self.op == "^"
        left = _wrap(self.lhs, self.precedence, tighter=right_assoc)
        right = _wrap(self.rhs, self.precedence, tighter=not right_assoc)
        modifiers = ""
        if self.bool_:
            modifiers += " bool"
        if self.on is not None:
            modifiers += f" on ({', '.join(self.on)})"
        if self.ignoring is not None:
            modifiers += f" ignoring ({', '.join(self.ignoring)})"
        if self.group_left is not None:
            modifiers += f" group_left ({', '.join(self.group_left)})" if self.group_left else " group_left"
        return f"{left} {self.op}{modifiers} {right}"

    def children(self) -> tuple[Expr, ...]:
        return (self.lhs, self.rhs)


@dataclass(frozen=True)
class Raw(Expr):
    """Hand-written PromQL, the escape hatch. Its text is parsed (promql-parser) to learn its kind."""

    text: str
    value_kind: ValueKind = field(default="vector")

    @property
    def kind(self) -> ValueKind:
        return self.value_kind

    def render(self) -> str:
        return self.text

    @property
    def precedence(self) -> int:  # type: ignore[override]
        return 0  # always parenthesised when combined


def raw(text: str) -> Raw:
    """Hand-written PromQL, checked by parsing it (promql-parser)."""
    import promql_parser

    try:
        ast = promql_parser.parse(text)
    except Exception as exc:  # the parser raises plain exceptions that carry its message
        raise ValueError(f"PromQL does not parse: {text!r}: {exc}") from None
    return Raw(text, _kind_of(ast))


def _kind_of(ast: object) -> ValueKind:
    node = type(ast).__name__
    if node == "ParenExpr":
        return _kind_of(getattr(ast, "expr"))
    if node in ("MatrixSelector", "SubqueryExpr"):
        return "matrix"
    if node == "NumberLiteral":
        return "scalar"
    if node == "StringLiteral":
        return "string"
    if node == "Call":
        returned = str(getattr(getattr(ast, "func"), "return_type")).rsplit(".", 1)[-1].lower()
        return "scalar" if returned == "scalar" else "vector"
    return "vector"


# ---------------------------------------------------------------- helpers


def call(function: str, *args: Operand) -> Call:
    return Call(function, tuple(lit(a) if not isinstance(a, str) else String(a) for a in args))


def rate(series: RangeSelector | Subquery) -> Call:
    return Call("rate", (series,))


def increase(series: RangeSelector | Subquery) -> Call:
    return Call("increase", (series,))


def sum_over_time(series: RangeSelector | Subquery) -> Call:
    return Call("sum_over_time", (series,))


def avg_over_time(series: RangeSelector | Subquery) -> Call:
    return Call("avg_over_time", (series,))


def count_over_time(series: RangeSelector | Subquery) -> Call:
    return Call("count_over_time", (series,))


def max_over_time(series: RangeSelector | Subquery) -> Call:
    return Call("max_over_time", (series,))


def clamp_min(expr: Expr, minimum: Operand) -> Call:
    return Call("clamp_min", (expr, lit(minimum)))


def vector(value: Operand) -> Call:
    return Call("vector", (lit(value),))


def histogram_quantile(quantile: Operand, buckets: Expr) -> Call:
    return Call("histogram_quantile", (lit(quantile), buckets))


def aggregate(op: str, expr: Expr, by: Sequence[str] | None = None, without: Sequence[str] | None = None) -> Aggregation:
    return Aggregation(op, expr, by=_labels(by), without=_labels(without))


def sum_(expr: Expr, by: Sequence[str] | None = None) -> Aggregation:
    return aggregate("sum", expr, by=by)


def max_(expr: Expr, by: Sequence[str] | None = None) -> Aggregation:
    return aggregate("max", expr, by=by)


def avg(expr: Expr, by: Sequence[str] | None = None) -> Aggregation:
    return aggregate("avg", expr, by=by)


def count(expr: Expr, by: Sequence[str] | None = None) -> Aggregation:
    return aggregate("count", expr, by=by)


def ratio(numerator: Expr, denominator: Expr) -> Binary:
    """numerator / denominator, with "no data" (not NaN or Inf) where the denominator is zero."""
    return Binary("/", numerator, denominator.gt(0))


def finite(expr: Expr) -> Binary:
    """The expression without NaN or ±Inf samples (a quantile of no events is NaN)."""
    infinity = Number(Decimal("Infinity"))
    return Binary("<", Binary(">", expr, Number(-Decimal("Infinity"))), infinity)


def or_zero(expr: Expr) -> Binary:
    """The expression, or 0 where it has no series (a counter never incremented is absent)."""
    return expr.or_(vector(0))
