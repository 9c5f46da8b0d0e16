"""Shared fixtures: the repo root, the seed system, and the real tools (a missing tool fails the
test with the install command; it never skips)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ccb_observe.compile import compile_all
from ccb_observe.loader import load_systems
from ccb_observe.model import System
from ccb_observe.output import Output
from ccb_observe.validate.tools import INSTALL_HINT

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"


def require_tool(name: str) -> str:
    from ccb_observe.errors import ToolMissing
    from ccb_observe.validate.tools import find_tool

    try:
        return find_tool(name)
    except ToolMissing as exc:
        pytest.fail(f"{exc}. Install with: {INSTALL_HINT}")


@pytest.fixture(scope="session")
def promtool() -> str:
    return require_tool("promtool")


@pytest.fixture(scope="session")
def amtool() -> str:
    return require_tool("amtool")


@pytest.fixture(scope="session")
def seed() -> System:
    (system,) = load_systems(ROOT / "definitions")
    return system


@pytest.fixture(scope="session")
def seed_output(seed: System) -> Output:
    return compile_all([seed])


@pytest.fixture
def generated_copy(tmp_path: Path, seed_output: Output) -> Path:
    """The seed system's generated tree, written to a temporary directory."""
    from ccb_observe.output import write_tree

    out = tmp_path / "generated"
    write_tree(seed_output, out)
    return out


def shared_dir(*parts: str) -> Path:
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is not present (the shared/ folder beside the repo holds it)")
    return path

