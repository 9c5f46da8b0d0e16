"""What every model object shares: where it was defined, and coercions that name the culprit."""

from __future__ import annotations

from dataclasses import field
from decimal import Decimal, InvalidOperation
from typing import Any, Mapping, Union

from ..durations import Duration, DurationLike, as_duration
from ..errors import DefinitionError, Location, caller_location
from ..promql import to_decimal

Number = Union[int, float, str, Decimal]


# typed_init: a model class whose fields hold normalised values (Duration, Decimal, tuple) while
# callers may pass what people write ("5m", 99.9, a list) declares the accepted signature in an
# `if TYPE_CHECKING:` __init__. Type checkers read it; at run time the dataclass __init__ is the
# only one, and __post_init__ normalises. tests/test_library.py keeps both signatures in step.


def defined_here() -> Any:
    """A dataclass field that records the file:line of the user code constructing the object."""
    return field(default_factory=caller_location, compare=False, repr=False, kw_only=True)


def set_field(obj: object, name: str, value: object) -> None:
    """Normalise a field of a frozen dataclass in __post_init__."""
    object.__setattr__(obj, name, value)


def decimal_of(where: Location, what: str, value: Number, field_name: str) -> Decimal:
    try:
        result = to_decimal(value)
    except (InvalidOperation, ValueError):
        raise DefinitionError(where, what, f"{field_name} must be a number, got {value!r}") from None
    if not result.is_finite():
        raise DefinitionError(where, what, f"{field_name} must be finite, got {value!r}")
    return result


def duration_of(where: Location, what: str, value: DurationLike | None, field_name: str) -> Duration | None:
    if value is None:
        return None
    try:
        return as_duration(value)
    except ValueError as exc:
        raise DefinitionError(where, what, f"{field_name}: {exc}") from None


def frozen_mapping(value: Mapping[str, str] | tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    items = value.items() if isinstance(value, Mapping) else value
    return tuple(sorted((str(k), str(v)) for k, v in items))
