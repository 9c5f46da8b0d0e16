"""The docs stay true: every Python block of docs/*.md runs (each page's blocks in order, in one
namespace, in a scratch directory), and the reference pages cover what the code has."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import click
import pytest

import ccb_observe
from ccb_observe.cli import main
from ccb_observe.compile.rules import human_duration
from ccb_observe.promql import format_number
from conftest import ROOT

DOCS = ROOT / "docs"
PAGES = sorted(DOCS.glob("*.md"))
_BLOCK_RE = re.compile(r"^```python\n(.*?)^```$", re.DOTALL | re.MULTILINE)


def python_blocks(page: Path) -> list[tuple[int, str]]:
    """(line, code) of each ```python block."""
    text = page.read_text()
    return [(text.count("\n", 0, m.start()) + 2, m.group(1)) for m in _BLOCK_RE.finditer(text)]


def test_the_pages_exist() -> None:
    assert {p.name for p in PAGES} >= {"getting-started.md", "model.md", "slo-math.md", "outputs.md", "cli.md"}


@pytest.mark.parametrize("page", [p for p in PAGES if python_blocks(p)], ids=lambda p: p.name)
def test_python_examples_run(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": f"docs_{page.stem.replace('-', '_')}"}
    for line, code in python_blocks(page):
        # Compiled with the page's name and line so that a failure points into the Markdown.
        exec(compile("\n" * (line - 1) + code, str(page), "exec"), namespace)


def test_every_page_links_resolve() -> None:
    for page in PAGES:
        for target in re.findall(r"\]\(([^)#:]+\.md)\)", page.read_text()):
            assert (DOCS / target).is_file(), f"{page.name} links to missing {target}"


def commands(group: click.Group, prefix: str = "ccb-observe") -> list[tuple[str, click.Command]]:
    """Every leaf command with its full name (`ccb-observe import sloth`)."""
    found: list[tuple[str, click.Command]] = []
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            found += commands(command, f"{prefix} {name}")
        else:
            found.append((f"{prefix} {name}", command))
    return found


def test_cli_page_covers_every_command_and_option() -> None:
    text = (DOCS / "cli.md").read_text()
    assert isinstance(main, click.Group)
    for name, command in commands(main):
        assert f"## `{name}" in text, f"cli.md has no section for `{name}`"
        section = text.split(f"## `{name}", 1)[1].split("\n## ", 1)[0]
        for param in command.params:
            if isinstance(param, click.Option):
                assert param.opts[0] in section, f"cli.md: `{name}` does not document {param.opts[0]}"


def test_model_page_covers_every_field_users_write() -> None:
    text = (DOCS / "model.md").read_text()
    for name in ("System", "Metric", "SLO", "BurnRateTier", "KPI", "Alert", "ScrapeJob", "Relabel",
                 "RatioIndicator", "LatencyIndicator", "AvailabilityIndicator", "RawIndicator"):
        cls = getattr(ccb_observe, name)
        assert f"### {name}" in text, f"model.md has no section for {name}"
        section = text.split(f"### {name}", 1)[1].split("\n### ", 1)[0]
        for field in dataclasses.fields(cls):
            if field.init and field.name not in ("defined_at", "condition"):  # set by the library
                assert f"`{field.name}`" in section, f"model.md: {name}.{field.name} is not documented"


def test_outputs_page_covers_every_generated_folder(seed_output: dict[str, bytes]) -> None:
    text = (DOCS / "outputs.md").read_text()
    folders = {path.split("/")[1] for path in seed_output}
    assert folders
    for folder in sorted(folders):
        assert f"`{folder}/" in text, f"outputs.md does not say how to deploy {folder}/"


def test_slo_math_table_matches_the_default_tiers() -> None:
    text = (DOCS / "slo-math.md").read_text()
    period = ccb_observe.Duration(30 * 86400)
    for t in ccb_observe.DEFAULT_TIERS:
        assert t.budget_consumed is not None
        factor = t.burn_factor(period)
        lasts = human_duration(ccb_observe.Duration(int(period.seconds / factor)))
        row = (f"| {t.name} | {t.long_window} | {t.short_window} | {format_number(t.budget_consumed * 100)}% "
               f"| {format_number(factor)}x | {t.severity} / {t.priority} | {lasts} |")
        assert row in text, f"slo-math.md lacks the row {row!r}"

