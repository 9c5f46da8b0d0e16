"""Alertmanager: alertmanager.yml (routes, receivers, inhibit rules, time intervals), message
templates, and the routing table every generated alert must follow (routing-tests.yml).

The alerts routed are exactly those the rules compiler emits, with their labels. Routing is
simulated here the way Alertmanager does it (first matching child, on past it while `continue`,
else the node itself), so that a route no alert enters, or an alert that reaches only sinks, is a
DefinitionError at compile time; amtool then proves the simulation against the real config.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Mapping

from ..errors import DefinitionError, Location
from ..model import SLO, System
from ..model.routing import DEFAULT_GROUP_BY, Email, Integration, PagerDuty, Receiver, Route, Routing, Slack, TimeInterval, Webhook
from ..output import Output, to_yaml
from ..promql import Matcher, format_number, one_of, quote
from ..templates import go_string, literal
from . import rules

CONFIG = "alertmanager/alertmanager.yml"
ROUTING_TESTS = "alertmanager/routing-tests.yml"
ROUTING_SCRIPT = "alertmanager/routing-tests.sh"
TEMPLATES_DIR = "alertmanager/templates"


@dataclass(frozen=True)
class RoutedAlert:
    """One alert the rules emit (a burn-rate alert once per tier), and who it reaches."""

    name: str  # alertname, with the tier for burn-rate alerts: ErrorRateBudgetBurn/page-fast
    labels: tuple[tuple[str, str], ...]  # the rule's labels plus alertname
    receivers: tuple[str, ...]  # in Alertmanager's order, one per terminal route


def compile(system: System) -> Output:
    if system.routing is None:
        return {}
    table = routing_table(system)
    return {
        CONFIG: to_yaml(config(system, system.routing)),
        f"{TEMPLATES_DIR}/{system.name}.tmpl": message_templates(system).encode(),
        ROUTING_TESTS: to_yaml({"tests": [
            {"alert": a.name, "labels": dict(a.labels), "receivers": list(a.receivers)} for a in table
        ]}),
        ROUTING_SCRIPT: routing_script(table).encode(),
    }


# ---------------------------------------------------------------- the routing table


def generated_alerts(system: System) -> list[tuple[str, dict[str, str]]]:
    """(name, labels) of every alerting rule the rules compiler writes, in file order, from the
    helpers that label them: routing reads labels only, and rendering every rule's PromQL for them
    was most of this target's time (tests/test_alertmanager.py checks both agree)."""
    found = []
    for slo in system.slos:
        alertname = rules.burn_alert_name(slo)
        for tier in slo.tiers:
            found.append((f"{alertname}/{tier.name}", {"alertname": alertname, **rules.identity(system, slo), **rules.tier_labels(tier)}))
    for alert in system.alerts:
        found.append((alert.name, {"alertname": alert.name, **rules.threshold_alert(system, alert)["labels"]}))
    return found


def resolve(node: Route, labels: Mapping[str, str], path: tuple[int, ...] = ()) -> tuple[list[str], list[tuple[int, ...]]]:
    """The receivers an alert with `labels` reaches below `node` (which it has entered), and the
    paths of every route it entered."""
    receivers: list[str] = []
    entered = [path]
    for index, child in enumerate(node.routes):
        if not child.accepts(labels):
            continue
        below, seen = resolve(child, labels, (*path, index))
        receivers += below
        entered += seen
        if not child.continue_:
            break
    return (receivers or [node.receiver]), entered


def routing_table(system: System) -> list[RoutedAlert]:
    routing = system.routing
    assert routing is not None
    sinks = {r.name for r in routing.receivers if not r.notifies}
    entered: set[tuple[int, ...]] = set()
    # Routing reads only the labels some matcher names: alerts alike in those go the same way, so
    # each kind is resolved once (a walk per alert costs alerts x routes, quadratic in SLOs).
    read = sorted({m.label for _, node in routing.route.walk() for m in node.matchers})
    resolved: dict[tuple[str, ...], list[str]] = {}
    table = []
    for name, labels in generated_alerts(system):
        kind = tuple(labels.get(label, "") for label in read)
        if kind not in resolved:
            resolved[kind], seen = resolve(routing.route, labels)
            entered.update(seen)
        receivers = resolved[kind]
        if all(r in sinks for r in receivers):
            raise DefinitionError(
                _alert_location(system, labels["alertname"]), f"alert {name}",
                f"its labels {_label_text(labels)} reach only {', '.join(sorted(set(receivers)))}, which notifies nobody "
                f"(routing at {routing.defined_at}): add a route to a receiver with an integration",
            )
        table.append(RoutedAlert(name, tuple(sorted(labels.items())), tuple(receivers)))
    for path, node in routing.route.walk():
        if path not in entered:
            raise DefinitionError(
                node.defined_at, f"route {_matchers_text(node)} to {node.receiver!r}",
                "no alert of the system can reach it (an earlier sibling takes them, or none has these labels)",
            )
    return table


def routing_script(table: list[RoutedAlert]) -> str:
    """The routing table as a POSIX shell script, for CI jobs without Python: `AMTOOL=… ./routing-tests.sh`."""
    lines = [
        "#!/bin/sh",
        "# Generated by ccb_observe from definitions/. Do not edit: change the definitions and run `make generate`.",
        "# Every alert the rules emit, routed by amtool: it must reach exactly these receivers, in this order.",
        "set -u",
        'cd "$(dirname "$0")"',
        'AMTOOL="${AMTOOL:-amtool}"',
        "failed=0",
        "route() {",
        '  name=$1; expected=$2; shift 2',
        '  if ! "$AMTOOL" config routes test --config.file=alertmanager.yml --verify.receivers="$expected" "$@" >/dev/null 2>&1; then',
        '    echo "FAIL $name: expected $expected, got $("$AMTOOL" config routes test --config.file=alertmanager.yml "$@" 2>/dev/null)"',
        "    failed=1",
        "  fi",
        "}",
    ]
    argument: dict[tuple[str, str], str] = {}  # most label pairs recur on every alert of a tier or team
    for a in table:
        for pair in a.labels:
            if pair not in argument:
                argument[pair] = _matcher_argument(*pair)
        matchers = " ".join(argument[pair] for pair in a.labels)
        lines.append(f"route {shlex.quote(a.name)} {shlex.quote(','.join(a.receivers))} {matchers}")
    lines += [f'[ "$failed" = 0 ] && echo "{len(table)} alerts routed as declared"', 'exit "$failed"', ""]
    return "\n".join(lines)


def _matcher_argument(label: str, value: str) -> str:
    return shlex.quote(f"{label}={quote(value)}")


def _alert_location(system: System, alertname: str) -> Location:
    for alert in system.alerts:
        if alert.name == alertname:
            return alert.defined_at
    for slo in system.slos:
        if rules.burn_alert_name(slo) == alertname:
            return slo.defined_at
    return system.defined_at


def _label_text(labels: Mapping[str, str]) -> str:
    return "{" + ", ".join(f"{k}={quote(v)}" for k, v in sorted(labels.items())) + "}"


def _matchers_text(node: Route) -> str:
    return "{" + ", ".join(m.render() for m in node.matchers) + "}"


# ---------------------------------------------------------------- alertmanager.yml


def config(system: System, routing: Routing) -> dict[str, Any]:
    data: dict[str, Any] = {
        "global": {"resolve_timeout": str(routing.resolve_timeout)},
        "route": route_config(routing.route, root=True),
        "receivers": [receiver_config(system, r) for r in routing.receivers],
        "inhibit_rules": inhibit_rules(system, routing),
    }
    if routing.time_intervals:
        data["time_intervals"] = [time_interval_config(t) for t in routing.time_intervals]
    data["templates"] = ["templates/*.tmpl"]  # relative to this file
    return data


def route_config(node: Route, root: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"receiver": node.receiver}
    if node.matchers:
        out["matchers"] = [m.render() for m in node.matchers]  # always label="value", never ==
    if node.continue_:
        out["continue"] = True
    group_by = node.group_by if node.group_by is not None else (DEFAULT_GROUP_BY if root else None)
    if group_by is not None:
        out["group_by"] = list(group_by)
    for name in ("group_wait", "group_interval", "repeat_interval"):
        value = getattr(node, name)
        if value is not None:
            out[name] = str(value)
    for name in ("mute_time_intervals", "active_time_intervals"):
        if getattr(node, name):
            out[name] = list(getattr(node, name))
    if node.routes:
        out["routes"] = [route_config(child) for child in node.routes]
    return out


def time_interval_config(interval: TimeInterval) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    if interval.weekdays:
        spec["weekdays"] = list(interval.weekdays)
    if interval.times:
        spec["times"] = [{"start_time": start, "end_time": end} for start, end in interval.times]
    spec["location"] = interval.location
    return {"name": interval.name, "time_intervals": [spec]}


def receiver_config(system: System, receiver: Receiver) -> dict[str, Any]:
    out: dict[str, Any] = {"name": receiver.name}
    for key, kind in (("slack_configs", Slack), ("pagerduty_configs", PagerDuty), ("email_configs", Email), ("webhook_configs", Webhook)):
        configs = [integration_config(system, i) for i in receiver.integrations if isinstance(i, kind)]
        if configs:
            out[key] = configs
    return out


def _use(system: System, part: str) -> str:
    """A field value that renders one of this system's named templates."""
    return "{{ template " + go_string(template_name(system, part)) + " . }}"


def integration_config(system: System, integration: Integration) -> dict[str, Any]:
    # Fields Alertmanager renders as templates (channel, to, from) get user text escaped.
    if isinstance(integration, Slack):
        return {
            "send_resolved": integration.send_resolved,
            "api_url_file": integration.api_url_file,
            "channel": literal(integration.channel),
            "title": _use(system, "title"),
            "text": _use(system, "text"),
        }
    if isinstance(integration, PagerDuty):
        return {
            "send_resolved": integration.send_resolved,
            "routing_key_file": integration.routing_key_file,
            "severity": _use(system, "pagerduty.severity"),
            "description": _use(system, "pagerduty.description"),
            "details": {
                "slo": "{{ .CommonLabels.slo }}",
                "burn_rate": "{{ template " + go_string(template_name(system, "burn_rate")) + " .CommonLabels }}",
                "runbook": "{{ .CommonAnnotations.runbook_url }}",
                "dashboard": "{{ .CommonAnnotations.dashboard_url }}",
                "firing": _use(system, "text"),
            },
        }
    if isinstance(integration, Email):
        out: dict[str, Any] = {
            "send_resolved": integration.send_resolved,
            "to": literal(integration.to),
            "from": literal(integration.sender),
            "smarthost": integration.smarthost,
            "require_tls": integration.require_tls,
        }
        if integration.auth_username:
            out["auth_username"] = integration.auth_username
            out["auth_password_file"] = integration.auth_password_file
        out["headers"] = {"Subject": _use(system, "title")}
        out["text"] = _use(system, "text")
        return out
    out = {"send_resolved": integration.send_resolved, "url": integration.url, "max_alerts": integration.max_alerts}
    if integration.credentials_file:
        out["http_config"] = {"authorization": {"type": "Bearer", "credentials_file": integration.credentials_file}}
    return out


# ---------------------------------------------------------------- inhibit rules


def inhibit_rules(system: System, routing: Routing) -> list[dict[str, Any]]:
    return burn_tier_inhibitions(system) + dependency_inhibitions(system, routing)


def burn_tier_inhibitions(system: System) -> list[dict[str, Any]]:
    """A faster tier (higher burn factor) inhibits the slower ones of the same SLO, and a page
    inhibits the tickets: one rule per (tier, tiers it silences), shared by the SLOs alike."""
    silenced: dict[tuple[str, tuple[str, ...]], list[str]] = {}
    for slo in system.slos:
        for source, targets in _tier_silences(slo).items():
            if targets:
                silenced.setdefault((source, targets), []).append(slo.name)
    out = []
    for (source, targets), slos in sorted(silenced.items()):
        out.append({
            "source_matchers": [Matcher("burn_tier", "=", source).render(), _any_of("slo", sorted(slos)).render()],
            "target_matchers": [_any_of("burn_tier", targets).render()],
            "equal": ["slo", "service"],
        })
    return out


def _tier_silences(slo: SLO) -> dict[str, tuple[str, ...]]:
    factors: dict[str, Decimal] = {t.name: t.burn_factor(slo.period) for t in slo.tiers}
    pages = {t.name for t in slo.tiers if t.severity == "critical"}
    out = {}
    for t in slo.tiers:
        slower = {o for o in factors if factors[o] < factors[t.name]}
        tickets = {o for o in factors if o not in pages} if t.name in pages else set()
        out[t.name] = tuple(sorted(slower | tickets))
    return out


def dependency_inhibitions(system: System, routing: Routing) -> list[dict[str, Any]]:
    """While a dependency's outage alert fires, the alerts and SLO burns it explains stay quiet."""
    alert_names = {a.name for a in system.alerts}
    out = []
    for dep in routing.dependencies:
        source = [Matcher("alertname", "=", dep.outage).render()]
        alerts = sorted(s for s in dep.symptoms if s in alert_names)
        slos = sorted(s for s in dep.symptoms if s not in alert_names)
        for label, names in (("alertname", alerts), ("slo", slos)):
            if names:
                out.append({"source_matchers": source, "target_matchers": [_any_of(label, names).render()], "equal": list(dep.equal)})
    return out


def _any_of(label: str, values: list[str] | tuple[str, ...]) -> Matcher:
    if len(values) == 1:
        return Matcher(label, "=", values[0])
    match = one_of(*values)
    return Matcher(label, match.op, match.value)


# ---------------------------------------------------------------- message templates


def template_name(system: System, part: str) -> str:
    # One Alertmanager may serve several systems: names carry the system's.
    return f"ccb.{system.name}.{part}"


def _define(system: System, part: str, body: str) -> str:
    return "{{ define " + go_string(template_name(system, part)) + " }}" + body + "{{ end }}\n"


def message_templates(system: System) -> str:
    """Go templates for Slack, PagerDuty and e-mail: the SLO, its burn rate (tier factor and
    windows), the error budget left (from the alert's description), runbook and dashboard links."""
    parts = [
        "{{/* Generated by ccb_observe from definitions/. Do not edit. */}}\n",
        _define(system, "burn_rate", _burn_rate_body(system)),
        _define(system, "title", (
            "[{{ .Status | toUpper }}{{ if eq .Status \"firing\" }}:{{ .Alerts.Firing | len }}{{ end }}] "
            "{{ .CommonLabels.alertname }}{{ with .CommonLabels.slo }} (SLO {{ . }}){{ end }}"
            "{{ with .CommonLabels.priority }} {{ . }}{{ end }}"
        )),
        _define(system, "alert", (
            "*{{ .Annotations.summary }}*\n"
            "{{ .Labels.severity }} {{ .Labels.priority }} · service {{ .Labels.service }}{{ with .Labels.team }} · team {{ . }}{{ end }}\n"
            "{{ with .Labels.slo }}SLO: {{ . }}\n{{ end }}"
            "{{ with .Labels.burn_tier }}Burn rate: {{ template " + go_string(template_name(system, "burn_rate")) + " $.Labels }}"
            " ({{ . }}: over {{ $.Labels.long_window }} and {{ $.Labels.short_window }})\n{{ end }}"
            "{{ .Annotations.description }}\n"
            "{{ with .Annotations.runbook_url }}Runbook: {{ . }}\n{{ end }}"
            "{{ with .Annotations.dashboard_url }}Dashboard: {{ . }}\n{{ end }}"
        )),
        _define(system, "text", (
            "{{ range .Alerts.Firing }}{{ template " + go_string(template_name(system, "alert")) + " . }}\n{{ end }}"
            "{{ with .Alerts.Resolved }}Resolved: {{ range . }}{{ .Labels.alertname }}{{ with .Labels.burn_tier }}/{{ . }}{{ end }} {{ end }}\n{{ end }}"
        )),
        _define(system, "pagerduty.severity", (
            "{{ if eq .CommonLabels.severity \"critical\" }}critical{{ else if eq .CommonLabels.severity \"warning\" }}warning{{ else }}info{{ end }}"
        )),
        _define(system, "pagerduty.description", (
            "{{ template " + go_string(template_name(system, "title")) + " . }}"
            "{{ with .CommonAnnotations.summary }}: {{ . }}{{ end }}"
        )),
    ]
    return "".join(parts)


def _burn_rate_body(system: System) -> str:
    """The factor of the alert's tier, from the model (the labels carry only the tier's name).
    Called with an alert's labels as dot."""
    cases = []
    for slo in system.slos:
        for t in slo.tiers:
            cond = f"and (eq .slo {go_string(slo.name)}) (eq .burn_tier {go_string(t.name)})"
            cases.append((cond, literal(f"{format_number(t.burn_factor(slo.period))}x the sustainable rate")))
    if not cases:
        return "unknown"
    body = "".join(("{{ if " if i == 0 else "{{ else if ") + cond + " }}" + text for i, (cond, text) in enumerate(cases))
    return body + "{{ else }}unknown{{ end }}"

