"""logrotate -d on the generated stanza. It exits 0 on some errors, so every `error:` line fails."""

from __future__ import annotations

import re
from pathlib import Path

from .findings import Finding
from .tools import Result, run_tool

DIR = "logrotate"
_ERROR_LINE = re.compile(r"^error: (?:(?P<file>[^:\n]+):(?P<line>[0-9]+) )?(?P<message>.*)$", re.MULTILINE)


def debug_run(stanza: Path) -> Result:
    """A dry run that reads no state (-s /dev/null) and changes nothing (-d)."""
    return run_tool("logrotate", ["-d", "-s", "/dev/null", str(stanza)])


def findings_of(result: Result, name: str) -> list[Finding]:
    found = [
        Finding(name, int(m["line"] or 0), "logrotate", m["message"], "fix the log rotation in the definitions")
        for m in _ERROR_LINE.finditer(result.output)
    ]
    if not result.ok and not found:
        found.append(Finding(name, 0, "logrotate", f"logrotate -d exited {result.returncode}: {result.output[-500:]}"))
    return found


def checks(system_dir: Path) -> list[Finding]:
    folder = system_dir / DIR
    if not folder.is_dir():
        return []
    found: list[Finding] = []
    for stanza in sorted(p for p in folder.iterdir() if p.is_file()):
        found += findings_of(debug_run(stanza), str(stanza))
    return found
