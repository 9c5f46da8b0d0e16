"""Hand-written threshold alerts: an expression built with the PromQL builder, and who cares."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Mapping

from ..durations import Duration, DurationLike
from ..errors import UNKNOWN, DefinitionError, Location
from ..promql import LABEL_NAME_RE, Expr
from ..templates import Text
from .base import defined_here, duration_of, frozen_mapping, set_field
from .conditions import Condition
from .slo import PRIORITIES, SEVERITIES, Priority, Severity

_ALERT_NAME_RE = re.compile(r"^[A-Z][A-Za-z0-9]*$")
RESERVED_LABELS = frozenset({"severity", "priority", "service", "team", "slo", "alertname"})


@dataclass(frozen=True)
class Alert:
    """`expr` is a condition of known meaning (conditions.py: the promtool suites then test it) or
    any builder expression (an escape hatch the generated suites cannot cover)."""

    name: str  # CamelCase, e.g. HighErrorRate
    expr: Expr | Condition
    severity: Severity
    priority: Priority
    summary: Text
    description: Text
    for_: Duration | None = None
    runbook_url: str = ""
    service: str | None = None  # defaults to the system's service
    team: str | None = None
    labels: tuple[tuple[str, str], ...] = ()
    defined_at: Location = defined_here()
    # Set from `expr` when that is a Condition (kept through dataclasses.replace).
    condition: Condition | None = field(default=None, compare=False, repr=False, kw_only=True)

    if TYPE_CHECKING:  # what callers may pass (see typed_init in base.py)
        def __init__(
            self, name: str, expr: Expr | Condition, severity: Severity, priority: Priority,
            summary: Text, description: Text, for_: DurationLike | None = None, runbook_url: str = "",
            service: str | None = None, team: str | None = None,
            labels: Mapping[str, str] | tuple[tuple[str, str], ...] = (),
            *, defined_at: Location = UNKNOWN, condition: Condition | None = None,
        ) -> None: ...

    def __post_init__(self) -> None:
        where, what = self.defined_at, f"alert {self.name!r}"
        if not _ALERT_NAME_RE.match(self.name):
            raise DefinitionError(where, what, "an alert name is CamelCase letters and digits")
        if not isinstance(self.expr, Expr):
            set_field(self, "condition", self.expr)
            set_field(self, "expr", self.expr.expr())
        assert isinstance(self.expr, Expr)
        if self.expr.kind != "vector":
            raise DefinitionError(where, what, f"the expression must be an instant vector, got a {self.expr.kind}")
        set_field(self, "for_", duration_of(where, what, self.for_, "for_"))
        if self.severity not in SEVERITIES:
            raise DefinitionError(where, what, f"severity is one of {', '.join(SEVERITIES)}")
        if self.priority not in PRIORITIES:
            raise DefinitionError(where, what, f"priority is one of {', '.join(PRIORITIES)}")
        labels = frozen_mapping(self.labels)
        for key, _ in labels:
            if not LABEL_NAME_RE.match(key) or key in RESERVED_LABELS:
                raise DefinitionError(where, what, f"label {key!r} is invalid or set by ccb_observe itself")
        set_field(self, "labels", labels)
        for name in ("summary", "description"):
            text = getattr(self, name)
            if not (text.text if not isinstance(text, str) else text).strip():
                raise DefinitionError(where, what, f"{name} is required")

    @property
    def promql(self) -> Expr:
        """The expression the alert fires on (a Condition's, once constructed)."""
        assert isinstance(self.expr, Expr)
        return self.expr
