"""Prometheus durations ("5m", "1h30m", "30d") as exact whole seconds."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Union

_UNITS: tuple[tuple[str, int], ...] = (
    ("y", 365 * 86400),
    ("w", 7 * 86400),
    ("d", 86400),
    ("h", 3600),
    ("m", 60),
    ("s", 1),
)
_UNIT_SECONDS = dict(_UNITS)
_DURATION_RE = re.compile(r"(?:\d+[ywdhms])+")
_PART_RE = re.compile(r"(\d+)([ywdhms])")


@dataclass(frozen=True, order=True)
class Duration:
    """A Prometheus duration in whole seconds; `str()` is the canonical text (`1h30m`, `30d`)."""

    seconds: int

    @classmethod
    def parse(cls, text: str) -> "Duration":
        if not _DURATION_RE.fullmatch(text):  # `$` would let a trailing newline through
            raise ValueError(f"not a Prometheus duration: {text!r} (write e.g. 30s, 5m, 1h, 30d)")
        total = sum(int(n) * _UNIT_SECONDS[u] for n, u in _PART_RE.findall(text))
        if total <= 0:
            raise ValueError(f"duration must be positive: {text!r}")
        return cls(total)

    def __str__(self) -> str:
        return _text(self.seconds)

    def __truediv__(self, other: "Duration") -> float:
        return self.seconds / other.seconds

    def __mul__(self, factor: int) -> "Duration":
        return Duration(self.seconds * factor)


@functools.lru_cache(maxsize=1024)  # a few windows are printed into every rule
def _text(seconds: int) -> str:
    """Canonical text: largest units first, weeks and years avoided for readability (7d, 30d)."""
    rest = seconds
    parts = []
    for unit, size in _UNITS:
        if unit in ("y", "w"):
            continue
        count, rest = divmod(rest, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"


DurationLike = Union[Duration, str]


def as_duration(value: DurationLike) -> Duration:
    return value if isinstance(value, Duration) else Duration.parse(value)
