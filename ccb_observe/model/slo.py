"""Service level objectives: an indicator (what counts as a bad event), an objective in percent,
a period, and the multi-window multi-burn-rate alert tiers that guard its error budget."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Literal, Sequence, Union

from .. import promql as q
from ..durations import Duration, DurationLike
from ..errors import UNKNOWN, DefinitionError, Location
from ..naming import FINE_WINDOW, is_slug
from ..promql import Expr, Selector
from .base import Number, decimal_of, defined_here, duration_of, set_field

Severity = Literal["critical", "warning", "info"]
Priority = Literal["P0", "P1", "P2"]
SEVERITIES = ("critical", "warning", "info")
PRIORITIES = ("P0", "P1", "P2")


# ---------------------------------------------------------------- indicators
# Each indicator says how many bad and how many total events happened over a window, as PromQL
# that yields one series (aggregated away from every label) and 0 rather than nothing when idle.


@dataclass(frozen=True)
class RatioIndicator:
    """Request-style events: `total` counts all, and either `bad` or `good` counts a subset."""

    total: Selector
    bad: Selector | None = None
    good: Selector | None = None

    def selectors(self) -> tuple[Selector, ...]:
        return tuple(s for s in (self.total, self.bad, self.good) if s is not None)

    def check(self, where: Location, what: str) -> None:
        if (self.bad is None) == (self.good is None):
            raise DefinitionError(where, what, "a ratio indicator takes exactly one of `bad` or `good`")

    def total_events(self, window: Duration) -> Expr:
        return _events(self.total, window)

    def bad_events(self, window: Duration) -> Expr:
        if self.bad is not None:
            return _events(self.bad, window)
        assert self.good is not None
        # Separate extrapolation of two counters can leave a hair below zero: clamp it.
        return q.clamp_min(_events(self.total, window) - _events(self.good, window), 0)


@dataclass(frozen=True)
class LatencyIndicator:
    """A request is good when it is faster than `threshold` seconds, read from a classic histogram.
    The threshold must be one of the histogram's buckets."""

    histogram: Selector
    threshold: Decimal

    if TYPE_CHECKING:  # what callers may pass (see typed_init in base.py)
        def __init__(self, histogram: Selector, threshold: Number) -> None: ...

    def __post_init__(self) -> None:
        set_field(self, "threshold", q.to_decimal(self.threshold))

    def selectors(self) -> tuple[Selector, ...]:
        return (self._bucket(), self._count())

    def check(self, where: Location, what: str) -> None:
        if self.histogram.metric.endswith(("_bucket", "_count", "_sum")):
            raise DefinitionError(where, what, "select the histogram by its family name, without _bucket/_count")

    def le_values(self) -> tuple[str, ...]:
        """The renderings a client may give this bound: Go's `0.5`/`1`, Python's and Prometheus 3's `1.0`,
        and the zero-padded `0.50`."""
        shortest = q.format_number(self.threshold)
        padded = shortest + ".0" if "." not in shortest else shortest + "0"
        return (shortest, padded)

    def _bucket(self) -> Selector:
        # Kept on the instance: every window's rules read it, and a kept selector renders once.
        bucket: Selector | None = self.__dict__.get("_bucket_selector")
        if bucket is None:
            bucket = Selector(self.histogram.metric + "_bucket", self.histogram.matchers).where(le=q.one_of(*self.le_values()))
            self.__dict__["_bucket_selector"] = bucket  # not a field: never compared or hashed
        return bucket

    def _count(self) -> Selector:
        count: Selector | None = self.__dict__.get("_count_selector")
        if count is None:
            count = self.__dict__["_count_selector"] = Selector(self.histogram.metric + "_count", self.histogram.matchers)
        return count

    def total_events(self, window: Duration) -> Expr:
        return _events(self._count(), window)

    def bad_events(self, window: Duration) -> Expr:
        return q.clamp_min(_events(self._count(), window) - _events(self._bucket(), window), 0)


@dataclass(frozen=True)
class AvailabilityIndicator:
    """`up`-style 0/1 gauge: each sample is one event, bad when 0."""

    up: Selector

    def selectors(self) -> tuple[Selector, ...]:
        return (self.up,)

    def check(self, where: Location, what: str) -> None:
        pass

    def total_events(self, window: Duration) -> Expr:
        return q.or_zero(q.sum_(q.count_over_time(self.up.over(window))))

    def bad_events(self, window: Duration) -> Expr:
        samples = q.sum_(q.count_over_time(self.up.over(window)))
        ups = q.sum_(q.sum_over_time(self.up.over(window)))
        return q.or_zero(q.clamp_min(samples - ups, 0))


@dataclass(frozen=True)
class RawIndicator:
    """The escape hatch: hand-written PromQL counting bad and total events over the last 5 minutes
    (the base window every longer window is summed from). Each must yield one series."""

    bad_events_5m: Expr
    total_events_5m: Expr

    def selectors(self) -> tuple[Selector, ...]:
        return ()

    def check(self, where: Location, what: str) -> None:
        for expr in (self.bad_events_5m, self.total_events_5m):
            if expr.kind != "vector":
                raise DefinitionError(where, what, f"raw indicator expressions must be instant vectors: {expr}")

    def total_events(self, window: Duration) -> Expr:
        self._only_fine(window)
        return self.total_events_5m

    def bad_events(self, window: Duration) -> Expr:
        self._only_fine(window)
        return self.bad_events_5m

    @staticmethod
    def _only_fine(window: Duration) -> None:
        assert window == FINE_WINDOW, "raw indicators count events over the base window only"


Indicator = Union[RatioIndicator, LatencyIndicator, AvailabilityIndicator, RawIndicator]


def _events(series: Selector, window: Duration) -> Expr:
    return q.or_zero(q.sum_(q.increase(series.over(window))))


# ---------------------------------------------------------------- burn-rate tiers


@dataclass(frozen=True)
class BurnRateTier:
    """Alert when both windows burn the budget faster than `factor`×.

    Give either `budget_consumed` (the fraction of the period's budget spent in `long_window` that
    warrants the alert; the factor then follows the period) or a fixed `factor`."""

    name: str
    long_window: Duration
    short_window: Duration
    severity: Severity
    priority: Priority
    budget_consumed: Decimal | None = None
    factor: Decimal | None = None
    for_: Duration | None = None
    defined_at: Location = defined_here()

    def __post_init__(self) -> None:
        where, what = self.defined_at, f"burn-rate tier {self.name!r}"
        if not is_slug(self.name):
            raise DefinitionError(where, what, "a tier name is lower-case words joined by '-'")
        set_field(self, "long_window", duration_of(where, what, self.long_window, "long_window"))
        set_field(self, "short_window", duration_of(where, what, self.short_window, "short_window"))
        set_field(self, "for_", duration_of(where, what, self.for_, "for_"))
        if (self.budget_consumed is None) == (self.factor is None):
            raise DefinitionError(where, what, "give exactly one of budget_consumed or factor")
        if self.budget_consumed is not None:
            value = decimal_of(where, what, self.budget_consumed, "budget_consumed")
            if not 0 < value <= 1:
                raise DefinitionError(where, what, "budget_consumed is a fraction in (0, 1]")
            set_field(self, "budget_consumed", value)
        if self.factor is not None:
            value = decimal_of(where, what, self.factor, "factor")
            if value <= 0:
                raise DefinitionError(where, what, "factor must be positive")
            set_field(self, "factor", value)
        if self.severity not in SEVERITIES:
            raise DefinitionError(where, what, f"severity is one of {', '.join(SEVERITIES)}")
        if self.priority not in PRIORITIES:
            raise DefinitionError(where, what, f"priority is one of {', '.join(PRIORITIES)}")
        if not self.short_window < self.long_window:
            raise DefinitionError(where, what, "the short window must be shorter than the long window")
        for window in (self.long_window, self.short_window):
            if window.seconds % FINE_WINDOW.seconds:
                raise DefinitionError(where, what, f"windows are multiples of {FINE_WINDOW} (got {window})")

    def burn_factor(self, period: Duration) -> Decimal:
        """Factor = budget fraction consumed × period / long window (exact)."""
        if self.factor is not None:
            return self.factor
        assert self.budget_consumed is not None
        return (self.budget_consumed * period.seconds / self.long_window.seconds).normalize()


def tier(
    name: str,
    long_window: DurationLike,
    short_window: DurationLike,
    severity: Severity,
    priority: Priority,
    *,
    budget_consumed: Number | None = None,
    factor: Number | None = None,
    for_: DurationLike | None = None,
) -> BurnRateTier:
    """A multi-window burn-rate alert tier; give `budget_consumed` (fraction of the period's budget
    spent in the long window) or the burn `factor` itself."""
    return BurnRateTier(
        name, long_window, short_window, severity, priority,  # type: ignore[arg-type]
        budget_consumed=budget_consumed, factor=factor, for_=for_,  # type: ignore[arg-type]
    )


# The SRE Workbook's tiers (ch. 5), stated as budget spent so that they follow the period:
# for 30 days they are exactly 14.4×, 6×, 3× and 1×.
DEFAULT_TIERS: tuple[BurnRateTier, ...] = (
    tier("page-fast", "1h", "5m", "critical", "P0", budget_consumed="0.02"),
    tier("page-slow", "6h", "30m", "critical", "P1", budget_consumed="0.05"),
    tier("ticket-fast", "1d", "2h", "warning", "P2", budget_consumed="0.1"),
    tier("ticket-slow", "3d", "6h", "warning", "P2", budget_consumed="0.1"),
)


# ---------------------------------------------------------------- the SLO


@dataclass(frozen=True)
class SLO:
    """`objective` percent of the indicator's events are good over `period`; the burn-rate `tiers`
    alert when the error budget is spent too fast."""

    name: str
    objective: Decimal  # percent, as people write it: 99.9
    indicator: Indicator
    description: str
    period: Duration = Duration(30 * 86400)
    service: str | None = None  # defaults to the system's service
    team: str | None = None
    tiers: tuple[BurnRateTier, ...] = DEFAULT_TIERS
    min_events: int | None = None  # no burn-rate alert while the long window saw fewer events
    runbook_url: str = ""
    dashboard_url: str = ""
    defined_at: Location = defined_here()

    if TYPE_CHECKING:  # what callers may pass (see typed_init in base.py)
        def __init__(
            self, name: str, objective: Number, indicator: Indicator, description: str,
            period: DurationLike = Duration(30 * 86400), service: str | None = None, team: str | None = None,
            tiers: Sequence[BurnRateTier] = DEFAULT_TIERS, min_events: int | None = None,
            runbook_url: str = "", dashboard_url: str = "", *, defined_at: Location = UNKNOWN,
        ) -> None: ...

    def __post_init__(self) -> None:
        where, what = self.defined_at, f"SLO {self.name!r}"
        if not is_slug(self.name):
            raise DefinitionError(where, what, "an SLO name is lower-case words joined by '-' (e.g. 'availability')")
        objective = decimal_of(where, what, self.objective, "objective")
        if not 0 < objective < 100:
            raise DefinitionError(where, what, f"objective is a percentage strictly between 0 and 100, got {objective}")
        set_field(self, "objective", objective)
        set_field(self, "period", duration_of(where, what, self.period, "period"))
        if self.period.seconds % 86400:
            raise DefinitionError(where, what, "the period is a whole number of days")
        set_field(self, "tiers", tuple(self.tiers))
        names = [t.name for t in self.tiers]
        if len(set(names)) != len(names):
            raise DefinitionError(where, what, "two burn-rate tiers share a name")
        for t in self.tiers:
            if t.long_window > self.period:
                raise DefinitionError(where, what, f"tier {t.name!r}: long window {t.long_window} exceeds the period {self.period}")
            if t.burn_factor(self.period) * self.error_budget >= 1:
                raise DefinitionError(where, what, f"tier {t.name!r} can never fire: {t.burn_factor(self.period)}x the budget is an error ratio of 100% or more")
        if self.min_events is not None and self.min_events < 1:
            raise DefinitionError(where, what, "min_events is a positive count")
        if not self.description.strip():
            raise DefinitionError(where, what, "a description is required (it goes into alerts and docs)")
        self.indicator.check(where, what)

    @property
    def error_budget(self) -> Decimal:
        """The allowed bad fraction: 99.9 → 0.001, exactly."""
        return ((Decimal(100) - self.objective) / 100).normalize()

    @property
    def objective_ratio(self) -> Decimal:
        return (self.objective / 100).normalize()

    def windows(self) -> tuple[Duration, ...]:
        """Every window a ratio is recorded for: the tiers' windows and the period."""
        found = {FINE_WINDOW, self.period}
        for t in self.tiers:
            found.update((t.long_window, t.short_window))
        return tuple(sorted(found))
