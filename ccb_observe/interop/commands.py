"""`ccb-observe import sloth|openslo FILE` and `ccb-observe export openslo`."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable

import click

from ..cli import EXIT_BAD_INPUT, definitions_option, fail
from ..errors import DefinitionError
from ..loader import load_systems
from . import openslo, sloth
from .emit import Imported, module_source

out_option = click.option("--output", "-o", "out", type=click.Path(dir_okay=False, path_type=Path), default=None,
                          help="File to write (default: stdout). Written only when the whole input is valid.")


def _emit(text: str, out: Path | None) -> None:
    if out is None:
        click.echo(text, nl=False)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, staging = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.chmod(staging, 0o644)
    os.replace(staging, out)
    click.echo(f"wrote {out}", err=True)


def _run_import(reader: Callable[[Path], Imported], file: Path, out: Path | None) -> None:
    try:
        imported = reader(file)
    except DefinitionError as exc:
        fail(f"error: {exc}", EXIT_BAD_INPUT)
    _emit(module_source(imported), out)


@click.group(name="import")
def import_() -> None:
    """Turn another tool's SLO spec into a Python definitions module."""


@import_.command(name="sloth")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--windows", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="A Sloth AlertWindows file: the SLO period and burn-rate windows (default: Sloth's google-30d).")
@out_option
def import_sloth(file: Path, windows: Path | None, out: Path | None) -> None:
    """A Sloth spec: prometheus/v1, sloth.slok.dev/v1 PrometheusServiceLevel, or openslo/v1alpha."""
    _run_import(lambda path: sloth.import_file(path, windows), file, out)


@import_.command(name="openslo")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@out_option
def import_openslo(file: Path, out: Path | None) -> None:
    """OpenSLO v1 documents (SLO, SLI, AlertPolicy, AlertCondition; Prometheus sources), or v1alpha."""
    _run_import(openslo.import_file, file, out)


@click.group()
def export() -> None:
    """Write our SLOs in another tool's format."""


@export.command(name="openslo")
@definitions_option
@click.option("--system", "system_name", default=None, help="The system to export (default: the only one).")
@out_option
def export_openslo(definitions: str, system_name: str | None, out: Path | None) -> None:
    """OpenSLO v1 YAML for the SLOs of one system."""
    try:
        systems = load_systems(definitions)
    except DefinitionError as exc:
        fail(f"error: {exc}", EXIT_BAD_INPUT)
    chosen = [s for s in systems if system_name in (None, s.name)]
    if len(chosen) != 1:
        names = ", ".join(s.name for s in systems)
        fail(f"error: choose one system with --system (defined: {names})", EXIT_BAD_INPUT)
    _emit(openslo.export(chosen[0]).decode(), out)
