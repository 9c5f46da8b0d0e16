"""What the documents of one spec file add up to, and the checks every importer shares: names,
objectives, the model's SLO (its errors re-pointed at the spec's document and field), the System."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from ..errors import DefinitionError, Location
from ..model import DEFAULT_TIERS, SLO, System
from ..model.slo import BurnRateTier, Indicator
from ..naming import is_slug
from ..promql import format_number
from .documents import Node
from .emit import Imported
from .queries import CatalogBuilder


@dataclass
class Found:
    """What the documents of one file add up to."""

    service: str = ""
    team: str = ""
    slos: list[SLO] = field(default_factory=list)
    notes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    specs: list[str] = field(default_factory=list)
    # The alert windows in force for specs that name none (Sloth reads them from an AlertWindows file).
    period: str = "30d"
    tiers: tuple[BurnRateTier, ...] = DEFAULT_TIERS

    def add_service(self, node: Node, service: str, team: str) -> None:
        if self.service and service != self.service:
            raise node.fail(f"service {service!r} differs from {self.service!r} of an earlier document: one service per file")
        self.service, self.team = service, self.team or team


def slo_name(node: Node) -> str:
    name = str(node.value)
    if not is_slug(name):
        raise node.fail(f"SLO name {name!r} is not lower-case words joined by '-'")
    return name


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def objective_percent(node: Node, scale: Decimal = Decimal(1), what: str = "objective") -> Decimal:
    """A percentage strictly between 0 and 100 (`scale` 100 for a fraction like OpenSLO's 0.999)."""
    try:
        value = Decimal(str(node.value)) * scale
    except InvalidOperation:
        raise node.fail(f"{what} must be a number, got {node.value!r}") from None
    value = Decimal(format_number(value))  # 0.999 x 100 is 99.9, and 0.5 x 100 is 50, never 5E+1
    if not 0 < value < 100:
        raise node.fail(f"{what} must be strictly between 0 and 100 percent, got {value}")
    return value


def model_slo(node: Node, name: str, objective: Decimal, indicator: Indicator, description: str,
              period: str, tiers: tuple[BurnRateTier, ...], team: str | None = None, runbook_url: str = "") -> SLO:
    """The model's SLO; a rule it breaks is reported at the spec's document and line."""
    try:
        return SLO(name, objective, indicator, description, period=period, tiers=tiers, team=team or None,
                   runbook_url=runbook_url, defined_at=node.where)
    except DefinitionError as exc:
        raise DefinitionError(exc.where, f"document {node.doc}, field {node.path}: {exc.what}", exc.rule) from None


def finish(path: Path, found: Found, catalog: CatalogBuilder, tool: str, command: str) -> Imported:
    where = Location(str(path), 1)
    if not found.slos:
        raise DefinitionError(where, "spec file", "declares no SLO")
    system = System(slug(found.service) or "imported", metrics=catalog.metrics(where, path.name), slos=tuple(found.slos),
                    service=found.service, team=found.team, defined_at=where)
    specs = ", ".join(sorted(set(found.specs)))
    return Imported(system, f"{path.name} ({tool} {specs})", f"{command} {path.name}", found.notes)
