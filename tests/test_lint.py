"""The offline PromQL linter: each rule fires on a file that breaks it and stays quiet on one that
does not; the guide's own alert_rules.yml fails; our generated rules lint clean."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from ccb_observe.cli import main
from ccb_observe.loader import load_systems
from ccb_observe.model import SLO, Alert, LatencyIndicator, RatioIndicator, ScrapeJob, System, counter, gauge, histogram
from ccb_observe.output import Output
from ccb_observe.promql import histogram_quantile, rate, sum_
from ccb_observe.validate.findings import Finding
from ccb_observe.validate.lint import Known, lint_files

from conftest import ROOT, shared_dir

requests = counter("req_total", "Requests.", ["status"])
temperature = gauge("temperature_celsius", "Temperature.", ["room"])
latency = histogram("lat_seconds", "Latency.", buckets=["0.1", "0.5", "1"], labels=["route"])

SYSTEM = System(
    "lint-test",
    metrics=(requests, temperature, latency),
    slos=(
        SLO("latency", 95, LatencyIndicator(latency(), "0.5"), "Requests are fast"),
        SLO("errors", 99.9, RatioIndicator(total=requests(), bad=requests(status="500")), "Requests succeed"),
    ),
    alerts=(
        Alert("SlowRequests", histogram_quantile(0.95, sum_(rate(latency.bucket()["5m"]), by=["le"])).gt(1),
              "warning", "P2", summary="Slow", description="Slow requests", for_="5m"),
    ),
    scrape_jobs=(ScrapeJob("api", targets=("api:80",), interval="10s"),),
    scrape_interval="15s",
)
KNOWN = Known.of([SYSTEM])


def rule_file(tmp_path: Path, rules: str, name: str = "rules.yml") -> Path:
    path = tmp_path / name
    path.write_text("groups:\n- name: test\n  rules:\n" + textwrap.indent(textwrap.dedent(rules).strip() + "\n", "  "))
    return path


def alert(expr: str, name: str = "Test", for_: str | None = "5m", summary: str = "s", runbook: str = "https://r/") -> str:
    lines = [f"- alert: {name}", f"  expr: {expr!r}"]
    if for_:
        lines.append(f"  for: {for_}")
    annotations = {k: v for k, v in (("summary", summary), ("runbook_url", runbook)) if v}
    if annotations:
        lines.append("  annotations:")
        lines += [f"    {k}: {v!r}" for k, v in annotations.items()]
    return "\n".join(lines)


def ids(findings: list[Finding]) -> set[str]:
    return {f.check for f in findings}


def lint(tmp_path: Path, rules: str) -> list[Finding]:
    return lint_files([rule_file(tmp_path, rules)], KNOWN)


CASES = {
    # rule id: (a rule breaking it, a similar rule that does not)
    "lint/rate-over-gauge": (
        alert("rate(temperature_celsius[5m]) > 0.5e3"),
        alert("temperature_celsius > 30"),
    ),
    "lint/ratio-vs-absolute-rate": (
        alert('sum(rate(req_total{status="500"}[5m])) > 0.01'),
        alert('sum(rate(req_total{status="500"}[5m])) / sum(rate(req_total[5m])) > 0.01'),
    ),
    "lint/quantile-without-le": (
        alert("histogram_quantile(0.9, sum by (route) (rate(lat_seconds_bucket[5m]))) > 2"),
        alert("histogram_quantile(0.9, sum by (route, le) (rate(lat_seconds_bucket[5m]))) > 2"),
    ),
    "lint/unsupported-function": (
        alert("limitk(1, sort_by_label(temperature_celsius, 'room')) > 30"),
        alert("topk(1, sort_desc(temperature_celsius)) > 30"),
    ),
    "lint/unknown-metric": (
        alert("sum(rate(req_totl[5m])) > 5"),
        alert("sum(rate(req_total[5m])) > 5"),
    ),
    "lint/unknown-label": (
        alert('sum(rate(req_total{code="500"}[5m])) > 5'),
        alert('sum(rate(req_total{status="500", job="api", instance="a:1"}[5m])) > 5'),
    ),
    "lint/short-range": (
        alert('sum(rate(req_total{job="api"}[30s])) > 5'),  # 10s scrapes: 40s needed
        alert('sum(rate(req_total{job="api"}[40s])) > 5'),
    ),
    "lint/missing-for": (
        alert("temperature_celsius > 30", for_=None),
        alert("temperature_celsius > 30", for_="10m"),
    ),
    "lint/missing-annotation": (
        alert("temperature_celsius > 30", runbook=""),
        alert("temperature_celsius > 30"),
    ),
    "lint/slo-threshold": (
        alert("histogram_quantile(0.95, sum by (le) (rate(lat_seconds_bucket[5m]))) > 0.25"),  # the SLO allows 0.5
        alert("histogram_quantile(0.95, sum by (le) (rate(lat_seconds_bucket[5m]))) > 0.5"),
    ),
}


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_fires_on_a_bad_rule(tmp_path: Path, rule_id: str) -> None:
    bad, _ = CASES[rule_id]
    findings = lint(tmp_path, bad)
    assert rule_id in ids(findings), findings
    (finding,) = [f for f in findings if f.check == rule_id]
    assert finding.line in (4, 5), finding  # the rule (line 4) or its expr (line 5)
    assert finding.fix and finding.message.startswith("alert Test: ")


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_quiet_on_a_good_rule(tmp_path: Path, rule_id: str) -> None:
    _, good = CASES[rule_id]
    assert lint(tmp_path, good) == []


def test_threshold_against_the_declared_alert_of_the_same_name(tmp_path: Path) -> None:
    text = "histogram_quantile(0.95, sum by (le) (rate(lat_seconds_bucket[5m]))) > {}"
    (finding,) = lint(tmp_path, alert(text.format("0.75"), name="SlowRequests"))
    assert finding.check == "lint/slo-threshold" and "> 1" in finding.message and "test_lint.py" in finding.message
    assert lint(tmp_path, alert(text.format("1"), name="SlowRequests")) == []


def test_newer_functions_are_named(tmp_path: Path) -> None:
    (finding,) = lint(tmp_path, CASES["lint/unsupported-function"][0])
    assert finding.message.startswith("alert Test: limitk(), sort_by_label() not in Prometheus 2.42")


def test_missing_summary_is_named(tmp_path: Path) -> None:
    (finding,) = lint(tmp_path, alert("temperature_celsius > 30", summary=""))
    assert "`summary`" in finding.message


def test_series_recorded_in_the_same_files_are_known(tmp_path: Path) -> None:
    recording = rule_file(tmp_path, "- record: job:req:rate5m\n  expr: sum by (status) (rate(req_total[5m]))", "a.yml")
    reading = rule_file(tmp_path, alert('job:req:rate5m{status="500"} > 3'), "b.yml")
    assert lint_files([recording, reading], KNOWN) == []
    assert "lint/unknown-metric" in ids(lint_files([reading], KNOWN))


def test_range_over_a_recorded_series_follows_its_group_interval(tmp_path: Path) -> None:
    path = tmp_path / "r.yml"
    path.write_text(textwrap.dedent("""\
        groups:
        - name: slow
          interval: 5m
          rules:
          - record: job:req:increase5m
            expr: sum(increase(req_total[5m]))
        - name: reader
          rules:
          - record: job:req:increase10m
            expr: sum_over_time(job:req:increase5m[10m])
        """))
    (finding,) = lint_files([path], KNOWN)
    assert finding.check == "lint/short-range" and finding.line == 10 and "20m" in finding.fix


def test_syntax_and_structure_errors_are_findings(tmp_path: Path) -> None:
    (finding,) = lint(tmp_path, alert("rate(req_total[5m] > 1"))
    assert finding.check == "lint/syntax" and finding.line == 5
    broken = tmp_path / "broken.yml"
    broken.write_text("groups:\n- name: [\n")
    assert ids(lint_files([broken], KNOWN)) == {"lint/yaml"}
    shapeless = tmp_path / "shapeless.yml"
    shapeless.write_text("rules: []\n")
    assert ids(lint_files([shapeless], KNOWN)) == {"lint/structure"}


def test_edited_objective_in_a_generated_rule_disagrees_with_the_slo(tmp_path: Path, seed_output: Output) -> None:
    name = "claude-code-bot/prometheus/rules/slo-error-rate.rules.yml"
    text = seed_output[name].decode()
    assert "vector(0.999)" in text and "/ 0.001" in text
    path = tmp_path / "slo.yml"
    path.write_text(text.replace("vector(0.999)", "vector(0.99)").replace("/ 0.001", "/ 0.01"))
    findings = lint_files([path], Known.of(load_systems(ROOT / "definitions")))
    assert {f.check for f in findings} == {"lint/slo-threshold"}
    assert any("objective 0.99 disagrees" in f.message for f in findings)
    assert any("error budget 0.01 disagrees" in f.message for f in findings)


def test_generated_rules_lint_clean(tmp_path: Path, seed_output: Output) -> None:
    files = []
    for name, content in seed_output.items():
        if "/prometheus/rules/" in name:
            files.append(tmp_path / Path(name).name)
            files[-1].write_bytes(content)
    assert len(files) >= 5
    assert lint_files(files, Known.of(load_systems(ROOT / "definitions"))) == []


def guide_alert_rules(tmp_path: Path) -> Path:
    guide = shared_dir("seed", "operations-guide.md").read_text()
    match = re.search(r"```yaml\n# alert_rules\.yml\n(.*?)```", guide, re.S)
    assert match, "the guide has an alert_rules.yml block"
    path = tmp_path / "alert_rules.yml"
    path.write_text(match.group(1))
    return path


def test_cli_lint_on_the_guides_alert_rules(tmp_path: Path) -> None:
    path = guide_alert_rules(tmp_path)
    result = CliRunner().invoke(main, ["lint", "--definitions", str(ROOT / "definitions"), str(path)])
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert any("HighErrorRate" in l and "lint/ratio-vs-absolute-rate" in l for l in lines), result.output
    assert any("IntegrationFailures" in l and "lint/ratio-vs-absolute-rate" in l for l in lines), result.output
    assert any("HighResponseTime" in l and "lint/slo-threshold" in l for l in lines), result.output
    assert any("PodRestart" in l and "lint/missing-for" in l for l in lines), result.output
    assert all(re.match(rf"{re.escape(str(path))}:\d+: error: \[lint/", l) for l in lines[:-1]), result.output


def test_cli_lint_formats(tmp_path: Path) -> None:
    path = rule_file(tmp_path, alert("temperature_celsius > 30", for_=None))
    definitions = tmp_path / "defs.py"
    definitions.write_text(
        "from ccb_observe.model import System, gauge\n"
        "SYSTEM = System('formats', metrics=(gauge('temperature_celsius', 'Temperature.', ['room']),))\n"
    )
    runner = CliRunner()
    github = runner.invoke(main, ["lint", "-d", str(definitions), "--format", "github", str(path)])
    assert github.exit_code == 1
    assert github.output.startswith(f"::error file={path},line=4,title=lint/missing-for::alert Test: ")
    import json

    report = json.loads(runner.invoke(main, ["lint", "-d", str(definitions), "--format", "json", str(path)]).output)
    assert report["ok"] is False and report["findings"][0]["check"] == "lint/missing-for"
    clean = rule_file(tmp_path, alert("temperature_celsius > 30"), "clean.yml")
    assert runner.invoke(main, ["lint", "-d", str(definitions), str(clean)]).exit_code == 0


def test_cli_lint_bad_input_exits_2(tmp_path: Path) -> None:
    runner = CliRunner()
    missing = runner.invoke(main, ["lint", str(tmp_path / "nope.yml")])
    assert missing.exit_code == 2
    raising = tmp_path / "raising.py"
    raising.write_text("raise RuntimeError('boom')\n")
    path = rule_file(tmp_path, alert("temperature_celsius > 30"))
    result = runner.invoke(main, ["lint", "-d", str(raising), str(path)])
    assert result.exit_code == 2 and "raising.py:1" in result.output and "boom" in result.output


def test_guides_sample_queries_rate_over_a_gauge(tmp_path: Path) -> None:
    """The guide's Grafana queries, as recording rules: rate() over the mean-time gauge is named."""
    import yaml

    guide = shared_dir("seed", "operations-guide.md").read_text()
    match = re.search(r"```promql\n(.*?)```", guide, re.S)
    assert match, "the guide has a block of sample PromQL"
    queries = [line for line in match.group(1).splitlines() if line.strip() and not line.startswith("#")]
    rules = [{"record": f"guide:query{i}", "expr": q} for i, q in enumerate(queries)]
    path = tmp_path / "queries.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "guide", "rules": rules}]}))
    findings = lint_files([path], Known.of(load_systems(ROOT / "definitions")))
    gauge_query = next(i for i, q in enumerate(queries) if "pg_stat_statements_mean_time_ms" in q)
    assert [(f.check, f.message.split(": ")[0]) for f in findings] == [("lint/rate-over-gauge", f"record guide:query{gauge_query}")]
