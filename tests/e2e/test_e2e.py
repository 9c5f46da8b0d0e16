"""End to end on the real stack: the demo service (instrumented from the seed's catalog) →
Debian's Prometheus 2.42 running the generated rules → Alertmanager 0.25 running the generated
routes, inhibitions and templates → a local sink recording what Alertmanager posts.

One stack per scenario, all started together (they wait side by side, so the module takes about as
long as its slowest scenario). Each scenario's demo starts idle and switches mode only once
Prometheus sends to its Alertmanager, so nothing that fires is dropped.
"""

from __future__ import annotations

import math
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml
from conftest import require_tool
from demo_service import DemoService

from ccb_observe import e2e
from ccb_observe.compile import alertmanager as am
from ccb_observe.compile import rules
from ccb_observe.model import SLO, System
from ccb_observe.model.routing import PagerDuty, Slack
from ccb_observe.output import to_yaml, write_tree
from ccb_observe.promql import format_number

# A positive scenario pages ≈ 5 s after its switch (scrapes, evaluation, group_wait): the quiet ones
# are watched for four times that before "nothing came" counts.
QUIET_FOR = 20.0
PAGE_WITHIN = 90.0
# Scenario -> what the demo is told once its stack is ready.
SCENARIOS = {"outage": "outage", "healthy": "healthy", "slow": "slow", "idle": "idle", "postgres-down": "postgres=down"}
# The seed's static scrape jobs -> the part of the demo each scrapes.
DEMO_PART = {"claude-code-bot": "api", "postgresql": "postgres", "redis": "redis"}


@dataclass
class Run:
    mode: str
    demo: DemoService
    sink: e2e.WebhookSink
    stack: e2e.Stack
    switched_at: float = 0.0

    def posts(self) -> list[e2e.Post]:
        return self.sink.received()

    def quiet_period_over(self) -> None:
        time.sleep(max(0.0, self.switched_at + QUIET_FOR - time.monotonic()))


@pytest.fixture(scope="module")
def runs(seed: System, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Run]]:
    for binary in ("prometheus", "prometheus-alertmanager"):
        require_tool(binary)
    output = e2e.system_output(seed)
    started: dict[str, Run] = {}
    try:
        for mode in SCENARIOS:
            demo = DemoService(seed).start()
            sink = e2e.WebhookSink()
            targets = {job: demo.addresses[DEMO_PART[job]] for job in e2e.static_jobs(output)}
            stack = e2e.Stack(tmp_path_factory.mktemp(f"e2e-{mode}"), output, targets, sink)
            started[mode] = Run(mode, demo, sink, stack)
            stack.launch()
        for run in started.values():
            run.stack.wait_ready()
            run.demo.control(SCENARIOS[run.mode])
            run.switched_at = time.monotonic()
        yield started
    finally:
        e2e.stop(*(p for run in started.values() for p in run.stack.processes))
        for run in started.values():
            run.demo.stop()
            run.sink.close()


# ---------------------------------------------------------------- reading what the sink got


def text_of(post: e2e.Post) -> str:
    """The rendered message: Slack's title and text, PagerDuty's summary and details."""
    body = post.body
    if post.path == "/slack":
        return "\n".join(f"{a['title']}\n{a['text']}" for a in body["attachments"])
    if post.path.startswith("/pagerduty/"):
        details = body["payload"]["custom_details"]
        return "\n".join([body["payload"]["summary"], *(f"{k}: {v}" for k, v in sorted(details.items()))])
    return yaml.safe_dump(body)


def receiver_of(post: e2e.Post) -> str:
    """Which sink a post reached: a PagerDuty receiver by name, a Slack channel."""
    if post.path == "/slack":
        return str(post.body["channel"])
    return post.path.removeprefix("/")


def expected_sinks(system: System, receivers: tuple[str, ...]) -> set[str]:
    """Where the model says notifications for these receivers land in the sink."""
    assert system.routing is not None
    by_name = {r.name: r for r in system.routing.receivers}
    found = set()
    for name in receivers:
        for integration in by_name[name].integrations:
            if isinstance(integration, PagerDuty):
                found.add(f"pagerduty/{name}")
            elif isinstance(integration, Slack):
                found.add(integration.channel)
    return found


def page_row(system: System, slo: SLO) -> am.RoutedAlert:
    fastest = max(slo.tiers, key=lambda t: t.burn_factor(slo.period))
    (row,) = [r for r in am.routing_table(system) if r.name == f"{rules.burn_alert_name(slo)}/{fastest.name}"]
    return row


def notified(run: Run, alertname: str, tier: str) -> dict[str, str]:
    """Sink -> message text, for each post about the alert whose firing part shows this tier."""
    found = {}
    for post in run.posts():
        text = text_of(post)
        if alertname in text.splitlines()[0] and f"({tier}: over " in text:
            found[receiver_of(post)] = text
    return found


def sink_summary(run: Run) -> list[str]:
    return [f"{receiver_of(p)}: {text_of(p).splitlines()[0]}" for p in run.posts()]


def wait_for_page(run: Run, system: System, slo: SLO) -> tuple[am.RoutedAlert, dict[str, str]]:
    """The fastest tier's page, once it has reached every sink the model routes it to."""
    row = page_row(system, slo)
    labels = dict(row.labels)
    sinks = expected_sinks(system, row.receivers)
    assert sinks, f"the model routes {row.name} to no Slack or PagerDuty receiver"

    def arrived() -> dict[str, str] | None:
        got = notified(run, labels["alertname"], labels["burn_tier"])
        return got if sinks <= set(got) else None

    try:
        return row, run.stack.wait(f"{row.name} to reach {sorted(sinks)}", arrived, PAGE_WITHIN)
    except e2e.WaitTimeout as exc:
        pytest.fail(f"{exc}\nthe sink got: {sink_summary(run)}")


def expected_text(slo: SLO, tier_name: str, budget_left: str) -> list[str]:
    """What the generated templates must render for this SLO's tier, from the model."""
    (tier,) = [t for t in slo.tiers if t.name == tier_name]
    factor = tier.burn_factor(slo.period)
    parts = rules.burn_annotation_parts(slo, tier, factor)
    description = "".join(budget_left if p is rules.BUDGET_LEFT else str(p) for p in parts["description"])
    return [
        f"SLO: {slo.name}",
        f"Burn rate: {format_number(factor)}x the sustainable rate ({tier.name}: over {tier.long_window} and {tier.short_window})",
        description,
        f"Runbook: {slo.runbook_url}",
        f"Dashboard: {slo.dashboard_url}",
    ]


def slo_named(system: System, name: str) -> SLO:
    (slo,) = [s for s in system.slos if s.name == name]
    return slo


def row_name(labels: dict[str, str]) -> str:
    """An alert as the routing table names it: with its tier for burn-rate alerts."""
    return labels["alertname"] + (f"/{labels['burn_tier']}" if "burn_tier" in labels else "")


def firing_names(run: Run) -> set[str]:
    return {row_name(labels) for labels in run.stack.firing()}


# ---------------------------------------------------------------- scenarios


# The dependency scenario goes first: it switches its demo twice, and its quiet period then runs
# while the other stacks' do.
def test_a_dependency_outage_inhibits_the_symptoms_it_explains(runs: dict[str, Run], seed: System) -> None:
    run = runs["postgres-down"]
    assert seed.routing is not None
    (postgres,) = [d for d in seed.routing.dependencies if d.outage == "PostgresDown"]
    assert {"HighErrorRate", "error-rate"} <= set(postgres.symptoms)
    # PostgreSQL goes down first; once Alertmanager knows, the API starts failing.
    run.stack.wait("PostgresDown to reach Alertmanager", lambda: [
        a for a in run.stack.alertmanager_alerts() if a["labels"]["alertname"] == "PostgresDown" and a["status"]["state"] == "active"
    ], PAGE_WITHIN)
    run.demo.switch("outage")
    run.switched_at = time.monotonic()
    symptoms = {"ErrorRateBudgetBurn/page-fast", "HighErrorRate"}
    run.stack.wait(f"{sorted(symptoms)} to fire in Prometheus", lambda: symptoms <= firing_names(run), PAGE_WITHIN)

    def inhibited() -> set[str]:
        names = {row_name(a["labels"]) for a in run.stack.alertmanager_alerts() if a["status"]["inhibitedBy"]}
        return names if symptoms <= names else set()

    run.stack.wait(f"Alertmanager to inhibit {sorted(symptoms)}", inhibited, PAGE_WITHIN)
    run.quiet_period_over()
    (row,) = [r for r in am.routing_table(seed) if r.name == "PostgresDown"]
    got = {receiver_of(p) for p in run.posts() if "PostgresDown" in text_of(p).splitlines()[0]}
    assert got == expected_sinks(seed, row.receivers), sink_summary(run)
    others = [line for line in sink_summary(run) if "PostgresDown" not in line]
    assert others == [], f"symptoms of the PostgreSQL outage reached: {others}"


def test_outage_pages_the_routed_receivers_with_the_rendered_message(runs: dict[str, Run], seed: System) -> None:
    slo = slo_named(seed, "error-rate")
    row, got = wait_for_page(runs["outage"], seed, slo)
    assert row.receivers == ("platform-pager", "platform-incidents")  # what the model routes a P0 page to
    for sink in expected_sinks(seed, row.receivers):
        # Every request failed: the whole 30d budget is gone, and the template says so.
        for line in expected_text(slo, "page-fast", "0%"):
            assert line in got[sink], f"{sink} got:\n{got[sink]}"
    pager = next(p for p in runs["outage"].posts() if p.path == "/pagerduty/platform-pager" and "(page-fast: over " in text_of(p))
    assert pager.body["routing_key"] == "e2e-routing-key"  # read from the secret file the overlay moved
    assert pager.body["payload"]["severity"] == "critical"
    assert pager.body["payload"]["custom_details"]["slo"] == "error-rate"
    assert pager.body["payload"]["custom_details"]["runbook"] == slo.runbook_url


def test_a_faster_tier_inhibits_the_slower_one(runs: dict[str, Run], seed: System) -> None:
    run = runs["outage"]
    # The model's inhibition: page-fast silences page-slow of the same SLO.
    inhibitions = am.burn_tier_inhibitions(seed)
    assert any('burn_tier="page-fast"' in r["source_matchers"] and "page-slow" in r["target_matchers"][0] for r in inhibitions)
    wait_for_page(run, seed, slo_named(seed, "error-rate"))
    # Prometheus fires the slower tier too; Alertmanager holds it back.
    run.stack.wait("ErrorRateBudgetBurn/page-slow to fire in Prometheus", lambda: "ErrorRateBudgetBurn/page-slow" in firing_names(run), PAGE_WITHIN)

    def slow_tier_suppressed() -> list[dict[str, Any]]:
        return [a for a in run.stack.alertmanager_alerts()
                if a["labels"].get("burn_tier") == "page-slow" and a["labels"].get("slo") == "error-rate"
                and a["status"]["state"] == "suppressed" and a["status"]["inhibitedBy"]]

    run.quiet_period_over()
    leaked = [receiver_of(p) for p in run.posts() if "page-slow" in text_of(p)]
    assert leaked == [], f"the inhibited tier reached {leaked}"
    run.stack.wait("Alertmanager to show ErrorRateBudgetBurn/page-slow as inhibited", slow_tier_suppressed, 10)


def test_healthy_traffic_pages_nobody(runs: dict[str, Run]) -> None:
    run = runs["healthy"]
    run.quiet_period_over()
    # Traffic flowed and was all good: the quiet is not for want of data.
    for slo in ("error-rate", "latency"):
        (total,) = run.stack.query(f'slo:total_events:increase5m{{slo="{slo}"}}')
        assert float(total["value"][1]) > 0, slo
        (ratio,) = run.stack.query(f'slo:error_ratio:5m{{slo="{slo}"}}')
        assert float(ratio["value"][1]) == 0, slo
    assert run.stack.firing() == []
    assert [receiver_of(p) for p in run.posts()] == []


def test_slow_responses_fire_the_latency_slo_not_the_error_rate_one(runs: dict[str, Run], seed: System) -> None:
    run = runs["slow"]
    slo = slo_named(seed, "latency")
    row, got = wait_for_page(run, seed, slo)
    for line in expected_text(slo, "page-fast", "0%"):
        assert all(line in text for text in got.values()), got
    run.quiet_period_over()
    firing_slos = {a.get("slo") for a in run.stack.firing()}
    assert "latency" in firing_slos and not firing_slos & {"error-rate", "availability"}, firing_slos
    other = [text_of(p).splitlines()[0] for p in run.posts() if "LatencyBudgetBurn" not in text_of(p).splitlines()[0]]
    assert other == [], f"besides the latency SLO the sink got: {other}"


def test_no_traffic_no_alert_and_no_nan_in_recorded_series(runs: dict[str, Run]) -> None:
    run = runs["idle"]
    run.quiet_period_over()
    assert run.demo.requests == 0
    assert run.stack.firing() == []
    assert [receiver_of(p) for p in run.posts()] == []
    # Every sample of every recorded series since the start: finite (no data is absent, not NaN).
    series = recorded_series(run)
    names = {s["metric"]["__name__"] for s in series}
    assert {"slo:total_events:increase5m", "slo:bad_events:increase5m", "slo:objective:ratio"} <= names
    assert not_finite(series) == []
    # Zero traffic is recorded as 0 events, and the ratios over it are absent.
    (total,) = run.stack.query('slo:total_events:increase5m{slo="error-rate"}')
    assert float(total["value"][1]) == 0
    assert run.stack.query('slo:error_ratio:5m{slo="error-rate"}') == []


# ---------------------------------------------------------------- Prometheus' own view


def recorded_series(run: Run) -> list[dict[str, Any]]:
    """Every sample of every series the generated rules record, over the last 5 minutes (the run)."""
    return run.stack.query('{__name__=~"slo:.+|kpi:.+"}[5m]')


def not_finite(series: list[dict[str, Any]]) -> list[tuple[dict[str, str], str]]:
    return [(s["metric"], v) for s in series for _, v in s["values"] if not math.isfinite(float(v))]


def evaluated_groups(run: Run) -> list[dict[str, Any]]:
    """The rule groups once Prometheus has evaluated every rule at least once."""
    def all_evaluated() -> list[dict[str, Any]] | None:
        groups = run.stack.rule_groups()
        never = [r["name"] for g in groups for r in g["rules"] if r["lastEvaluation"].startswith("0001-")]
        return None if never else groups

    return run.stack.wait(f"every rule of the {run.mode} stack to be evaluated", all_evaluated, PAGE_WITHIN)


def test_every_generated_group_loads_healthy_and_every_target_is_up(runs: dict[str, Run], seed: System) -> None:
    generated = {g["name"]: len(g["rules"]) for groups in rules.rule_files(seed).values() for g in groups}
    for mode, run in runs.items():
        groups = evaluated_groups(run)
        assert {g["name"]: len(g["rules"]) for g in groups} == generated, mode
        unhealthy = [(g["name"], r["name"], r["health"], r.get("lastError")) for g in groups for r in g["rules"]
                     if r["health"] != "ok" or r.get("lastError")]
        assert unhealthy == [], mode
        targets = run.stack.targets_now()
        assert {t["labels"]["job"] for t in targets} == set(e2e.static_jobs(run.stack.output)), mode
        down = [(t["labels"]["job"], t["health"], t["lastError"]) for t in targets if t["health"] != "up" or t["lastError"]]
        assert down == [], mode
        (up,) = run.stack.query('up{job="claude-code-bot"}')
        assert up["value"][1] == "1", mode


def test_no_scenario_records_nan_or_inf(runs: dict[str, Run]) -> None:
    # An outage (all bad) and slow traffic divide too: still no NaN, no Inf, in any recorded sample.
    for mode, run in runs.items():
        series = recorded_series(run)
        assert len(series) > 20, mode
        assert not_finite(series) == [], mode


# ---------------------------------------------------------------- the overlay, by itself


@pytest.fixture
def profile(tmp_path: Path) -> e2e.E2EProfile:
    return e2e.E2EProfile(
        targets={"claude-code-bot": "127.0.0.1:18000", "postgresql": "127.0.0.1:18001"},
        alertmanager="127.0.0.1:19093", sink="http://127.0.0.1:18080", secrets_dir=str(tmp_path / "secrets"),
    )


def test_the_overlay_changes_only_what_the_profile_declares(seed: System, profile: e2e.E2EProfile) -> None:
    output = e2e.system_output(seed)
    overlaid = e2e.overlay(output, profile)
    assert set(overlaid) == set(output)
    changed = {p for p in output if output[p] != overlaid[p]}
    # Rule files change only where a group has its own interval or a rule a `for`.
    timed = {p for p in output if p.startswith(rules.RULES_DIR + "/") and (b"\n  interval:" in output[p] or b"\n    for:" in output[p])}
    assert timed and changed == {e2e.PROMETHEUS_CONFIG, e2e.ALERTMANAGER_CONFIG} | timed

    prom = yaml.safe_load(overlaid[e2e.PROMETHEUS_CONFIG])
    original = yaml.safe_load(output[e2e.PROMETHEUS_CONFIG])
    assert prom["global"] == {"scrape_interval": "1s", "evaluation_interval": "1s"}
    assert prom["alerting"]["alertmanagers"] == [{"static_configs": [{"targets": ["127.0.0.1:19093"]}]}]
    assert prom["rule_files"] == original["rule_files"]
    jobs = {j["job_name"]: j for j in prom["scrape_configs"]}
    assert set(jobs) == {"claude-code-bot", "postgresql"}  # redis has no target here; kubernetes-pods never
    assert jobs["claude-code-bot"]["static_configs"] == [{"targets": ["127.0.0.1:18000"]}]
    assert jobs["claude-code-bot"]["scrape_interval"] == "1s"

    for path in (p for p in output if p.startswith(rules.RULES_DIR + "/")):
        before, after = yaml.safe_load(output[path])["groups"], yaml.safe_load(overlaid[path])["groups"]
        assert [g["name"] for g in before] == [g["name"] for g in after]
        for old, new in zip(before, after):
            assert "interval" not in new
            for r_old, r_new in zip(old["rules"], new["rules"], strict=True):
                assert {k: v for k, v in r_old.items() if k != "for"} == {k: v for k, v in r_new.items() if k != "for"}
                assert ("for" in r_old) == ("for" in r_new) and r_new.get("for", "2s") == "2s"


def test_the_alertmanager_overlay_keeps_the_policy_and_moves_every_secret(seed: System, profile: e2e.E2EProfile) -> None:
    output = e2e.system_output(seed)
    before = yaml.safe_load(output[e2e.ALERTMANAGER_CONFIG])
    after = yaml.safe_load(e2e.overlay(output, profile)[e2e.ALERTMANAGER_CONFIG])
    for key in ("inhibit_rules", "time_intervals", "templates", "global"):
        assert after[key] == before[key], key

    def shape(node: dict[str, Any]) -> Any:
        return (node["receiver"], node.get("matchers"), node.get("continue"), node.get("active_time_intervals"),
                [shape(c) for c in node.get("routes", [])])

    assert shape(after["route"]) == shape(before["route"])
    assert (after["route"]["group_wait"], after["route"]["group_interval"], after["route"]["repeat_interval"]) == ("5s", "5s", "1h")
    text = yaml.safe_dump(after)
    assert "/etc/alertmanager/secrets" not in text and ".example" not in text.replace("@claude-code-bot.example", "")
    secrets = e2e.secret_files(after, profile)
    referenced = {v for k, v in _all_items(after) if k.endswith("_file")}
    assert set(secrets) == referenced and all(p.startswith(profile.secrets_dir + "/") for p in referenced)
    assert secrets[profile.secrets_dir + "/slack-webhook"] == "http://127.0.0.1:18080/slack"
    (pager,) = [r for r in after["receivers"] if r["name"] == "platform-pager"]
    assert pager["pagerduty_configs"][0]["url"] == "http://127.0.0.1:18080/pagerduty/platform-pager"


def _all_items(node: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield key, value
            yield from _all_items(value)
    elif isinstance(node, list):
        for item in node:
            yield from _all_items(item)


def test_the_overlaid_files_pass_promtool_and_amtool(seed: System, profile: e2e.E2EProfile, promtool: str, amtool: str, tmp_path: Path) -> None:
    files = e2e.overlay(e2e.system_output(seed), profile)
    out = tmp_path / "generated"
    write_tree(files, out)
    for path, content in e2e.secret_files(yaml.safe_load(files[e2e.ALERTMANAGER_CONFIG]), profile).items():
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(content)
    for command in ([promtool, "check", "config", str(out / e2e.PROMETHEUS_CONFIG)],
                    [amtool, "check-config", str(out / e2e.ALERTMANAGER_CONFIG)]):
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr



# ---------------------------------------------------------------- the demo service and the harness


def _http(url: str, body: bytes | None = None) -> tuple[int, str]:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(urllib.request.Request(url, body), timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_the_demo_service_switches_by_its_control_endpoint(seed: System) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    demo = DemoService(seed).start()
    try:
        api = f"http://{demo.address}"
        assert _http(f"{api}/control") == (200, "idle")
        assert _http(f"{api}/control", b"meltdown")[0] == 400
        assert _http(f"{api}/control", b"outage") == (200, "outage")
        demo.serve_one()
        assert _http(f"{api}/control", b"postgres=down") == (200, "postgres=down")

        def samples(part: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
            text = _http(f"http://{demo.addresses[part]}/metrics")[1]
            return {(s.name, tuple(sorted(s.labels.items()))): s.value
                    for f in text_string_to_metric_families(text) for s in f.samples}

        api_samples, postgres, redis = samples("api"), samples("postgres"), samples("redis")
        assert api_samples[("http_requests_total", (("handler", "/api/v1/integrations"), ("method", "POST"), ("status", "500")))] == 1
        assert not any(name in ("up", "pg_up", "redis_up") for name, _ in api_samples)  # Prometheus writes `up`
        assert postgres[("pg_up", ())] == 0 and redis[("redis_up", ())] == 1
        assert {n for n, _ in postgres} <= {m.name for m in seed.metrics if m.name.startswith("pg_")}
    finally:
        demo.stop()


def test_a_stack_that_fails_to_start_is_stopped_and_says_why(seed: System, tmp_path: Path) -> None:
    output = e2e.system_output(seed)
    unparsable = {"groups": [{"name": "broken", "rules": [{"record": "broken", "expr": "sum(up"}]}]}
    broken = {**output, f"{rules.RULES_DIR}/alerts.rules.yml": to_yaml(unparsable)}
    sink = e2e.WebhookSink()
    stack = e2e.Stack(tmp_path, broken, {}, sink)
    try:
        with pytest.raises(AssertionError, match=r"prometheus.*exited with 1"):
            with stack:
                pass
    finally:
        sink.close()
    assert len(stack.processes) == 2 and all(p.poll() is not None for p in stack.processes)  # Alertmanager too


def test_every_wait_is_bounded_and_names_what_it_waited_for() -> None:
    started = time.monotonic()
    with pytest.raises(e2e.WaitTimeout, match="after 0.3 s waiting for the moon"):
        e2e.wait_for("the moon", lambda: None, timeout=0.3, every=0.05)
    assert time.monotonic() - started < 2
    assert e2e.wait_for("a list", lambda: [1], timeout=1) == [1]
