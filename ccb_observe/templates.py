"""Go template text for Prometheus annotations (and Alertmanager messages).

Plain `str` given by a user is literal text: it is escaped so that `{{` cannot start an action.
`GoTemplate` marks text the user means as a template (`{{ $value | humanizePercentage }}`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union


@dataclass(frozen=True)
class GoTemplate:
    """Text meant as a Go template (`{{ $value }}`): passed through, never escaped."""

    text: str

    def __post_init__(self) -> None:
        if self.text.count("{{") != self.text.count("}}"):
            raise ValueError(f"unbalanced template delimiters in {self.text!r}")


Text = Union[str, GoTemplate]


def template(text: str) -> GoTemplate:
    """Mark annotation text as a Go template: `template("{{ $value | humanizePercentage }} failed")`."""
    return GoTemplate(text)


def literal(text: str) -> str:
    """Template source that renders exactly `text`."""
    return text.replace("{{", '{{ "{{" }}')


_GO_ESCAPES = {ord("\\"): "\\\\", ord('"'): '\\"', ord("\n"): "\\n", ord("\t"): "\\t"}
_GO_ESCAPES.update({c: f"\\x{c:02x}" for c in range(0x20) if c not in _GO_ESCAPES})


def go_string(text: str) -> str:
    """A Go double-quoted string literal (for arguments inside template actions)."""
    return '"' + text.translate(_GO_ESCAPES) + '"'


def source(text: Text) -> str:
    """Template source for either kind of text."""
    return text.text if isinstance(text, GoTemplate) else literal(text)
