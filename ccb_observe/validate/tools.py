"""External tools run as subprocesses: found on PATH or through an environment variable."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from typing import Sequence

from ..errors import ToolMissing

INSTALL_HINT = "apt-get install -y prometheus prometheus-alertmanager logrotate ruby"
_PACKAGES = {"promtool": "prometheus", "amtool": "prometheus-alertmanager", "logrotate": "logrotate",
             "prometheus": "prometheus", "prometheus-alertmanager": "prometheus-alertmanager"}


def find_tool(name: str) -> str:
    """The tool's path: $PROMTOOL-style override first, then PATH."""
    override = os.environ.get(name.upper().replace("-", "_"))
    if override:
        if not (os.path.isfile(override) and os.access(override, os.X_OK)):
            raise ToolMissing(f"{name.upper()}={override} is not an executable file")
        return override
    found = shutil.which(name) or (shutil.which(name, path="/usr/sbin:/sbin") if name == "logrotate" else None)
    if not found:
        package = _PACKAGES.get(name, name)
        raise ToolMissing(f"{name} not found on PATH (set {name.upper().replace('-', '_')} or install it: apt-get install -y {package})")
    return found


@dataclass(frozen=True)
class Result:
    command: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    @property
    def output(self) -> str:
        return (self.stdout + self.stderr).strip()


def run_tool(name: str, args: Sequence[str], cwd: str | None = None, timeout: float = 300) -> Result:
    command = (find_tool(name), *args)
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    return Result(tuple(command), done.returncode, done.stdout, done.stderr)
