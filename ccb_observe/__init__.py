"""ccb_observe: observability as code.

Declare a system once — its metric catalog, SLOs, KPIs and alerts — and compile it into the files
the monitoring stack reads::

    from ccb_observe import SLO, RatioIndicator, System, compile_system, counter

    requests = counter("http_requests_total", "Requests served.", ["status"])
    SYSTEM = System(
        "shop",
        metrics=(requests,),
        slos=(SLO("errors", 99.9, RatioIndicator(total=requests(), bad=requests(status="500")),
                  "Requests succeed"),),
    )
    files = compile_system(SYSTEM)  # {"shop/prometheus/rules/slo-errors.rules.yml": b"...", ...}

PromQL is built with `ccb_observe.promql` (`from ccb_observe import promql as q`); application code
gets its prometheus_client objects from the same catalog with `build_instruments`. The rest of the
model lives in its modules: alert conditions in `ccb_observe.model.conditions`, receivers and
routes in `ccb_observe.model.routing`, dashboards in `ccb_observe.model.dashboards`, log pipelines
in `ccb_observe.model.logs`. Reference: docs/model.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import promql
from .durations import Duration
from .errors import CcbObserveError, DefinitionError, Location, ToolMissing
from .instruments import Instruments, build_instruments
from .loader import load_systems
from .model import (
    DEFAULT_TIERS,
    KPI,
    SLO,
    Alert,
    AvailabilityIndicator,
    BurnRateTier,
    LatencyIndicator,
    Metric,
    MetricType,
    RatioIndicator,
    RawIndicator,
    Relabel,
    ScrapeJob,
    System,
    Target,
    counter,
    gauge,
    histogram,
    info,
    target,
    tier,
)
from .output import Output, write_tree
from .templates import GoTemplate, template

if TYPE_CHECKING:
    from .compile import compile_all, compile_stream, compile_system

# The compilers pull in grafanalib and the rest of the toolchain: an application that imports
# ccb_observe only for its instruments should not pay for them (about a second at start-up).
_LAZY = {"compile_all", "compile_stream", "compile_system"}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        from . import compile

        return getattr(compile, name)
    raise AttributeError(f"module 'ccb_observe' has no attribute {name!r}")

__all__ = [
    # the model
    "System", "Metric", "MetricType", "counter", "gauge", "histogram", "info",
    "SLO", "RatioIndicator", "LatencyIndicator", "AvailabilityIndicator", "RawIndicator",
    "BurnRateTier", "tier", "DEFAULT_TIERS", "KPI", "Target", "target", "Alert", "ScrapeJob", "Relabel",
    "Duration", "GoTemplate", "template", "promql",
    # loading and compiling
    "load_systems", "compile_system", "compile_all", "compile_stream", "Output", "write_tree",
    # instruments for application code
    "Instruments", "build_instruments",
    # errors
    "CcbObserveError", "DefinitionError", "Location", "ToolMissing",
]
