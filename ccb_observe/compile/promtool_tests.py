"""`promtool test rules` suites, generated from the model: every alert proven in both directions.

For each SLO: quiet and healthy traffic page nothing and record no NaN/Inf; an outage fires the
fastest tier when the burn-rate arithmetic says it must; every tier fires just above its factor,
stays silent just below it and on a burst too short for its long window; recovery resolves; a
counter reset is no incident; low traffic does not page when the SLO asks for a minimum of events.
For each threshold alert with a known condition: it fires just above, stays silent just under,
and stays silent when over for less than its `for`. The expected alerts, labels and annotation
texts come from the oracle in ccb_observe/scenarios.py, never from running the rules.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any, Callable, Literal

from .. import naming
from .. import promql as q
from ..durations import Duration
from ..errors import CcbObserveError
from ..humanize import UnsupportedTemplate, humanize_percentage, render
from ..model import SLO, System
from ..model.alerts import Alert
from ..model.conditions import Condition, GaugeCompare, GaugeRatioAbove, IncreaseAbove, QuantileAbove, RatioAbove
from ..model.slo import AvailabilityIndicator, BurnRateTier, RawIndicator
from ..output import Output, to_yaml
from ..scenarios import (
    REQUESTS_PER_STEP,
    Ambiguous,
    InputSeries,
    Oracle,
    Phase,
    Traffic,
    condition_value_ratio,
    event_series,
    histogram_series,
    indicator_series,
    quantile,
    quiet,
    satisfy,
    series_text,
    spike_share,
    steady,
    traffic,
    values_text,
)
from ..templates import source
from . import rules

TESTS_DIR = "prometheus/tests"
FAST, SLOW = 1, 5  # minutes per step: page tiers and threshold alerts; tiers with windows of days
Intent = Literal["fires", "silent"]


class ScenarioError(CcbObserveError):
    """A generated scenario does not show what it is meant to show (a bug, or an SLO that cannot)."""


@dataclass
class Case:
    name: str
    flow: Traffic
    checks: list[tuple[int, Intent, BurnRateTier | None]] = field(default_factory=list)  # None: every tier
    no_data: bool = False  # zero traffic: the ratios must be absent, not 0 or NaN


SHARING_FILE = "prometheus/suite-sharing.yml"


def compile(system: System) -> Output:
    files: Output = {}
    owners = suite_owners(system)
    for slo in system.slos:
        if owners.get(slo.name) != slo.name:
            continue  # raw PromQL (uncovered() lists it), or proven by another SLO's suite
        groups = rules.slo_groups(system, slo)
        plans = _plans(_Shape.of(slo))  # shared by every SLO of the same shape
        for step, suffix in ((FAST, ""), (SLOW, ".slow")):
            tests = [slo_test(system, slo, plan) for plan in plans if plan.case.flow.step_minutes == step]
            if tests:
                files[f"{TESTS_DIR}/slo-{slo.name}{suffix}.test.yml"] = to_yaml(test_file(rules.slo_rules_file(slo), groups, step, tests))
    shared = sharing(owners)
    if shared:
        files[SHARING_FILE] = to_yaml({"proven_by": shared})
    covered = [a for a in system.alerts if a.condition is not None]
    if covered:
        tests = [t for a in covered for t in alert_tests(system, a)]
        files[f"{TESTS_DIR}/alerts.test.yml"] = to_yaml(test_file(rules.ALERT_RULES_FILE, [rules.alert_group(system)], FAST, tests))
    return files


def suite_owners(system: System) -> dict[str, str]:
    """SLO name -> the SLO whose suite proves its rules: itself, or the first SLO whose rule file is
    the same text once each file's own names and selectors are blanked out. The two files are then
    one template filled in twice, and the suite proves the template (the selectors' matching is
    PromQL's). Thousands of SLOs of a few shapes get a few suites, not gigabytes of them."""
    texts = rules.group_texts(system)
    first: dict[bytes, str] = {}
    owners: dict[str, str] = {}
    for slo in system.slos:
        if not isinstance(slo.indicator, RawIndicator):  # hand-written PromQL: no traffic can be derived
            owners[slo.name] = first.setdefault(_blanked(system, slo, b"".join(texts[rules.slo_rules_file(slo)])), slo.name)
    return owners


def _blanked(system: System, slo: SLO, text: bytes) -> bytes:
    # Longest first, so that a name inside a selector or a description goes with the longer string;
    # NUL never occurs in YAML output, so the placeholders are unambiguous.
    own = [s.render() for s in slo.indicator.selectors()]
    own += [rules.burn_alert_name(slo), slo.description, slo.runbook_url, slo.dashboard_url, slo.name, slo.service or system.service, slo.team or ""]
    for index, value in sorted(enumerate(own), key=lambda item: -len(item[1])):
        if value:
            text = text.replace(value.encode(), b"\0%d\0" % index)
    return text


def sharing(owners: dict[str, str]) -> dict[str, list[str]]:
    """Owner -> the SLOs its suite proves besides itself (declaration order)."""
    shared: dict[str, list[str]] = {}
    for name, owner in owners.items():
        if owner != name:
            shared.setdefault(owner, []).append(name)
    return shared


def uncovered(system: System) -> list[str]:
    """Alerts the generated suites cannot test (hand-written PromQL): they need tests of their own."""
    names = [f"{rules.burn_alert_name(s)} (SLO {s.name}: raw indicator)" for s in system.slos if isinstance(s.indicator, RawIndicator)]
    names += [f"{a.name} (raw expression)" for a in system.alerts if a.condition is None]
    return names


def test_file(rule_file: str, groups: list[dict[str, Any]], step: int, tests: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "rule_files": [f"../rules/{rule_file}"],  # relative to the test file
        "evaluation_interval": f"{step}m",
        # promtool evaluates groups in map order unless told: events, then buckets, then ratios.
        "group_eval_order": [g["name"] for g in groups],
        "tests": tests,
    }


def _at(k: int, step: int) -> str:
    return f"{k * step}m"


def _input(series: InputSeries) -> list[dict[str, str]]:
    return [{"series": s, "values": v} for s, v in series]


# ---------------------------------------------------------------- SLO scenarios


def _threshold(slo: SLO, tier: BurnRateTier) -> Fraction:
    return Fraction(tier.burn_factor(slo.period)) * Fraction(slo.error_budget)


def _n(window_seconds: int, step: int) -> int:
    return window_seconds // 60 // step


def _step_for(tier: BurnRateTier) -> int:
    return FAST if tier.long_window < naming.LONG_WINDOW else SLOW


def _per_step(slo: SLO) -> Fraction:
    from ..scenarios import TARGETS

    return Fraction(TARGETS if isinstance(slo.indicator, AvailabilityIndicator) else REQUESTS_PER_STEP)


def slo_cases(slo: SLO) -> list[Case]:
    budget = Fraction(slo.error_budget)
    per = _per_step(slo)
    cases = [
        Case("quiet: no traffic pages nothing and records no ratio", traffic(FAST, quiet(180)), [(60, "silent", None), (180, "silent", None)], no_data=True),
        Case("healthy: errors at half the budget page nothing", traffic(FAST, steady(180, budget / 2, per)), [(120, "silent", None), (180, "silent", None)]),
    ]
    if not isinstance(slo.indicator, AvailabilityIndicator):
        cases.append(Case(
            "counter reset: a restart of the service is no incident",
            traffic(FAST, steady(90, budget / 2, per), Phase(90, per, budget / 2, reset=True)),
            [(95, "silent", None), (180, "silent", None)],
        ))
    fastest = max(slo.tiers, key=lambda t: t.burn_factor(slo.period), default=None)
    if fastest is not None and _step_for(fastest) == FAST:
        cases += outage_cases(slo, fastest, per)
        if slo.min_events is not None:
            cases.append(low_traffic_case(slo, fastest))
    for tier in slo.tiers:
        cases += tier_cases(slo, tier, per)
    return cases


def outage_cases(slo: SLO, tier: BurnRateTier, per: Fraction) -> list[Case]:
    """A full outage after a healthy hour: the tier fires when factor × budget of the long window
    has gone bad (the burn-rate arithmetic), give or take one evaluation."""
    history = _n(tier.long_window.seconds + tier.short_window.seconds, FAST)
    limit = history + _n(tier.long_window.seconds, FAST)
    probe = Oracle(slo, traffic(FAST, steady(history, Fraction(0), per), steady(limit - history, Fraction(1), per)))
    first = next((k for k in range(history, limit + 1) if _safe(lambda: probe.firing(k, tier))), None)
    predicted_minutes = float(_threshold(slo, tier)) * tier.long_window.seconds / 60 + (tier.for_.seconds / 60 if tier.for_ else 0)
    if first is None or abs((first - history) * FAST - predicted_minutes) > FAST + 1e-9:
        raise ScenarioError(f"SLO {slo.name!r}: an outage fires {tier.name} at step {first}, not within one step of the predicted {predicted_minutes:.2f} min")
    detect = f"predicted {predicted_minutes:.2f} min"
    outage_end = first + 2
    recovered = outage_end + _n(tier.short_window.seconds, FAST) + 2
    return [
        Case(
            f"outage: {tier.name} fires {first - history} min after the start ({detect})",
            traffic(FAST, steady(history, Fraction(0), per), steady(outage_end - history, Fraction(1), per)),
            [(first - 1, "silent", tier), (first, "fires", tier)],
        ),
        Case(
            f"recovery: {tier.name} resolves once its {tier.short_window} window is healthy again",
            traffic(FAST, steady(history, Fraction(0), per), steady(outage_end - history, Fraction(1), per), steady(recovered - outage_end, Fraction(0), per)),
            [(outage_end, "fires", tier), (recovered, "silent", tier)],
        ),
    ]


def low_traffic_case(slo: SLO, tier: BurnRateTier) -> Case:
    """Few events, many of them bad: the ratio burns, but under min_events nobody is paged."""
    assert slo.min_events is not None
    n_long = _n(tier.long_window.seconds, FAST)
    per = Fraction(slo.min_events * 3, 5 * n_long)  # 60% of the floor over the long window
    flow = traffic(FAST, steady(2 * n_long, Fraction(1, 2), per))
    oracle = Oracle(slo, flow)
    k = flow.steps
    if not oracle.tier_condition(k, tier, guarded=False):
        raise ScenarioError(f"SLO {slo.name!r}: the low-traffic scenario would not fire {tier.name} even without min_events")
    return Case(f"low traffic: half of {float(per * n_long):.0f} events an {tier.long_window} bad, under min_events={slo.min_events}: no page", flow, [(k, "silent", tier)])


def tier_cases(slo: SLO, tier: BurnRateTier, per: Fraction) -> list[Case]:
    step = _step_for(tier)
    threshold = _threshold(slo, tier)
    if threshold >= 1:
        raise ScenarioError(f"SLO {slo.name!r}: tier {tier.name} needs an error ratio above {float(threshold)}, which no traffic reaches")
    n_short, n_long = _n(tier.short_window.seconds, step), _n(tier.long_window.seconds, step)
    # Checked once the short window is full; coarse traffic (up-style targets) may need a few
    # steps more until a bad sample is in the short window, so the flow leaves room to look on.
    check = n_short + 3
    length = check + n_short
    cases = [
        Case(f"{tier.name}: a burn just above {tier.burn_factor(slo.period)}x fires it",
             traffic(step, steady(length, min(Fraction(1), threshold * 5 / 4), per)), [(check, "fires", tier)]),
        Case(f"{tier.name}: a burn just below {tier.burn_factor(slo.period)}x does not",
             traffic(step, steady(length, threshold * 17 / 20, per)), [(check, "silent", tier)]),
    ]
    # A burst that fills the short window but not the long one: bad events worth the geometric
    # mean of the two windows' thresholds, within the last steps of a long healthy history.
    burst = min(threshold * Fraction(math.isqrt(n_short * n_long * 10**6), 1000), Fraction(9, 10) * n_short)
    if burst > threshold * n_short * Fraction(21, 20) and burst < threshold * n_long * Fraction(19, 20):
        steps = math.ceil(burst)
        # Enough history that the long window (or all of it, if shorter) dilutes the burst below
        # the threshold: a fifth to spare, and never more than the long window itself.
        history = min(n_long + 2, math.ceil(burst / threshold * Fraction(6, 5)) + n_short)
        flow = traffic(step, steady(history, Fraction(0), per), steady(steps, burst / steps, per))
        cases.append(Case(f"{tier.name}: a burst too short for the {tier.long_window} window does not fire it", flow, [(flow.steps, "silent", tier)]))
    return cases


def _safe(check: Callable[[], bool]) -> bool:
    try:
        return check()
    except Ambiguous:
        return False


@dataclass(frozen=True)
class Settled:
    """A check the oracle has settled: its step, the tiers firing there (by index), the budget left."""

    k: int
    firing: tuple[int, ...]
    budget_left: float | None


@dataclass(frozen=True)
class Plan:
    case: Case
    checks: tuple[Settled, ...]


@dataclass(frozen=True)
class _Shape:
    """What the scenarios and the oracle read of an SLO: SLOs that share it share their plans."""

    budget: Decimal
    period: Duration
    tiers: tuple[BurnRateTier, ...]
    min_events: int | None
    up_style: bool
    slo: SLO = field(compare=False, hash=False)

    @classmethod
    def of(cls, slo: SLO) -> "_Shape":
        return cls(slo.error_budget, slo.period, slo.tiers, slo.min_events, isinstance(slo.indicator, AvailabilityIndicator), slo)


@functools.lru_cache(maxsize=64)
def _plans(shape: _Shape) -> tuple[Plan, ...]:
    slo = shape.slo
    return tuple(_plan(slo, case) for case in slo_cases(slo))


def _plan(slo: SLO, case: Case) -> Plan:
    oracle = Oracle(slo, case.flow)
    settled = []
    for planned, intent, tier in case.checks:
        k, firing = _first_showing(slo, oracle, case, planned, intent, tier)
        settled.append(Settled(k, tuple(slo.tiers.index(t) for t in firing), oracle.budget_left(k)))
    return Plan(case, tuple(settled))


def slo_test(system: System, slo: SLO, plan: Plan) -> dict[str, Any]:
    case = plan.case
    step = case.flow.step_minutes
    alert_tests = [
        {
            "eval_time": _at(check.k, step),
            "alertname": rules.burn_alert_name(slo),
            "exp_alerts": [_burn_alert(system, slo, slo.tiers[i], check.budget_left) for i in check.firing],
        }
        for check in plan.checks
    ]
    end = case.flow.steps
    return {
        "name": f"{slo.name}: {case.name}",
        "interval": f"{step}m",
        "input_series": _input(indicator_series(slo, case.flow, system.catalog)),
        "alert_rule_test": alert_tests,
        "promql_expr_test": _health_checks(slo, _at(end, step), case.no_data),
    }


def _first_showing(slo: SLO, oracle: Oracle, case: Case, planned: int, intent: Intent, tier: BurnRateTier | None) -> tuple[int, list[BurnRateTier]]:
    """The first step from `planned` on where the scenario shows its intent (unambiguously)."""
    wanted = [tier] if tier is not None else list(slo.tiers)
    last = case.flow.steps if intent == "fires" else planned  # silence is shown where planned
    for k in range(planned, last + 1):
        try:
            firing = [t for t in slo.tiers if oracle.firing(k, t)]
        except Ambiguous:
            continue
        if all((t in firing) == (intent == "fires") for t in wanted):
            return k, firing
    names = ", ".join(t.name for t in wanted)
    raise ScenarioError(f"SLO {slo.name!r}, scenario {case.name!r}: from {_at(planned, case.flow.step_minutes)} on, {names} never {'fires' if intent == 'fires' else 'stays silent'}")


def _burn_alert(system: System, slo: SLO, tier: BurnRateTier, budget_left: float | None) -> dict[str, Any]:
    left = "unknown" if budget_left is None else humanize_percentage(budget_left)
    parts = rules.burn_annotation_parts(slo, tier, tier.burn_factor(slo.period))
    return {
        "exp_labels": {**rules.identity(system, slo), **rules.tier_labels(tier)},
        "exp_annotations": {key: "".join(left if p is rules.BUDGET_LEFT else p for p in value) for key, value in parts.items()},
    }


def _health_checks(slo: SLO, at: str, no_data: bool) -> list[dict[str, Any]]:
    """No recorded series of the SLO is NaN or ±Inf (NaN never equals itself, so count the finite ones)."""
    recorded = q.Selector("", q.make_matchers({"__name__": q.matches("slo:.+"), "slo": slo.name, "service": slo.service or ""}))
    non_finite = q.count(recorded) - q.count(q.finite(recorded))
    checks = [{"expr": non_finite.render(), "eval_time": at, "exp_samples": [{"labels": "{}", "value": 0}]}]
    if no_data:
        for window in slo.windows():
            ratio = q.selector(naming.error_ratio(window), slo=slo.name, service=slo.service or "")
            checks.append({"expr": ratio.render(), "eval_time": at, "exp_samples": []})
    return checks


# ---------------------------------------------------------------- threshold alerts


@dataclass
class AlertCase:
    name: str
    series: InputSeries
    values: list[tuple[dict[str, str], list[float | None]]]  # per output series: labels, value per step
    check: int
    intent: Intent
    pending: bool = False  # the condition holds at `check`, but not yet for `for`


def alert_tests(system: System, alert: Alert) -> list[dict[str, Any]]:
    assert alert.condition is not None
    rule = rules.threshold_alert(system, alert)
    for_steps = math.ceil(alert.for_.seconds / 60 / FAST) if alert.for_ else 0
    out = []
    for case in condition_cases(system, alert.condition, for_steps):
        expected = []
        for labels, values in case.values:
            if _holds_for(alert.condition, values, case.check, for_steps):
                value = values[case.check]
                assert value is not None
                expected.append({"exp_labels": {**labels, **rule["labels"]}, "exp_annotations": _annotations(alert, value, labels)})
        if bool(expected) != (case.intent == "fires"):
            raise ScenarioError(f"alert {alert.name!r}, scenario {case.name!r}: the oracle says it {'does not fire' if case.intent == 'fires' else 'fires'}")
        if case.pending and not any(_compare(alert.condition, values[case.check]) for _, values in case.values):
            raise ScenarioError(f"alert {alert.name!r}, scenario {case.name!r}: the condition does not even hold at the check")
        out.append({
            "name": f"{alert.name}: {case.name}",
            "interval": f"{FAST}m",
            "input_series": _input(case.series),
            "alert_rule_test": [{"eval_time": _at(case.check, FAST), "alertname": alert.name, "exp_alerts": expected}],
        })
    return out


def _annotations(alert: Alert, value: float, labels: dict[str, str]) -> dict[str, str]:
    try:
        texts = {"summary": render(source(alert.summary), value, labels), "description": render(source(alert.description), value, labels)}
    except UnsupportedTemplate as exc:
        raise ScenarioError(f"alert {alert.name!r}: {exc}") from None
    if alert.runbook_url:
        texts["runbook_url"] = alert.runbook_url
    return texts


def _compare(condition: Condition, value: float | None) -> bool:
    if value is None or math.isnan(value):
        return False
    if isinstance(condition, GaugeCompare):
        op, threshold = condition.op, float(condition.value)
    else:
        op, threshold = ">", float(condition.threshold)
    return {">": value > threshold, "<": value < threshold, ">=": value >= threshold, "<=": value <= threshold,
            "==": value == threshold, "!=": value != threshold}[op]


def _holds_for(condition: Condition, values: list[float | None], k: int, for_steps: int) -> bool:
    return k - for_steps >= 0 and all(_compare(condition, values[j]) for j in range(k - for_steps, k + 1))


def condition_cases(system: System, c: Condition, for_steps: int) -> list[AlertCase]:
    if isinstance(c, RatioAbove):
        return _ratio_cases(system, c, for_steps)
    if isinstance(c, QuantileAbove):
        return _quantile_cases(system, c, for_steps)
    if isinstance(c, GaugeRatioAbove):
        return _gauge_ratio_cases(system, c, for_steps)
    if isinstance(c, IncreaseAbove):
        return _increase_cases(system, c, for_steps)
    return _gauge_compare_cases(system, c, for_steps)


def _labels(system: System, selector: q.Selector, extra: dict[str, str] | None = None) -> dict[str, str]:
    """Values for the selector's matchers and every other label the catalog declares."""
    labels = satisfy(selector.matchers)
    metric = system.catalog.get(selector.metric)
    for label in metric.labels if metric else ():
        labels.setdefault(label, f"{label}-1")
    return {**labels, **(extra or {})}


def _window_sums(flow: Traffic, k: int, n: int) -> tuple[int, int]:
    first = max(1, k - n + 1)
    return sum(flow.bads[first - 1: k]), sum(flow.totals[first - 1: k])


def _spikes(threshold: Fraction, n: int, for_steps: int) -> Traffic:
    """Two bursts n-1 steps apart on clean traffic: one window of n steps holds both (over the
    threshold at one evaluation only), every other window holds at most one (under it)."""
    burst = Phase(1, REQUESTS_PER_STEP * spike_share(threshold, n), Fraction(1))
    return traffic(FAST, steady(n, Fraction(0)), burst, steady(n - 2, Fraction(0)), burst, steady(for_steps + 2, Fraction(0)))


def _ratio_cases(system: System, c: RatioAbove, for_steps: int) -> list[AlertCase]:
    theta = Fraction(c.threshold)
    n = _n(c.window.seconds, FAST)
    length = n + for_steps + 2
    flows: list[tuple[str, Traffic, int, Intent, bool]] = [
        ("fires just above the threshold", traffic(FAST, steady(length, theta * 3 / 2)), length, "fires", False),
        ("stays silent just under it", traffic(FAST, steady(length, theta * 9 / 10)), length, "silent", False),
    ]
    if for_steps >= 1:
        flows.append((f"stays silent when over it for less than {for_steps} min", _spikes(theta, n, for_steps), 2 * n, "silent", True))
    cases = []
    for name, flow, check, intent, pending in flows:
        good = [t - b for t, b in zip(flow.totals, flow.bads)]
        series = event_series(c.total, c.bad, flow.bads, good, frozenset())
        values: list[float | None] = [None, *(condition_value_ratio(c, *_window_sums(flow, k, n), c.window.seconds) for k in range(1, flow.steps + 1))]
        cases.append(AlertCase(name, series, [({}, values)], check, intent, pending))
    return cases


def _quantile_cases(system: System, c: QuantileAbove, for_steps: int) -> list[AlertCase]:
    metric = system.catalog[c.histogram.metric]
    bounds = list(metric.buckets)
    if c.threshold not in bounds:
        raise ScenarioError(f"histogram {metric.name!r}: the quantile threshold {c.threshold} must be one of its buckets to be tested")
    index = bounds.index(c.threshold)
    tail = 1 - Fraction(c.quantile)
    n = _n(c.window.seconds, FAST)
    length = n + for_steps + 2
    # Slow requests (twice the tail) land just above the threshold, or just under it.
    cases: list[tuple[str, Traffic, Decimal, int, Intent, bool]] = [
        ("fires just above the threshold", traffic(FAST, steady(length, tail * 2)), c.threshold, length, "fires", False),
    ]
    if index > 0:
        cases.append(("stays silent just under it", traffic(FAST, steady(length, tail * 2)), bounds[index - 1], length, "silent", False))
    if for_steps >= 1:
        cases.append((f"stays silent when over it for less than {for_steps} min", _spikes(tail, n, for_steps), c.threshold, 2 * n, "silent", True))
    out = []
    for name, flow, slow_above, check, intent, pending in cases:
        values: list[float | None] = [None]
        for k in range(1, flow.steps + 1):
            bad, total = _window_sums(flow, k, n)
            per_bound = [(float(b), (total - bad + (bad if b > slow_above else 0)) / c.window.seconds) for b in bounds]
            values.append(quantile(float(c.quantile), per_bound + [(math.inf, total / c.window.seconds)]))
        out.append(AlertCase(name, histogram_series(c.histogram, bounds, slow_above, flow), [({}, values)], check, intent, pending))
    return out


def _gauge_ratio_cases(system: System, c: GaugeRatioAbove, for_steps: int) -> list[AlertCase]:
    limit = 200
    theta = Fraction(c.threshold)
    above = math.ceil(theta * limit * 9 / 8)
    under = math.floor(theta * limit) - 1
    group = {label: f"{label}-1" for label in c.by}
    length = for_steps + 3
    levels: list[tuple[str, list[int], int, Intent, bool]] = [
        ("fires just above the threshold", [above] * (length + 1), length, "fires", False),
        ("stays silent just under it", [under] * (length + 1), length, "silent", False),
    ]
    if for_steps >= 1:
        levels.append((f"stays silent when over it for less than {for_steps} min", [under] * 2 + [above] * for_steps + [under] * 2, 1 + for_steps, "silent", True))
    out = []
    for name, used, check, intent, pending in levels:
        series = [
            (series_text(c.numerator.metric, _labels(system, c.numerator, group)), values_text([float(v) for v in used])),
            (series_text(c.denominator.metric, _labels(system, c.denominator, group)), values_text([float(limit)] * len(used))),
        ]
        values: list[float | None] = [v / limit for v in map(float, used)]
        out.append(AlertCase(name, series, [(group, values)], check, intent, pending))
    return out


def _increase_cases(system: System, c: IncreaseAbove, for_steps: int) -> list[AlertCase]:
    labels = _labels(system, c.counter)
    jump = math.floor(c.threshold) + 1
    flat = math.floor(c.threshold) if c.threshold >= 1 else 0
    n = _n(c.window.seconds, FAST)
    length = 2 + for_steps + 2
    cases: list[tuple[str, int, int, Intent, bool]] = [
        ("fires just above the threshold", jump, length, "fires", False),
        ("stays silent at the threshold", flat, length, "silent", False),
    ]
    if for_steps >= 1:
        cases.append((f"stays silent when over it for less than {for_steps} min", jump, 1 + for_steps, "silent", True))
    out = []
    for name, size, check, intent, pending in cases:
        increments = [0, size] + [0] * (length - 2)
        counter = [0.0]
        for inc in increments:
            counter.append(counter[-1] + inc)
        values: list[float | None] = [None] + [float(sum(increments[max(0, k - n): k])) for k in range(1, length + 1)]
        series = [(series_text(c.counter.metric, labels), values_text(counter))]
        out.append(AlertCase(name, series, [(labels, values)], check, intent, pending))
    return out


def _gauge_compare_cases(system: System, c: GaugeCompare, for_steps: int) -> list[AlertCase]:
    labels = _labels(system, c.gauge)
    v = float(c.value)
    hit, miss = {"==": (v, v + 1), "!=": (v + 1, v), ">": (v + 1, v), ">=": (v, v - 1), "<": (v - 1, v), "<=": (v, v + 1)}[c.op]
    length = for_steps + 3
    cases: list[tuple[str, list[float], int, Intent, bool]] = [
        ("fires when the condition holds", [hit] * (length + 1), length, "fires", False),
        ("stays silent when it does not", [miss] * (length + 1), length, "silent", False),
    ]
    if for_steps >= 1:
        cases.append((f"stays silent when it holds for less than {for_steps} min", [miss] * 2 + [hit] * for_steps + [miss] * 2, 1 + for_steps, "silent", True))
    return [
        AlertCase(name, [(series_text(c.gauge.metric, labels), values_text(used))], [(labels, list[float | None](used))], check, intent, pending)
        for name, used, check, intent, pending in cases
    ]
