"""Alertmanager: the generated config passes the real amtool, every generated alert is routed as the
model says (replayed by amtool), inhibitions and templates behave, bad routing is a named error."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import replace
from pathlib import Path
from typing import Iterator

import pytest
import yaml
from click.testing import CliRunner

from ccb_observe.cli import main
from ccb_observe.compile import alertmanager as am
from ccb_observe.compile.rules import rule_files
from ccb_observe.errors import DefinitionError
from ccb_observe.model import Alert, System, gauge
from ccb_observe.model.conditions import gauge_compare
from ccb_observe.model.routing import (
    Dependency, Email, PagerDuty, Routing, Slack, TimeInterval, Webhook, receiver, route,
)
from ccb_observe.output import Output
from ccb_observe.validate import amtool as amcheck

from conftest import ROOT, require_tool

SYSTEM_DIR = "claude-code-bot"
PAGER, INCIDENTS, TICKETS, EMAIL = "platform-pager", "platform-incidents", "platform-tickets", "platform-email"
THIS_FILE = Path(__file__).name


def am_dir(generated: Path) -> Path:
    return generated / SYSTEM_DIR


def config_of(output: Output) -> dict:
    return yaml.safe_load(output[f"{SYSTEM_DIR}/{am.CONFIG}"])


def table_of(output: Output) -> list[dict]:
    return yaml.safe_load(output[f"{SYSTEM_DIR}/{am.ROUTING_TESTS}"])["tests"]


# ---------------------------------------------------------------- the real amtool


def test_amtool_accepts_the_generated_config(amtool: str, generated_copy: Path) -> None:
    result = amcheck.check_config(am_dir(generated_copy) / am.CONFIG)
    assert result.ok, result.output
    assert "4 receivers" in result.output and "1 templates" in result.output
    assert "7 inhibit rules" in result.output


def test_every_generated_alert_is_routed_as_declared(amtool: str, generated_copy: Path, seed: System, seed_output: Output) -> None:
    table = table_of(seed_output)
    alerting_rules = [r for groups in rule_files(seed).values() for g in groups for r in g["rules"] if "alert" in r]
    assert len(table) == len(alerting_rules) == 23  # 4 SLOs x 4 tiers + 7 threshold alerts
    assert amcheck.checks(am_dir(generated_copy)) == []


def test_routed_alerts_are_exactly_the_rules_alerts_with_their_labels(seed: System) -> None:
    # The routing table labels alerts without rendering the rules: it must say what the rules say.
    from_rules = [
        (f"{r['alert']}/{r['labels']['burn_tier']}" if "burn_tier" in r["labels"] else r["alert"], {"alertname": r["alert"], **r["labels"]})
        for groups in rule_files(seed).values() for g in groups for r in g["rules"] if "alert" in r
    ]
    assert am.generated_alerts(seed) == from_rules
    assert len(from_rules) == 23 and any("burn_tier" in labels for _, labels in from_rules)


def test_the_routing_check_fails_when_amtool_disagrees(amtool: str, generated_copy: Path) -> None:
    tests_file = am_dir(generated_copy) / am.ROUTING_TESTS
    data = yaml.safe_load(tests_file.read_text())
    row = next(t for t in data["tests"] if t["alert"] == "HighErrorRate")
    row["receivers"] = list(reversed(row["receivers"]))  # amtool's order matters
    tests_file.write_text(yaml.safe_dump(data, sort_keys=False))
    findings = amcheck.checks(am_dir(generated_copy))
    assert len(findings) == 1
    assert "HighErrorRate is routed to platform-pager,platform-incidents" in findings[0].message
    assert findings[0].line > 1


def test_the_generated_routing_script_replays_the_table(amtool: str, generated_copy: Path) -> None:
    script = am_dir(generated_copy) / am.ROUTING_SCRIPT
    env = {**os.environ, "AMTOOL": amtool}
    done = subprocess.run([str(script)], capture_output=True, text=True, env=env)
    assert done.returncode == 0 and done.stdout.strip() == "23 alerts routed as declared", done.stdout + done.stderr
    script.write_text(script.read_text().replace("route HighResponseTime platform-tickets", "route HighResponseTime platform-pager"))
    done = subprocess.run([str(script)], capture_output=True, text=True, env=env)
    assert done.returncode == 1
    assert done.stdout.strip() == "FAIL HighResponseTime: expected platform-pager, got platform-tickets"


def test_broken_config_is_a_finding(amtool: str, generated_copy: Path) -> None:
    config = am_dir(generated_copy) / am.CONFIG
    config.write_text(config.read_text().replace("receiver: platform-tickets", "receiver: nobody"))
    (finding,) = amcheck.checks(am_dir(generated_copy))
    assert finding.check == "amtool" and "nobody" in finding.message


@pytest.mark.parametrize(("labels", "expected"), [
    ({"severity": "critical", "priority": "P0", "team": "platform"}, [PAGER, INCIDENTS]),
    ({"severity": "critical", "priority": "P1", "team": "platform"}, [PAGER, INCIDENTS]),
    ({"severity": "warning", "priority": "P2", "team": "platform"}, [TICKETS]),
    ({"severity": "info", "team": "platform"}, [EMAIL]),  # everything else still notifies someone
    ({"severity": "critical", "team": "another-team"}, [EMAIL]),
    ({}, [EMAIL]),
])
def test_seed_policy_by_amtool_and_by_the_simulation(amtool: str, generated_copy: Path, seed: System, labels: dict[str, str], expected: list[str]) -> None:
    assert seed.routing is not None
    assert am.resolve(seed.routing.route, labels)[0] == expected
    result = amcheck.route_test(am_dir(generated_copy) / am.CONFIG, expected, labels or {"alertname": "Anything"})
    assert result.ok, result.output


def test_seed_routing_table(seed_output: Output) -> None:
    by_alert = {t["alert"]: t["receivers"] for t in table_of(seed_output)}
    for name, labels in ((t["alert"], t["labels"]) for t in table_of(seed_output)):
        if labels["severity"] == "critical":
            assert by_alert[name] == [PAGER, INCIDENTS], name
        else:
            assert by_alert[name] == [TICKETS], name
    assert by_alert["PostgresDown"] == [PAGER, INCIDENTS]
    assert by_alert["ErrorRateBudgetBurn/ticket-slow"] == [TICKETS]


# ---------------------------------------------------------------- what the config holds


def _all_strings(node: object, key: str = "") -> list[tuple[str, str]]:
    if isinstance(node, dict):
        return [s for k, v in node.items() for s in _all_strings(v, str(k))]
    if isinstance(node, list):
        return [s for v in node for s in _all_strings(v, key)]
    return [(key, node)] if isinstance(node, str) else []


def test_secrets_only_as_file_references(seed_output: Output) -> None:
    config = config_of(seed_output)
    keys = {k for k, _ in _all_strings(config)}
    assert {"api_url_file", "routing_key_file", "auth_password_file", "credentials_file"} <= keys
    assert not keys & {"api_url", "routing_key", "service_key", "auth_password", "credentials", "password"}
    for key, value in _all_strings(config):
        if key.endswith("_file"):
            assert value.startswith("/etc/alertmanager/secrets/"), (key, value)


MATCHER_RE = re.compile(r'^[a-zA-Z_][a-zA-Z0-9_]*(=|!=|=~|!~)"(?:[^"\\]|\\.)*"$')


def test_matchers_are_always_quoted(seed_output: Output) -> None:
    matchers = [v for k, v in _all_strings(config_of(seed_output)) if k.endswith("matchers")]
    assert len(matchers) > 10
    for matcher in matchers:
        assert MATCHER_RE.match(matcher) and "==" not in matcher, matcher


def test_inhibit_rules_from_the_model(seed_output: Output) -> None:
    rules = config_of(seed_output)["inhibit_rules"]
    by_source = {tuple(r["source_matchers"]): r for r in rules}
    slos = 'slo=~"availability|error-rate|integration-success|latency"'
    fast = by_source[('burn_tier="page-fast"', slos)]
    assert fast["target_matchers"] == ['burn_tier=~"page-slow|ticket-fast|ticket-slow"']
    assert fast["equal"] == ["slo", "service"]
    assert by_source[('burn_tier="page-slow"', slos)]["target_matchers"] == ['burn_tier=~"ticket-fast|ticket-slow"']
    postgres = [r for r in rules if r["source_matchers"] == ['alertname="PostgresDown"']]
    assert [r["target_matchers"] for r in postgres] == [
        ['alertname=~"HighErrorRate|HighResponseTime|IntegrationFailures"'], ['slo=~"error-rate|integration-success|latency"'],
    ]
    assert all(r["equal"] == ["service"] for r in postgres)


def test_business_hours_for_tickets(seed_output: Output) -> None:
    config = config_of(seed_output)
    (team,) = config["route"]["routes"]
    tickets = next(r for r in team["routes"] if r["receiver"] == TICKETS)
    assert tickets["active_time_intervals"] == ["business-hours"]
    (interval,) = config["time_intervals"]
    assert interval["time_intervals"][0]["weekdays"] == ["monday:friday"]


def test_output_is_byte_identical_under_any_hash_seed(seed_output: Output) -> None:
    code = (
        "import hashlib, sys; from ccb_observe.compile import alertmanager; from ccb_observe.loader import load_systems;"
        "(s,) = load_systems('definitions'); out = alertmanager.compile(s);"
        "print(hashlib.sha256(b''.join(k.encode() + v for k, v in sorted(out.items()))).hexdigest())"
    )
    digests = {
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**os.environ, "PYTHONHASHSEED": seed},
                       capture_output=True, text=True, check=True).stdout
        for seed in ("0", "1", "4242")
    }
    assert len(digests) == 1


# ---------------------------------------------------------------- templates, rendered by amtool


def _notification(labels: dict[str, str], annotations: dict[str, str]) -> dict:
    alert = {"status": "firing", "labels": labels, "annotations": annotations, "startsAt": "2026-01-01T00:00:00Z",
             "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "", "fingerprint": "1"}
    return {"receiver": INCIDENTS, "status": "firing", "alerts": [alert], "groupLabels": {"alertname": labels["alertname"]},
            "commonLabels": labels, "commonAnnotations": annotations, "externalURL": "http://alertmanager"}


def _render(amtool: str, generated: Path, tmp_path: Path, data: dict, text: str) -> str:
    data_file = tmp_path / "data.json"
    data_file.write_text(json.dumps(data))
    glob = str(am_dir(generated) / am.TEMPLATES_DIR / "*.tmpl")
    result = subprocess.run([amtool, "template", "render", f"--template.glob={glob}",
                             f"--template.data={data_file}", f"--template.text={text}"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_slack_message_shows_slo_burn_rate_budget_and_links(amtool: str, generated_copy: Path, seed_output: Output, tmp_path: Path) -> None:
    row = next(t for t in table_of(seed_output) if t["alert"] == "ErrorRateBudgetBurn/page-fast")
    annotations = {
        "summary": "error-rate: burning {{ fast }}",  # user text arrives already rendered: kept verbatim
        "description": "Error budget left: 42%.",
        "runbook_url": "https://runbooks.claude-code-bot.example/error-rate",
        "dashboard_url": "https://grafana.claude-code-bot.example/d/ccb-slo-overview",
    }
    name = "ccb.claude-code-bot."
    text = _render(amtool, generated_copy, tmp_path, _notification(row["labels"], annotations),
                   '{{ template "' + name + 'title" . }}\n{{ template "' + name + 'text" . }}')
    assert text.startswith("[FIRING:1] ErrorRateBudgetBurn (SLO error-rate) P0")
    assert "Burn rate: 14.4x the sustainable rate (page-fast: over 1h and 5m)" in text
    assert "Error budget left: 42%." in text and "error-rate: burning {{ fast }}" in text
    assert "Runbook: https://runbooks.claude-code-bot.example/error-rate" in text
    assert "Dashboard: https://grafana.claude-code-bot.example/d/ccb-slo-overview" in text
    severity = _render(amtool, generated_copy, tmp_path, _notification(row["labels"], annotations), '{{ template "' + name + 'pagerduty.severity" . }}')
    assert severity == "critical"


# ---------------------------------------------------------------- bad input, named


up = gauge("up", "1 when the target is scraped.")


def tiny(routing: Routing) -> System:
    alerts = (
        Alert("Down", gauge_compare(up(), "==", 0), "critical", "P1", summary="Down", description="The target is down."),
        Alert("Flaky", gauge_compare(up(), "<", 1), "warning", "P2", summary="Flaky", description="The target flaps."),
    )
    return System("tiny", metrics=(up,), alerts=alerts, team="ops", routing=routing)


def pager() -> PagerDuty:
    return PagerDuty(routing_key_file="/run/secrets/pd")


def slack(channel: str = "#ops") -> Slack:
    return Slack(channel, api_url_file="/run/secrets/slack")


def test_a_valid_tiny_policy_compiles(amtool: str, tmp_path: Path) -> None:
    routing = Routing(
        receivers=(receiver("ops-pager", pager()), receiver("ops-chat", slack("#ops {{ x }}"))),
        route=route("ops-chat", route("ops-pager", match={"severity": "critical"}),
                    route("ops-chat", match={"severity": "warning"}, mute_time_intervals=["nights"])),
        time_intervals=(TimeInterval("nights", times=(("00:00", "07:00"),)),),
    )
    output = am.compile(tiny(routing))
    config = yaml.safe_load(output[am.CONFIG])
    assert config["receivers"][1]["slack_configs"][0]["channel"] == '#ops {{ "{{" }} x }}'  # a template field: escaped
    assert config["route"]["routes"][1]["mute_time_intervals"] == ["nights"]
    for path, content in output.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_bytes(content)
    assert amcheck.checks(tmp_path) == []


def _raises(rule: str) -> pytest.RaisesContext[DefinitionError]:
    return pytest.raises(DefinitionError, match=rule)


def _named_here(exc: pytest.ExceptionInfo[DefinitionError]) -> None:
    assert exc.value.where.file.endswith(THIS_FILE) and exc.value.where.line > 0, exc.value.where


def test_unknown_receiver() -> None:
    with _raises("unknown receiver") as exc:
        Routing(receivers=(receiver("ops", slack()),), route=route("ops", route("opz", match={"severity": "critical"})))
    _named_here(exc)
    assert "route to 'opz'" in str(exc.value)


def test_unused_receiver() -> None:
    with _raises("no route sends alerts to it") as exc:
        Routing(receivers=(receiver("ops", slack()), receiver("forgotten", pager())), route=route("ops"))
    _named_here(exc)
    assert "receiver 'forgotten'" in str(exc.value)


def test_unreachable_route() -> None:
    routing = Routing(
        receivers=(receiver("ops", slack()), receiver("ops-pager", pager())),
        route=route("ops", route("ops-pager", match={"severity": "page"})),  # no alert says "page"
    )
    with _raises("no alert of the system can reach it") as exc:
        am.compile(tiny(routing))
    _named_here(exc)
    assert 'severity="page"' in str(exc.value)


def test_route_shadowed_by_an_earlier_sibling() -> None:
    routing = Routing(
        receivers=(receiver("ops", slack()), receiver("ops-pager", pager())),
        route=route("ops", route("ops", match={"team": "ops"}), route("ops-pager", match={"severity": "critical"})),
    )
    with _raises("no alert of the system can reach it"):
        am.compile(tiny(routing))


def test_alert_reaching_nobody() -> None:
    routing = Routing(
        receivers=(receiver("null"), receiver("ops-pager", pager())),
        route=route("null", route("ops-pager", match={"severity": "critical"})),
    )
    with _raises("reach only null, which notifies nobody") as exc:
        am.compile(tiny(routing))
    _named_here(exc)
    assert "alert Flaky" in str(exc.value)


@pytest.mark.parametrize("build", [
    lambda: Slack("#ops", api_url="https://hooks.slack.com/services/T0/B0/XYZ"),
    lambda: Slack("#ops", api_url_file="https://hooks.slack.com/services/T0/B0/XYZ"),
    lambda: PagerDuty(routing_key="0123456789abcdef"),
    lambda: PagerDuty(routing_key_file="0123456789abcdef"),
    lambda: Email("a@example.com", "b@example.com", "smtp.example.com:587", auth_username="u", auth_password="hunter2"),
    lambda: Email("a@example.com", "b@example.com", "smtp.example.com:587", auth_username="u"),
    lambda: Webhook("https://user:hunter2@tickets.example.com/hook"),
    lambda: Webhook("https://tickets.example.com/hook?token=abc"),
], ids=["slack-url", "slack-url-as-file", "pd-key", "pd-key-as-file", "email-password", "email-no-password-file",
        "webhook-userinfo", "webhook-token"])
def test_inline_secret(build: object) -> None:
    with pytest.raises(DefinitionError, match="secret|credential") as exc:
        build()  # type: ignore[operator]
    _named_here(exc)


def test_dependency_names_known_alerts() -> None:
    routing = Routing(
        receivers=(receiver("ops", slack()),), route=route("ops"),
        dependencies=(Dependency("db", outage="DatabaseDown", symptoms=("Flaky",)),),
    )
    with _raises("outage alert 'DatabaseDown' is not an alert of the system") as exc:
        tiny(routing)
    _named_here(exc)


def test_root_route_takes_everything() -> None:
    with _raises("no matchers"):
        Routing(receivers=(receiver("ops", slack()),), route=route("ops", match={"team": "ops"}))


def test_seed_without_its_default_route_is_refused(seed: System) -> None:
    assert seed.routing is not None
    # Drop the team route's ticket child: warnings would end at the team's e-mail, which is fine,
    # but then platform-tickets is unused, which is not.
    team = seed.routing.route.routes[0]
    trimmed = replace(team, routes=team.routes[:2])
    with _raises("no route sends alerts to it"):
        replace(seed.routing, route=replace(seed.routing.route, routes=(trimmed,)))


# ---------------------------------------------------------------- the CLI


BAD_DEFINITION = """
from ccb_observe.model import Alert, System, gauge
from ccb_observe.model.conditions import gauge_compare
from ccb_observe.model.routing import PagerDuty, Routing, receiver, route

up = gauge("up", "1 when the target is scraped.")
SYSTEM = System(
    "bad", metrics=(up,),
    alerts=(Alert("Down", gauge_compare(up(), "==", 0), "critical", "P1", summary="Down", description="Down."),),
    routing=Routing(
        receivers=(receiver("pager", PagerDuty(routing_key_file="/run/secrets/pd")), receiver("null")),
        route=ROUTE,
    ),
)
"""


@pytest.mark.parametrize(("root", "error", "culprit"), [
    ('route("pager", route("pagr", match={"severity": "critical"}), route("null", match={"severity": "info"}))',
     "unknown receiver", "route=ROUTE"),  # caught while the model is built
    ('route("null", route("pager", match={"severity": "warning"}))',
     "reach only null, which notifies nobody", "alerts=("),  # caught by the compiler
])
def test_cli_bad_routing_exits_2_and_leaves_output_untouched(tmp_path: Path, root: str, error: str, culprit: str) -> None:
    definitions = tmp_path / "definitions"
    definitions.mkdir()
    (definitions / "bad.py").write_text(BAD_DEFINITION.replace("ROUTE", root, 1))
    line = next(n for n, text in enumerate(BAD_DEFINITION.splitlines(), 1) if culprit in text)
    out = tmp_path / "generated"
    out.mkdir()
    (out / "keep.txt").write_text("old")
    result = CliRunner().invoke(main, ["generate", "--definitions", str(definitions), "--output", str(out)])
    assert result.exit_code == 2, result.output
    assert error in result.output and f"bad.py:{line}:" in result.output, result.output
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"] and (out / "keep.txt").read_text() == "old"


# ---------------------------------------------------------------- inhibitions, in a real Alertmanager


@pytest.fixture
def alertmanager(generated_copy: Path, tmp_path: Path) -> Iterator[str]:
    """The Debian Alertmanager serving the generated config on a free loopback port."""
    binary = require_tool("prometheus-alertmanager")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [binary, f"--config.file={am_dir(generated_copy) / am.CONFIG}", "--cluster.listen-address=",
         f"--web.listen-address=127.0.0.1:{port}", f"--storage.path={tmp_path / 'am-data'}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"{url}/-/ready", timeout=1):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"Alertmanager did not start: {process.stderr.read().decode() if process.stderr else ''}")
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def _post(url: str, label_sets: list[dict[str, str]]) -> None:
    body = json.dumps([{"labels": labels} for labels in label_sets]).encode()
    request = urllib.request.Request(f"{url}/api/v2/alerts", body, {"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=5).close()


def _active_once_settled(url: str, expected: set[str], count: int) -> set[str]:
    """The active alerts, read until they match (the inhibitor catches up asynchronously) or 10 s pass."""
    deadline = time.monotonic() + 10
    while True:
        with urllib.request.urlopen(f"{url}/api/v2/alerts", timeout=5) as response:
            alerts = json.load(response)
        active = {_row_name(a["labels"]) for a in alerts if a["status"]["state"] == "active"}
        if (active == expected and len(alerts) == count) or time.monotonic() > deadline:
            assert len(alerts) == count
            return active
        time.sleep(0.2)


def _row_name(labels: dict[str, str]) -> str:
    return labels["alertname"] + (f"/{labels['burn_tier']}" if "burn_tier" in labels else "")


def test_inhibitions_in_a_real_alertmanager(alertmanager: str, seed_output: Output) -> None:
    rows = {t["alert"]: t["labels"] for t in table_of(seed_output)}
    # Without the dependency outages: each SLO's fastest tier silences its slower ones (pages
    # silence tickets), and threshold alerts, which have no slo label, silence nothing.
    _post(alertmanager, [labels for name, labels in rows.items() if not name.endswith("Down")])
    expected = {
        "AvailabilityBudgetBurn/page-fast", "LatencyBudgetBurn/page-fast", "ErrorRateBudgetBurn/page-fast",
        "IntegrationSuccessBudgetBurn/page-fast",
        "HighErrorRate", "HighResponseTime", "IntegrationFailures", "DatabaseConnections", "PodRestart",
    }
    assert _active_once_settled(alertmanager, expected, 21) == expected
    # PostgreSQL and Redis down: the symptoms they explain go quiet, the outages page.
    _post(alertmanager, [rows["PostgresDown"], rows["RedisDown"]])
    expected = {"PostgresDown", "RedisDown", "AvailabilityBudgetBurn/page-fast", "DatabaseConnections", "PodRestart"}
    assert _active_once_settled(alertmanager, expected, 23) == expected


@pytest.mark.parametrize(("kwargs", "rule"), [
    ({"weekdays": ("friday:monday",)}, "sunday first"),
    ({"weekdays": ("mon",)}, "lower-case day name"),
    ({"times": (("18:00", "09:00"),)}, "start before end"),
    ({"times": (("09:00", "17:00"),), "location": "Mars/Olympus"}, "not an IANA time zone"),
    ({}, "give weekdays, times or both"),
])
def test_bad_time_interval(kwargs: dict, rule: str) -> None:
    with _raises(rule) as exc:
        TimeInterval("business-hours", **kwargs)
    _named_here(exc)
