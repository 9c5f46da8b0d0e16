"""logrotate/<system>: the stanza that rotates the bot's own log files, from the pipeline's policy."""

from __future__ import annotations

from ..model import System
from ..model.logs import LogRotation
from ..output import HEADER
from ..output import Output as Files

DIR = "logrotate"


def stanza(rotation: LogRotation) -> str:
    lines = [" ".join(rotation.paths) + " {", f"    {rotation.frequency}"]
    if rotation.maxsize:
        lines.append(f"    maxsize {rotation.maxsize}")
    lines += [f"    rotate {rotation.rotate}", "    missingok", "    notifempty"]
    if rotation.compress:
        lines.append("    compress")
        if rotation.delaycompress:
            lines.append("    delaycompress")
    if rotation.copytruncate:
        lines.append("    copytruncate")
    if rotation.create is not None:
        create = rotation.create
        lines.append("    " + " ".join(p for p in ("create", create.mode, create.owner, create.group) if p))
    if rotation.postrotate:
        # once per run, not once per file the glob matches
        lines += ["    sharedscripts", "    postrotate", *(f"        {cmd}" for cmd in rotation.postrotate), "    endscript"]
    lines.append("}")
    return "\n".join(lines) + "\n"


def compile(system: System) -> Files:
    if system.logs is None or system.logs.rotation is None:
        return {}
    return {f"{DIR}/{system.name}": (HEADER + stanza(system.logs.rotation)).encode()}
