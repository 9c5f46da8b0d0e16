"""What users write: the metric catalog, SLOs, KPIs, alerts, scrape jobs, and the System."""

from .alerts import Alert
from .kpi import KPI, Target, target
from .metrics import Metric, MetricType, counter, gauge, histogram, info
from .scrape import Relabel, ScrapeJob
from .slo import (
    DEFAULT_TIERS,
    SLO,
    AvailabilityIndicator,
    BurnRateTier,
    LatencyIndicator,
    RatioIndicator,
    RawIndicator,
    tier,
)
from .system import System

__all__ = [
    "Alert", "AvailabilityIndicator", "BurnRateTier", "DEFAULT_TIERS", "KPI", "LatencyIndicator",
    "Metric", "MetricType", "RatioIndicator", "RawIndicator", "Relabel", "SLO", "ScrapeJob", "System",
    "Target", "counter", "gauge", "histogram", "info", "target", "tier",
]
