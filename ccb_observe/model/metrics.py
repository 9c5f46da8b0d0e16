"""The metric catalog: every series the system emits, with its type, labels and buckets."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Iterable, Sequence

from ..errors import DefinitionError, Location, caller_location
from ..promql import LABEL_NAME_RE, METRIC_NAME_RE, MatchValue, Selector, make_matchers, to_decimal
from .base import Number, decimal_of, defined_here, set_field

# Labels Prometheus attaches to every scraped series.
TARGET_LABELS = frozenset({"job", "instance"})


class MetricType(str, Enum):
    """The Prometheus metric types a catalog entry can have."""

    COUNTER = "counter"
    GAUGE = "gauge"
    HISTOGRAM = "histogram"
    SUMMARY = "summary"
    INFO = "info"


@dataclass(frozen=True)
class Metric:
    """One metric family. Calling it builds a selector whose labels are checked against the catalog:
    `http_requests_total(status=matches("5.."))`."""

    name: str
    type: MetricType
    help: str
    unit: str = ""
    labels: tuple[str, ...] = ()
    buckets: tuple[Decimal, ...] = ()
    # Who writes the series: "" for the service's own code, else e.g. "prometheus" (for `up`) or
    # an exporter's name. Instruments are built for one source, so an app never exposes `up`.
    source: str = ""
    defined_at: Location = defined_here()

    def __post_init__(self) -> None:
        where, what = self.defined_at, f"metric {self.name!r}"
        if not METRIC_NAME_RE.match(self.name) or ":" in self.name:
            raise DefinitionError(where, what, "a metric name is [a-zA-Z_][a-zA-Z0-9_]* (colons are for recorded series)")
        set_field(self, "type", MetricType(self.type))
        set_field(self, "labels", tuple(self.labels))
        for label in self.labels:
            if not LABEL_NAME_RE.match(label) or label.startswith("__"):
                raise DefinitionError(where, what, f"invalid label name {label!r}")
        if len(set(self.labels)) != len(self.labels):
            raise DefinitionError(where, what, "a label is declared twice")
        reserved = {"le"} if self.type is MetricType.HISTOGRAM else {"quantile"} if self.type is MetricType.SUMMARY else set()
        if reserved & set(self.labels):
            raise DefinitionError(where, what, f"label {sorted(reserved)[0]!r} is reserved for {self.type.value}s")
        if not self.help.strip():
            raise DefinitionError(where, what, "help text is required")
        if self.type is MetricType.COUNTER and not self.name.endswith("_total"):
            raise DefinitionError(where, what, "a counter's name ends in _total")
        buckets = tuple(decimal_of(where, what, b, "buckets") for b in self.buckets)
        if self.type is MetricType.HISTOGRAM:
            if not buckets:
                raise DefinitionError(where, what, "a histogram declares its bucket upper bounds")
            if list(buckets) != sorted(set(buckets)):
                raise DefinitionError(where, what, "buckets must be strictly increasing")
        elif buckets:
            raise DefinitionError(where, what, "only histograms have buckets")
        set_field(self, "buckets", buckets)

    def __call__(self, **labels: MatchValue) -> Selector:
        return Selector(self.name, self._checked(labels, set(self.labels)))

    def bucket(self, **labels: MatchValue) -> Selector:
        return self._series("_bucket", labels, {"le"})

    def count(self, **labels: MatchValue) -> Selector:
        return self._series("_count", labels, set())

    def sum(self, **labels: MatchValue) -> Selector:
        return self._series("_sum", labels, set())

    def _series(self, suffix: str, labels: dict[str, MatchValue], extra: set[str]) -> Selector:
        if self.type not in (MetricType.HISTOGRAM, MetricType.SUMMARY):
            raise DefinitionError(caller_location(), f"metric {self.name!r}", f"{suffix} series exist only for histograms and summaries")
        return Selector(self.name + suffix, self._checked(labels, set(self.labels) | extra))

    def _checked(self, labels: dict[str, MatchValue], allowed: set[str]) -> tuple:  # type: ignore[type-arg]
        unknown = sorted(set(labels) - allowed - TARGET_LABELS)
        if unknown:
            raise DefinitionError(
                caller_location(),
                f"selector on {self.name!r}",
                f"label {unknown[0]!r} is not declared in the catalog (declared: {', '.join(self.labels) or 'none'})",
            )
        return make_matchers(labels)

    def has_bucket(self, bound: Number) -> bool:
        return to_decimal(bound) in self.buckets


def counter(name: str, help: str, labels: Sequence[str] = (), unit: str = "", source: str = "") -> Metric:
    """A counter (its name ends in `_total`)."""
    return Metric(name, MetricType.COUNTER, help, unit, tuple(labels), source=source, defined_at=caller_location())


def gauge(name: str, help: str, labels: Sequence[str] = (), unit: str = "", source: str = "") -> Metric:
    """A gauge: a value that goes up and down."""
    return Metric(name, MetricType.GAUGE, help, unit, tuple(labels), source=source, defined_at=caller_location())


def histogram(name: str, help: str, buckets: Iterable[Number], labels: Sequence[str] = (), unit: str = "", source: str = "") -> Metric:
    """A classic histogram with these bucket upper bounds (a latency SLO's threshold is one of them)."""
    where = caller_location()
    return Metric(
        name, MetricType.HISTOGRAM, help, unit, tuple(labels),
        tuple(decimal_of(where, f"metric {name!r}", b, "buckets") for b in buckets), source=source, defined_at=where,
    )


def info(name: str, help: str, labels: Sequence[str] = ()) -> Metric:
    """An info metric (`x_info`, value 1) whose labels carry the information."""
    return Metric(name, MetricType.INFO, help, "", tuple(labels), defined_at=caller_location())


@dataclass(frozen=True)
class SeriesKind:
    """What a series name is, in catalog terms: its family and whether it counts."""

    metric: Metric
    suffix: str

    @property
    def is_counter(self) -> bool:
        if self.metric.type is MetricType.COUNTER:
            return True
        return self.metric.type in (MetricType.HISTOGRAM, MetricType.SUMMARY) and self.suffix in ("_bucket", "_count", "_sum")

    @property
    def allowed_labels(self) -> frozenset[str]:
        extra = {"le"} if self.suffix == "_bucket" else {"quantile"} if self.metric.type is MetricType.SUMMARY and not self.suffix else set()
        return frozenset(self.metric.labels) | TARGET_LABELS | extra


def lookup(catalog: dict[str, Metric], series: str) -> SeriesKind | None:
    """The catalog entry for a series name (`x_bucket` of histogram `x`, ...), if any."""
    if series in catalog:
        return SeriesKind(catalog[series], "")
    for suffix in ("_bucket", "_count", "_sum"):
        base = catalog.get(series.removesuffix(suffix)) if series.endswith(suffix) else None
        if base is not None and base.type in (MetricType.HISTOGRAM, MetricType.SUMMARY):
            if suffix == "_bucket" and base.type is not MetricType.HISTOGRAM:
                continue
            return SeriesKind(base, suffix)
    return None
