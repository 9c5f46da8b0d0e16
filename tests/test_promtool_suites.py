"""The generated promtool suites: they pass, they cover every alert both ways, and they bite."""

from __future__ import annotations

import dataclasses
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from ccb_observe.compile import compile_all
from ccb_observe.compile.promtool_tests import SHARING_FILE, TESTS_DIR, suite_owners, uncovered
from ccb_observe.compile.rules import rule_files
from ccb_observe.model import SLO, RatioIndicator, System, counter
from ccb_observe.output import write_tree
from ccb_observe.promql import matches
from ccb_observe.validate.gate import promtool_test_rules


def suites(system_dir: Path) -> dict[Path, dict[str, Any]]:
    return {p: yaml.safe_load(p.read_text()) for p in sorted((system_dir / TESTS_DIR).glob("*.yml"))}


def alert_checks(system_dir: Path) -> list[tuple[str, dict[str, Any]]]:
    return [(t["name"], check) for suite in suites(system_dir).values() for t in suite["tests"] for check in t.get("alert_rule_test", [])]


def test_the_generated_suites_pass(generated_copy: Path, promtool: str) -> None:
    system_dir = generated_copy / "claude-code-bot"
    assert promtool_test_rules(system_dir) == []


def test_suite_files_are_well_formed(generated_copy: Path) -> None:
    found = suites(generated_copy / "claude-code-bot")
    assert len(found) >= 5
    for path, suite in found.items():
        for rule_file in suite["rule_files"]:
            assert (path.parent / rule_file).is_file(), f"{path.name}: {rule_file} is not relative to the test file"
        assert re.fullmatch(r"\d+m", suite["evaluation_interval"])
        assert suite["group_eval_order"], "promtool needs the group order (it evaluates in map order otherwise)"
        for test in suite["tests"]:
            assert test["interval"] == suite["evaluation_interval"], test["name"]


def test_every_alert_fires_and_stays_silent_somewhere(seed: System, generated_copy: Path) -> None:
    checks = alert_checks(generated_copy / "claude-code-bot")
    alerts = {(r["alert"], r["labels"].get("burn_tier")) for groups in rule_files(seed).values() for g in groups for r in g["rules"] if "alert" in r}
    assert len(alerts) == 4 * 4 + len(seed.alerts)
    for alertname, tier in sorted(alerts, key=str):
        mine = [(name, c) for name, c in checks if c["alertname"] == alertname and (tier is None or tier in name)]
        fired = [c for _, c in mine if any(a["exp_labels"].get("burn_tier") == tier for a in c["exp_alerts"])]
        silent = [c for _, c in mine if not any(a["exp_labels"].get("burn_tier") == tier for a in c["exp_alerts"])]
        assert fired, f"{alertname} {tier or ''}: no case where it must fire"
        assert silent, f"{alertname} {tier or ''}: no case where it must stay silent"
        for check in fired:
            for alert in check["exp_alerts"]:
                assert {"severity", "priority", "service"} <= set(alert["exp_labels"])
                assert alert["exp_annotations"]["summary"] and alert["exp_annotations"]["description"]
    assert uncovered(seed) == []


def test_every_slo_has_the_standard_scenarios(seed: System, generated_copy: Path) -> None:
    names = [t["name"] for suite in suites(generated_copy / "claude-code-bot").values() for t in suite["tests"]]
    for slo in seed.slos:
        mine = [n for n in names if n.startswith(slo.name + ":")]
        for scenario in ("quiet", "healthy", "outage", "recovery", "burst too short", "just above", "just below"):
            assert any(scenario in n for n in mine), f"SLO {slo.name}: no {scenario} scenario"
        if slo.min_events:
            assert any("low traffic" in n for n in mine)
    outage = next(n for n in names if n.startswith("error-rate: outage"))
    assert "page-fast fires 1 min after the start (predicted 0.86 min)" in outage


def test_quiet_traffic_is_checked_for_nan_and_no_data(generated_copy: Path) -> None:
    for suite in suites(generated_copy / "claude-code-bot").values():
        for test in suite["tests"]:
            exprs = [c["expr"] for c in test.get("promql_expr_test", [])]
            if "alertname" in str(test.get("alert_rule_test")) and "BudgetBurn" in str(test["alert_rule_test"]):
                assert any("> -Inf < +Inf" in e for e in exprs), test["name"]
            if "quiet" in test["name"]:
                assert any(e.startswith("slo:error_ratio:30d") for e in exprs)


def _mutate(system_dir: Path, expr: str) -> None:
    for path in (system_dir / "prometheus" / "rules").glob("*.yml"):
        data = yaml.safe_load(path.read_text())
        for group in data["groups"]:
            for rule in group["rules"]:
                if "alert" in rule:
                    rule["expr"] = expr
        path.write_text(yaml.safe_dump(data, sort_keys=False))


def _failing_alertnames(system_dir: Path) -> set[str]:
    findings = promtool_test_rules(system_dir)
    return {m for f in findings for m in re.findall(r"alertname: (\w+)", f.message)}


def test_the_suites_bite_alerts_that_never_fire(generated_copy: Path, seed: System, promtool: str) -> None:
    system_dir = generated_copy / "claude-code-bot"
    _mutate(system_dir, "vector(1) < 0")
    names = {r["alert"] for groups in rule_files(seed).values() for g in groups for r in g["rules"] if "alert" in r}
    assert _failing_alertnames(system_dir) == names


def test_the_suites_bite_alerts_that_always_fire(generated_copy: Path, seed: System, promtool: str) -> None:
    system_dir = generated_copy / "claude-code-bot"
    _mutate(system_dir, "vector(1)")
    names = {r["alert"] for groups in rule_files(seed).values() for g in groups for r in g["rules"] if "alert" in r}
    assert _failing_alertnames(system_dir) == names


def test_a_new_slo_gets_its_suite_with_no_hand_work(seed: System, tmp_path: Path, promtool: str) -> None:
    ai = seed.catalog["ai_api_calls_total"]
    new = SLO("ai-calls", Decimal("99.5"), RatioIndicator(total=ai(job="claude-code-bot"), bad=ai(job="claude-code-bot", status=matches("5..|error"))),
              "Calls to the AI API succeed")
    system = dataclasses.replace(seed, slos=seed.slos + (new,))
    out = tmp_path / "generated"
    write_tree(compile_all([system]), out)
    system_dir = out / "claude-code-bot"
    suite = system_dir / TESTS_DIR / "slo-ai-calls.test.yml"
    assert suite.is_file()
    text = suite.read_text()
    # Series derived from the new SLO's selectors: a bad one matching status=~"5..|error", a good one not.
    assert 'series: ai_api_calls_total{job="claude-code-bot", status="500"}' in text
    good = re.findall(r'series: ai_api_calls_total\{job="claude-code-bot", status="([^"]+)"\}', text)
    assert any(not re.fullmatch("5..|error", status) for status in good), good
    for path in list((system_dir / TESTS_DIR).glob("*.yml")):
        if "ai-calls" not in path.name:
            path.unlink()
    assert promtool_test_rules(system_dir) == []


# ---------------------------------------------------------------- suites shared by SLOs of one template


def _route_slos(*objectives: str, min_events: tuple[int | None, ...] = ()) -> System:
    requests = counter("shop_requests_total", "Requests.", ["route", "code"])
    slos = tuple(
        SLO(f"route-{i}", objective, RatioIndicator(total=requests(route=f"/r{i}"), bad=requests(route=f"/r{i}", code=matches("5.."))),
            f"Route /r{i} answers route-{i} callers", runbook_url=f"https://runbooks.example/route-{i}",
            min_events=(min_events[i] if i < len(min_events) else None))
        for i, objective in enumerate(objectives)
    )
    return System("shop", metrics=(requests,), slos=slos)


def test_slos_of_one_template_share_one_suite_that_passes(tmp_path: Path, promtool: str) -> None:
    system = _route_slos("99.9", "99.9", "99.9")
    assert suite_owners(system) == {"route-0": "route-0", "route-1": "route-0", "route-2": "route-0"}
    out = tmp_path / "generated"
    write_tree(compile_all([system]), out)
    system_dir = out / "shop"
    assert sorted(p.name for p in (system_dir / TESTS_DIR).glob("*.yml")) == ["slo-route-0.slow.test.yml", "slo-route-0.test.yml"]
    assert yaml.safe_load((system_dir / SHARING_FILE).read_text()) == {"proven_by": {"route-0": ["route-1", "route-2"]}}
    # The template really is the same: route-1's rules are route-0's with its names and selectors.
    rules_0 = (system_dir / "prometheus/rules/slo-route-0.rules.yml").read_text()
    rules_1 = (system_dir / "prometheus/rules/slo-route-1.rules.yml").read_text()
    assert rules_0.replace("route-0", "route-1").replace("/r0", "/r1").replace("Route0", "Route1") == rules_1
    assert promtool_test_rules(system_dir) == []


def test_a_different_objective_or_guard_gets_its_own_suite() -> None:
    assert suite_owners(_route_slos("99.9", "99.5")) == {"route-0": "route-0", "route-1": "route-1"}
    assert suite_owners(_route_slos("99.9", "99.9", min_events=(None, 20))) == {"route-0": "route-0", "route-1": "route-1"}
    output = compile_all([_route_slos("99.9", "99.5")])
    assert f"shop/{SHARING_FILE}" not in output
    assert {p for p in output if p.startswith(f"shop/{TESTS_DIR}/")} == {
        f"shop/{TESTS_DIR}/slo-route-{i}{s}.test.yml" for i in (0, 1) for s in ("", ".slow")}


def test_the_seed_slos_each_have_their_own_suite(seed: System) -> None:
    assert suite_owners(seed) == {s.name: s.name for s in seed.slos}


def test_ccb_observe_test_reports_each_alert_and_the_shared_suites(tmp_path: Path, promtool: str) -> None:
    from click.testing import CliRunner

    from ccb_observe.cli import main

    module = tmp_path / "shop.py"
    module.write_text(
        "from ccb_observe import SLO, RatioIndicator, System, counter\n"
        "from ccb_observe.promql import matches\n"
        "requests = counter('shop_requests_total', 'Requests.', ['route', 'code'])\n"
        "SHOP = System('shop', metrics=(requests,), slos=tuple(\n"
        "    SLO(f'route-{i}', '99.9', RatioIndicator(total=requests(route=f'/r{i}'), bad=requests(route=f'/r{i}', code=matches('5..'))),\n"
        "        f'Route /r{i} answers') for i in range(3)))\n"
    )
    result = CliRunner().invoke(main, ["test", "--definitions", str(module)])
    assert result.exit_code == 0, result.output
    assert "system shop" in result.output
    assert re.search(r"ok +Route0BudgetBurn: (\d+)/\1 cases pass", result.output), result.output
    assert "2 SLO(s) proven by the suite of an SLO whose rules are theirs up to names and selectors" in result.output
