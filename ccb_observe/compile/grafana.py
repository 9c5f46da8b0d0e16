"""Grafana dashboards: the system's declared dashboards plus an SLO overview derived from its SLOs,
built with grafanalib and normalised into modern Grafana JSON, and the file provisioning for them.

grafanalib 0.7.1 (its last release) writes the JSON of Grafana 6: schemaVersion 12, nulls for every
unset option, `maxDataPoints: 100`, legacy panel keys (`span`, `error`, `height`, ...), threshold
steps with graph-era keys, gauge options inside `fieldConfig`. `normalise_*` below turn its output
into what Grafana 10+ itself saves, which the JSON Schema in ccb_observe/schemas accepts.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Iterable, Iterator

from grafanalib import core as g

from .. import naming, parallel
from .. import promql as q
from ..errors import DefinitionError
from ..model import SLO, System
from ..model.dashboards import (
    REF_IDS, UID_MAX, Dashboard, DataPanel, Gauge, Panel, Query, Row, Stat, Table, Text, Threshold, TimeSeries,
    slo_query,
)
from ..output import Output, to_json, to_yaml

SCHEMA_VERSION = 39  # Grafana 10.4 / 11.0
DASHBOARDS_DIR = "grafana/dashboards"
PROVISIONING_FILE = "grafana/provisioning/dashboards.yml"
# Where Grafana reads the dashboards: mount generated/<system>/grafana/dashboards here.
MOUNT_ROOT = "/var/lib/grafana/dashboards"
DATASOURCE_VARIABLE = "datasource"
DATASOURCE = {"type": "prometheus", "uid": "${" + DATASOURCE_VARIABLE + "}"}
ROW_HEIGHT = 1
# SLOs per overview page: 5 panels each, so a page holds at most 125 panels (~290 KB), which Grafana
# loads at once; one dashboard for 10,000 SLOs would be 115 MB.
OVERVIEW_PAGE_SLOS = 25
# Dashboards are heavy (an overview page takes ~25 ms), but their bytes travel back from a worker:
# measured with one of two cores busy, forking lost 0.3 s at 60 dashboards and broke even near 180.
PARALLEL_FROM_DASHBOARDS = 100
JSON = dict[str, Any]
PageLink = tuple[str, str]  # (title, uid of the dashboard linked)


def compile(system: System) -> Output:
    links = overview_page_links(system)
    pages = overview_pages_of(system)
    check_uids_free(system, len(pages))

    def dashboard_file(index: int) -> tuple[str, bytes]:
        # Built where it is written: with forked workers, each builds its own share of the pages.
        d = slo_overview(system, pages[index], index + 1, len(pages)) if index < len(pages) else system.dashboards[index - len(pages)]
        return f"{DASHBOARDS_DIR}/{d.uid}.json", to_json(dashboard_json(system, d, links.get(d.uid, ())))

    files: Output = dict(parallel.map_indices(dashboard_file, len(pages) + len(system.dashboards), PARALLEL_FROM_DASHBOARDS))
    if files:
        files[PROVISIONING_FILE] = provisioning(system)
    return files


def dashboards(system: System) -> list[Dashboard]:
    return slo_overview_pages(system) + list(system.dashboards)


# ---------------------------------------------------------------- the derived SLO overview


def slo_overview_uid(system: System, page: int = 1) -> str:
    """Page 1 keeps the overview's uid (SLOs' dashboard links point at it); page k is `<uid>-k`."""
    suffix = "-slo-overview"
    uid = system.name[: UID_MAX - len(suffix)].rstrip("-") + suffix
    return uid if page == 1 else uid[: UID_MAX - len(f"-{page}")].rstrip("-") + f"-{page}"


def overview_pages_of(system: System) -> list[tuple[SLO, ...]]:
    slos = system.slos
    return [slos[i:i + OVERVIEW_PAGE_SLOS] for i in range(0, len(slos), OVERVIEW_PAGE_SLOS)]


def slo_overview_pages(system: System) -> list[Dashboard]:
    pages = overview_pages_of(system)
    return [slo_overview(system, slos, page, len(pages)) for page, slos in enumerate(pages, start=1)]


def slo_overview(system: System, slos: tuple[SLO, ...], page: int = 1, pages: int = 1) -> Dashboard:
    panels: list[Panel] = []
    for slo in slos:
        panels += slo_panels(slo)
    title, which = f"{system.name}: SLO overview", f"Every SLO of {system.name}"
    if pages > 1:
        title += f", page {page} of {pages}"
        which = f"Page {page} of {pages} of the SLOs of {system.name} ({slos[0].name} to {slos[-1].name})"
    return Dashboard(
        slo_overview_uid(system, page), title,
        f"{which}: its indicator against the objective, the error budget left over "
        "the period, the burn rate per alert window with each tier's threshold, and the burn-rate alerts firing.",
        tuple(panels), tags=(system.name, "slo"), time_from="now-7d", defined_at=system.defined_at,
    )


def check_uids_free(system: System, pages: int) -> None:
    """A declared dashboard must not take a uid of the derived overview: one file would overwrite the other."""
    derived = {slo_overview_uid(system, page): page for page in range(1, pages + 1)}
    for d in system.dashboards:
        if d.uid in derived:
            raise DefinitionError(d.defined_at, f"dashboard {d.uid!r}",
                                  f"the uid is the derived SLO overview's (page {derived[d.uid]} of {pages}): pick another")


def overview_page_links(system: System) -> dict[str, tuple[PageLink, ...]]:
    """uid -> links to the first, previous and next overview pages (none when one page holds all)."""
    count = len(overview_pages_of(system))
    links: dict[str, tuple[PageLink, ...]] = {}
    for page in range(1, count + 1) if count > 1 else ():
        around = [("SLO overview: first page", 1)] * (page > 2) + [("previous page", page - 1)] * (page > 1)
        around += [("next page", page + 1)] * (page < count)
        links[slo_overview_uid(system, page)] = tuple((title, slo_overview_uid(system, p)) for title, p in around)
    return links


def slo_panels(slo: SLO) -> list[Panel]:
    at, objective = slo.defined_at, slo.objective_ratio
    percent = q.format_number(slo.objective)
    sli = TimeSeries(
        f"{slo.name}: SLI vs objective",
        f"Good events over the last {slo.period} ({slo.description}) against the {percent}% objective (dashed line).",
        "percentunit",
        (Query(slo_query(naming.SLI_PERIOD, slo), f"SLI ({slo.period})"), Query(slo_query(naming.OBJECTIVE, slo), "objective")),
        (Threshold(objective, "green"),), "red", width=8, defined_at=at,
    )
    budget = Stat(
        f"{slo.name}: error budget remaining",
        f"Share of the {slo.period} error budget ({q.format_number(slo.error_budget * 100)}% of events) not yet spent; below 0 the SLO is broken.",
        "percentunit", (Query(slo_query(naming.BUDGET_REMAINING, slo), "budget left"),),
        (Threshold(Decimal(0), "orange"), Threshold(Decimal("0.25"), "green")), "red", width=4, defined_at=at,
    )
    # The 5m burn rate is always recorded: an SLO without alert tiers still gets a panel with a query.
    windows = sorted({naming.FINE_WINDOW} | {w for t in slo.tiers for w in (t.long_window, t.short_window)})
    burn = TimeSeries(
        f"{slo.name}: burn rate",
        "How many times faster than sustainable the error budget is spent, per alert window. Dashed lines: "
        + "; ".join(f"{t.name} alerts above {q.format_number(t.burn_factor(slo.period))}x over {t.long_window} and {t.short_window}" for t in slo.tiers)
        + ".",
        "short", tuple(Query(slo_query(naming.burn_rate(w), slo), str(w)) for w in windows),
        tier_thresholds(slo), "green", width=8, defined_at=at,
    )
    alerts = q.selector("ALERTS", slo=slo.name, service=slo.service or "", alertstate="firing")
    firing = Stat(
        f"{slo.name}: firing alerts",
        f"Burn-rate alerts of {slo.name} firing now (ALERTS{{alertstate=\"firing\"}}), any tier.",
        "short", (Query(q.or_zero(q.count(alerts)), "firing"),), (Threshold(Decimal(1), "red"),), "green",
        width=4, defined_at=at,
    )
    return [Row(f"SLO {slo.name}: {slo.description} ({percent}% over {slo.period})", defined_at=at), sli, budget, burn, firing]


def tier_thresholds(slo: SLO) -> tuple[Threshold, ...]:
    """One step per distinct tier factor, coloured by the most severe tier alerting there."""
    colour = {"critical": "red", "warning": "orange", "info": "blue"}
    by_factor: dict[Decimal, str] = {}
    for t in sorted(slo.tiers, key=lambda t: ("critical", "warning", "info").index(t.severity), reverse=True):
        by_factor[t.burn_factor(slo.period)] = colour[t.severity]
    return tuple(Threshold(f, c) for f, c in sorted(by_factor.items()))


# ---------------------------------------------------------------- layout


def layout(panels: Iterable[Panel]) -> Iterator[tuple[Panel, g.GridPos]]:
    """Panels flow left to right on the 24-column grid; a panel that does not fit starts a new line,
    a row always does and spans the width."""
    x = y = line_height = 0
    for panel in panels:
        if isinstance(panel, Row):
            y, x, line_height = y + line_height, 0, 0
            yield panel, g.GridPos(h=ROW_HEIGHT, w=24, x=0, y=y)
            y += ROW_HEIGHT
            continue
        if x + panel.width > 24:
            y, x, line_height = y + line_height, 0, 0
        yield panel, g.GridPos(h=panel.height, w=panel.width, x=x, y=y)
        x, line_height = x + panel.width, max(line_height, panel.height)


# ---------------------------------------------------------------- grafanalib objects


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def steps(panel: DataPanel) -> list[JSON]:
    # The first step has no lower bound: Grafana writes it as null (-Infinity).
    return [{"color": panel.base_color, "value": None}] + [{"color": t.color, "value": _number(t.value)} for t in panel.thresholds]


def targets(panel: DataPanel, instant: bool) -> list[g.Target]:
    return [
        g.Target(
            expr=query.expr.render(), legendFormat=query.legend, refId=REF_IDS[i], instant=instant,
            format=g.TABLE_TARGET_FORMAT if isinstance(panel, Table) else g.TIME_SERIES_TARGET_FORMAT,
            datasource=DATASOURCE,
        )
        for i, query in enumerate(panel.queries)
    ]


def grafanalib_panel(panel: Panel, pos: g.GridPos, panel_id: int) -> g.Panel:
    if isinstance(panel, Row):
        return g.RowPanel(title=panel.title, gridPos=pos, id=panel_id)
    if isinstance(panel, Text):
        return g.Text(title=panel.title, content=panel.content, gridPos=pos, id=panel_id)
    common: JSON = dict(
        title=panel.title, description=panel.description, gridPos=pos, id=panel_id, dataSource=DATASOURCE,
        targets=targets(panel, instant=not isinstance(panel, TimeSeries)), thresholds=steps(panel),
    )
    if isinstance(panel, TimeSeries):
        return g.TimeSeries(
            unit=panel.unit, thresholdsStyleMode=panel.threshold_style, fillOpacity=10 if panel.stacked else 0,
            stacking={"mode": "normal" if panel.stacked else "none", "group": "A"}, legendCalcs=["lastNotNull", "max"],
            legendDisplayMode="table" if len(panel.queries) > 2 else "list", tooltipMode="multi", **common,
        )
    if isinstance(panel, Stat):
        return g.Stat(format=panel.unit, reduceCalc="lastNotNull", graphMode="area", colorMode="value", **common)
    if isinstance(panel, Gauge):
        return g.GaugePanel(format=panel.unit, calc="lastNotNull", min=_number(panel.minimum), max=_number(panel.maximum), **common)
    if isinstance(panel, Table):
        return g.Table(unit=panel.unit, **common)
    raise TypeError(f"not a panel: {panel!r}")


def grafanalib_dashboard(system: System, dashboard: Dashboard, pages: tuple[PageLink, ...] = ()) -> g.Dashboard:
    panels = [grafanalib_panel(p, pos, i) for i, (p, pos) in enumerate(layout(dashboard.panels), start=1)]
    variable = g.Template(name=DATASOURCE_VARIABLE, label="Data source", query="prometheus", type="datasource")
    # Every dashboard carries the system's tag, so that this link lists them all.
    siblings = g.DashboardLink(title=f"{system.name} dashboards", tags=[system.name], asDropdown=True, includeVars=True,
                               keepTime=True, type="dashboards", icon="dashboard")
    page_links = [g.DashboardLink(title=title, uri=f"/d/{uid}", includeVars=True, keepTime=True, type="link", icon="dashboard")
                  for title, uid in pages]
    return g.Dashboard(
        title=dashboard.title, uid=dashboard.uid, description=dashboard.description, panels=panels,
        tags=sorted({*dashboard.tags, system.name}), links=[siblings, *page_links], editable=False, templating=g.Templating([variable]),
        time=g.Time(dashboard.time_from, "now"), refresh=dashboard.refresh,
        graphTooltip=g.GRAPH_TOOLTIP_MODE_SHARED_CROSSHAIR, timezone="utc",
    )


# ---------------------------------------------------------------- normalising grafanalib's JSON

LEGACY_DASHBOARD_KEYS = ("__inputs", "gnetId", "hideControls", "id", "rows", "sharedCrosshair", "style")
LEGACY_PANEL_KEYS = ("cacheTimeout", "editable", "error", "height", "minSpan", "span", "maxDataPoints",
                     "columns", "fontSize", "color", "mappings")
ROW_KEYS = ("type", "title", "collapsed", "gridPos", "id", "panels")
TEXT_KEYS = ("type", "title", "gridPos", "id", "options")
TARGET_KEYS = ("datasource", "expr", "legendFormat", "refId", "format", "instant")
GAUGE_OPTIONS = ("showThresholdLabels", "showThresholdMarkers")
GAUGE_DEFAULTS_DROPPED = ("calcs", "limit", "override", "title", "values", "links")


def dashboard_json(system: System, dashboard: Dashboard, pages: tuple[PageLink, ...] = ()) -> JSON:
    return normalise_dashboard(grafanalib_json(system, dashboard, pages))


def grafanalib_json(system: System, dashboard: Dashboard, pages: tuple[PageLink, ...] = ()) -> JSON:
    """grafanalib's JSON as fresh dicts and lists, without its nulls; normalising puts back the one
    null Grafana wants."""
    data: JSON = plain_json(grafanalib_dashboard(system, dashboard, pages))
    return data


def plain_json(value: Any) -> Any:
    """What json.dumps(cls=DashboardEncoder) would write, as data, nulls dropped: one pass instead
    of encoding, decoding and walking the tree again (3x faster on big dashboards)."""
    while hasattr(value, "to_json_data"):
        value = value.to_json_data()
    if isinstance(value, dict):
        return {k: v if type(v) in _LEAVES else plain_json(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [v if type(v) in _LEAVES else plain_json(v) for v in value]
    return value


_LEAVES = frozenset({str, int, float, bool})  # most values: kept as they are without a call


def normalise_dashboard(data: JSON) -> JSON:
    for key in LEGACY_DASHBOARD_KEYS:
        data.pop(key, None)
    data["schemaVersion"] = SCHEMA_VERSION
    data["version"] = 1
    data["timepicker"].pop("time_options", None)  # graph-era picker option, gone from the schema
    data["templating"]["list"] = [normalise_variable(v) for v in data["templating"]["list"]]
    data["panels"] = [normalise_panel(p) for p in data["panels"]]
    return data


def normalise_variable(variable: JSON) -> JSON:
    # A datasource variable picks the first Prometheus data source; the saved `current` is Grafana's.
    kept = ("type", "name", "label", "query", "hide", "refresh", "includeAll", "multi", "options", "regex")
    out = {k: variable[k] for k in kept if variable.get(k) is not None}
    out.setdefault("regex", "")
    return out


def normalise_panel(panel: JSON) -> JSON:
    kind = panel["type"]
    if kind == "row":
        return {k: panel[k] for k in ROW_KEYS}
    if kind == "text":
        return {k: panel[k] for k in TEXT_KEYS}
    for key in LEGACY_PANEL_KEYS:
        panel.pop(key, None)
    panel["targets"] = [{k: t[k] for k in TARGET_KEYS} | {"range": not t["instant"]} for t in panel["targets"]]
    defaults = panel["fieldConfig"]["defaults"]
    # The first step has no lower bound: Grafana writes it as null (-Infinity).
    defaults["thresholds"]["steps"] = [{"color": s["color"], "value": s.get("value")} for s in defaults["thresholds"]["steps"]]
    if kind == "stat":
        defaults["color"] = {"mode": "thresholds"}
        defaults.pop("noValue", None)  # grafanalib's "none" would print the word "none" for no data
    elif kind == "gauge":
        field_config = panel["fieldConfig"]
        panel["options"] = {
            "reduceOptions": {"calcs": defaults["calcs"], "fields": "", "values": False},
            "orientation": "auto",
            **{k: field_config.pop(k) for k in GAUGE_OPTIONS},
        }
        for key in GAUGE_DEFAULTS_DROPPED:
            defaults.pop(key, None)
        defaults["color"] = {"mode": "thresholds"}
        field_config["overrides"] = []
    elif kind == "table":
        defaults["custom"].pop("displayMode", None)  # replaced by cellOptions in Grafana 10
        defaults["custom"]["cellOptions"] = {"type": "auto"}
    return panel


# ---------------------------------------------------------------- provisioning


def provisioning(system: System) -> bytes:
    """A file provider for the generated folder, mounted at MOUNT_ROOT/<system> in Grafana."""
    provider = {
        "name": system.name,
        "orgId": 1,
        "folder": system.name,
        "folderUid": system.name[:UID_MAX],
        "type": "file",
        "disableDeletion": True,
        "allowUiUpdates": False,
        "updateIntervalSeconds": 60,
        "options": {"path": f"{MOUNT_ROOT}/{system.name}", "foldersFromFilesStructure": False},
    }
    return to_yaml({"apiVersion": 1, "providers": [provider]})
