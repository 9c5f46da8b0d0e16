"""Import Sloth specs: `prometheus/v1`, the `PrometheusServiceLevel` CRD (`sloth.slok.dev/v1`), and
`openslo/v1alpha` (Sloth's OpenSLO reader), into a System and then a definitions module.

Sloth's two alerts (page, ticket) are each two burn-rate windows pairs of the SRE Workbook: exactly
the model's default tiers page-fast + page-slow and ticket-fast + ticket-slow."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .. import promql as q
from ..errors import DefinitionError
from ..model import SLO, RawIndicator, tier
from ..model.slo import BurnRateTier, Indicator
from .documents import Node, load_documents
from .emit import Imported
from .openslo import read_v1alpha
from .queries import CatalogBuilder, at_base_window, events_indicator
from .spec import Found, finish, model_slo, objective_percent, slo_name

PAGE_TIERS = ("page-fast", "page-slow")
TICKET_TIERS = ("ticket-fast", "ticket-slow")
COMMAND = "ccb-observe import sloth"


@dataclass(frozen=True)
class Style:
    """Field names of one Sloth format (the CRD spells them in camelCase)."""

    error_query: str
    total_query: str
    error_ratio_query: str
    page_alert: str
    ticket_alert: str
    spec: str


PROMETHEUS_V1 = Style("error_query", "total_query", "error_ratio_query", "page_alert", "ticket_alert", "prometheus/v1")
CRD = Style("errorQuery", "totalQuery", "errorRatioQuery", "pageAlert", "ticketAlert", "sloth.slok.dev/v1 PrometheusServiceLevel")


def import_file(path: Path, windows: Path | None = None) -> Imported:
    """A Sloth spec file; `windows` is a Sloth AlertWindows file (default: Sloth's google-30d)."""
    found, catalog = Found(), CatalogBuilder()
    if windows is not None:
        found.period, found.tiers = alert_windows(windows)
    for doc in load_documents(path):
        reader = _reader(doc)
        reader(doc, found, catalog)
    return finish(path, found, catalog, "Sloth", COMMAND)


def _reader(doc: Node) -> Callable[[Node, Found, CatalogBuilder], None]:
    if not isinstance(doc.value, dict):
        raise doc.fail("expected a mapping")
    if doc.value.get("version") == "prometheus/v1":
        return _prometheus_v1
    api, kind = doc.value.get("apiVersion"), doc.value.get("kind")
    if api == "sloth.slok.dev/v1" and kind == "PrometheusServiceLevel":
        return _crd
    if api == "openslo/v1alpha" and kind == "SLO":
        return read_v1alpha
    raise doc.fail(f"not a spec Sloth reads (version {doc.value.get('version')!r}, apiVersion {api!r}, kind {kind!r}): "
                   "expected version prometheus/v1, sloth.slok.dev/v1 PrometheusServiceLevel, or openslo/v1alpha SLO")


def _prometheus_v1(doc: Node, found: Found, catalog: CatalogBuilder) -> None:
    doc.mapping({"version", "service", "labels", "slos"})
    _service(doc, PROMETHEUS_V1, found, catalog)


def _crd(doc: Node, found: Found, catalog: CatalogBuilder) -> None:
    doc.mapping({"apiVersion", "kind", "metadata", "spec"})
    doc.get("metadata", {}).mapping({"name", "namespace", "labels", "annotations"})
    _service(doc.require("spec").mapping({"service", "labels", "slos"}), CRD, found, catalog)


def _service(spec: Node, style: Style, found: Found, catalog: CatalogBuilder) -> None:
    labels = spec.labels("labels")
    found.add_service(spec, spec.text("service"), labels.get("team") or labels.get("owner", ""))
    found.specs.append(style.spec)
    if labels:
        found.notes[""] = found.notes.get("", ()) + (f"Sloth labels on every rule (not carried over; the rules label series by slo/service/team): {labels}",)
    for node in spec.require("slos").items():
        slo, notes = _slo(node, style, found, catalog)
        found.slos.append(slo)
        found.notes[slo.name] = notes


def _slo(node: Node, style: Style, found: Found, catalog: CatalogBuilder) -> tuple[SLO, tuple[str, ...]]:
    node.mapping({"name", "description", "objective", "labels", "sli", "alerting"})
    name = slo_name(node.require("name"))
    sli = node.require("sli").mapping({"raw", "events", "plugin"})
    kinds = [k for k in ("raw", "events", "plugin") if sli.has(k)]
    if len(kinds) != 1:
        raise sli.fail("give exactly one SLI kind: events, raw (or plugin)")
    notes: list[str] = []
    if kinds[0] == "plugin":
        raise sli.get("plugin").fail("unsupported SLI kind: a Sloth SLI plugin is Go code ccb_observe cannot translate; "
                                     "write its PromQL as an events or raw SLI")
    if kinds[0] == "events":
        events = sli.get("events").mapping({style.error_query, style.total_query})
        bad = at_base_window(events.require(style.error_query))
        total = at_base_window(events.require(style.total_query))
        catalog.read(bad)
        catalog.read(total)
        indicator: Indicator = events_indicator(bad, total)
    else:
        ratio = at_base_window(sli.get("raw").mapping({style.error_ratio_query}).require(style.error_ratio_query))
        catalog.read(ratio)
        # A ratio without event counts: every 5m ratio weighs one, so longer windows are a mean of
        # 5m ratios (as in Sloth) rather than event-weighted.
        indicator = RawIndicator(q.raw(ratio), q.vector(1))
        notes.append("Sloth raw SLI: an error ratio with no event counts, so each 5m ratio counts as one event.")
    tiers, alert_notes = _tiers(node.get("alerting", {}), style, found.tiers)
    notes += alert_notes
    slo_labels = node.labels("labels")
    if slo_labels:
        notes.append(f"Sloth SLO labels (not carried over): {slo_labels}")
    description = node.text("description", "") or f"Imported from Sloth SLO {name}"
    annotations = node.get("alerting", {}).labels("annotations")
    runbook = annotations.get("runbook_url") or annotations.get("runbook", "")
    slo = model_slo(node, name, objective_percent(node.require("objective")), indicator, description, found.period, tiers,
                    runbook_url=runbook)
    return slo, tuple(notes)


def _tiers(alerting: Node, style: Style, available: tuple[BurnRateTier, ...]) -> tuple[tuple[BurnRateTier, ...], list[str]]:
    alerting.mapping({"name", "labels", "annotations", style.page_alert, style.ticket_alert})
    names: list[str] = []
    notes = []
    if alerting.has("name"):
        notes.append(f"Sloth alert {alerting.text('name')!r} becomes <Slo>BudgetBurn, one rule per tier (labels burn_tier, severity).")
    for label, key, tier_names in (("page", style.page_alert, PAGE_TIERS), ("ticket", style.ticket_alert, TICKET_TIERS)):
        alert = alerting.get(key, {}).mapping({"disable", "labels", "annotations"})
        disabled = alert.get("disable", False).value
        if not isinstance(disabled, bool):
            raise alert.get("disable").fail("expected true or false")
        if not disabled:
            names += tier_names
        extra = {**alerting.labels("labels"), **alert.labels("labels")}
        if extra and not disabled:
            notes.append(f"Sloth {label} alert labels (route on severity/burn_tier instead): {extra}")
        annotations = {**alerting.labels("annotations"), **alert.labels("annotations")}
        if annotations and not disabled:
            notes.append(f"Sloth {label} alert annotations (ours: summary, description, runbook_url, dashboard_url): {annotations}")
    return tuple(t for t in available if t.name in names), notes


# Sloth's AlertWindows: page/ticket × quick/slow, as the model's tiers.
WINDOW_TIERS = (("page", "quick", "page-fast", "critical", "P0"), ("page", "slow", "page-slow", "critical", "P1"),
                ("ticket", "quick", "ticket-fast", "warning", "P2"), ("ticket", "slow", "ticket-slow", "warning", "P2"))


def alert_windows(path: Path) -> tuple[str, tuple[BurnRateTier, ...]]:
    """The period and tiers of a Sloth `AlertWindows` file."""
    (doc, *rest) = load_documents(path)
    if rest:
        raise rest[0].fail("an AlertWindows file holds one document")
    doc.mapping({"apiVersion", "kind", "spec"})
    if (doc.text("apiVersion"), doc.text("kind")) != ("sloth.slok.dev/v1", "AlertWindows"):
        raise doc.fail("expected apiVersion sloth.slok.dev/v1, kind AlertWindows")
    spec = doc.require("spec").mapping({"sloPeriod", "page", "ticket"})
    period = spec.text("sloPeriod")
    tiers = []
    for severity_key, speed, name, severity, priority in WINDOW_TIERS:
        window = spec.require(severity_key).mapping({"quick", "slow"}).require(speed).mapping(
            {"errorBudgetPercent", "shortWindow", "longWindow"})
        budget = objective_percent(window.require("errorBudgetPercent"), what="errorBudgetPercent") / 100
        try:
            tiers.append(tier(name, window.text("longWindow"), window.text("shortWindow"), severity, priority,  # type: ignore[arg-type]
                              budget_consumed=budget))
        except DefinitionError as exc:
            raise window.fail(exc.rule) from None
    return period, tuple(tiers)
