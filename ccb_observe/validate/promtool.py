"""promtool: `check rules` on rule files, `test rules` on generated suites."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from .tools import Result, run_tool


def check_rules(files: Iterable[Path]) -> Result:
    return run_tool("promtool", ["check", "rules", *(str(f) for f in sorted(files))])


def test_rules(files: Iterable[Path], cwd: Path | None = None) -> Result:
    return run_tool("promtool", ["test", "rules", *(str(f) for f in sorted(files))], cwd=str(cwd) if cwd else None)
