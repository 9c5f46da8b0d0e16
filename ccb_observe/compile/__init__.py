"""Compilers: each is a pure function System -> {relative path: bytes}. A new target is one module
plus one line in TARGETS."""

from __future__ import annotations

from typing import Callable, Iterable

from ..errors import CcbObserveError
from ..model import System
from ..output import Output
from . import alertmanager, docs, fluentd, grafana, kubernetes, logrotate, promtool_tests, rules, scrape

Compiler = Callable[[System], Output]

TARGETS: dict[str, Compiler] = {
    "rules": rules.compile,
    "promtool-tests": promtool_tests.compile,
    "alertmanager": alertmanager.compile,
    "scrape": scrape.compile,
    "kubernetes": kubernetes.compile,
    "docs": docs.compile,
    "grafana": grafana.compile,
    "fluentd": fluentd.compile,
    "logrotate": logrotate.compile,
}


def compile_system(system: System) -> Output:
    """Every target's files for one system, under a folder named after it."""
    merged: Output = {}
    for target, compiler in TARGETS.items():
        for path, content in compiler(system).items():
            key = f"{system.name}/{path}"
            if key in merged:
                raise CcbObserveError(f"two compilers write {key} (the second is {target!r})")
            merged[key] = content
    return merged


def compile_all(systems: Iterable[System]) -> Output:
    """Every system's files, each under its own folder, in sorted order."""
    merged: Output = {}
    for system in sorted(systems, key=lambda s: s.name):
        merged.update(compile_system(system))
    return dict(sorted(merged.items()))
