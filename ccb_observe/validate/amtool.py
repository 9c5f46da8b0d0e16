"""amtool: `check-config` on alertmanager.yml (templates included), and every row of the routing
table (routing-tests.yml) replayed with `config routes test --verify.receivers=…`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..compile.alertmanager import CONFIG, ROUTING_TESTS
from ..output import read_yaml
from ..promql import quote
from .findings import Finding, line_of
from .tools import Result, run_tool


def checks(system_dir: Path) -> list[Finding]:
    config = system_dir / CONFIG
    if not config.is_file():
        return []  # the system declares no routing
    checked = check_config(config)
    if not checked.ok:
        return [Finding(str(config), 0, "amtool", f"check-config failed: {checked.output}", "fix the routing definition")]
    return routing_findings(config, system_dir / ROUTING_TESTS)


def check_config(config: Path) -> Result:
    return run_tool("amtool", ["check-config", str(config)])


def route_test(config: Path, receivers: list[str], labels: dict[str, str]) -> Result:
    # Quoted values: amtool parses each argument as a matcher (label="value").
    matchers = [f"{name}={quote(value)}" for name, value in sorted(labels.items())]
    return run_tool("amtool", ["config", "routes", "test", f"--config.file={config}",
                               f"--verify.receivers={','.join(receivers)}", *matchers])


def routing_findings(config: Path, tests_file: Path) -> list[Finding]:
    if not tests_file.is_file():
        return [Finding(str(tests_file), 0, "amtool", "routing tests missing", "run `ccb-observe generate`")]
    text = tests_file.read_text()
    tests: list[dict[str, Any]] = (read_yaml(text) or {}).get("tests", [])
    findings = []
    for test in tests:
        result = route_test(config, list(test["receivers"]), dict(test["labels"]))
        if not result.ok:
            got = result.stdout.strip().splitlines()[0] if result.stdout.strip() else result.output
            findings.append(Finding(
                str(tests_file), line_of(text, f"- alert: {test['alert']}\n"), "amtool",
                f"{test['alert']} is routed to {got}, the model says {','.join(test['receivers'])}",
                "regenerate, or fix the routes in the definitions",
            ))
    return findings
