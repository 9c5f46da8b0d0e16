"""A System as the text of a Python definitions module. Every value is written with repr(), so any
text a foreign spec carries (quotes, backslashes, newlines, `{{`) stays data, never code."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..model import DEFAULT_TIERS, SLO, LatencyIndicator, Metric, RatioIndicator, RawIndicator, System
from ..model.slo import BurnRateTier, Indicator
from ..promql import Expr, Selector, format_number


@dataclass(frozen=True)
class Imported:
    """What an importer found: the system, where it came from, and what a reader should review."""

    system: System
    source: str  # e.g. "getting-started.yml (Sloth prometheus/v1)"
    command: str  # e.g. "ccb-observe import sloth"
    notes: dict[str, tuple[str, ...]] = field(default_factory=dict)  # SLO name ("" for the system) -> notes


HEADER_IMPORTS = """\
from decimal import Decimal

from ccb_observe.model import (
    DEFAULT_TIERS, SLO, LatencyIndicator, Metric, MetricType, RatioIndicator, RawIndicator, System, tier,
)
from ccb_observe.promql import Matcher, Selector, raw
"""


def module_source(imported: Imported) -> str:
    system = imported.system
    lines = ['"""' + _docstring(f"Imported from {imported.source} by `{imported.command}`.") + '"""', ""]
    for note in imported.notes.get("", ()):
        lines.append(_comment(note))
    lines += [HEADER_IMPORTS, "# ---- the metric catalog: the series the SLIs read, typed by their names", "metrics = ("]
    lines += [f"    {_metric(m)}," for m in system.metrics]
    lines += [")", "", "# ---- SLOs", "slos = ("]
    for slo in system.slos:
        lines += ["    " + _comment(note) for note in imported.notes.get(slo.name, ())]
        lines += _slo(slo, system.team)
    lines += [")", ""]
    args = [repr(system.name), "metrics=metrics", "slos=slos"]
    if system.service != system.name:
        args.append(f"service={system.service!r}")
    if system.team:
        args.append(f"team={system.team!r}")
    lines += [f"SYSTEM = System({', '.join(args)})", ""]
    return "\n".join(lines)


def _docstring(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')


def _comment(note: str) -> str:
    return "\n".join("# " + line if line else "#" for line in note.splitlines() or [""])


def _metric(metric: Metric) -> str:
    args = [repr(metric.name), f"MetricType.{metric.type.name}", repr(metric.help)]
    if metric.labels:
        args.append(f"labels={metric.labels!r}")
    if metric.buckets:
        args.append(f"buckets=({', '.join(_decimal(b) for b in metric.buckets)},)")
    return f"Metric({', '.join(args)})"


def _decimal(value: object) -> str:
    return f"Decimal({format_number(value)!r})"  # type: ignore[arg-type]


def _slo(slo: SLO, system_team: str) -> list[str]:
    out = [
        "    SLO(",
        f"        {slo.name!r},",
        f"        {_decimal(slo.objective)},",
        f"        {_indicator(slo.indicator)},",
        f"        {slo.description!r},",
        f"        period={str(slo.period)!r},",
        f"        tiers={_tiers(slo.tiers)},",
    ]
    if slo.team and slo.team != system_team:  # the System hands its team to every SLO
        out.append(f"        team={slo.team!r},")
    for key in ("runbook_url", "dashboard_url"):
        if getattr(slo, key):
            out.append(f"        {key}={getattr(slo, key)!r},")
    if slo.min_events is not None:
        out.append(f"        min_events={slo.min_events!r},")
    return out + ["    ),"]


def _selector(sel: Selector) -> str:
    matchers = ", ".join(f"Matcher({m.label!r}, {m.op!r}, {m.value!r})" for m in sel.matchers)
    return f"Selector({sel.metric!r}, ({matchers}{',' if len(sel.matchers) == 1 else ''}))"


def _expr(expr: Expr) -> str:
    return f"raw({expr.render()!r})"


def _indicator(indicator: Indicator) -> str:
    if isinstance(indicator, RatioIndicator):
        side = f"bad={_selector(indicator.bad)}" if indicator.bad else f"good={_selector(indicator.good)}"  # type: ignore[arg-type]
        return f"RatioIndicator(total={_selector(indicator.total)}, {side})"
    if isinstance(indicator, LatencyIndicator):
        return f"LatencyIndicator({_selector(indicator.histogram)}, {_decimal(indicator.threshold)})"
    if isinstance(indicator, RawIndicator):
        return f"RawIndicator(\n            {_expr(indicator.bad_events_5m)},\n            {_expr(indicator.total_events_5m)},\n        )"
    raise TypeError(f"no emitter for {type(indicator).__name__}")


def _tiers(tiers: tuple[BurnRateTier, ...]) -> str:
    if not tiers:
        return "()"
    if tiers == DEFAULT_TIERS:
        return "DEFAULT_TIERS"
    if all(t in DEFAULT_TIERS for t in tiers):
        return f"tuple(t for t in DEFAULT_TIERS if t.name in {tuple(t.name for t in tiers)!r})"
    return "(\n" + "".join(f"            {_tier(t)},\n" for t in tiers) + "        )"


def _tier(t: BurnRateTier) -> str:
    args = [repr(t.name), repr(str(t.long_window)), repr(str(t.short_window)), repr(t.severity), repr(t.priority)]
    args.append(f"budget_consumed={_decimal(t.budget_consumed)}" if t.budget_consumed is not None else f"factor={_decimal(t.factor)}")
    if t.for_ is not None:
        args.append(f"for_={str(t.for_)!r}")
    return f"tier({', '.join(args)})"
