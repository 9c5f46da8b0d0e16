"""Scrape jobs: what Prometheus scrapes, how often, and how targets are relabelled."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Sequence

from ..durations import Duration, DurationLike
from ..errors import UNKNOWN, DefinitionError, Location
from .base import defined_here, duration_of, set_field

KUBERNETES_ROLES = ("pod", "service", "endpoints", "endpointslice", "node", "ingress")
RelabelAction = Literal["replace", "keep", "drop", "labelmap", "labeldrop", "labelkeep", "hashmod", "lowercase", "uppercase"]


@dataclass(frozen=True)
class Relabel:
    """One `relabel_configs` entry of a scrape job."""

    action: RelabelAction
    source_labels: tuple[str, ...] = ()
    regex: str | None = None
    target_label: str | None = None
    replacement: str | None = None
    separator: str | None = None


@dataclass(frozen=True)
class ScrapeJob:
    """A Prometheus scrape job: static `targets` or a Kubernetes service-discovery role."""

    name: str
    targets: tuple[str, ...] = ()
    kubernetes_role: str | None = None
    metrics_path: str = "/metrics"
    interval: Duration | None = None  # None: the global scrape interval
    relabel: tuple[Relabel, ...] = ()
    defined_at: Location = defined_here()

    if TYPE_CHECKING:  # what callers may pass (see typed_init in base.py)
        def __init__(
            self, name: str, targets: Sequence[str] = (), kubernetes_role: str | None = None,
            metrics_path: str = "/metrics", interval: DurationLike | None = None,
            relabel: Sequence[Relabel] = (), *, defined_at: Location = UNKNOWN,
        ) -> None: ...

    def __post_init__(self) -> None:
        where, what = self.defined_at, f"scrape job {self.name!r}"
        set_field(self, "interval", duration_of(where, what, self.interval, "interval"))
        set_field(self, "targets", tuple(self.targets))
        set_field(self, "relabel", tuple(self.relabel))
        if bool(self.targets) == bool(self.kubernetes_role):
            raise DefinitionError(where, what, "give static targets or a kubernetes_role, exactly one")
        if self.kubernetes_role and self.kubernetes_role not in KUBERNETES_ROLES:
            raise DefinitionError(where, what, f"kubernetes_role is one of {', '.join(KUBERNETES_ROLES)}")
        if not self.metrics_path.startswith("/"):
            raise DefinitionError(where, what, "metrics_path starts with '/'")
