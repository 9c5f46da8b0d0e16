"""The System: everything one service declares, checked as a whole (every reference resolves)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Iterable, Iterator, Sequence

from .. import naming
from ..durations import Duration, DurationLike
from ..errors import UNKNOWN, DefinitionError, Location
from ..promql import Expr, Selector
from ..promql_ast import PromQLSyntaxError, facts
from .alerts import Alert
from .base import defined_here, duration_of, set_field
from .dashboards import Dashboard
from .kpi import KPI
from .logs import LogPipeline
from .metrics import Metric, MetricType, lookup
from .routing import Routing
from .scrape import ScrapeJob
from .slo import SLO, AvailabilityIndicator, LatencyIndicator, RatioIndicator, RawIndicator

# Series Prometheus writes itself, readable without a catalog entry.
BUILTIN_SERIES = {"ALERTS": frozenset({"alertname", "alertstate", "severity", "priority", "service", "slo"})}
# Labels on the series this package records.
SLO_LABELS = frozenset({"slo", "service", "team"})


@dataclass(frozen=True)
class System:
    """Everything one service declares. Constructing it checks the whole: names are unique and every
    expression reads only catalogued or recorded series, with declared labels."""

    name: str
    metrics: tuple[Metric, ...]
    slos: tuple[SLO, ...] = ()
    kpis: tuple[KPI, ...] = ()
    alerts: tuple[Alert, ...] = ()
    scrape_jobs: tuple[ScrapeJob, ...] = ()
    service: str = ""  # the `service` label; defaults to the system name
    team: str = ""
    scrape_interval: Duration = Duration(15)
    evaluation_interval: Duration = Duration(15)
    alertmanagers: tuple[str, ...] = ()  # host:port of each Alertmanager Prometheus sends to
    dashboards: tuple[Dashboard, ...] = ()  # hand-declared; the SLO overview is derived
    routing: Routing | None = None  # who gets which alert (Alertmanager)
    logs: LogPipeline | None = None  # fluentd pipeline and logrotate policy
    defined_at: Location = defined_here()

    if TYPE_CHECKING:  # what callers may pass (see typed_init in base.py)
        def __init__(
            self, name: str, metrics: Sequence[Metric], slos: Sequence[SLO] = (), kpis: Sequence[KPI] = (),
            alerts: Sequence[Alert] = (), scrape_jobs: Sequence[ScrapeJob] = (), service: str = "", team: str = "",
            scrape_interval: DurationLike = Duration(15), evaluation_interval: DurationLike = Duration(15),
            alertmanagers: Sequence[str] = (), dashboards: Sequence[Dashboard] = (),
            routing: Routing | None = None, logs: LogPipeline | None = None, *, defined_at: Location = UNKNOWN,
        ) -> None: ...

    def __post_init__(self) -> None:
        where, what = self.defined_at, f"system {self.name!r}"
        if not naming.is_slug(self.name):
            raise DefinitionError(where, what, "a system name is lower-case words joined by '-'")
        for name in ("metrics", "slos", "kpis", "alerts", "scrape_jobs", "alertmanagers", "dashboards"):
            set_field(self, name, tuple(getattr(self, name)))
        set_field(self, "service", self.service or self.name)
        # Each SLO and alert knows its service and team from here on.
        set_field(self, "slos", tuple(replace(s, service=s.service or self.service, team=s.team or self.team or None) for s in self.slos))
        set_field(self, "alerts", tuple(replace(a, service=a.service or self.service, team=a.team or self.team or None) for a in self.alerts))
        set_field(self, "scrape_interval", duration_of(where, what, self.scrape_interval, "scrape_interval"))
        set_field(self, "evaluation_interval", duration_of(where, what, self.evaluation_interval, "evaluation_interval"))
        if naming.FINE_WINDOW.seconds % self.evaluation_interval.seconds:
            raise DefinitionError(where, what, f"the evaluation interval must divide {naming.FINE_WINDOW}")
        for kind, items in (("metric", self.metrics), ("SLO", self.slos), ("KPI", self.kpis),
                            ("alert", self.alerts), ("scrape job", self.scrape_jobs), ("dashboard", self.dashboards)):
            _unique(kind, items)
        catalog, recorded = self.catalog, self.recorded_series()  # once: each walks every SLO
        for slo in self.slos:
            _check_indicator(slo, catalog)
        for kpi in self.kpis:
            _check_expr(kpi.query, catalog, recorded, kpi.defined_at, f"KPI {kpi.name!r}")
        for alert in self.alerts:
            _check_expr(alert.promql, catalog, recorded, alert.defined_at, f"alert {alert.name!r}")
        if self.routing is not None:
            self.routing.check_names({a.name for a in self.alerts}, {s.name for s in self.slos})
        for dashboard in self.dashboards:
            for panel_at, panel, expr in dashboard.checkable_queries():
                _check_expr(expr, catalog, recorded, panel_at, panel)

    @property
    def catalog(self) -> dict[str, Metric]:
        return {m.name: m for m in self.metrics}

    def recorded_series(self) -> dict[str, frozenset[str]]:
        """Every series the rules compiler records for this system, with its labels."""
        recorded: dict[str, frozenset[str]] = {}
        for name in (naming.BAD_FINE, naming.TOTAL_FINE, naming.BAD_BUCKET, naming.TOTAL_BUCKET,
                     naming.OBJECTIVE, naming.BUDGET_REMAINING, naming.SLI_PERIOD):
            recorded[name] = SLO_LABELS
        recorded[naming.INFO] = SLO_LABELS | {"objective", "period", "description", "indicator"}
        for slo in self.slos:
            for window in slo.windows():
                recorded[naming.error_ratio(window)] = SLO_LABELS
                recorded[naming.burn_rate(window)] = SLO_LABELS
        for kpi in self.kpis:
            recorded[kpi.series] = frozenset({"kpi", "service"})
        return recorded


def _unique(kind: str, items: Iterable[object]) -> None:
    seen: dict[str, Location] = {}
    for item in items:
        name = getattr(item, "name")
        where = getattr(item, "defined_at")
        if name in seen:
            raise DefinitionError(where, f"{kind} {name!r}", f"duplicate name (first defined at {seen[name]})")
        seen[name] = where


def _check_indicator(slo: SLO, catalog: dict[str, Metric]) -> None:
    where, what = slo.defined_at, f"SLO {slo.name!r}"
    indicator = slo.indicator
    if isinstance(indicator, RawIndicator):
        for expr in (indicator.bad_events_5m, indicator.total_events_5m):
            _check_expr(expr, catalog, {}, where, what)
        return
    for sel in indicator.selectors():
        _check_selector_labels(sel, catalog, where, what)
    if isinstance(indicator, RatioIndicator):
        for sel in indicator.selectors():
            kind = lookup(catalog, sel.metric)
            if kind is not None and not kind.is_counter:
                raise DefinitionError(where, what, f"a ratio indicator counts events: {sel.metric!r} is a {kind.metric.type.value}, not a counter")
    elif isinstance(indicator, LatencyIndicator):
        metric = catalog.get(indicator.histogram.metric)
        if metric is None or metric.type is not MetricType.HISTOGRAM:
            raise DefinitionError(where, what, f"{indicator.histogram.metric!r} is not a histogram in the catalog")
        if not metric.has_bucket(indicator.threshold):
            bounds = ", ".join(str(b) for b in metric.buckets)
            raise DefinitionError(where, what, f"latency threshold {indicator.threshold} is not a bucket of {metric.name!r} (buckets: {bounds})")
    elif isinstance(indicator, AvailabilityIndicator):
        kind = lookup(catalog, indicator.up.metric)
        if kind is not None and kind.metric.type is not MetricType.GAUGE:
            raise DefinitionError(where, what, f"an availability indicator reads a 0/1 gauge; {indicator.up.metric!r} is a {kind.metric.type.value}")


def _check_selector_labels(sel: Selector, catalog: dict[str, Metric], where: Location, what: str) -> None:
    kind = lookup(catalog, sel.metric)
    if kind is None:
        raise DefinitionError(where, what, f"metric {sel.metric!r} is not in the catalog")
    for matcher in sel.matchers:
        if matcher.label not in kind.allowed_labels:
            raise DefinitionError(where, what, f"label {matcher.label!r} is not declared for {kind.metric.name!r}")


def _check_expr(expr: Expr, catalog: dict[str, Metric], recorded: dict[str, frozenset[str]], where: Location, what: str) -> None:
    """Every series read is catalogued or recorded, with declared labels; counter functions read counters."""
    try:
        found = facts(expr.render())
    except PromQLSyntaxError as exc:
        raise DefinitionError(where, what, f"PromQL does not parse: {exc}") from None
    for series in found.selectors:
        allowed = _allowed_labels(series.metric, catalog, recorded)
        if allowed is None:
            raise DefinitionError(where, what, f"series {series.metric!r} is neither in the catalog nor recorded by a rule")
        unknown = sorted(series.labels - allowed)
        if unknown:
            raise DefinitionError(where, what, f"label {unknown[0]!r} is not declared for {series.metric!r}")
    for function, metric in found.counter_calls:
        kind = lookup(catalog, metric)
        if kind is not None and not kind.is_counter:
            raise DefinitionError(where, what, f"{function}() over {metric!r}, a {kind.metric.type.value}: {function}() is for counters (use the gauge directly, or deriv()/delta())")


def _allowed_labels(series: str, catalog: dict[str, Metric], recorded: dict[str, frozenset[str]]) -> frozenset[str] | None:
    kind = lookup(catalog, series)
    if kind is not None:
        return kind.allowed_labels
    if series in recorded:
        return recorded[series]
    return BUILTIN_SERIES.get(series)


def all_exprs(system: System) -> Iterator[tuple[str, Expr]]:
    for kpi in system.kpis:
        yield f"KPI {kpi.name}", kpi.query
    for alert in system.alerts:
        yield f"alert {alert.name}", alert.promql
    for slo in system.slos:
        if isinstance(slo.indicator, RawIndicator):
            yield f"SLO {slo.name}", slo.indicator.bad_events_5m
            yield f"SLO {slo.name}", slo.indicator.total_events_5m

