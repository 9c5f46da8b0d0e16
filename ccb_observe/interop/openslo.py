"""OpenSLO: import v1 (SLO, SLI, AlertPolicy, AlertCondition, with ratio and threshold metrics of
Prometheus sources) and v1alpha (the form Sloth reads); export our SLOs as OpenSLO v1.

OpenSLO's Prometheus queries carry no window: a ratio metric with `counter: true` names counters
(`sum(selector)`), which the model counts with increase() over each window; a threshold metric is
a value compared with the objective, each sample one event."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

from .. import promql as q
from ..durations import Duration
from ..errors import DefinitionError
from ..model import SLO, AvailabilityIndicator, LatencyIndicator, RatioIndicator, RawIndicator, System, tier
from ..model.slo import BurnRateTier, Indicator
from ..naming import FINE_WINDOW
from ..output import HEADER
from .documents import Node, load_documents
from .emit import Imported
from .queries import CatalogBuilder, at_base_window, bucket_latency, checked, good_total_indicator, summed_counter
from .spec import Found, finish, model_slo, objective_percent, slo_name, slug

COMMAND = "ccb-observe import openslo"
METADATA = {"name", "displayName", "labels", "annotations"}
KINDS = {"Service", "DataSource", "SLI", "SLO", "AlertPolicy", "AlertCondition", "AlertNotificationTarget"}
# Threshold and plain-value SLIs sample their query once a minute inside each 5m window.
THRESHOLD_STEP = Duration(60)
# OpenSLO `op` of a threshold objective: good when `value op target`; bad is the opposite.
BAD_WHEN = {"lt": "ge", "lte": "gt", "gt": "le", "gte": "lt"}


# ---------------------------------------------------------------- v1alpha (as Sloth reads it)


def read_v1alpha(doc: Node, found: Found, catalog: CatalogBuilder) -> None:
    doc.mapping({"apiVersion", "kind", "metadata", "spec"})
    name = slo_name(doc.require("metadata").mapping(METADATA).require("name"))
    spec = doc.require("spec").mapping({"service", "description", "budgetingMethod", "objectives", "timeWindows", "indicator"})
    found.add_service(spec, spec.text("service"), "")
    found.specs.append("openslo/v1alpha")
    _occurrences(spec)
    period = _v1alpha_period(spec.require("timeWindows"))
    objectives = list(spec.require("objectives").items())
    for index, objective in enumerate(objectives):
        objective.mapping({"ratioMetrics", "target", "displayName", "value", "op", "timeSliceTarget"})
        if not objective.has("ratioMetrics"):
            raise objective.fail("unsupported SLI kind: Sloth reads ratioMetrics (good/total) only")
        ratio = objective.get("ratioMetrics").mapping({"good", "total", "incremental"})
        good, total = (_v1alpha_query(ratio.require(side)) for side in ("good", "total"))
        catalog.read(good)
        catalog.read(total)
        this = name if len(objectives) == 1 else f"{name}-{index}"
        description = spec.text("description", "") or f"Imported from OpenSLO SLO {this}"
        slo = model_slo(objective, this, objective_percent(objective.require("target"), Decimal(100)),
                        good_total_indicator(good, total), description, period, ())
        found.slos.append(slo)
        found.notes[slo.name] = ("No alerting in an openslo/v1alpha spec (Sloth generates none either): tiers=DEFAULT_TIERS to alert.",)


def _v1alpha_query(node: Node) -> str:
    node.mapping({"source", "queryType", "query", "metadata"})
    if node.text("source", "prometheus").lower() != "prometheus" or node.text("queryType", "promql").lower() != "promql":
        raise node.fail("unsupported metric source: only prometheus/promql queries")
    return at_base_window(node.require("query"))


def _v1alpha_period(windows: Node) -> str:
    window = _only_window(windows)
    window.mapping({"count", "unit", "isRolling", "calendar"})
    unit = window.text("unit").lower()
    days = {"day": 1, "week": 7}.get(unit)
    count = window.require("count").value
    if days is None or not isinstance(count, int) or count <= 0:
        raise window.fail(f"unsupported time window {count!r} {unit}: give a count of days or weeks")
    return f"{count * days}d"


def _only_window(windows: Node) -> Node:
    found = list(windows.items())
    if len(found) != 1:
        raise windows.fail(f"give exactly one time window (got {len(found)})")
    return found[0]


def _occurrences(spec: Node) -> None:
    method = spec.text("budgetingMethod", "Occurrences")
    if method != "Occurrences":
        raise spec.get("budgetingMethod").fail(f"unsupported budgeting method {method!r}: only Occurrences (events) is modelled")


# ---------------------------------------------------------------- v1


def import_file(path: Path) -> Imported:
    docs = load_documents(path)
    found, catalog = Found(), CatalogBuilder()
    if all(isinstance(d.value, dict) and d.value.get("apiVersion") == "openslo/v1alpha" for d in docs):
        for doc in docs:
            read_v1alpha(doc, found, catalog)
        return finish(path, found, catalog, "OpenSLO", COMMAND)
    named: dict[tuple[str, str], Node] = {}
    for doc in docs:
        doc.mapping({"apiVersion", "kind", "metadata", "spec"})
        if doc.text("apiVersion") != "openslo/v1":
            raise doc.get("apiVersion").fail("expected openslo/v1 (or files all of openslo/v1alpha)")
        kind = doc.text("kind")
        if kind not in KINDS:
            raise doc.get("kind").fail(f"unknown kind (known: {', '.join(sorted(KINDS))})")
        name = doc.require("metadata").mapping(METADATA).text("name")
        if (kind, name) in named:
            raise doc.get("metadata").fail(f"a second {kind} named {name!r} (the first is document {named[(kind, name)].doc})")
        named[(kind, name)] = doc
    for (kind, _), doc in named.items():
        if kind == "SLO":
            _v1_slo(doc, named, found, catalog)
    return finish(path, found, catalog, "OpenSLO", COMMAND)


def _ref(node: Node, key: str, kind: str, named: dict[tuple[str, str], Node]) -> Node:
    name = node.text(key)
    if (kind, name) not in named:
        raise node.get(key).fail(f"no {kind} named {name!r} in this file")
    return named[(kind, name)]


def _v1_slo(doc: Node, named: dict[tuple[str, str], Node], found: Found, catalog: CatalogBuilder) -> None:
    metadata = doc.get("metadata")
    name = slo_name(metadata.require("name"))
    labels = metadata.labels("labels")
    spec = doc.require("spec").mapping({"description", "service", "indicator", "indicatorRef", "timeWindow",
                                        "budgetingMethod", "objectives", "alertPolicies"})
    found.add_service(spec, spec.text("service"), labels.get("team", ""))
    found.specs.append("openslo/v1")
    _occurrences(spec)
    notes: list[str] = []
    period = _v1_period(spec.require("timeWindow"), notes)
    if spec.has("indicator"):
        sli = spec.get("indicator").mapping({"metadata", "spec"}).require("spec")
    elif spec.has("indicatorRef"):
        sli = _ref(spec, "indicatorRef", "SLI", named).require("spec")
    else:
        raise spec.get("indicator").fail("is required (or indicatorRef)")
    tiers = _v1_tiers(name, spec, named, notes)
    objectives = list(spec.require("objectives").items())
    for index, objective in enumerate(objectives):
        objective.mapping({"displayName", "op", "value", "target", "targetPercent", "timeSliceTarget",
                           "timeSliceWindow", "indicator", "indicatorRef", "compositeWeight"})
        for composite in ("indicator", "indicatorRef", "compositeWeight"):
            if objective.has(composite):
                raise objective.get(composite).fail("unsupported: composite SLOs (an indicator per objective); give one SLO per indicator")
        if objective.has("targetPercent"):
            percent = objective_percent(objective.get("targetPercent"))
        else:
            percent = objective_percent(objective.require("target"), Decimal(100))
        indicator = _v1_indicator(sli, objective, catalog, named)
        this = name if len(objectives) == 1 else f"{name}-{slug(objective.text('displayName', str(index)))}"
        description = spec.text("description", "") or f"Imported from OpenSLO SLO {this}"
        slo = model_slo(objective, this, percent, indicator, description, period, tiers, labels.get("team"))
        found.slos.append(slo)
        found.notes[slo.name] = tuple(notes)


def _v1_period(windows: Node, notes: list[str]) -> str:
    window = _only_window(windows)
    window.mapping({"duration", "isRolling", "calendar"})
    duration = window.text("duration")
    if duration == "1M":
        notes.append("OpenSLO calendar month (1M) kept as a rolling 30d period: the model's periods roll.")
        return "30d"
    try:
        period = Duration.parse(duration)
    except ValueError as exc:
        raise window.get("duration").fail(f"unsupported duration: {exc}") from None
    if window.get("isRolling", True).value is False:
        notes.append(f"OpenSLO calendar window of {duration} kept as a rolling period.")
    return str(period)


def _metric_query(node: Node, named: dict[tuple[str, str], Node]) -> str:
    source = node.mapping({"metricSource"}).require("metricSource").mapping({"metricSourceRef", "type", "spec"})
    kind = source.text("type", "")
    if not kind and source.has("metricSourceRef"):
        kind = _ref(source, "metricSourceRef", "DataSource", named).require("spec").text("type")
    if kind.lower() != "prometheus":
        raise source.get("type").fail(f"unsupported metric source {kind!r}: only Prometheus")
    return checked(source.get("spec"), source.require("spec").mapping({"query"}).text("query"))


def _v1_indicator(sli: Node, objective: Node, catalog: CatalogBuilder, named: dict[tuple[str, str], Node]) -> Indicator:
    sli.mapping({"description", "thresholdMetric", "ratioMetric"})
    if sli.has("ratioMetric"):
        ratio = sli.get("ratioMetric").mapping({"counter", "good", "bad", "total", "rawType", "raw"})
        if ratio.has("raw") or ratio.has("rawType"):
            raise ratio.get("raw").fail("unsupported SLI kind: raw ratio metrics (a precomputed ratio); use good or bad with total")
        sides = [s for s in ("good", "bad") if ratio.has(s)]
        if len(sides) != 1:
            raise ratio.fail("give exactly one of good or bad, with total")
        side = sides[0]
        texts = {key: _metric_query(ratio.require(key), named) for key in (side, "total")}
        for text in texts.values():
            catalog.read(text)
        counter = ratio.get("counter", False).value
        if counter is not True:
            # Plain values (not counters): every sample adds its value to the window's events.
            bad = q.raw(texts["bad"]) if side == "bad" else q.raw(texts["total"]) - q.raw(texts["good"])
            return RawIndicator(_sampled(q.sum_over_time, bad), _sampled(q.sum_over_time, q.raw(texts["total"])))
        selectors = {}
        for key, text in texts.items():
            sel = summed_counter(text)
            if sel is None:
                raise ratio.get(key).fail("a counter query is `sum(selector)` or a selector, so the model can take increase() over windows")
            selectors[key] = sel
        latency = bucket_latency(selectors["good"], selectors["total"]) if side == "good" else None
        return latency or RatioIndicator(total=selectors["total"], **{side: selectors[side]})
    if sli.has("thresholdMetric"):
        text = _metric_query(sli.get("thresholdMetric"), named)
        catalog.read(text)
        op = objective.text("op")
        if op not in BAD_WHEN:
            raise objective.get("op").fail(f"op is one of {', '.join(BAD_WHEN)}")
        try:
            value = q.to_decimal(objective.text("value"))
        except ArithmeticError:
            raise objective.get("value").fail("value must be a number") from None
        return threshold_indicator(q.raw(text), BAD_WHEN[op], value)
    raise sli.fail("unsupported SLI kind: give a ratioMetric or a thresholdMetric")


def threshold_indicator(value: q.Expr, bad_op: str, threshold: Decimal) -> RawIndicator:
    """Each sample of `value` is an event, bad when it compares `bad_op` with `threshold`."""
    bad = getattr(value, bad_op)(threshold)
    return RawIndicator(_sampled(q.count_over_time, bad), _sampled(q.count_over_time, value))


def _sampled(over_time: Callable[[q.Subquery], q.Call], expr: q.Expr) -> q.Expr:
    """`over_time` of `expr` sampled every THRESHOLD_STEP across the base window, summed to one series."""
    return q.or_zero(q.sum_(over_time(q.Subquery(expr, FINE_WINDOW, THRESHOLD_STEP))))


def _v1_tiers(slo: str, spec: Node, named: dict[tuple[str, str], Node], notes: list[str]) -> tuple[BurnRateTier, ...]:
    tiers = []
    for item in spec.get("alertPolicies", []).items():
        policy = _ref(item, "alertPolicyRef", "AlertPolicy", named) if item.has("alertPolicyRef") else item.mapping({"kind", "metadata", "spec"})
        policy_spec = policy.require("spec").mapping({"description", "alertWhenNoData", "alertWhenResolved",
                                                      "alertWhenBreaching", "conditions", "notificationTargets"})
        if policy_spec.has("notificationTargets"):
            notes.append("OpenSLO notification targets are routing: declare them in the Alertmanager routes.")
        for entry in policy_spec.require("conditions").items():
            condition = (_ref(entry, "conditionRef", "AlertCondition", named) if entry.has("conditionRef")
                         else entry.mapping({"kind", "metadata", "spec"}))
            tiers.append(_tier(slo, condition))
    if not tiers:
        notes.append("No alert policy in the spec: no burn-rate alerts (tiers=DEFAULT_TIERS to alert).")
    return tuple(tiers)


def _tier(slo: str, condition: Node) -> BurnRateTier:
    metadata = condition.require("metadata").mapping(METADATA)
    name = metadata.text("name").removeprefix(f"{slo}-")
    spec = condition.require("spec").mapping({"description", "severity", "condition"})
    rule = spec.require("condition").mapping({"kind", "op", "threshold", "lookbackWindow", "alertAfter"})
    if rule.text("kind") != "burnrate":
        raise rule.get("kind").fail("unsupported alert condition: only burnrate")
    severity = {"page": "critical", "critical": "critical", "info": "info"}.get(spec.text("severity", "warning").lower(), "warning")
    priority = metadata.labels("labels").get("priority", "P1" if severity == "critical" else "P2")
    try:
        long_window = Duration.parse(rule.text("lookbackWindow"))
        # The Workbook pairs each long window with a short one a twelfth as long (1h/5m, 6h/30m, 1d/2h, 3d/6h).
        fine = FINE_WINDOW.seconds
        short_window = Duration(max(fine, long_window.seconds // 12 // fine * fine))
        alert_after = rule.text("alertAfter") if rule.has("alertAfter") else None
        return tier(slug(name), str(long_window), str(short_window), severity, priority,  # type: ignore[arg-type]
                    factor=rule.text("threshold"), for_=alert_after)
    except DefinitionError as exc:
        raise rule.fail(exc.rule) from None
    except ValueError as exc:
        raise rule.fail(str(exc)) from None


# ---------------------------------------------------------------- export


def export(system: System) -> bytes:
    """OpenSLO v1 documents for a system's SLOs: a Service, then each SLO with its SLI and alert
    policy inline (OpenSLO has no short window: the tiers' long windows are the lookback)."""
    import yaml

    docs: list[dict[str, Any]] = [{
        "apiVersion": "openslo/v1", "kind": "Service", "metadata": {"name": system.service},
        "spec": {"description": f"Exported by ccb-observe from system {system.name}"},
    }]
    docs += [_export_slo(system, slo) for slo in system.slos]
    text = yaml.safe_dump_all(docs, sort_keys=False, allow_unicode=True, width=10**6)
    return (HEADER + text).encode()


def _export_slo(system: System, slo: SLO) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": slo.name}
    if slo.team:
        metadata["labels"] = {"team": slo.team}
    spec: dict[str, Any] = {
        "description": slo.description,
        "service": slo.service or system.service,
        "indicator": {"metadata": {"name": f"{slo.name}-sli"}, "spec": {"ratioMetric": _ratio_metric(slo.indicator)}},
        "timeWindow": [{"duration": str(slo.period), "isRolling": True}],
        "budgetingMethod": "Occurrences",
        "objectives": [{"displayName": slo.name, "target": float(slo.objective_ratio)}],
    }
    if slo.tiers:
        spec["alertPolicies"] = [{
            "kind": "AlertPolicy",
            "metadata": {"name": f"{slo.name}-burn-rate"},
            "spec": {
                "description": f"Multi-window burn-rate alerts of {slo.name}",
                "alertWhenBreaching": True, "alertWhenResolved": False, "alertWhenNoData": False,
                "conditions": [_condition(slo, t) for t in slo.tiers],
            },
        }]
    return {"apiVersion": "openslo/v1", "kind": "SLO", "metadata": metadata, "spec": spec}


def _condition(slo: SLO, t: BurnRateTier) -> dict[str, Any]:
    condition: dict[str, Any] = {"kind": "burnrate", "op": "gt", "threshold": float(t.burn_factor(slo.period)),
                                 "lookbackWindow": str(t.long_window)}
    if t.for_ is not None:
        condition["alertAfter"] = str(t.for_)
    return {
        "kind": "AlertCondition",
        "metadata": {"name": f"{slo.name}-{t.name}", "labels": {"priority": t.priority}},
        "spec": {"description": f"burn rate over {t.long_window} (and {t.short_window})", "severity": t.severity, "condition": condition},
    }


def _source(expr: q.Expr) -> dict[str, Any]:
    return {"metricSource": {"type": "Prometheus", "spec": {"query": expr.render()}}}


def _ratio_metric(indicator: Indicator) -> dict[str, Any]:
    if isinstance(indicator, RatioIndicator):
        side = ("bad", indicator.bad) if indicator.bad is not None else ("good", indicator.good)
        return {"counter": True, side[0]: _source(q.sum_(side[1])), "total": _source(q.sum_(indicator.total))}  # type: ignore[arg-type]
    if isinstance(indicator, LatencyIndicator):
        bucket, count = indicator.selectors()
        return {"counter": True, "good": _source(q.sum_(bucket)), "total": _source(q.sum_(count))}
    if isinstance(indicator, AvailabilityIndicator):
        return {"counter": False, "good": _source(q.sum_(indicator.up)), "total": _source(q.count(indicator.up))}
    assert isinstance(indicator, RawIndicator)
    return {"counter": False, "bad": _source(indicator.bad_events_5m), "total": _source(indicator.total_events_5m)}
