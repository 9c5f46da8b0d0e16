"""Business KPIs: a query over a window, a unit, and optionally a target to compare against."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Literal

from ..durations import Duration, DurationLike
from ..errors import UNKNOWN, DefinitionError, Location, caller_location
from ..naming import is_slug, kpi_series
from ..promql import Expr
from .base import Number, decimal_of, defined_here, duration_of, set_field

Comparison = Literal[">", ">=", "<", "<="]


@dataclass(frozen=True)
class Target:
    """What a KPI is compared with: `> 10`."""

    op: Comparison
    value: Decimal

    def __str__(self) -> str:
        from ..promql import format_number

        return f"{self.op} {format_number(self.value)}"


def target(op: Comparison, value: Number) -> Target:
    """A KPI target: `target(">", 10)`."""
    if op not in (">", ">=", "<", "<="):
        raise ValueError(f"a target compares with >, >=, < or <=, not {op!r}")
    return Target(op, decimal_of(caller_location(), f"target {op} {value!r}", value, "the value"))


@dataclass(frozen=True)
class KPI:
    """A business KPI: `query`, recorded as `kpi:<name>:<window>`, and optionally its target."""

    name: str
    description: str
    query: Expr  # evaluated over `window`; recorded as kpi:<name>:<window>
    unit: str  # a Grafana unit id: "short", "s", "percentunit", ...
    window: Duration
    target: Target | None = None  # None: tracked for trends only
    defined_at: Location = defined_here()

    if TYPE_CHECKING:  # what callers may pass (see typed_init in base.py)
        def __init__(
            self, name: str, description: str, query: Expr, unit: str, window: DurationLike,
            target: Target | None = None, *, defined_at: Location = UNKNOWN,
        ) -> None: ...

    def __post_init__(self) -> None:
        where, what = self.defined_at, f"KPI {self.name!r}"
        if not is_slug(self.name):
            raise DefinitionError(where, what, "a KPI name is lower-case words joined by '-'")
        set_field(self, "window", duration_of(where, what, self.window, "window"))
        if self.query.kind != "vector":
            raise DefinitionError(where, what, f"the query must be an instant vector, got a {self.query.kind}")
        if not self.description.strip():
            raise DefinitionError(where, what, "a description is required")
        if self.target is not None:
            set_field(self, "target", Target(self.target.op, decimal_of(where, what, self.target.value, "target")))

    @property
    def series(self) -> str:
        return kpi_series(self.name, self.window)
