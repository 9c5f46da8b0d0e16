"""`ccb-observe init DIR`: a new repository of definitions, ready for `make generate` and `make check`.

The files come from the templates in scaffold_templates/ with `@@key@@` placeholders (a syntax no
target file uses: Makefiles use `$(…)`, GitHub workflows `${{ … }}`).
"""

from __future__ import annotations

import re
from importlib import resources
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from . import naming
from .errors import DefinitionError, Location
from .output import Output

# template file -> where it lands in the new repository ({module} is the system's Python name)
LAYOUT = {
    "definitions.py.tmpl": "definitions/{module}.py",
    "Makefile.tmpl": "Makefile",
    "pyproject.toml.tmpl": "pyproject.toml",
    "pre-commit-config.yaml.tmpl": ".pre-commit-config.yaml",
    "workflow.yml.tmpl": ".github/workflows/observability.yml",
    "gitignore.tmpl": ".gitignore",
    "README.md.tmpl": "README.md",
}
_PLACEHOLDER_RE = re.compile(r"@@(\w+)@@")


def default_requirement() -> str:
    """This ccb_observe release or newer, as the new repository's dependency."""
    try:
        return f"ccb-observe>={version('ccb-observe')}"
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "ccb-observe"


def system_name_for(directory: Path) -> str:
    """A system name (lower-case words joined by '-') from the directory's name."""
    return "-".join(re.findall(r"[a-z0-9]+", directory.resolve().name.lower())) or "my-system"


def scaffold_files(system: str, team: str = "", requirement: str = "") -> Output:
    """Every file of the new repository, by relative path."""
    where = Location("ccb-observe init", 0)
    if not naming.is_slug(system):
        raise DefinitionError(where, f"system {system!r}", "a system name is lower-case words joined by '-'")
    if not re.fullmatch(r"[^\n\"\\]+", requirement or "x"):
        raise DefinitionError(where, f"requirement {requirement!r}", "a requirement is one line without quotes or backslashes")
    values = {
        "system": system,
        "module": naming.snake(system),
        "team_literal": repr(team or system),  # a Python string literal: any text stays text
        "requirement": requirement or default_requirement(),
    }
    templates = resources.files(__package__).joinpath("scaffold_templates")
    return {
        target.format(module=values["module"]): _fill(templates.joinpath(name).read_text(encoding="utf-8"), values).encode()
        for name, target in sorted(LAYOUT.items())
    }


def _fill(text: str, values: dict[str, str]) -> str:
    return _PLACEHOLDER_RE.sub(lambda m: values[m.group(1)], text)


def write_scaffold(files: Output, directory: Path) -> list[Path]:
    """Write `files` under `directory`, refusing to overwrite anything that is already there."""
    existing = sorted(name for name in files if (directory / name).exists())
    if existing:
        raise DefinitionError(Location(str(directory), 0), "ccb-observe init", f"would overwrite {', '.join(existing)}")
    written = []
    for name in sorted(files):
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(files[name])
        written.append(path)
    return written
