"""Prometheus recording and alerting rules: SLO burn-rate machinery, KPIs, threshold alerts.

Per SLO three groups:
  <slo>-events   at the base interval: bad and total events over the last 5m (one series each);
  <slo>-buckets  every 5m: those summed over 5m, so that windows of a day or more read a tenth
                 of the samples while every minute keeps the same weight;
  <slo>          error ratios per window (short windows straight from the counters, long ones from
                 the buckets), burn rates, SLI and budget over the period, and the tier alerts.
Every ratio has its denominator guarded (`> 0`): no traffic is no data, never NaN or Inf.
"""

from __future__ import annotations

import functools
from decimal import Decimal
from typing import Any

from .. import naming, parallel
from .. import promql as q
from ..durations import Duration
from ..model import SLO, System
from ..model.alerts import Alert
from ..model.slo import BurnRateTier, RawIndicator
from ..output import HEADER, Output, to_yaml
from ..promql import Expr, Selector
from ..templates import go_string, literal, source

Rule = dict[str, Any]
Group = dict[str, Any]
RULES_DIR = "prometheus/rules"


KPI_RULES_FILE = "kpis.rules.yml"
ALERT_RULES_FILE = "alerts.rules.yml"


def slo_rules_file(slo: SLO) -> str:
    return f"slo-{slo.name}.rules.yml"


def rule_files(system: System) -> dict[str, list[Group]]:
    """Rule file name (under prometheus/rules/) -> its groups, as data."""
    files: dict[str, list[Group]] = {}
    for slo in system.slos:
        files[slo_rules_file(slo)] = slo_groups(system, slo)
    if system.kpis:
        files[KPI_RULES_FILE] = [kpi_group(system)]
    if system.alerts:
        files[ALERT_RULES_FILE] = [alert_group(system)]
    return files


def rule_file_names(system: System) -> list[str]:
    """The names rule_files gives, in its order, without building the rules (prometheus.yml lists them)."""
    return [slo_rules_file(s) for s in system.slos] + [KPI_RULES_FILE] * bool(system.kpis) + [ALERT_RULES_FILE] * bool(system.alerts)


_rendered: tuple[System, dict[str, tuple[bytes, ...]]] | None = None  # the last system's group_texts


def group_texts(system: System) -> dict[str, tuple[bytes, ...]]:
    """Rule file name -> each group as block YAML (`- name: ...`), in rule_files' order, for every
    target that embeds the groups (rule files, PrometheusRule objects, the Mimir namespace), so
    rendered once per system (kept for the same object: hashing a big System costs a lookup
    more than it saves). Each SLO's data is dropped once written; thousands of SLOs are spread
    over the cores."""
    global _rendered
    if _rendered is None or _rendered[0] is not system:
        _rendered = (system, _render_groups(system))
    return _rendered[1]


def forget_group_texts() -> None:
    global _rendered
    _rendered = None


def _render_groups(system: System) -> dict[str, tuple[bytes, ...]]:
    slos = system.slos
    texts = dict(zip(map(slo_rules_file, slos), parallel.map_indices(lambda i: _texts(slo_groups(system, slos[i])), len(slos))))
    if system.kpis:
        texts[KPI_RULES_FILE] = _texts([kpi_group(system)])
    if system.alerts:
        texts[ALERT_RULES_FILE] = _texts([alert_group(system)])
    return texts


def _texts(groups: list[Group]) -> tuple[bytes, ...]:
    # A group ending in a `|+` block gets PyYAML's end-of-document marker; between groups that
    # marker would end the document early (and it is not what the whole list writes).
    return tuple(to_yaml([g], header=False).removesuffix(b"...\n") for g in groups)


def file_services(system: System) -> dict[str, str | None]:
    """Rule file name -> the `service` label every rule in it carries (None when they differ)."""
    services: dict[str, str | None] = {slo_rules_file(s): identity(system, s)["service"] for s in system.slos}
    if system.kpis:
        services[KPI_RULES_FILE] = system.service  # kpi_group labels every record with it
    if system.alerts:
        found = {a.service or system.service for a in system.alerts}  # `service` is reserved: no label overrides it
        services[ALERT_RULES_FILE] = found.pop() if len(found) == 1 else None
    return services


def groups_yaml(texts: tuple[bytes, ...] | list[bytes]) -> bytes:
    """`groups:` and its items, as `to_yaml({"groups": [...]})` writes them (block YAML is additive)."""
    return b"groups:\n" + b"".join(texts) if texts else b"groups: []\n"


def compile(system: System) -> Output:
    return {f"{RULES_DIR}/{name}": HEADER.encode() + groups_yaml(texts) for name, texts in group_texts(system).items()}


# ---------------------------------------------------------------- SLOs


def identity(system: System, slo: SLO) -> dict[str, str]:
    labels = {"slo": slo.name, "service": slo.service or system.service}
    if slo.team:
        labels["team"] = slo.team
    return labels


def _own(name: str, slo: SLO) -> Selector:
    """A series this SLO's rules record (`slo` names it; `service` keeps systems apart)."""
    return _own_series(name, slo.name, slo.service or "")


@functools.lru_cache(maxsize=64)  # the same few selectors in every rule of one SLO (rendered once)
def _own_series(name: str, slo: str, service: str) -> Selector:
    return q.selector(name, slo=slo, service=service)


def _record(name: str, expr: Expr, labels: dict[str, str]) -> Rule:
    return {"record": name, "expr": expr.render(), "labels": dict(labels)}


def slo_groups(system: System, slo: SLO) -> list[Group]:
    labels = identity(system, slo)
    fine = naming.FINE_WINDOW
    events = {
        "name": f"slo-{slo.name}-events",
        "rules": [
            _record(naming.BAD_FINE, slo.indicator.bad_events(fine), labels),
            _record(naming.TOTAL_FINE, slo.indicator.total_events(fine), labels),
        ],
    }
    buckets = {
        "name": f"slo-{slo.name}-buckets",
        "interval": str(fine),
        "rules": [
            _record(naming.BAD_BUCKET, q.sum_over_time(_own(naming.BAD_FINE, slo).over(fine)), labels),
            _record(naming.TOTAL_BUCKET, q.sum_over_time(_own(naming.TOTAL_FINE, slo).over(fine)), labels),
        ],
    }
    rules: list[Rule] = [_record(naming.error_ratio(w), error_ratio_expr(slo, w), labels) for w in slo.windows()]
    budget = q.Number(slo.error_budget)
    rules += [_record(naming.burn_rate(w), _own(naming.error_ratio(w), slo) / budget, labels) for w in slo.windows()]
    period_ratio = _own(naming.error_ratio(slo.period), slo)
    rules += [
        _record(naming.SLI_PERIOD, 1 - period_ratio, labels),
        _record(naming.BUDGET_REMAINING, 1 - period_ratio / budget, labels),
        _record(naming.OBJECTIVE, q.vector(slo.objective_ratio), labels),
        _record(naming.INFO, q.vector(1), {**labels, **info_labels(slo)}),
    ]
    rules += [burn_rate_alert(system, slo, t) for t in slo.tiers]
    return [events, buckets, {"name": f"slo-{slo.name}", "rules": rules}]


def info_labels(slo: SLO) -> dict[str, str]:
    return {
        "objective": q.format_number(slo.objective),
        "period": str(slo.period),
        "indicator": type(slo.indicator).__name__.removesuffix("Indicator").lower(),
        "description": slo.description,
    }


def error_ratio_expr(slo: SLO, window: Duration) -> Expr:
    """Bad events / total events over `window`, event-weighted, no data when there was no traffic."""
    if window == naming.FINE_WINDOW:
        return q.ratio(_own(naming.BAD_FINE, slo), _own(naming.TOTAL_FINE, slo))
    if window >= naming.LONG_WINDOW:
        bad, total = naming.BAD_BUCKET, naming.TOTAL_BUCKET
    elif isinstance(slo.indicator, RawIndicator):
        bad, total = naming.BAD_FINE, naming.TOTAL_FINE  # raw PromQL counts over 5m only: sum those
    else:
        # Short windows straight from the counters: exact, and an outage shows at once.
        return q.ratio(slo.indicator.bad_events(window), slo.indicator.total_events(window))
    return q.ratio(q.sum_over_time(_own(bad, slo).over(window)), q.sum_over_time(_own(total, slo).over(window)))


def burn_rate_alert(system: System, slo: SLO, tier: BurnRateTier) -> Rule:
    factor = tier.burn_factor(slo.period)
    long_burn = _own(naming.burn_rate(tier.long_window), slo).gt(q.Number(factor))
    short_burn = _own(naming.burn_rate(tier.short_window), slo).gt(q.Number(factor))
    expr: Expr = long_burn.and_(short_burn)
    if slo.min_events is not None:
        # Events in the long window, from the 5m counts: their mean times the 5m periods it holds.
        periods = tier.long_window.seconds // naming.FINE_WINDOW.seconds
        seen = q.avg_over_time(_own(naming.TOTAL_FINE, slo).over(tier.long_window)) * periods
        expr = expr.and_(seen.ge(slo.min_events))
    rule: Rule = {"alert": burn_alert_name(slo), "expr": expr.render()}
    if tier.for_ is not None:
        rule["for"] = str(tier.for_)
    rule["labels"] = {**identity(system, slo), **tier_labels(tier)}
    rule["annotations"] = burn_annotations(slo, tier, factor)
    return rule


def burn_alert_name(slo: SLO) -> str:
    return f"{naming.camel(slo.name)}BudgetBurn"


def tier_labels(tier: BurnRateTier) -> dict[str, str]:
    return {
        "severity": tier.severity,
        "priority": tier.priority,
        "burn_tier": tier.name,
        "long_window": str(tier.long_window),
        "short_window": str(tier.short_window),
    }


def budget_remaining_query(slo: SLO) -> Expr:
    """What the alert text reports as budget left: 0 once overspent."""
    return q.clamp_min(_own(naming.BUDGET_REMAINING, slo), 0)


BUDGET_LEFT = None  # the slot in annotation text where the remaining budget is queried at alert time
TextParts = tuple[str | None, ...]


def burn_annotation_parts(slo: SLO, tier: BurnRateTier, factor: Decimal) -> dict[str, TextParts]:
    """The burn alert's annotations as plain text with one dynamic slot (BUDGET_LEFT).

    Rendered to template source here, and to the exact expected text by the promtool suites."""
    rate = q.format_number(factor)
    lasts = human_duration(Duration(int(slo.period.seconds / factor)))
    parts: dict[str, TextParts] = {
        "summary": (f"{slo.name}: error budget burning over {rate}x the sustainable rate ({tier.long_window} and {tier.short_window} windows)",),
        "description": (
            f"{slo.description}. Objective {q.format_number(slo.objective)}% over {slo.period}. "
            f"Both the last {tier.long_window} and the last {tier.short_window} spent the error budget more than "
            f"{rate} times faster than the objective allows; at that pace the whole {slo.period} budget lasts {lasts}. "
            "Error budget left: ",
            BUDGET_LEFT,
            ".",
        ),
    }
    if slo.runbook_url:
        parts["runbook_url"] = (slo.runbook_url,)
    if slo.dashboard_url:
        parts["dashboard_url"] = (slo.dashboard_url,)
    return parts


def burn_annotations(slo: SLO, tier: BurnRateTier, factor: Decimal) -> dict[str, str]:
    budget_left = (
        "{{ with query " + go_string(budget_remaining_query(slo).render()) + " }}"
        "{{ . | first | value | humanizePercentage }}{{ else }}unknown{{ end }}"
    )
    return {
        key: "".join(budget_left if part is BUDGET_LEFT else literal(part) for part in parts)
        for key, parts in burn_annotation_parts(slo, tier, factor).items()
    }


def human_duration(d: Duration) -> str:
    days, rest = divmod(d.seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = [f"{n} {unit}{'s' if n != 1 else ''}" for n, unit in ((days, "day"), (hours, "hour"), (minutes, "minute")) if n]
    return " ".join(parts[:2]) or "under a minute"


# ---------------------------------------------------------------- KPIs and threshold alerts


def kpi_group(system: System) -> Group:
    rules = [
        _record(kpi.series, q.finite(kpi.query), {"kpi": kpi.name, "service": system.service})
        for kpi in system.kpis
    ]
    return {"name": f"{system.name}-kpis", "rules": rules}


def alert_group(system: System) -> Group:
    return {"name": f"{system.name}-alerts", "rules": [threshold_alert(system, a) for a in system.alerts]}


def threshold_alert(system: System, alert: Alert) -> Rule:
    rule: Rule = {"alert": alert.name, "expr": alert.promql.render()}
    if alert.for_ is not None:
        rule["for"] = str(alert.for_)
    labels = {"service": alert.service or system.service, "severity": alert.severity, "priority": alert.priority}
    if alert.team:
        labels["team"] = alert.team
    labels.update(dict(alert.labels))
    rule["labels"] = labels
    annotations = {"summary": source(alert.summary), "description": source(alert.description)}
    if alert.runbook_url:
        annotations["runbook_url"] = literal(alert.runbook_url)
    rule["annotations"] = annotations
    return rule
