"""The gate `ccb-observe check` runs: every check over every system's generated folder, in
parallel (the tools are subprocesses, so threads overlap them), reported as text, JSON or GitHub
annotations.

`CHECKS` holds the checks that read a generated folder only; `checks_for(system)` adds those that
also need the model (the PromQL lint judges rules against the system's catalog and SLOs). The stale
check compares the whole tree with what the definitions compile to, like `generate --check`."""

from __future__ import annotations

import json
import os
import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Callable, Iterable, Literal, Mapping, Sequence

from ..compile.promtool_tests import TESTS_DIR
from ..compile.rules import RULES_DIR
from ..errors import ToolMissing
from ..model import System
from ..output import Output, stale_files
from . import amtool, dashboards, fluentd, logrotate, scrape
from .findings import Check, Finding, line_of
from .lint import lint_system_dir, read_rules
from .promtool import check_rules, test_rules

Format = Literal["text", "json", "github"]


# ---------------------------------------------------------------- promtool over a generated folder


def promtool_check_rules(system_dir: Path) -> list[Finding]:
    files = sorted((system_dir / RULES_DIR).glob("*.yml"))
    if not files:
        return []
    result = check_rules(files)
    if result.ok:
        return []
    findings = [_promtool_rule_error(line) for line in result.stderr.splitlines() if _PROMTOOL_ERROR.match(line)]
    return findings or [Finding(str(system_dir / RULES_DIR), 0, "promtool/check-rules", result.output, "see promtool's message")]


# `file: 5:11: group "g", rule 1, "X": message`, or without the position.
_PROMTOOL_ERROR = re.compile(r'^(?P<file>\S[^:]*): (?:(?P<line>\d+):\d+: )?(?P<message>.+)$')
_PROMTOOL_RULE = re.compile(r'group "(?P<group>[^"]*)", rule (?P<index>\d+)')


def _promtool_rule_error(text: str) -> Finding:
    match = _PROMTOOL_ERROR.match(text)
    assert match is not None
    file, message = match["file"], match["message"]
    line = int(match["line"] or 0)
    rule = _PROMTOOL_RULE.search(message)
    if not line and rule:
        line = _rule_line(Path(file), rule["group"], int(rule["index"]))
    return Finding(file, line, "promtool/check-rules", message, "fix the rule so that Prometheus 2.42 loads it")


def _rule_line(path: Path, group: str, index: int) -> int:
    rules, _ = read_rules(path, str(path))
    return next((r.line for r in rules if r.group == group and r.index == index), 0)


def promtool_test_rules(system_dir: Path) -> list[Finding]:
    """The generated unit-test suites, one promtool per file (each uses one core), the largest
    first so that the last to finish is a short one."""
    suites = sorted((system_dir / TESTS_DIR).glob("*.yml"), key=lambda p: (-p.stat().st_size, p.name))
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        return [f for found in pool.map(partial(_test_suite, system_dir), suites) for f in found]


def _test_suite(system_dir: Path, suite: Path) -> list[Finding]:
    result = test_rules([suite.relative_to(system_dir)], cwd=system_dir)
    findings = []
    # promtool 2.42 only warns when a rule file is missing, then passes: that is a failure here.
    for missing in re.findall(r"WARNING: no file match pattern (\S+)", result.output):
        findings.append(Finding(str(suite), 0, "promtool/test-rules", f"rule file {missing} does not exist: the suite tests nothing", "point rule_files at the generated rule files"))
    if not result.ok:
        for block in _failed_blocks(result.stderr) or [result.output]:
            name = re.search(r"name: (.+?),", block)
            line = line_of(suite.read_text(), f"name: {name[1]}") if name else 0
            findings.append(Finding(str(suite), line, "promtool/test-rules", " ".join(block.split()), "the rules no longer behave as the suite expects: fix the rules or regenerate"))
    return findings


def _failed_blocks(stderr: str) -> list[str]:
    return [b.strip() for b in stderr.split("FAILED:")[1:] if b.strip()]


# ---------------------------------------------------------------- the registry


CHECKS: dict[str, Check] = {
    "promtool/check-rules": promtool_check_rules,
    "promtool/test-rules": promtool_test_rules,
    "promtool/check-config": scrape.checks,
    "amtool": amtool.checks,
    "dashboards": dashboards.checks,
    "fluentd": fluentd.checks,
    "logrotate": logrotate.checks,
}


def checks_for(system: System) -> dict[str, Check]:
    """Everything the gate runs on one system's folder."""
    return {**CHECKS, "lint": partial(lint_system_dir, system)}


SKIPPABLE = frozenset({*CHECKS, "lint"})  # everything but the stale check


def without(checks: Mapping[str, Check], skipped: Iterable[str]) -> dict[str, Check]:
    return {name: check for name, check in checks.items() if name not in set(skipped)}


def stale_findings(output: Output, generated: Path) -> list[Finding]:
    findings = []
    for name in stale_files(output, generated):
        on_disk = (generated / name).is_file()
        what = "out of date with the definitions" if on_disk and name in output else "not generated yet" if name in output else "no longer generated"
        findings.append(Finding(str(generated / name), 0, "stale", what, "run `make generate` and commit the result"))
    return findings


# ---------------------------------------------------------------- running them


@dataclass(frozen=True)
class Report:
    findings: tuple[Finding, ...]
    checks: tuple[str, ...]  # "<system>: <check>", every check that ran
    seconds: float
    timings: tuple[tuple[str, float], ...] = ()  # (check, seconds it took)

    @property
    def ok(self) -> bool:
        return not any(f.level == "error" for f in self.findings)


def run_gate(systems: Sequence[System], output: Output, generated: Path,
             checks: Callable[[System], Mapping[str, Check]] = checks_for) -> Report:
    """Every check on every system, in parallel. A missing tool stops the gate (ToolMissing)."""
    started = time.monotonic()
    # First, alone: some checks put temporary files beside the ones they check (promtool resolves
    # paths relative to a config), and the stale check must not see them.
    stale = stale_findings(output, generated)
    jobs: dict[str, Callable[[], list[Finding]]] = {}
    for system in systems:
        folder = generated / system.name
        if folder.is_dir():  # a missing folder is reported by the stale check
            for name, check in checks(system).items():
                jobs[f"{system.name}: {name}"] = partial(check, folder)
    stale_seconds = time.monotonic() - started
    with ThreadPoolExecutor(max_workers=_workers()) as pool:
        futures = {name: pool.submit(_run, name, job) for name, job in jobs.items()}
        results = {name: future.result() for name, future in futures.items()}
    findings = stale + [f for found, _ in results.values() for f in found]
    timings = (("stale", stale_seconds), *((name, seconds) for name, (_, seconds) in results.items()))
    return Report(tuple(sorted(set(findings))), tuple(name for name, _ in timings), time.monotonic() - started, timings)


def _run(name: str, job: Callable[[], list[Finding]]) -> tuple[list[Finding], float]:
    started = time.monotonic()
    try:
        found = job()
    except ToolMissing:
        raise
    except Exception as exc:  # a check that crashes has not passed: say which and why
        system, check = name.split(": ", 1)
        found = [Finding(system, 0, check, f"the check crashed: {type(exc).__name__}: {exc}", "report it")]
    return found, time.monotonic() - started


def _workers() -> int:
    # The checks mostly wait for subprocesses: twice the cores keeps both busy.
    return 2 * (os.cpu_count() or 1)


# ---------------------------------------------------------------- reporting


def render(report: Report, fmt: Format, title: str = "ccb-observe check") -> str:
    if fmt == "json":
        return json.dumps({
            "ok": report.ok,
            "seconds": round(report.seconds, 2),
            "checks": list(report.checks),
            "timings": {name: round(seconds, 2) for name, seconds in report.timings},
            "findings": [{"file": f.file, "line": f.line, "check": f.check, "level": f.level, "message": f.message, "fix": f.fix} for f in report.findings],
        }, indent=2)
    if fmt == "github":
        return "\n".join(annotation(f) for f in report.findings)
    lines = [str(f) for f in report.findings]
    verdict = "passed" if report.ok else f"failed ({len(report.findings)} finding(s))"
    lines.append(f"{title}: {len(report.checks)} check(s) {verdict} in {report.seconds:.1f}s")
    return "\n".join(lines)


def annotation(finding: Finding) -> str:
    """A GitHub Actions workflow command: `::error file=…,line=…,title=…::message`."""
    props = {"file": finding.file, "line": str(finding.line or 1), "title": finding.check}
    text = finding.message + (f" (fix: {finding.fix})" if finding.fix else "")
    joined = ",".join(f"{k}={_escape_property(v)}" for k, v in props.items())
    return f"::{finding.level} {joined}::{_escape_data(text)}"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")
