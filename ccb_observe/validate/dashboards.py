"""Checks on generated Grafana dashboards: Grafana's JSON Schema, then our own lint for what the
schema allows but Grafana (or a reader) does not want: old schema versions and panel types,
panels off the grid or on top of each other, panels without a title, description or unit,
targets without a refId, a fixed data source, nulls, and PromQL that does not parse or reads a
recorded series (`a:b:c`) that no generated rule records."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Callable, Iterator

import jsonschema

from ..compile.grafana import DASHBOARDS_DIR
from ..compile.rules import RULES_DIR
from ..output import read_yaml
from ..promql import parseable
from ..promql_ast import PromQLSyntaxError, facts
from .findings import Finding

# Grafana's own rules below are stated here, apart from the compiler, so the check does not
# inherit the compiler's mistakes; only where the files are is shared.
MIN_SCHEMA_VERSION = 39
UID_RE = re.compile(r"^[a-z0-9-]{1,40}$")
MODERN_TYPES = frozenset({"row", "timeseries", "stat", "gauge", "table", "text", "bargauge", "barchart",
                          "piechart", "heatmap", "histogram", "state-timeline", "status-history", "logs", "alertlist"})
DATA_SOURCE = "${datasource}"
GRAFANALIB_MAX_DATA_POINTS = 100
GRID_COLUMNS = 24
JSON = dict[str, Any]
Report = Callable[[str, str], None]  # (rule, message)


def checks(system_dir: Path) -> list[Finding]:
    """Every finding on the dashboards of one system's generated folder."""
    recorded = recorded_series(system_dir)
    findings: list[Finding] = []
    for path in sorted((system_dir / DASHBOARDS_DIR).glob("*.json")):
        findings += check_file(path, recorded)
    return sorted(findings)



def recorded_series(system_dir: Path) -> frozenset[str]:
    """The names every generated rule file records."""
    names: set[str] = set()
    for path in sorted((system_dir / RULES_DIR).glob("*.yml")):
        for group in (read_yaml(path.read_text()) or {}).get("groups", []):
            names.update(rule["record"] for rule in group.get("rules", []) if "record" in rule)
    return frozenset(names)


@lru_cache(maxsize=1)
def schema_validator() -> jsonschema.Draft7Validator:
    text = resources.files("ccb_observe").joinpath("schemas/grafana-dashboard.jsonschema.json").read_text()
    return jsonschema.Draft7Validator(json.loads(text))


def check_file(path: Path, recorded: frozenset[str]) -> list[Finding]:
    findings: list[Finding] = []

    def report(rule: str, message: str) -> None:
        findings.append(Finding(str(path), 0, f"dashboard/{rule}", message))

    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        return [Finding(str(path), exc.lineno, "dashboard/json", f"not JSON: {exc.msg}")]
    if not isinstance(data, dict):
        return [Finding(str(path), 0, "dashboard/json", "a dashboard is a JSON object")]
    for error in sorted(schema_validator().iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        report("schema", f"{_name(data)}: {_json_path(error.absolute_path)}: {error.message}")
    lint(data, path.stem, recorded, report)
    return findings


def lint(data: JSON, file_stem: str, recorded: frozenset[str], report: Report) -> None:
    name = _name(data)
    uid = data.get("uid")
    if not isinstance(uid, str) or not UID_RE.match(uid):
        report("uid", f"{name}: uid {uid!r} is not stable lower case ([a-z0-9-], at most 40 characters)")
    elif uid != file_stem:
        report("uid", f"{name}: the file is named {file_stem}.json, not after its uid")
    version = data.get("schemaVersion")
    if not isinstance(version, int) or version < MIN_SCHEMA_VERSION:
        report("schema-version", f"{name}: schemaVersion {version!r} is older than {MIN_SCHEMA_VERSION} (Grafana would migrate it on every load)")
    if data.get("editable") is not False:
        report("editable", f"{name}: editable must be false (the definitions are the source; UI edits would be lost)")
    if not _has_datasource_variable(data):
        report("datasource-variable", f"{name}: no template variable `datasource` of type datasource")
    for where in _nulls(data, "$"):
        report("null", f"{name}: null at {where} (Grafana reads a missing key as the default; a null is not one)")
    panels = list(_panels(data.get("panels", [])))
    _lint_ids(name, panels, report)
    _lint_grid(name, panels, report)
    for panel in panels:
        _lint_panel(name, panel, recorded, report)


def _lint_panel(name: str, panel: JSON, recorded: frozenset[str], report: Report) -> None:
    kind = panel.get("type")
    where = f"{name} panel {_panel_name(panel)}"
    if kind not in MODERN_TYPES:
        report("panel-type", f"{where}: type {kind!r} is not a modern panel type ({', '.join(sorted(MODERN_TYPES))})")
        return
    if kind in ("row", "text"):
        return
    for key in ("title", "description"):
        if not str(panel.get(key) or "").strip():
            report(f"panel-{key}", f"{where}: no {key}")
    if panel.get("maxDataPoints") == GRAFANALIB_MAX_DATA_POINTS:
        report("grafanalib-default", f"{where}: maxDataPoints {GRAFANALIB_MAX_DATA_POINTS} is grafanalib's default; it thins every series to 100 points")
    if not str(panel.get("fieldConfig", {}).get("defaults", {}).get("unit") or "").strip():
        report("panel-unit", f"{where}: no unit (fieldConfig.defaults.unit)")
    targets = panel.get("targets") or []
    if not targets:
        report("panel-targets", f"{where}: a data panel has no targets")
    if panel.get("datasource", {}).get("uid") != DATA_SOURCE:
        report("datasource", f"{where}: the panel's data source is not {DATA_SOURCE}")
    ref_ids = [t.get("refId") for t in targets]
    for i, target in enumerate(targets):
        _lint_target(f"{where} target {target.get('refId') or i}", target, recorded, report)
    if len(set(ref_ids)) != len(ref_ids):
        report("ref-id", f"{where}: two targets share a refId ({', '.join(map(str, ref_ids))})")
    _lint_thresholds(where, panel, report)


def _lint_target(where: str, target: JSON, recorded: frozenset[str], report: Report) -> None:
    if not str(target.get("refId") or "").strip():
        report("ref-id", f"{where}: no refId")
    if target.get("datasource", {}).get("uid") != DATA_SOURCE:
        report("datasource", f"{where}: the target's data source is not {DATA_SOURCE}")
    expr = target.get("expr")
    if not isinstance(expr, str) or not expr.strip():
        report("promql", f"{where}: no expression")
        return
    try:
        found = facts(parseable(expr))
    except PromQLSyntaxError as exc:
        report("promql", f"{where}: PromQL does not parse: {exc} in {expr!r}")
        return
    for series in sorted({s.metric for s in found.selectors}):
        if ":" in series and series not in recorded:
            report("recorded-series", f"{where}: reads {series}, which no generated rule records")


def _lint_thresholds(where: str, panel: JSON, report: Report) -> None:
    steps = panel.get("fieldConfig", {}).get("defaults", {}).get("thresholds", {}).get("steps", [])
    if not steps:
        return
    if steps[0].get("value") is not None:
        report("thresholds", f"{where}: the first threshold step is the base (value null, i.e. -Infinity)")
    values = [s.get("value") for s in steps[1:]]
    if any(not isinstance(v, (int, float)) for v in values) or values != sorted(set(values)):
        report("thresholds", f"{where}: threshold values must be numbers, strictly increasing: {values!r}")


def _lint_ids(name: str, panels: list[JSON], report: Report) -> None:
    seen: dict[int, str] = {}
    for panel in panels:
        panel_id = panel.get("id")
        if not isinstance(panel_id, int):
            report("panel-id", f"{name} panel {_panel_name(panel)}: no integer id")
        elif panel_id in seen:
            report("panel-id", f"{name} panel {_panel_name(panel)}: id {panel_id} is also panel {seen[panel_id]}")
        else:
            seen[panel_id] = _panel_name(panel)


def _lint_grid(name: str, panels: list[JSON], report: Report) -> None:
    placed: list[tuple[str, int, int, int, int]] = []
    for panel in panels:
        pos = panel.get("gridPos")
        where = f"{name} panel {_panel_name(panel)}"
        if not isinstance(pos, dict) or not all(isinstance(pos.get(k), int) for k in "xywh"):
            report("grid", f"{where}: no gridPos with integer x, y, w, h")
            continue
        x, y, w, h = (pos[k] for k in "xywh")
        if x < 0 or y < 0 or w < 1 or h < 1 or x + w > GRID_COLUMNS:
            report("grid", f"{where}: gridPos x={x} w={w} leaves the {GRID_COLUMNS}-column grid")
        for other, ox, oy, ow, oh in placed:
            if x < ox + ow and ox < x + w and y < oy + oh and oy < y + h:
                report("grid", f"{where}: overlaps panel {other}")
        placed.append((_panel_name(panel), x, y, w, h))


def _has_datasource_variable(data: JSON) -> bool:
    variables = data.get("templating", {}).get("list", [])
    return any(v.get("name") == "datasource" and v.get("type") == "datasource" for v in variables if isinstance(v, dict))


def _panels(panels: list[Any]) -> Iterator[JSON]:
    """Every panel, rows' collapsed panels included."""
    for panel in panels:
        if isinstance(panel, dict):
            yield panel
            yield from _panels(panel.get("panels", []))


def _nulls(value: Any, where: str) -> Iterator[str]:
    if isinstance(value, dict):
        is_step = set(value) == {"color", "value"}
        for key, item in value.items():
            if item is None and not (is_step and key == "value"):  # a threshold base step is null by design
                yield f"{where}.{key}"
            else:
                yield from _nulls(item, f"{where}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _nulls(item, f"{where}[{i}]")


def _name(data: JSON) -> str:
    return f"dashboard {data.get('uid')!r} ({data.get('title', 'untitled')})"


def _panel_name(panel: JSON) -> str:
    return f"{panel.get('title') or '(untitled)'!r} (id {panel.get('id')})"


def _json_path(path: Any) -> str:
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)
