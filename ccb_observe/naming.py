"""Names of the series the rules compiler records. Shared by the model (which checks that an
expression reads only series something records) and the compilers (which record them)."""

from __future__ import annotations

import re

from .durations import Duration

FINE_WINDOW = Duration(300)  # events are counted over 5m at the base evaluation interval
LONG_WINDOW = Duration(86400)  # windows of a day or more sum the 5m buckets

BAD_FINE = "slo:bad_events:increase5m"
TOTAL_FINE = "slo:total_events:increase5m"
BAD_BUCKET = "slo:bad_events:increase5m_sum5m"
TOTAL_BUCKET = "slo:total_events:increase5m_sum5m"
OBJECTIVE = "slo:objective:ratio"
INFO = "slo:info"
BUDGET_REMAINING = "slo:error_budget_remaining:ratio"
SLI_PERIOD = "slo:sli:ratio"

_SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def error_ratio(window: Duration) -> str:
    return f"slo:error_ratio:{window}"


def burn_rate(window: Duration) -> str:
    return f"slo:burn_rate:{window}"


def kpi_series(name: str, window: Duration) -> str:
    return f"kpi:{snake(name)}:{window}"


def snake(slug: str) -> str:
    return slug.replace("-", "_")


def camel(slug: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[-_ ]+", slug) if part)


def is_slug(text: str) -> bool:
    return bool(_SLUG_RE.match(text))
