"""`ccb-observe check`: passes on fresh output, fails (exit 1) naming file and line on stale or
broken output, exits 2 on bad input or a missing tool without touching anything, and runs its
checks in parallel within the time budget."""

from __future__ import annotations

import json
import resource
import shutil
import time
from functools import partial
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from ccb_observe.cli import main
from ccb_observe.model import System
from ccb_observe.output import Output
from ccb_observe.validate.findings import Finding
from ccb_observe.validate.gate import CHECKS, annotation, checks_for, promtool_test_rules, render, run_gate

from conftest import ROOT

SYSTEM_DIR = "claude-code-bot"


def check(generated: Path, *args: str, definitions: Path = ROOT / "definitions", env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, ["check", "-d", str(definitions), "-o", str(generated), *args], env=env)


def tree(directory: Path) -> dict[str, bytes]:
    return {p.relative_to(directory).as_posix(): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def without_suites(generated: Path) -> None:
    """The copy without its promtool suites (most of the gate's CPU): for tests about other checks."""
    shutil.rmtree(generated / SYSTEM_DIR / "prometheus" / "tests", ignore_errors=True)


def copy_definitions(tmp_path: Path) -> Path:
    target = tmp_path / "definitions"
    shutil.copytree(ROOT / "definitions", target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def test_gate_passes_on_fresh_output_within_budget(generated_copy: Path, promtool: str) -> None:
    started, cpu_before = time.monotonic(), cpu_seconds()
    result = check(generated_copy, "--format", "json")
    elapsed, cpu = time.monotonic() - started, cpu_seconds() - cpu_before
    report = json.loads(result.output)
    assert result.exit_code == 0, report["findings"]
    assert report["ok"] and report["findings"] == []
    assert set(report["timings"]) == set(report["checks"])
    ran = {name.split(": ")[-1] for name in report["checks"]}
    assert {"stale", "lint", "promtool/check-rules", "promtool/test-rules", "promtool/check-config",
            "amtool", "dashboards", "fluentd", "logrotate"} <= ran
    # The budget is 30 s on 2 cores. Wall time depends on what else the machine runs; the CPU the
    # gate and its tools burn does not: spread over 2 cores it is the wall time on an idle machine.
    assert cpu / 2 < 30, f"the gate used {cpu:.1f} s of CPU ({elapsed:.1f} s wall): over 30 s on 2 cores"


def test_changed_objective_without_regenerating_fails(tmp_path: Path, generated_copy: Path, promtool: str) -> None:
    without_suites(generated_copy)
    definitions = copy_definitions(tmp_path)
    source = definitions / "claude_code_bot.py"
    text = source.read_text()
    assert '"availability", 99.9,' in text
    source.write_text(text.replace('"availability", 99.9,', '"availability", 99.5,'))
    before = tree(generated_copy)
    result = check(generated_copy, definitions=definitions)
    assert result.exit_code == 1, result.output
    rules = f"{generated_copy}/{SYSTEM_DIR}/prometheus/rules/slo-availability.rules.yml"
    assert f"{rules}: error: [stale] out of date with the definitions" in result.output
    # The lint reads the stale file against the new objective and names the line.
    assert any(line.startswith(f"{rules}:") and "[lint/slo-threshold]" in line and "objective 0.999" in line
               for line in result.output.splitlines()), result.output
    assert tree(generated_copy) == before


def test_broken_rule_is_named_with_file_and_line(generated_copy: Path, promtool: str) -> None:
    without_suites(generated_copy)
    path = generated_copy / SYSTEM_DIR / "prometheus" / "rules" / "alerts.rules.yml"
    lines = path.read_text().splitlines()
    number = next(i for i, line in enumerate(lines, 1) if line.strip().startswith("expr:"))
    lines[number - 1] = lines[number - 1].replace("sum(", "sum((", 1)
    path.write_text("\n".join(lines) + "\n")
    result = check(generated_copy, "--format", "github")
    assert result.exit_code == 1
    annotations = result.stdout.splitlines()
    prefix = f"::error file={path},line={number},title="
    assert any(a.startswith(prefix + "promtool/check-rules::") for a in annotations), result.stdout
    assert any(a.startswith(prefix + "lint/syntax::") for a in annotations), result.stdout


def test_failing_promtool_suite_fails_the_gate(generated_copy: Path, promtool: str) -> None:
    without_suites(generated_copy)
    tests = generated_copy / SYSTEM_DIR / "prometheus" / "tests"
    tests.mkdir(parents=True, exist_ok=True)
    (tests / "zz-wrong.yml").write_text(
        "rule_files: [../rules/alerts.rules.yml]\n"
        "evaluation_interval: 1m\n"
        "tests:\n"
        "- interval: 1m\n"
        "  name: pod restarts page nobody\n"
        "  input_series:\n"
        "  - series: 'kube_pod_container_status_restarts_total{namespace=\"claude-code-bot\", pod=\"p\", container=\"c\"}'\n"
        "    values: '0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20'\n"
        "  alert_rule_test:\n"
        "  - eval_time: 20m\n"
        "    alertname: PodRestart\n"
        "    exp_alerts: []\n"
    )
    (tests / "zz-nothing.yml").write_text("rule_files: [missing.rules.yml]\nevaluation_interval: 1m\ntests: []\n")
    result = check(generated_copy)
    assert result.exit_code == 1
    assert f"{tests / 'zz-wrong.yml'}:5: error: [promtool/test-rules]" in result.output, result.output
    assert "PodRestart" in result.output
    assert f"{tests / 'zz-nothing.yml'}: error: [promtool/test-rules] rule file prometheus/tests/missing.rules.yml does not exist" in result.output


def test_passing_promtool_suite_passes(generated_copy: Path, promtool: str) -> None:
    without_suites(generated_copy)
    tests = generated_copy / SYSTEM_DIR / "prometheus" / "tests"
    tests.mkdir(parents=True, exist_ok=True)
    (tests / "quiet.yml").write_text(
        "rule_files: [../rules/alerts.rules.yml]\n"
        "evaluation_interval: 1m\n"
        "tests:\n"
        "- interval: 1m\n"
        "  name: no restarts, no alert\n"
        "  input_series:\n"
        "  - series: 'kube_pod_container_status_restarts_total{namespace=\"claude-code-bot\", pod=\"p\", container=\"c\"}'\n"
        "    values: '3x30'\n"
        "  alert_rule_test:\n"
        "  - eval_time: 20m\n"
        "    alertname: PodRestart\n"
        "    exp_alerts: []\n"
    )
    assert promtool_test_rules(generated_copy / SYSTEM_DIR) == []


def test_missing_tool_exits_2_with_one_message(generated_copy: Path, tmp_path: Path) -> None:
    before = tree(generated_copy)
    result = check(generated_copy, env={"PROMTOOL": str(tmp_path / "no-promtool")})
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [f"ccb-observe: PROMTOOL={tmp_path / 'no-promtool'} is not an executable file"]
    assert tree(generated_copy) == before


@pytest.mark.parametrize("source, expected", [
    ("raise RuntimeError('no such team')\n", "module raised RuntimeError: no such team"),
    ("SYSTEM = System(\n", "syntax error"),
])
def test_bad_definitions_exit_2_and_touch_nothing(tmp_path: Path, generated_copy: Path, source: str, expected: str) -> None:
    definitions = tmp_path / "bad-definitions"
    definitions.mkdir()
    (definitions / "broken.py").write_text(source)
    before = tree(generated_copy)
    result = check(generated_copy, definitions=definitions)
    assert result.exit_code == 2
    (message,) = result.output.strip().splitlines()
    assert message.startswith(f"ccb-observe: error: {definitions / 'broken.py'}:1: ") and expected in message
    assert tree(generated_copy) == before


def test_missing_output_folder_is_stale(tmp_path: Path) -> None:
    result = check(tmp_path / "nothing-here")
    assert result.exit_code == 1
    assert "[stale] not generated yet" in result.output


def test_checks_run_in_parallel(seed: System, tmp_path: Path) -> None:
    (tmp_path / seed.name).mkdir()

    def slow(number: int, system_dir: Path) -> list[Finding]:
        time.sleep(0.4)
        return [Finding(str(system_dir), 0, "slow", f"check {number} done")]

    report = run_gate([seed], {}, tmp_path, checks=lambda s: {f"slow-{i}": partial(slow, i) for i in range(4)})
    assert len(report.findings) == 4
    assert report.seconds < 1.2, f"four 0.4s checks took {report.seconds:.2f}s: not parallel"


def test_a_crashing_check_fails_the_gate(seed: System, tmp_path: Path) -> None:
    (tmp_path / seed.name).mkdir()

    def crash(system_dir: Path) -> list[Finding]:
        raise KeyError("groups")

    report = run_gate([seed], {}, tmp_path, checks=lambda s: {"crash": crash})
    assert not report.ok
    assert [f.message for f in report.findings] == ["the check crashed: KeyError: 'groups'"]


def test_registry_holds_every_check(seed: System) -> None:
    assert set(CHECKS) <= set(checks_for(seed))
    assert "lint" in checks_for(seed)
    # What docs/cli.md promises `--skip` can name: a check dropped from the registry fails here.
    assert sorted(checks_for(seed)) == ["amtool", "dashboards", "fluentd", "lint", "logrotate",
                                        "promtool/check-config", "promtool/check-rules", "promtool/test-rules"]


def test_github_annotations_escape_their_text() -> None:
    finding = Finding("a,b:c.yml", 0, "lint/x", "50% of\nthem", "fix, it")
    assert annotation(finding) == "::error file=a%2Cb%3Ac.yml,line=1,title=lint/x::50%25 of%0Athem (fix: fix, it)"


def test_text_report_ends_with_a_verdict(seed_output: Output) -> None:
    from ccb_observe.validate.gate import Report

    assert render(Report((), ("stale",), 0.25), "text") == "ccb-observe check: 1 check(s) passed in 0.2s"


def test_pre_commit_hooks_run_real_commands() -> None:
    import re

    import yaml

    hooks = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    assert {"ccb-observe-generate", "ccb-observe-check"} <= set(hooks)
    for hook in hooks.values():
        program, command, *args = hook["entry"].split()
        assert program == "ccb-observe" and command in main.commands, hook  # type: ignore[attr-defined]
        assert CliRunner().invoke(main, [command, *args, "--help"]).exit_code == 0
        assert hook["language"] == "python"
        re.compile(hook["files"])
    assert re.search(hooks["ccb-observe-check"]["files"], "definitions/claude_code_bot.py")
    assert re.search(hooks["ccb-observe-check"]["files"], "generated/claude-code-bot/prometheus/rules/alerts.rules.yml")


def test_make_check_runs_the_gate() -> None:
    import subprocess

    # --no-print-directory: under `make test` the inherited MAKEFLAGS would add "Entering directory" lines.
    dry = subprocess.run(["make", "--no-print-directory", "-n", "check", "FORMAT=github"], cwd=ROOT, capture_output=True, text=True, check=True)
    assert dry.stdout.strip().splitlines()[-1] == ".venv/bin/ccb-observe check --format github"


def test_skip_leaves_a_check_out(generated_copy: Path, promtool: str) -> None:
    result = check(generated_copy, "--skip", "promtool/test-rules", "--skip", "amtool", "--format", "json")
    assert result.exit_code == 0, result.output
    ran = {name.split(": ")[-1] for name in json.loads(result.output)["checks"]}
    assert "promtool/test-rules" not in ran and "amtool" not in ran and {"stale", "lint", "fluentd"} <= ran
    assert check(generated_copy, "--skip", "stale").exit_code == 2  # the stale check always runs
