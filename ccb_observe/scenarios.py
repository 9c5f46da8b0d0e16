"""Synthetic traffic for the generated promtool suites, and what Prometheus must make of it.

Traffic is counted per evaluation step: how many events and how many of them bad. From it come
(1) the input series promtool loads, derived from the model (the indicator's selectors, the
histogram's buckets, the condition's series), and (2) an oracle: the exact error ratio each rule
computes at each step, emulating Prometheus 2.42 on these series (closed range windows, counters
from zero so `increase` never extrapolates, rules evaluated in group order). The suites state the
oracle's answer; promtool checks that the rules agree.

The scenario library (quiet, healthy, outage, slow burn, blip, recovery, counter reset, low
traffic) is here; promtool_tests.py turns scenarios into test files.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Callable, Iterable, Sequence

from . import promql as q
from .model.metrics import Metric
from .model.conditions import RatioAbove
from .model.slo import SLO, AvailabilityIndicator, BurnRateTier, LatencyIndicator, RatioIndicator
from .naming import FINE_WINDOW, LONG_WINDOW
from .promql import Matcher, Selector

REQUESTS_PER_STEP = 10_000  # enough that every error fraction used is a whole count
TARGETS = 10  # up-style series per availability SLO (promtool allows 10,000 samples per query)


# ---------------------------------------------------------------- traffic


@dataclass(frozen=True)
class Phase:
    steps: int
    per_step: Fraction  # events per step
    bad: Fraction  # share of them that is bad
    reset: bool = False  # counters restart from zero as the phase begins


@dataclass(frozen=True)
class Traffic:
    """Events per step, step 1..n (step 0 is the first sample, with every counter at zero)."""

    step_minutes: int
    totals: tuple[int, ...]
    bads: tuple[int, ...]
    resets: frozenset[int] = frozenset()

    @property
    def steps(self) -> int:
        return len(self.totals)


def traffic(step_minutes: int, *phases: Phase) -> Traffic:
    totals: list[int] = []
    bads: list[int] = []
    resets: set[int] = set()
    events_acc = Fraction(0)
    bad_acc = Fraction(0)
    for phase in phases:
        if phase.reset:
            resets.add(len(totals) + 1)
        for _ in range(phase.steps):
            # Spread fractional counts evenly (Bresenham): whole events per step, exact on average.
            before = events_acc
            events_acc += phase.per_step
            total = math.floor(events_acc) - math.floor(before)
            before_bad = bad_acc
            bad_acc += total * phase.bad
            bad = math.floor(bad_acc) - math.floor(before_bad)
            totals.append(total)
            bads.append(min(bad, total))
    return Traffic(step_minutes, tuple(totals), tuple(bads), frozenset(resets))


def steady(steps: int, bad: Fraction, per_step: Fraction = Fraction(REQUESTS_PER_STEP)) -> Phase:
    return Phase(steps, per_step, min(Fraction(1), bad))


def quiet(steps: int) -> Phase:
    return Phase(steps, Fraction(0), Fraction(0))


# ---------------------------------------------------------------- the oracle


class Oracle:
    """Exact per-step error ratios of the rules of one SLO on one Traffic (Fractions; None = no data)."""

    def __init__(self, slo: SLO, flow: Traffic) -> None:
        self.slo = slo
        self.flow = flow
        self.step = flow.step_minutes
        self.up_style = isinstance(slo.indicator, AvailabilityIndicator)
        # Per sample j = 0..n: for counters the events that arrived since sample j-1; for up-style
        # series the samples scraped (TARGETS or none) and how many of them were down.
        if self.up_style:
            scraped = [flow.totals[0] > 0 if flow.steps else False] + [t > 0 for t in flow.totals]
            self._total = [TARGETS if s else 0 for s in scraped]
            self._bad = [0] + list(flow.bads)
        else:
            self._total = [0] + list(flow.totals)
            self._bad = [0] + list(flow.bads)
        n5 = self._n(FINE_WINDOW.seconds)
        self._fine = [self._events(k, n5) for k in range(flow.steps + 1)]
        self._bucket = [self._sum(self._fine, k, n5) for k in range(flow.steps + 1)]

    def _n(self, seconds: int) -> int:
        return seconds // 60 // self.step

    def _events(self, k: int, n: int) -> tuple[int, int]:
        """(bad, total) events a window of n steps ending at step k sees: count_over_time reads the
        samples in [k-n, k]; increase reads what arrived after sample k-n."""
        first = max(0, k - n) if self.up_style else max(1, k - n + 1)
        return (sum(self._bad[first: k + 1]), sum(self._total[first: k + 1]))

    @staticmethod
    def _sum(series: Sequence[tuple[int, int]], k: int, n: int) -> tuple[int, int]:
        window = series[max(0, k - n): k + 1]
        return (sum(b for b, _ in window), sum(t for _, t in window))

    def ratio(self, k: int, window_seconds: int) -> Fraction | None:
        n = self._n(window_seconds)
        if window_seconds == FINE_WINDOW.seconds:
            bad, total = self._fine[k]
        elif window_seconds >= LONG_WINDOW.seconds:
            bad, total = self._sum(self._bucket, k, n)
        else:
            bad, total = self._events(k, n)
        return Fraction(bad, total) if total > 0 else None

    def events_seen(self, k: int, window_seconds: int) -> Fraction:
        """The min-events guard's estimate: mean of the 5m totals over the window × 5m periods in it."""
        n = self._n(window_seconds)
        window = self._fine[max(0, k - n): k + 1]
        mean = Fraction(sum(t for _, t in window), len(window))
        return mean * (window_seconds // FINE_WINDOW.seconds)

    def tier_condition(self, k: int, tier: BurnRateTier, guarded: bool = True) -> bool:
        threshold = Fraction(tier.burn_factor(self.slo.period)) * Fraction(self.slo.error_budget)
        ok = all(
            r is not None and _above(r, threshold)
            for r in (self.ratio(k, tier.long_window.seconds), self.ratio(k, tier.short_window.seconds))
        )
        if ok and guarded and self.slo.min_events is not None:
            ok = _above(self.events_seen(k, tier.long_window.seconds), Fraction(self.slo.min_events), strict=False)
        return ok

    def firing(self, k: int, tier: BurnRateTier, guarded: bool = True) -> bool:
        return _fires(lambda j: self.tier_condition(j, tier, guarded), k, _steps(tier.for_.seconds if tier.for_ else 0, self.step))

    def budget_left(self, k: int) -> float | None:
        """clamp_min(slo:error_budget_remaining:ratio, 0) as Prometheus computes it (float)."""
        n = self._n(self.slo.period.seconds)
        bad, total = self._sum(self._bucket, k, n)
        if total == 0:
            return None
        ratio = bad / total
        return max(1 - ratio / float(self.slo.error_budget), 0.0)


class Ambiguous(ValueError):
    """A value sits on its threshold: float rounding could decide either way, so no test states it."""


def _above(value: Fraction, threshold: Fraction, strict: bool = True) -> bool:
    if threshold and abs(value - threshold) / threshold < Fraction(1, 10**6):
        raise Ambiguous(f"{float(value)} is on the threshold {float(threshold)}")
    return value > threshold if strict else value >= threshold


def _steps(seconds: int, step_minutes: int) -> int:
    return math.ceil(seconds / 60 / step_minutes)


def _fires(condition: Callable[[int], bool], k: int, for_steps: int) -> bool:
    """Firing at step k: the condition held at every step of the last `for`."""
    return all(condition(j) for j in range(k - for_steps, k + 1)) if k - for_steps >= 0 else False


# ---------------------------------------------------------------- series from selectors

_CANDIDATES = ("synthetic", "200", "500", "503", "404", "ok", "error", "success", "failure", "true", "false", "0", "1")


def satisfy(matchers: Iterable[Matcher], avoid: Iterable[Matcher] = ()) -> dict[str, str]:
    """Concrete label values matching every matcher, and failing at least one of `avoid` if given."""
    labels: dict[str, str] = {}
    wanted = list(matchers)
    for label in sorted({m.label for m in wanted}):
        rules = [m for m in wanted if m.label == label]
        labels[label] = _pick(label, rules)
    avoid = [m for m in avoid if not any(m == w for w in wanted)]
    if avoid:
        target = avoid[0]
        rules = [m for m in wanted if m.label == target.label] + [_negate(target)]
        labels[target.label] = _pick(target.label, rules)
    return labels


def _negate(m: Matcher) -> Matcher:
    return Matcher(m.label, {"=": "!=", "!=": "=", "=~": "!~", "!~": "=~"}[m.op], m.value)  # type: ignore[arg-type]


def _matches(m: Matcher, value: str) -> bool:
    if m.op == "=":
        return value == m.value
    if m.op == "!=":
        return value != m.value
    hit = re.fullmatch(m.value, value) is not None
    return hit if m.op == "=~" else not hit


def _pick(label: str, rules: Sequence[Matcher]) -> str:
    options = [m.value for m in rules if m.op == "="] + list(_CANDIDATES) + [f"{label}-1"]
    for value in options:
        if value and all(_matches(m, value) for m in rules):
            return value
    raise ValueError(f"cannot synthesise a value for label {label!r} matching {[m.render() for m in rules]}")


def series_text(metric: str, labels: dict[str, str]) -> str:
    """The promtool `series:` text, rendered by the builder (so values are escaped)."""
    return Selector(metric, q.make_matchers(labels)).render() if labels else metric + "{}"


def values_text(values: Sequence[float | None]) -> str:
    """promtool's expanding notation: runs of equal steps as `a+bxn`, gaps as `_`."""
    out: list[str] = []
    i = 0
    while i < len(values):
        if values[i] is None:
            j = i
            while j + 1 < len(values) and values[j + 1] is None:
                j += 1
            out.append("_" if j == i else f"_x{j - i + 1}")
            i = j + 1
            continue
        j = i
        step = None
        while j + 1 < len(values) and values[j + 1] is not None:
            delta = values[j + 1] - values[i] if step is None else values[j + 1] - values[j]  # type: ignore[operator]
            if step is None:
                step = delta
            elif delta != step:
                break
            j += 1
        start = _num(values[i])  # type: ignore[arg-type]
        if j == i:
            out.append(start)
        else:
            sign = "+" if step >= 0 else "-"  # type: ignore[operator]
            out.append(f"{start}{sign}{_num(abs(step))}x{j - i}")  # type: ignore[arg-type]
        i = j + 1
    return " ".join(out)


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else repr(float(v))


@functools.lru_cache(maxsize=4096)
def counter_text(increments: tuple[int, ...], resets: frozenset[int] = frozenset()) -> str:
    """promtool values of a counter from zero with these increments (SLOs of one shape share them)."""
    return values_text(cumulative(increments, resets))


def cumulative(increments: Sequence[int], resets: frozenset[int] = frozenset()) -> list[float]:
    values = [0.0]
    for k, inc in enumerate(increments, start=1):
        values.append(float(inc) if k in resets else values[-1] + inc)
    return values


InputSeries = list[tuple[str, str]]  # (series text, values text)


def indicator_series(slo: SLO, flow: Traffic, catalog: dict[str, Metric]) -> InputSeries:
    """The raw series the SLO's indicator reads, carrying `flow`."""
    good = [t - b for t, b in zip(flow.totals, flow.bads)]
    ind = slo.indicator
    if isinstance(ind, RatioIndicator):
        subset = ind.bad if ind.bad is not None else ind.good
        assert subset is not None
        in_subset = flow.bads if ind.bad is not None else good
        rest = good if ind.bad is not None else flow.bads
        return event_series(ind.total, subset, in_subset, rest, flow.resets)
    if isinstance(ind, LatencyIndicator):
        return histogram_series(ind.histogram, catalog[ind.histogram.metric].buckets, ind.threshold, flow)
    if isinstance(ind, AvailabilityIndicator):
        labels = satisfy(ind.up.matchers)
        return [
            (series_text(ind.up.metric, {**labels, "instance": f"target-{target:02d}"}), text)
            for target in range(TARGETS)
            if (text := up_text(flow, target))  # a target never scraped has no series at all
        ]
    raise ValueError(f"SLO {slo.name!r}: no synthetic traffic for a {type(ind).__name__} (write its tests by hand)")


@functools.lru_cache(maxsize=1024)
def up_text(flow: Traffic, target: int) -> str:
    """promtool values of one `up` target: 1, 0 while among the step's down targets, `_` when not scraped."""
    values: list[float | None] = []
    for k in range(flow.steps + 1):
        scraped = k == 0 and flow.steps > 0 and flow.totals[0] > 0 or k > 0 and flow.totals[k - 1] > 0
        down = k > 0 and target < flow.bads[k - 1]
        values.append((0.0 if down else 1.0) if scraped else None)
    return values_text(values) if any(v is not None for v in values) else ""


def event_series(total: Selector, subset: Selector, in_subset: Sequence[int], rest: Sequence[int], resets: frozenset[int]) -> InputSeries:
    """Counters for `total` events of which `in_subset` match `subset` (the rest do not)."""
    if total.metric == subset.metric:
        inside = satisfy(total.matchers + subset.matchers)
        outside = satisfy(total.matchers, avoid=subset.matchers)
        return [
            (series_text(subset.metric, inside), counter_text(tuple(in_subset), resets)),
            (series_text(total.metric, outside), counter_text(tuple(rest), resets)),
        ]
    everything = [a + b for a, b in zip(in_subset, rest)]
    return [
        (series_text(subset.metric, satisfy(subset.matchers)), counter_text(tuple(in_subset), resets)),
        (series_text(total.metric, satisfy(total.matchers)), counter_text(tuple(everything), resets)),
    ]


def le_text(bound: Decimal) -> str:
    return q.format_number(bound)


def histogram_series(family: Selector, buckets: Sequence[Decimal], threshold: Decimal, flow: Traffic) -> InputSeries:
    """Fast events land in the first bucket, slow ones just above `threshold`."""
    labels = satisfy(family.matchers)
    fast = [t - b for t, b in zip(flow.totals, flow.bads)]
    out = []
    for bound in list(buckets) + [None]:
        slow_counted = bound is None or bound > threshold
        counts = [f + (b if slow_counted else 0) for f, b in zip(fast, flow.bads)]
        le = "+Inf" if bound is None else le_text(bound)
        out.append((series_text(family.metric + "_bucket", {**labels, "le": le}), counter_text(tuple(counts), flow.resets)))
    out.append((series_text(family.metric + "_count", labels), counter_text(flow.totals, flow.resets)))
    return out


# ---------------------------------------------------------------- threshold conditions


def condition_value_ratio(c: RatioAbove, bad: int, total: int, window_seconds: int) -> float | None:
    """sum(rate(bad)) / sum(rate(total)) as Prometheus computes it on whole counts."""
    if c.function == "rate":
        good = total - bad
        rb, rg = bad / window_seconds, good / window_seconds
        denominator = (rg + rb) if c.bad.metric == c.total.metric else total / window_seconds
        return rb / denominator if denominator > 0 else None
    return bad / total if total > 0 else None


def quantile(q_: float, buckets: Sequence[tuple[float, float]]) -> float | None:
    """Prometheus 2.42 bucketQuantile on (upper bound, cumulative count) pairs ending in +Inf."""
    observations = buckets[-1][1]
    if observations == 0 or len(buckets) < 2:
        return None
    rank = q_ * observations
    b = next(i for i in range(len(buckets)) if i == len(buckets) - 1 or buckets[i][1] >= rank)  # sort.Search over all but +Inf
    if b == len(buckets) - 1:
        return buckets[-2][0]
    if b == 0 and buckets[0][0] <= 0:
        return buckets[0][0]
    start, end, count = 0.0, buckets[b][0], buckets[b][1]
    if b > 0:
        start = buckets[b - 1][0]
        count -= buckets[b - 1][1]
        rank -= buckets[b - 1][1]
    return start + (end - start) * (rank / count)


def spike_share(threshold: Fraction, n: int) -> Fraction:
    """Bad events per spike step (as a multiple of a step's traffic) such that two spikes n-1 steps
    apart exceed `threshold` in one window of n steps, and one spike alone does not."""
    one_max = threshold * (n - 1) / (1 - threshold)
    both_min = threshold * (n - 2) / (2 * (1 - threshold))
    return (one_max + both_min) / 2
