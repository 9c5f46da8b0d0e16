"""Dashboards as users declare them: rows and panels in reading order, each data panel with a
title, a description, a unit, queries built with the PromQL builder, and optional thresholds.
Where a panel sits on Grafana's grid is the compiler's business (panels flow left to right)."""

from __future__ import annotations

import string
from dataclasses import dataclass
from decimal import Decimal
from typing import Iterator, Literal, Sequence, Union

from grafanalib import formatunits

from .. import promql as q
from ..errors import DefinitionError, Location
from ..naming import is_slug
from ..promql import Expr
from .base import Number, decimal_of, defined_here, set_field
from .kpi import KPI
from .slo import SLO

GRID_COLUMNS = 24
REF_IDS = string.ascii_uppercase  # a target's refId is its letter in the panel
UID_MAX = 40
# Unit ids Grafana knows (grafanalib lists them), and its prefixes for custom units.
KNOWN_UNITS = frozenset(v for k, v in vars(formatunits).items() if k.isupper() and isinstance(v, str))
CUSTOM_UNIT_PREFIXES = ("suffix:", "prefix:", "si:", "count:", "currency:", "time:")
LineStyle = Literal["off", "line", "area", "line+area", "dashed"]


@dataclass(frozen=True)
class Threshold:
    """From `value` upwards the panel shows `color` (a Grafana colour name or #rrggbb)."""

    value: Decimal
    color: str


def threshold(value: Number, color: str) -> Threshold:
    return Threshold(q.to_decimal(value), color)


@dataclass(frozen=True)
class Query:
    """One target of a panel. `legend` is Grafana's legend format (`{{label}}` names a label)."""

    expr: Expr
    legend: str = ""


QueryLike = Union[Query, Expr]


@dataclass(frozen=True)
class Row:
    """A full-width heading; the panels after it belong to it."""

    title: str
    defined_at: Location = defined_here()

    def __post_init__(self) -> None:
        if not self.title.strip():
            raise DefinitionError(self.defined_at, "dashboard row", "a row has a title")


@dataclass(frozen=True)
class Text:
    """A Markdown note."""

    title: str
    content: str
    width: int = GRID_COLUMNS
    height: int = 3
    defined_at: Location = defined_here()

    def __post_init__(self) -> None:
        what = f"text panel {self.title!r}"
        if not self.content.strip():
            raise DefinitionError(self.defined_at, what, "a text panel has content")
        _check_size(self.defined_at, what, self.width, self.height)


@dataclass(frozen=True)
class DataPanel:
    """What every panel that queries Prometheus has. Thresholds go upwards from `base_color`."""

    title: str
    description: str
    unit: str
    queries: tuple[Query, ...]
    thresholds: tuple[Threshold, ...] = ()
    base_color: str = "green"
    width: int = 12
    height: int = 8
    defined_at: Location = defined_here()

    def __post_init__(self) -> None:
        where, what = self.defined_at, f"{self.kind} panel {self.title!r}"
        if not self.title.strip():
            raise DefinitionError(where, f"{self.kind} panel", "a panel has a title")
        if not self.description.strip():
            raise DefinitionError(where, what, "a panel has a description (it is the panel's help text)")
        if not is_unit(self.unit):
            raise DefinitionError(where, what, f"unit {self.unit!r} is not a Grafana unit id (e.g. short, percentunit, s, bytes, reqps)")
        queries = tuple(x if isinstance(x, Query) else Query(x) for x in self.queries)
        if not queries:
            raise DefinitionError(where, what, "a data panel has at least one query")
        for query in queries:
            if not isinstance(query.expr, Expr) or query.expr.kind not in ("vector", "scalar"):
                raise DefinitionError(where, what, f"a query is an instant vector built with ccb_observe.promql, got {query.expr!r}")
        if len(queries) > len(REF_IDS):
            raise DefinitionError(where, what, f"a panel holds at most {len(REF_IDS)} queries (refId A to Z)")
        set_field(self, "queries", queries)
        steps = tuple(Threshold(decimal_of(where, what, t.value, "threshold"), t.color) for t in self.thresholds)
        if [t.value for t in steps] != sorted({t.value for t in steps}):
            raise DefinitionError(where, what, "thresholds are strictly increasing")
        set_field(self, "thresholds", steps)
        _check_size(where, what, self.width, self.height)

    @property
    def kind(self) -> str:
        return type(self).__name__.lower()


@dataclass(frozen=True)
class TimeSeries(DataPanel):
    """A graph over time; thresholds are drawn as dashed lines unless `threshold_style` says otherwise."""

    threshold_style: LineStyle = "dashed"
    stacked: bool = False


@dataclass(frozen=True)
class Stat(DataPanel):
    """The latest value, large, coloured by thresholds."""


@dataclass(frozen=True)
class Gauge(DataPanel):
    """The latest value on a dial from `minimum` to `maximum`."""

    minimum: Decimal = Decimal(0)
    maximum: Decimal = Decimal(1)

    def __post_init__(self) -> None:
        super().__post_init__()
        lo = decimal_of(self.defined_at, self.title, self.minimum, "minimum")
        hi = decimal_of(self.defined_at, self.title, self.maximum, "maximum")
        if not lo < hi:
            raise DefinitionError(self.defined_at, f"gauge panel {self.title!r}", "minimum is below maximum")
        set_field(self, "minimum", lo)
        set_field(self, "maximum", hi)


@dataclass(frozen=True)
class Table(DataPanel):
    """The latest value of each series, one row per series, its labels as columns."""


Panel = Union[Row, Text, TimeSeries, Stat, Gauge, Table]
PANEL_KINDS = (Row, Text, TimeSeries, Stat, Gauge, Table)


@dataclass(frozen=True)
class Dashboard:
    """One Grafana dashboard: its panels in reading order (a Row starts a new line), with a stable
    uid that names its file and URL."""

    uid: str  # stable, lower-case: the file name and the /d/<uid> URL
    title: str
    description: str
    panels: tuple[Panel, ...]
    tags: tuple[str, ...] = ()
    time_from: str = "now-6h"
    refresh: str = "1m"
    defined_at: Location = defined_here()

    def __post_init__(self) -> None:
        where, what = self.defined_at, f"dashboard {self.uid!r}"
        if not (is_slug(self.uid) and len(self.uid) <= UID_MAX):
            raise DefinitionError(where, what, f"a dashboard uid is lower-case words joined by '-', at most {UID_MAX} characters")
        if not self.title.strip() or not self.description.strip():
            raise DefinitionError(where, what, "a dashboard has a title and a description")
        set_field(self, "panels", tuple(self.panels))
        set_field(self, "tags", tuple(sorted(set(self.tags))))
        if not any(isinstance(p, DataPanel) for p in self.panels):
            raise DefinitionError(where, what, "a dashboard has at least one data panel")
        titles: dict[str, Location] = {}
        for panel in self.panels:
            if not isinstance(panel, PANEL_KINDS):
                raise DefinitionError(where, what, f"{type(panel).__name__} is not a panel (use Row, Text, TimeSeries, Stat, Gauge or Table)")
            if isinstance(panel, Row):
                continue
            if panel.title in titles:
                raise DefinitionError(panel.defined_at, what, f"two panels are titled {panel.title!r} (first at {titles[panel.title]})")
            titles[panel.title] = panel.defined_at

    @property
    def name(self) -> str:
        return self.uid

    def data_panels(self) -> Iterator[DataPanel]:
        return (p for p in self.panels if isinstance(p, DataPanel))

    def checkable_queries(self) -> Iterator[tuple[Location, str, Expr]]:
        """Each query as parseable PromQL (Grafana's range variables filled in), for reference checks."""
        for panel in self.data_panels():
            for query in panel.queries:
                yield panel.defined_at, f"dashboard {self.uid!r} panel {panel.title!r}", q.raw(q.parseable(query.expr.render()))


def is_unit(unit: str) -> bool:
    return unit in KNOWN_UNITS or any(unit.startswith(p) and len(unit) > len(p) for p in CUSTOM_UNIT_PREFIXES)


def _check_size(where: Location, what: str, width: int, height: int) -> None:
    if not 1 <= width <= GRID_COLUMNS:
        raise DefinitionError(where, what, f"width is 1 to {GRID_COLUMNS} grid columns, got {width}")
    if height < 1:
        raise DefinitionError(where, what, f"height is at least one grid row, got {height}")


# ---------------------------------------------------------------- recorded series


def slo_query(series: str, slo: SLO, service: str = "") -> q.Selector:
    """A series the rules compiler records for `slo` (names in ccb_observe.naming). `service`
    defaults to the SLO's, which the System fills in."""
    return q.selector(series, slo=slo.name, service=service or slo.service or "")


# ---------------------------------------------------------------- KPI panels


def kpi_thresholds(kpi: KPI) -> tuple[str, tuple[Threshold, ...]]:
    """The KPI target as a threshold: base colour and the step at the target value."""
    if kpi.target is None:
        return "blue", ()
    meets_above = kpi.target.op in (">", ">=")
    return ("red" if meets_above else "green"), (Threshold(kpi.target.value, "green" if meets_above else "red"),)


def kpi_query(kpi: KPI, service: str = "") -> Expr:
    """The series the rules compiler records for `kpi`."""
    labels = {"kpi": kpi.name, **({"service": service} if service else {})}
    return q.selector(kpi.series, **labels)


def kpi_stat(kpi: KPI, service: str = "", width: int = 6, height: int = 5) -> Stat:
    base, steps = kpi_thresholds(kpi)
    target = f" Target {kpi.target}." if kpi.target else " Tracked for trends (no target)."
    return Stat(
        kpi.description, f"KPI {kpi.name}, over {kpi.window}, from {kpi.series}.{target}", kpi.unit,
        (Query(kpi_query(kpi, service), kpi.name),), steps, base, width=width, height=height,
    )


def kpi_timeseries(kpi: KPI, service: str = "", width: int = 12, height: int = 8) -> TimeSeries:
    base, steps = kpi_thresholds(kpi)
    target = f" The dashed line is the target ({kpi.target})." if kpi.target else ""
    return TimeSeries(
        f"{kpi.description} (trend)", f"KPI {kpi.name} over time, from {kpi.series}.{target}", kpi.unit,
        (Query(kpi_query(kpi, service), kpi.name),), steps, base, width=width, height=height,
    )


def queries(*items: QueryLike) -> tuple[Query, ...]:
    return tuple(x if isinstance(x, Query) else Query(x) for x in items)


__all__: Sequence[str] = (
    "Dashboard", "DataPanel", "Gauge", "Panel", "Query", "Row", "Stat", "Table", "Text", "Threshold",
    "TimeSeries", "kpi_query", "kpi_stat", "kpi_thresholds", "kpi_timeseries", "queries", "slo_query", "threshold",
)
