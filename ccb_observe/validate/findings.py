"""What a check reports: one finding per problem, naming the file and line and how to fix it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Literal

Level = Literal["error", "warning"]


@dataclass(frozen=True, order=True)
class Finding:
    file: str
    line: int
    check: str  # e.g. "promtool", "amtool", "lint/rate-over-gauge"
    message: str
    fix: str = ""
    level: Level = "error"

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        fix = f" (fix: {self.fix})" if self.fix else ""
        return f"{where}: {self.level}: [{self.check}] {self.message}{fix}"


# A check reads one system's generated folder (generated/<system>/) and reports what is wrong.
Check = Callable[[Path], list[Finding]]


def line_of(text: str, needle: str) -> int:
    """The 1-based line where `needle` (which may span lines) first starts in `text`; 0 if nowhere."""
    at = text.find(needle)
    return text.count("\n", 0, at) + 1 if at >= 0 else 0
