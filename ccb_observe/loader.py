"""Loading definitions: every System at the top level of the modules in a directory (or of a
dotted module path). Loading order never changes the result: systems are sorted by name."""

from __future__ import annotations

import importlib
import importlib.util
import sys
import traceback
from pathlib import Path

from .errors import DefinitionError, Location
from .model import System


def load_systems(source: str | Path) -> list[System]:
    """Systems from a directory of .py files, a single .py file, or an importable module path."""
    path = Path(source)
    if path.is_dir():
        files = sorted(p for p in path.glob("*.py") if not p.name.startswith("_"))
        if not files:
            raise DefinitionError(Location(str(path), 0), "definitions", "no definition modules (*.py) found")
        modules = [_load_file(p) for p in files]
    elif path.suffix == ".py" and path.is_file():
        modules = [_load_file(path)]
    elif path.suffix == ".py" or "/" in str(source):
        raise DefinitionError(Location(str(path), 0), "definitions", "no such file or directory")
    else:
        modules = [_import(str(source))]
    systems: dict[str, System] = {}
    for module in modules:
        for value in vars(module).values():
            if isinstance(value, System):
                other = systems.get(value.name)
                if other is not None and other is not value:
                    raise DefinitionError(value.defined_at, f"system {value.name!r}", f"duplicate system name (first defined at {other.defined_at})")
                systems[value.name] = value
    if not systems:
        raise DefinitionError(Location(str(source), 0), "definitions", "no System defined at the top level of any module")
    return [systems[name] for name in sorted(systems)]


def _load_file(path: Path) -> object:
    # The folder is importable while loading, so a definition may import its `_parts.py` siblings.
    folder = str(path.parent.resolve())
    sys.path.insert(0, folder)
    try:
        return _exec_file(path)
    finally:
        sys.path.remove(folder)


def _exec_file(path: Path) -> object:
    name = f"ccb_definitions_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except DefinitionError:
        raise
    except SyntaxError as exc:
        raise DefinitionError(Location(str(path), exc.lineno or 0), "definitions", f"syntax error: {exc.msg}") from None
    except Exception as exc:
        raise DefinitionError(_where_raised(exc, path), "definitions", f"module raised {type(exc).__name__}: {exc}") from None
    return module


def _import(dotted: str) -> object:
    try:
        return importlib.import_module(dotted)
    except DefinitionError:
        raise
    except Exception as exc:
        raise DefinitionError(Location(dotted, 0), "definitions", f"cannot import module: {type(exc).__name__}: {exc}") from None


def _where_raised(exc: BaseException, path: Path) -> Location:
    """The deepest frame of the traceback inside the definition file."""
    line = 0
    for frame in traceback.extract_tb(exc.__traceback__):
        if Path(frame.filename).resolve() == path.resolve():
            line = frame.lineno or 0
    return Location(str(path), line)
