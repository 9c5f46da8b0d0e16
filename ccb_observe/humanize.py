"""What Prometheus' alert templates print, computed in Python: the humanize* functions and the
small template subset used in annotations. The promtool suites use it to state the exact text an
alert must carry; a template outside the subset is refused with a clear message."""

from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import Callable, Mapping

_SMALL = ("m", "u", "n", "p", "f", "a", "z", "y")
_LARGE = ("k", "M", "G", "T", "P", "E", "Z", "Y")


def go_g4(v: float) -> str:
    """Go's fmt "%.4g" (the same rules as C's)."""
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    return "%.4g" % v


def go_value(v: float) -> str:
    """Go's fmt "%v" of a float64 (strconv 'g', shortest): exponent form below 1e-4 or from 1e6."""
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    if v == 0:
        return "0"
    digits = Decimal(repr(v))
    exponent = digits.adjusted()
    if exponent < -4 or exponent >= 6:
        mantissa = format(digits.scaleb(-exponent).normalize(), "f")
        return f"{mantissa}e{'-' if exponent < 0 else '+'}{abs(exponent):02d}"
    return format(digits.normalize(), "f")


def humanize(v: float) -> str:
    if v == 0 or math.isnan(v) or math.isinf(v):
        return go_g4(v)
    prefix = ""
    if abs(v) >= 1:
        for p in _LARGE:
            if abs(v) < 1000:
                break
            prefix, v = p, v / 1000
        return go_g4(v) + prefix
    for p in _SMALL:
        if abs(v) >= 1:
            break
        prefix, v = p, v * 1000
    return go_g4(v) + prefix


def humanize_percentage(v: float) -> str:
    return go_g4(v * 100) + "%"


def humanize_duration(v: float) -> str:
    if math.isnan(v) or math.isinf(v):
        return go_g4(v)
    if v == 0:
        return "0s"
    if abs(v) >= 1:
        sign = "-" if v < 0 else ""
        v = abs(v)
        whole = int(v)
        seconds, minutes, hours, days = whole % 60, (whole // 60) % 60, (whole // 3600) % 24, whole // 86400
        if days:
            return f"{sign}{days}d {hours}h {minutes}m {seconds}s"
        if hours:
            return f"{sign}{hours}h {minutes}m {seconds}s"
        if minutes:
            return f"{sign}{minutes}m {seconds}s"
        return f"{sign}{go_g4(v)}s"
    prefix = ""
    for p in _SMALL:
        if abs(v) >= 1:
            break
        prefix, v = p, v * 1000
    return f"{go_g4(v)}{prefix}s"


FUNCTIONS: dict[str, Callable[[float], str]] = {
    "humanize": humanize,
    "humanizePercentage": humanize_percentage,
    "humanizeDuration": humanize_duration,
}

_ACTION = re.compile(r"\{\{-?\s*(.*?)\s*-?\}\}", re.S)
_STRING = re.compile(r'^"((?:[^"\\]|\\.)*)"$')


class UnsupportedTemplate(ValueError):
    pass


def render(template: str, value: float, labels: Mapping[str, str]) -> str:
    """Expand `{{ $value | fn }}`, `{{ $labels.x }}`, `{{ fn $value }}` and `{{ "text" }}`."""

    def action(match: re.Match[str]) -> str:
        body = match.group(1)
        literal = _STRING.match(body)
        if literal:
            return bytes(literal.group(1), "utf-8").decode("unicode_escape")
        stages = [s.strip() for s in body.split("|")]
        head = stages[0].split()
        if len(head) == 2 and head[0] in FUNCTIONS:  # `humanize $value`
            stages = [head[1], head[0], *stages[1:]]
        current: float | str = _operand(stages[0], value, labels)
        for stage in stages[1:]:
            if stage not in FUNCTIONS or not isinstance(current, float):
                raise UnsupportedTemplate(f"cannot predict template action {{{{ {body} }}}}")
            current = FUNCTIONS[stage](current)
        return current if isinstance(current, str) else go_value(current)

    return _ACTION.sub(action, template)


def _operand(token: str, value: float, labels: Mapping[str, str]) -> float | str:
    if token == "$value":
        return value
    if token.startswith("$labels."):
        return labels.get(token.removeprefix("$labels."), "")
    raise UnsupportedTemplate(f"cannot predict template operand {token!r}")
