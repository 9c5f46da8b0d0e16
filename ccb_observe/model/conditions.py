"""Alert conditions with known meaning. Each renders its PromQL with the builder and says which
series it reads, so that the promtool suites can synthesise traffic that must fire it and the
nearest traffic that must not (ccb_observe/scenarios.py)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, Union

from .. import promql as q
from ..durations import Duration, DurationLike, as_duration
from ..promql import Expr, Selector

Comparison = Literal[">", "<", ">=", "<=", "==", "!="]


@dataclass(frozen=True)
class RatioAbove:
    """sum(rate(bad[w])) / sum(rate(total[w])) > threshold: a failure *ratio*, never an absolute rate."""

    bad: Selector
    total: Selector
    window: Duration
    threshold: Decimal
    function: Literal["rate", "increase"] = "rate"

    def expr(self) -> Expr:
        fn = q.rate if self.function == "rate" else q.increase
        return q.ratio(q.sum_(fn(self.bad.over(self.window))), q.sum_(fn(self.total.over(self.window)))).gt(self.threshold)


@dataclass(frozen=True)
class QuantileAbove:
    """histogram_quantile(q, sum by (le) (rate(h_bucket[w]))) > threshold (seconds)."""

    histogram: Selector  # the family, e.g. http_request_duration_seconds(job=...)
    quantile: Decimal
    window: Duration
    threshold: Decimal

    def bucket(self) -> Selector:
        return Selector(self.histogram.metric + "_bucket", self.histogram.matchers)

    def expr(self) -> Expr:
        buckets = q.sum_(q.rate(self.bucket().over(self.window)), by=["le"])
        return q.histogram_quantile(q.Number(self.quantile), buckets).gt(self.threshold)


@dataclass(frozen=True)
class GaugeRatioAbove:
    """sum by (by) (numerator) / max by (by) (denominator) > threshold: a gauge as a share of its limit."""

    numerator: Selector
    denominator: Selector
    by: tuple[str, ...]
    threshold: Decimal

    def expr(self) -> Expr:
        return q.ratio(q.sum_(self.numerator, by=self.by), q.max_(self.denominator, by=self.by)).gt(self.threshold)


@dataclass(frozen=True)
class IncreaseAbove:
    """increase(counter[w]) > threshold, per series (e.g. container restarts)."""

    counter: Selector
    window: Duration
    threshold: Decimal

    def expr(self) -> Expr:
        return q.increase(self.counter.over(self.window)).gt(self.threshold)


@dataclass(frozen=True)
class GaugeCompare:
    """gauge <op> value, per series (e.g. pg_up == 0)."""

    gauge: Selector
    op: Comparison
    value: Decimal

    def expr(self) -> Expr:
        return q.Binary(self.op, self.gauge, q.Number(self.value))


Condition = Union[RatioAbove, QuantileAbove, GaugeRatioAbove, IncreaseAbove, GaugeCompare]


def ratio_above(bad: Selector, total: Selector, window: DurationLike, threshold: q.Operand, function: Literal["rate", "increase"] = "rate") -> RatioAbove:
    return RatioAbove(bad, total, as_duration(window), _dec(threshold), function)


def quantile_above(histogram: Selector, quantile: q.Operand, window: DurationLike, threshold: q.Operand) -> QuantileAbove:
    return QuantileAbove(histogram, _dec(quantile), as_duration(window), _dec(threshold))


def gauge_ratio_above(numerator: Selector, denominator: Selector, by: tuple[str, ...], threshold: q.Operand) -> GaugeRatioAbove:
    return GaugeRatioAbove(numerator, denominator, tuple(by), _dec(threshold))


def increase_above(counter: Selector, window: DurationLike, threshold: q.Operand) -> IncreaseAbove:
    return IncreaseAbove(counter, as_duration(window), _dec(threshold))


def gauge_compare(gauge: Selector, op: Comparison, value: q.Operand) -> GaugeCompare:
    return GaugeCompare(gauge, op, _dec(value))


def _dec(value: q.Operand) -> Decimal:
    if isinstance(value, Expr):
        raise TypeError("a threshold is a number")
    return q.to_decimal(value)
