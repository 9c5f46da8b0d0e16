"""Reading foreign spec files strictly: every mapping remembers its line, every field access knows its
path, and anything unknown or missing is a DefinitionError naming file:line, document and field."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import yaml

from ..errors import DefinitionError, Location


class _LineMap(dict):  # type: ignore[type-arg]
    line: int = 0
    key_lines: dict[str, int]


class _Loader(yaml.SafeLoader):
    pass


def _line_map(loader: _Loader, node: yaml.MappingNode) -> _LineMap:
    mapping = _LineMap(loader.construct_mapping(node, deep=True))
    mapping.line = node.start_mark.line + 1
    mapping.key_lines = {str(k.value): k.start_mark.line + 1 for k, _ in node.value}
    return mapping


_Loader.add_constructor("tag:yaml.org,2002:map", _line_map)


@dataclass(frozen=True)
class Node:
    """A value inside document `doc` (1-based) of `file`, at `path` (e.g. `slos[0].sli`)."""

    value: Any
    file: str
    doc: int
    path: str
    line: int

    @property
    def where(self) -> Location:
        return Location(self.file, self.line)

    def fail(self, rule: str) -> DefinitionError:
        field_text = f", field {self.path}" if self.path else ""
        return DefinitionError(self.where, f"document {self.doc}{field_text}", rule)

    def _child(self, key: str | int, value: Any) -> Node:
        path = f"{self.path}[{key}]" if isinstance(key, int) else (f"{self.path}.{key}" if self.path else key)
        line = self.line
        if isinstance(self.value, _LineMap) and isinstance(key, str):
            line = self.value.key_lines.get(key, line)
        if isinstance(value, _LineMap):
            line = value.line if isinstance(key, int) else line
        return Node(value, self.file, self.doc, path, line)

    def mapping(self, allowed: set[str] | frozenset[str]) -> Node:
        """This node as a mapping with only `allowed` keys."""
        if not isinstance(self.value, dict):
            raise self.fail(f"expected a mapping, got {type(self.value).__name__}")
        unknown = sorted(set(map(str, self.value)) - set(allowed))
        if unknown:
            raise self._child(unknown[0], None).fail(f"unknown field (known here: {', '.join(sorted(allowed))})")
        return self

    def has(self, key: str) -> bool:
        return isinstance(self.value, dict) and self.value.get(key) is not None

    def get(self, key: str, default: Any = None) -> Node:
        return self._child(key, self.value.get(key, default) if isinstance(self.value, dict) else default)

    def require(self, key: str) -> Node:
        if not self.has(key):
            raise self._child(key, None).fail("is required")
        return self.get(key)

    def text(self, key: str, default: str | None = None) -> str:
        """A scalar field as text; required unless a default is given."""
        if not self.has(key):
            if default is None:
                raise self._child(key, None).fail("is required")
            return default
        node = self.get(key)
        if isinstance(node.value, bool) or not isinstance(node.value, (str, int, float)):
            raise node.fail(f"expected text, got {type(node.value).__name__}")
        return str(node.value)

    def items(self) -> Iterator[Node]:
        if self.value is None:
            return
        if not isinstance(self.value, list):
            raise self.fail(f"expected a list, got {type(self.value).__name__}")
        for index, value in enumerate(self.value):
            yield self._child(index, value)

    def labels(self, key: str) -> dict[str, str]:
        node = self.get(key, {})
        if not isinstance(node.value, dict):
            raise node.fail("expected a mapping of label names to values")
        return {str(k): v if isinstance(v, str) else ",".join(map(str, v)) if isinstance(v, list) else str(v)
                for k, v in sorted(node.value.items(), key=lambda kv: str(kv[0]))}


def load_documents(path: Path) -> list[Node]:
    """Every non-empty YAML document of `path`, as a Node (doc numbers count from 1)."""
    file = str(path)
    try:
        raw = list(yaml.load_all(path.read_text(), Loader=_Loader))
    except OSError as exc:
        raise DefinitionError(Location(file, 0), "spec file", f"cannot read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise DefinitionError(Location(file, mark.line + 1 if mark else 0), "spec file", f"not valid YAML: {getattr(exc, 'problem', exc)}") from None
    docs = [Node(value, file, index, "", getattr(value, "line", 1)) for index, value in enumerate(raw, 1) if value is not None]
    if not docs:
        raise DefinitionError(Location(file, 0), "spec file", "holds no YAML document")
    return docs
