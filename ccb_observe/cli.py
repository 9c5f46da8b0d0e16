"""The `ccb-observe` command. Exit codes: 0 ok, 1 a check failed, 2 bad input or missing tool."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Iterator, NoReturn

import click

from .compile import compile_all, compile_stream
from .errors import CcbObserveError, DefinitionError, ToolMissing
from .loader import load_systems
from .model import System
from .output import Output, stale_files, write_tree
from .validate.gate import SKIPPABLE, Format, Report, checks_for, render, run_gate, without
from .validate.lint import Known, lint_files

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2

definitions_option = click.option(
    "--definitions", "-d", default="definitions", show_default=True,
    help="Directory of definition modules, a .py file, or a dotted module path.",
)
output_option = click.option(
    "--output", "-o", default="generated", show_default=True, type=click.Path(file_okay=False, path_type=Path),
    help="Directory the generated files live in.",
)


def fail(message: str, code: int) -> NoReturn:
    click.echo(f"ccb-observe: {message}", err=True)
    sys.exit(code)


def compiled(systems: list[System]) -> Output:
    """Every generated file of `systems`, or exit 2 naming what is wrong."""
    try:
        return compile_all(systems)
    except CcbObserveError as exc:  # a compiler refusing a definition
        fail(f"error: {exc}", EXIT_BAD_INPUT)


@click.group()
@click.version_option(package_name="ccb-observe")
def main() -> None:
    """Observability as code: compile definitions into Prometheus, Alertmanager, Grafana and fluentd files."""


@main.command()
@definitions_option
@output_option
@click.option("--check", is_flag=True, help="Write nothing; exit 1 listing the files that are stale.")
def generate(definitions: str, output: Path, check: bool) -> None:
    """Compile the definitions into OUTPUT (atomically: all files or none)."""
    systems = loaded(definitions)
    produced: list[str] = []

    def files() -> Iterator[tuple[str, bytes]]:  # compiled as written: one target in memory at a time
        for name, content in compile_stream(systems):
            produced.append(name)
            yield name, content

    try:
        if check:
            stale = stale_files(files(), output)
        else:
            written = write_tree(files(), output)
    except CcbObserveError as exc:  # a compiler refusing a definition: nothing was written
        fail(f"error: {exc}", EXIT_BAD_INPUT)
    except OSError as exc:
        fail(f"cannot write {output}: {exc}", EXIT_BAD_INPUT)
    if check:
        if stale:
            click.echo(f"{len(stale)} generated file(s) out of date with {definitions} (run `make generate`):", err=True)
            for name in stale:
                click.echo(f"  {output / name}", err=True)
            sys.exit(EXIT_FAILED)
        click.echo(f"{len(produced)} generated files up to date")
    elif not written.changed:
        click.echo(f"{written.files} files in {output}, unchanged")
    else:
        click.echo(f"wrote {written.files} files to {output} ({len(written.changed)} changed)")


@main.command(name="list")
@definitions_option
def list_(definitions: str) -> None:
    """List the systems, SLOs, KPIs and alerts the definitions declare."""
    systems = loaded(definitions)
    from .compile.rules import burn_alert_name

    for system in systems:
        click.echo(f"system {system.name} (service {system.service})")
        for slo in system.slos:
            factors = ", ".join(f"{t.name} {t.burn_factor(slo.period)}x/{t.long_window}+{t.short_window}" for t in slo.tiers)
            click.echo(f"  SLO {slo.name}: {slo.objective}% over {slo.period} -> {burn_alert_name(slo)} [{factors}]")
        for kpi in system.kpis:
            click.echo(f"  KPI {kpi.name}: {kpi.series} {kpi.target or '(trend)'}")
        for alert in system.alerts:
            click.echo(f"  alert {alert.name}: {alert.severity}/{alert.priority}")


@main.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--name", help="The system's name (lower-case words joined by '-'); default: from DIRECTORY.")
@click.option("--team", default="", help="The owning team (the `team` label); default: the system's name.")
@click.option("--requirement", default="", help="The ccb-observe dependency, e.g. a git URL; default: this version or newer.")
def init(directory: Path, name: str | None, team: str, requirement: str) -> None:
    """Scaffold a new repository: definitions/ with one SLO, Makefile, pyproject, pre-commit, CI."""
    from .scaffold import scaffold_files, system_name_for, write_scaffold

    try:
        system = name or system_name_for(directory)
        written = write_scaffold(scaffold_files(system, team, requirement), directory)
    except DefinitionError as exc:
        fail(f"error: {exc}", EXIT_BAD_INPUT)
    except OSError as exc:
        fail(f"cannot write {directory}: {exc}", EXIT_BAD_INPUT)
    click.echo(f"wrote {len(written)} files to {directory} (system {system}); next: cd {directory} && make generate")


def tool_missing(exc: ToolMissing) -> NoReturn:
    fail(str(exc), EXIT_BAD_INPUT)


# ---------------------------------------------------------------- the gate and the linter

format_option = click.option(
    "--format", "fmt", type=click.Choice(["text", "json", "github"]), default="text", show_default=True,
    help="text for people, json for tools, github for Actions annotations (::error file=…,line=…::).",
)


def loaded(definitions: str) -> list[System]:
    try:
        return load_systems(definitions)
    except CcbObserveError as exc:
        fail(f"error: {exc}", EXIT_BAD_INPUT)


@main.command()
@definitions_option
@output_option
@format_option
@click.option("--skip", multiple=True, type=click.Choice(sorted(SKIPPABLE)), help="Leave a check out (repeatable), e.g. the slow promtool/test-rules in a pre-commit hook.")
def check(definitions: str, output: Path, fmt: Format, skip: tuple[str, ...]) -> None:
    """Run every check on OUTPUT: stale files, promtool, amtool, dashboards, fluentd, logrotate, the PromQL lint.
    Exit 0 when all pass, 1 when one fails, 2 on bad input or a missing tool."""
    systems = loaded(definitions)
    try:
        report = run_gate(systems, compile_all(systems), output, checks=lambda s: without(checks_for(s), skip))
    except ToolMissing as exc:
        tool_missing(exc)
    except CcbObserveError as exc:
        fail(f"error: {exc}", EXIT_BAD_INPUT)
    click.echo(render(report, fmt))
    if fmt == "github":
        click.echo(f"ccb-observe check: {len(report.findings)} finding(s) in {report.seconds:.1f}s", err=True)
    sys.exit(0 if report.ok else EXIT_FAILED)


@main.command()
@definitions_option
def test(definitions: str) -> None:
    """Run the generated promtool suites (compiled afresh from the definitions) and report per alert.
    Exit 0 when every case passes, 1 when one fails, 2 on bad input or a missing promtool."""
    import tempfile

    from .compile.promtool_tests import SHARING_FILE, uncovered
    from .output import read_yaml
    from .validate.gate import promtool_test_rules
    from .validate.promtool import suite_cases

    systems = loaded(definitions)
    files = compiled(systems)
    failed = 0
    with tempfile.TemporaryDirectory(prefix="ccb-observe-test-") as tmp:
        write_tree(files, Path(tmp) / "generated")
        for system in systems:
            system_dir = Path(tmp) / "generated" / system.name
            try:
                findings = promtool_test_rules(system_dir)
            except ToolMissing as exc:
                tool_missing(exc)
            failures = {f.message: f for f in findings}
            explained: set[str] = set()
            click.echo(f"system {system.name}")
            for alertname, cases in sorted(suite_cases(system_dir).items()):
                broken = [c for c in cases if any(f"name: {c}," in m for m in failures)]
                explained.update(m for m in failures for c in broken if f"name: {c}," in m)
                failed += len(broken)
                click.echo(f"  {'FAIL' if broken else 'ok  '} {alertname}: {len(cases) - len(broken)}/{len(cases)} cases pass")
                for case in broken:
                    click.echo(f"       failed: {case}")
            for message in sorted(set(failures) - explained):  # e.g. a suite that does not load
                failed += 1
                click.echo(f"  FAIL {failures[message]}")
            for name in uncovered(system):
                click.echo(f"  not covered by generated suites: {name}")
            sharing = system_dir / SHARING_FILE
            shared = sum(map(len, read_yaml(sharing.read_text())["proven_by"].values())) if sharing.is_file() else 0
            if shared:
                click.echo(f"  {shared} SLO(s) proven by the suite of an SLO whose rules are theirs up to names and selectors ({SHARING_FILE})")
    sys.exit(EXIT_FAILED if failed else 0)


@main.command()
@definitions_option
@format_option
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
def lint(definitions: str, fmt: Format, files: tuple[Path, ...]) -> None:
    """Lint Prometheus rule FILES offline against the catalog and SLOs of the definitions. Exit 1 on findings."""
    started = time.monotonic()
    findings = lint_files(files, Known.of(loaded(definitions)))
    report = Report(tuple(findings), ("lint",), time.monotonic() - started)
    click.echo(render(report, fmt, title="ccb-observe lint"))
    sys.exit(0 if report.ok else EXIT_FAILED)


def _add_interop_commands() -> None:
    """The interop commands live with their readers and reuse this module's helpers: imported here,
    after them, inside a function so that type checkers resolve the cycle too."""
    from .interop.commands import export, import_

    main.add_command(import_)
    main.add_command(export)


_add_interop_commands()

