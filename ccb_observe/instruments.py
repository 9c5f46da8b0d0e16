"""prometheus_client instruments built from the metric catalog, so that the code emitting a metric
and the rules reading it can never disagree on a name, a label or a bucket.

    registry = CollectorRegistry()
    instruments = build_instruments(SYSTEM, registry)
    instruments.counter("http_requests_total").labels(method="GET", handler="/", status="200").inc()

The exposition shows exactly the catalog's names: a counter `x_total` is created as `x`, the
family name prometheus_client expects (it appends `_total` to the sample itself); an info metric
`x_info` is created as `x`; a unit is passed on only when the name already ends in it (otherwise
prometheus_client would append it and rename the series).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Iterator, Mapping, TypeVar, Union

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, Info, Summary

from .errors import DefinitionError
from .model import Metric, MetricType, System

Instrument = Union[Counter, Gauge, Histogram, Summary, Info]
_I = TypeVar("_I", Counter, Gauge, Histogram, Summary, Info)

# The suffix prometheus_client adds to each family's samples by itself.
_CLIENT_SUFFIX = {MetricType.COUNTER: "_total", MetricType.INFO: "_info"}


class CatalogInfo(Info):
    """An Info whose value carries exactly the catalog's labels (prometheus_client's own Info
    accepts any keys, so a typo would silently expose a label no rule selects)."""

    def __init__(self, name: str, documentation: str, keys: tuple[str, ...], registry: CollectorRegistry | None) -> None:
        self.keys = keys
        super().__init__(name, documentation, registry=registry)

    def info(self, val: dict[str, str]) -> None:
        if sorted(val) != sorted(self.keys):
            raise ValueError(f"{self._name}_info carries the labels {sorted(self.keys)}, not {sorted(val)}")
        super().info(val)


@dataclass(frozen=True)
class Instruments:
    """The instruments of one catalog, by catalog name, registered in `registry`."""

    registry: CollectorRegistry
    by_name: Mapping[str, Instrument]

    def __getitem__(self, metric: str | Metric) -> Instrument:
        return self.by_name[_name_of(metric)]

    def __contains__(self, metric: object) -> bool:
        return isinstance(metric, (str, Metric)) and _name_of(metric) in self.by_name

    def __iter__(self) -> Iterator[str]:
        return iter(self.by_name)

    def __len__(self) -> int:
        return len(self.by_name)

    def counter(self, metric: str | Metric) -> Counter:
        return self._typed(metric, Counter)

    def gauge(self, metric: str | Metric) -> Gauge:
        return self._typed(metric, Gauge)

    def histogram(self, metric: str | Metric) -> Histogram:
        return self._typed(metric, Histogram)

    def summary(self, metric: str | Metric) -> Summary:
        return self._typed(metric, Summary)

    def info(self, metric: str | Metric) -> Info:
        return self._typed(metric, Info)

    def _typed(self, metric: str | Metric, kind: type[_I]) -> _I:
        instrument = self[metric]
        if not isinstance(instrument, kind):
            raise TypeError(f"{_name_of(metric)!r} is a {type(instrument).__name__}, not a {kind.__name__}")
        return instrument


def build_instruments(catalog: System | Iterable[Metric], registry: CollectorRegistry = REGISTRY, source: str | None = "") -> Instruments:
    """One prometheus_client instrument per catalog metric of `source`, registered in `registry` (by
    default prometheus_client's global one, which its HTTP server and WSGI/ASGI apps expose).

    `source` "" (the default) builds the service's own metrics only: never `up`, which Prometheus
    writes, nor an exporter's series, which an app exposing them would mask. Name an exporter to
    stand in for it (a demo, a test), or None for every metric."""
    metrics = catalog.metrics if isinstance(catalog, System) else tuple(catalog)
    metrics = tuple(m for m in metrics if source is None or m.source == source)
    built = {metric.name: instrument_for(metric, registry) for metric in sorted(metrics, key=lambda m: m.name)}
    return Instruments(registry, built)


def instrument_for(metric: Metric, registry: CollectorRegistry | None) -> Instrument:
    """The prometheus_client object whose exposition carries exactly `metric`'s name and labels
    (registered nowhere when `registry` is None)."""
    name, help, labels = _client_name(metric), metric.help, metric.labels
    unit = metric.unit if metric.unit and name.endswith("_" + metric.unit) else ""
    if metric.type is MetricType.COUNTER:
        return Counter(name, help, labels, unit=unit, registry=registry)
    if metric.type is MetricType.GAUGE:
        return Gauge(name, help, labels, unit=unit, registry=registry)
    if metric.type is MetricType.HISTOGRAM:
        buckets = [float(b) for b in metric.buckets] + [float("inf")]
        return Histogram(name, help, labels, unit=unit, registry=registry, buckets=buckets)
    if metric.type is MetricType.SUMMARY:
        return Summary(name, help, labels, unit=unit, registry=registry)
    # An info metric's catalog labels are the keys of the dict given to `.info({...})`.
    return CatalogInfo(name, help, labels, registry)


def _client_name(metric: Metric) -> str:
    suffix = _CLIENT_SUFFIX.get(metric.type, "")
    if not suffix:
        return metric.name
    if not metric.name.endswith(suffix) or metric.name == suffix:
        raise DefinitionError(metric.defined_at, f"metric {metric.name!r}", f"a {metric.type.value} metric's name ends in {suffix}")
    return metric.name.removesuffix(suffix)


def _name_of(metric: str | Metric) -> str:
    return metric.name if isinstance(metric, Metric) else metric
