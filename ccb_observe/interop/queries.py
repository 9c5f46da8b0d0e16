"""Foreign SLI queries onto the model: recognised shapes become typed indicators, anything else the
RawIndicator escape hatch; the series the queries read become catalog entries."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from .. import promql as q
from ..errors import DefinitionError, Location
from ..model import LatencyIndicator, Metric, MetricType, RatioIndicator, RawIndicator
from ..model.slo import Indicator
from ..naming import FINE_WINDOW
from ..promql import Matcher, Selector
from ..promql_ast import PromQLSyntaxError, _selected, facts, parse
from .documents import Node

# Sloth's window placeholder, a Go template action.
WINDOW_RE = re.compile(r"\{\{\s*\.window\s*\}\}")
COUNTING = ("rate", "increase")
# The Prometheus client libraries' default histogram buckets.
CLIENT_DEFAULT_BUCKETS = tuple(Decimal(b) for b in ("0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10"))


def at_base_window(node: Node) -> str:
    """The query of a Sloth-style SLI with `{{.window}}` set to the base window (5m)."""
    text = node.value
    if not isinstance(text, str) or not text.strip():
        raise node.fail("expected a PromQL query")
    text = WINDOW_RE.sub(str(FINE_WINDOW), text).strip()
    if "{{" in text:
        raise node.fail("the only template variable a query may use is {{.window}}")
    return checked(node, text)


def _grouped(ast: object) -> bool:
    """Whether the result keeps labels from a `by`/`without` at its top (one series is wanted)."""
    ast = _unwrap(ast)
    kind = type(ast).__name__
    if kind == "AggregateExpr":
        return getattr(ast, "modifier") is not None
    if kind == "BinaryExpr":
        return _grouped(getattr(ast, "lhs")) or _grouped(getattr(ast, "rhs"))
    return False


def checked(node: Node, text: str) -> str:
    """`text` if it parses and yields one series."""
    try:
        ast = parse(text)
    except PromQLSyntaxError as exc:
        raise node.fail(f"PromQL does not parse: {exc}") from None
    if _grouped(ast):
        raise node.fail("an SLI query yields one series: aggregate without `by`/`without` (the SLO's labels name it)")
    return text


def _unwrap(ast: object) -> object:
    while type(ast).__name__ == "ParenExpr":
        ast = getattr(ast, "expr")
    return ast


def _plain_selector(ast: object) -> Selector | None:
    ast = _unwrap(ast)
    if type(ast).__name__ != "VectorSelector" or getattr(ast, "offset") or getattr(ast, "at"):
        return None
    series = _selected(ast)
    if not series.metric:
        return None
    return Selector(series.metric, tuple(sorted((Matcher(*m) for m in series.matchers), key=lambda m: (m.label, m.op, m.value))))  # type: ignore[arg-type]


def _summed(ast: object) -> object | None:
    """The inside of a plain `sum(...)` (no grouping), or None."""
    ast = _unwrap(ast)
    if type(ast).__name__ != "AggregateExpr" or str(getattr(ast, "op")) != "sum" or getattr(ast, "modifier") is not None:
        return None
    inner: object = getattr(ast, "expr")
    return inner


def counted_selector(text: str) -> Selector | None:
    """`sum(rate(sel[w]))` or `sum(increase(sel[w]))`: the selector of events counted."""
    inner = _summed(parse(text))
    inner = _unwrap(inner) if inner is not None else None
    if type(inner).__name__ != "Call" or getattr(getattr(inner, "func"), "name") not in COUNTING:
        return None
    (arg,) = getattr(inner, "args")
    if type(arg).__name__ != "MatrixSelector":
        return None
    return _plain_selector(getattr(arg, "vector_selector"))


def summed_counter(text: str) -> Selector | None:
    """`sum(sel)` or `sel`: a counter's cumulative value (OpenSLO `counter: true`)."""
    ast = parse(text)
    inner = _summed(ast)
    return _plain_selector(inner if inner is not None else ast)


def latency_shape(error: str, total: str) -> LatencyIndicator | None:
    """`sum(rate(h_count{m}[w])) - sum(rate(h_bucket{m, le="x"}[w]))` over `sum(rate(h_count{m}[w]))`."""
    ast = _unwrap(parse(error))
    if type(ast).__name__ != "BinaryExpr" or str(getattr(ast, "op")) != "-" or getattr(ast, "modifier") is not None:
        return None
    count = counted_selector(str(getattr(ast, "lhs")))
    bucket = counted_selector(str(getattr(ast, "rhs")))
    if count is None or bucket is None or counted_selector(total) != count or not count.metric.endswith("_count"):
        return None
    return bucket_latency(bucket, count)


def bucket_latency(bucket: Selector, count: Selector) -> LatencyIndicator | None:
    """Good events `h_bucket{m, le=x}` of all `h_count{m}`: a latency SLI with threshold x."""
    family = count.metric.removesuffix("_count")
    le = [m for m in bucket.matchers if m.label == "le"]
    rest = tuple(m for m in bucket.matchers if m.label != "le")
    if bucket.metric != family + "_bucket" or not count.metric.endswith("_count") or rest != count.matchers or len(le) != 1:
        return None
    bounds = le_bounds(le[0].op, le[0].value)
    if len(bounds) != 1:
        return None
    return LatencyIndicator(Selector(family, count.matchers), bounds.pop())


def le_bounds(op: str, value: str) -> set[Decimal]:
    """The bucket bounds an `le` matcher selects: `le="0.5"`, or `le=~"0.5|0\\.50"` (one bound, two spellings)."""
    if op not in ("=", "=~"):
        return set()
    spellings = [value] if op == "=" else [v.replace("\\", "") for v in value.split("|")]
    try:
        return {Decimal(v) for v in spellings}
    except ArithmeticError:
        return set()


def events_indicator(bad: str, total: str) -> Indicator:
    """Bad and total events, each a query over the base window."""
    latency = latency_shape(bad, total)
    if latency is not None:
        return latency
    bad_sel, total_sel = counted_selector(bad), counted_selector(total)
    if bad_sel is not None and total_sel is not None:
        return RatioIndicator(total=total_sel, bad=bad_sel)
    return RawIndicator(q.raw(bad), q.raw(total))


def good_total_indicator(good: str, total: str) -> Indicator:
    good_sel, total_sel = counted_selector(good), counted_selector(total)
    if good_sel is not None and total_sel is not None:
        return RatioIndicator(total=total_sel, good=good_sel)
    # No shape to recognise: bad = total - good, both as written.
    return RawIndicator(q.clamp_min(q.raw(total) - q.raw(good), 0), q.raw(total))


# ---------------------------------------------------------------- the catalog


@dataclass
class MetricUse:
    labels: set[str] = field(default_factory=set)
    buckets: set[Decimal] = field(default_factory=set)
    counted: bool = False  # read by rate()/increase()


@dataclass
class CatalogBuilder:
    """Collects every series the imported queries read (call `read` on each), then types them by name."""

    uses: dict[str, MetricUse] = field(default_factory=dict)

    def read(self, text: str) -> None:
        found = facts(text)
        counted = {metric for function, metric in found.counter_calls}
        for series in found.selectors:
            use = self.uses.setdefault(series.metric, MetricUse())
            use.labels |= {m[0] for m in series.matchers if m[0] not in ("job", "instance", "le")}
            for label, op, value in series.matchers:
                use.buckets |= le_bounds(op, value) if label == "le" else set()
            use.counted |= series.metric in counted

    def metrics(self, where: Location, source: str) -> tuple[Metric, ...]:
        families: dict[str, MetricUse] = {}
        kinds: dict[str, MetricType] = {}
        for name, use in sorted(self.uses.items()):
            family, kind = _family(name, use, set(self.uses))
            if kind is None:
                raise DefinitionError(where, f"metric {name!r}", "read with rate()/increase() but not a counter by its name "
                                      "(counters end in _total, histogram series in _bucket/_count/_sum): rename it or write the definitions by hand")
            merged = families.setdefault(family, MetricUse())
            merged.labels |= use.labels
            merged.buckets |= use.buckets
            kinds[family] = kind
        return tuple(_metric(name, kinds[name], use, where, source) for name, use in sorted(families.items()))


def _metric(name: str, kind: MetricType, use: MetricUse, where: Location, source: str) -> Metric:
    help = f"Read by the SLIs imported from {source}."
    buckets: tuple[Decimal, ...] = ()
    if kind is MetricType.HISTOGRAM:
        buckets = tuple(sorted(use.buckets))
        if not buckets:
            buckets = CLIENT_DEFAULT_BUCKETS
            help += " Buckets: the client libraries' defaults, since the spec names none; correct them."
    return Metric(name, kind, help, labels=tuple(sorted(use.labels)), buckets=buckets, defined_at=where)


def _family(name: str, use: MetricUse, all_names: set[str]) -> tuple[str, MetricType | None]:
    if name.endswith("_total"):
        return name, MetricType.COUNTER
    for suffix in ("_bucket", "_count", "_sum"):
        if name.endswith(suffix):
            family = name.removesuffix(suffix)
            has_buckets = suffix == "_bucket" or family + "_bucket" in all_names
            # A _count without any _bucket read: a summary (no buckets to invent).
            return family, MetricType.HISTOGRAM if has_buckets else MetricType.SUMMARY
    return name, None if use.counted else MetricType.GAUGE
