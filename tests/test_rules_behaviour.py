"""The SLO rules on synthetic series, with expectations stated by hand (not by the suites' oracle):
an outage pages quickly, healthy traffic pages nobody, stopped traffic leaves no NaN/Inf, and a
low-traffic service does not page on one error."""

from __future__ import annotations

import subprocess
from fractions import Fraction
from pathlib import Path

import yaml

from ccb_observe.compile.rules import rule_files
from ccb_observe.model import System
from ccb_observe.output import write_tree
from ccb_observe.compile import compile_all
from ccb_observe.scenarios import Phase, indicator_series, quiet, steady, traffic


def _slo(system: System, name: str):  # type: ignore[no-untyped-def]
    return next(s for s in system.slos if s.name == name)


def _count(expr: str, at: str, value: int) -> dict[str, object]:
    return {"expr": f"count({expr}) or vector(0)", "eval_time": at, "exp_samples": [{"labels": "{}", "value": value}]}


def _run(tmp_path: Path, system: System, slo_name: str, flow, checks: list[dict[str, object]], promtool: str) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "generated"
    write_tree(compile_all([system]), out)
    rules_file = f"slo-{slo_name}.rules.yml"
    slo = _slo(system, slo_name)
    test = {
        "rule_files": [f"../rules/{rules_file}"],
        "evaluation_interval": "1m",
        "group_eval_order": [g["name"] for g in rule_files(system)[rules_file]],
        "tests": [{
            "interval": "1m",
            "input_series": [{"series": s, "values": v} for s, v in indicator_series(slo, flow, system.catalog)],
            "promql_expr_test": checks,
        }],
    }
    path = out / system.name / "prometheus" / "tests" / "behaviour.test.yml"
    path.write_text(yaml.safe_dump(test, sort_keys=False))
    done = subprocess.run([promtool, "test", "rules", path.name], cwd=path.parent, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


PAGE = 'ALERTS{alertname="ErrorRateBudgetBurn", alertstate="firing", burn_tier="page-fast", severity="critical"}'


def test_an_outage_pages_within_two_minutes(tmp_path: Path, seed: System, promtool: str) -> None:
    # 14.4 x 0.1% of an hour is 52 s of full outage: the page comes at the first evaluation after.
    flow = traffic(1, steady(65, Fraction(0)), steady(10, Fraction(1)))
    checks = [_count(PAGE, "65m", 0), _count(PAGE, "66m", 1), _count(PAGE, "70m", 1)]
    _run(tmp_path, seed, "error-rate", flow, checks, promtool)


def test_healthy_low_error_traffic_pages_nobody(tmp_path: Path, seed: System, promtool: str) -> None:
    # 0.05% errors: half the budget, for six hours.
    flow = traffic(1, steady(360, Fraction(1, 2000)))
    checks = [_count('ALERTS{alertstate="firing"}', at, 0) for at in ("30m", "2h", "6h")]
    checks.append({"expr": 'slo:error_ratio:1h{slo="error-rate"}', "eval_time": "6h",
                   "exp_samples": [{"labels": 'slo:error_ratio:1h{service="claude-code-bot", slo="error-rate", team="platform"}', "value": 0.0005}]})
    _run(tmp_path, seed, "error-rate", flow, checks, promtool)


def test_traffic_that_stops_leaves_no_nan_or_inf(tmp_path: Path, seed: System, promtool: str) -> None:
    flow = traffic(1, steady(60, Fraction(1, 100)), quiet(120))
    recorded = '{__name__=~"slo:.+", slo="latency"}'
    checks = [
        {"expr": f"count({recorded}) - count(({recorded} > -Inf) < +Inf)", "eval_time": at, "exp_samples": [{"labels": "{}", "value": 0}]}
        for at in ("30m", "70m", "3h")
    ]
    checks.append({"expr": 'slo:error_ratio:5m{slo="latency"}', "eval_time": "70m", "exp_samples": []})  # no traffic: no data
    checks.append({"expr": 'slo:error_ratio:30m{slo="latency"}', "eval_time": "3h", "exp_samples": []})
    _run(tmp_path, seed, "latency", flow, checks, promtool)


def test_a_low_traffic_service_does_not_page_on_one_error(tmp_path: Path, seed: System, promtool: str) -> None:
    # Three integrations an hour, one failing: 33% against a 28.8% page threshold, but 3 < min_events.
    flow = traffic(1, Phase(180, Fraction(1, 20), Fraction(1, 3)))
    page = 'ALERTS{alertname="IntegrationSuccessBudgetBurn", alertstate="firing", severity="critical"}'
    checks = [_count(page, at, 0) for at in ("1h", "2h", "3h")]
    checks.append({"expr": 'slo:error_ratio:1h{slo="integration-success"} > 0.288', "eval_time": "3h",
                   "exp_samples": [{"labels": 'slo:error_ratio:1h{service="claude-code-bot", slo="integration-success", team="platform"}', "value": 1 / 3}]})
    _run(tmp_path, seed, "integration-success", flow, checks, promtool)
