"""promtool: `check rules` on rule files, `test rules` on generated suites."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from .tools import Result, run_tool


def check_rules(files: Iterable[Path]) -> Result:
    return run_tool("promtool", ["check", "rules", *(str(f) for f in sorted(files))])


def test_rules(files: Iterable[Path], cwd: Path | None = None) -> Result:
    return run_tool("promtool", ["test", "rules", *(str(f) for f in sorted(files))], cwd=str(cwd) if cwd else None)


def suite_cases(system_dir: Path) -> dict[str, list[str]]:
    """Alert name -> the names of the generated test cases that check it."""
    from ..compile.promtool_tests import TESTS_DIR
    from ..output import read_yaml

    cases: dict[str, list[str]] = {}
    for suite in sorted((system_dir / TESTS_DIR).glob("*.yml")):
        for test in read_yaml(suite.read_text())["tests"]:
            for alertname in sorted({t["alertname"] for t in test.get("alert_rule_test", [])}):
                cases.setdefault(alertname, []).append(test["name"])
    return cases
