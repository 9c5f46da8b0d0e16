"""Errors that name the definition at fault, and where it was written."""

from __future__ import annotations

import functools
import inspect
import os
from dataclasses import dataclass

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


@dataclass(frozen=True, order=True)
class Location:
    """Where a definition was written: the first caller frame outside ccb_observe."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


UNKNOWN = Location("<unknown>", 0)


def caller_location() -> Location:
    """The file:line of the user code that is constructing a model object."""
    frame = inspect.currentframe()
    try:
        while frame is not None:
            module = str(frame.f_globals.get("__name__", ""))
            filename = frame.f_code.co_filename
            ours = module == "ccb_observe" or module.startswith("ccb_observe.")
            # dataclass-generated __init__ runs with the defining module's globals, so it counts as ours
            if not ours and not filename.startswith("<frozen") and not filename.startswith(_PACKAGE_DIR + os.sep):
                return Location(_display_path(filename), frame.f_lineno)
            frame = frame.f_back
    finally:
        del frame
    return UNKNOWN


def _display_path(path: str) -> str:
    return _relative(path, os.getcwd())


@functools.lru_cache(maxsize=256)  # every model object asks, from a handful of files
def _relative(path: str, cwd: str) -> str:
    # Relative to the working directory when below it: stable across machines and clones.
    if path.startswith("<"):
        return path
    rel = os.path.relpath(os.path.abspath(path), cwd)
    return path if rel.startswith("..") else rel


class CcbObserveError(Exception):
    """Base of every error this package raises on purpose."""


class DefinitionError(CcbObserveError):
    """A definition breaks a rule of the model. Exit code 2."""

    def __init__(self, where: Location, what: str, rule: str) -> None:
        self.where = where
        self.what = what
        self.rule = rule
        super().__init__(f"{where}: {what}: {rule}")

    def __reduce__(self) -> tuple[type, tuple[Location, str, str]]:
        return type(self), (self.where, self.what, self.rule)  # it crosses from worker processes intact


class ToolMissing(CcbObserveError):
    """An external tool (promtool, amtool, logrotate) is not installed."""
