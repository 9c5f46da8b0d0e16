"""Grafana dashboards: the seed's four pass Grafana's JSON Schema and our lint; the lint catches
each rule broken, naming dashboard and panel; outputs are deterministic; provisioning points at
them; the model rejects bad dashboards naming the definition."""

from __future__ import annotations

import json
from dataclasses import replace
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml
from grafanalib._gen import DashboardEncoder

from ccb_observe import naming
from ccb_observe import promql as q
from ccb_observe.compile import compile_all, grafana
from ccb_observe.errors import DefinitionError
from ccb_observe.model import KPI, SLO, RatioIndicator, System, counter, gauge, target
from ccb_observe.model.dashboards import Dashboard, Query, Row, Stat, Text, TimeSeries, kpi_stat, threshold
from ccb_observe.promql_ast import facts
from ccb_observe.validate.dashboards import checks, schema_validator

from conftest import ROOT, shared_dir

SYSTEM_DIR = "claude-code-bot"
UIDS = ("claude-code-bot-business-metrics", "claude-code-bot-infrastructure", "claude-code-bot-slo-overview", "claude-code-bot-system-health")
JSON = dict[str, Any]
CLI = [sys.executable, "-c", "from ccb_observe.cli import main; main()"]


def dashboards_in(tree: Path) -> dict[str, JSON]:
    folder = tree / SYSTEM_DIR / grafana.DASHBOARDS_DIR
    return {p.stem: json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))}


def data_panels(dashboard: JSON) -> list[JSON]:
    return [p for p in dashboard["panels"] if p["type"] not in ("row", "text")]


def panel(dashboard: JSON, title: str) -> JSON:
    (found,) = [p for p in dashboard["panels"] if p.get("title") == title]
    return found


def steps(p: JSON) -> list[JSON]:
    return p["fieldConfig"]["defaults"]["thresholds"]["steps"]


# ---------------------------------------------------------------- the seed's dashboards


def test_every_generated_dashboard_passes_schema_and_lint(generated_copy: Path) -> None:
    assert tuple(dashboards_in(generated_copy)) == UIDS
    findings = checks(generated_copy / SYSTEM_DIR)
    assert findings == [], "\n".join(map(str, findings))


def test_dashboards_are_modern_grafana(generated_copy: Path) -> None:
    for uid, dashboard in dashboards_in(generated_copy).items():
        assert dashboard["uid"] == uid and dashboard["schemaVersion"] >= 39 and dashboard["editable"] is False
        assert {p["type"] for p in dashboard["panels"]} <= {"row", "timeseries", "stat", "gauge", "table", "text"}
        assert [p["id"] for p in dashboard["panels"]] == list(range(1, len(dashboard["panels"]) + 1))
        assert [v["name"] for v in dashboard["templating"]["list"] if v["type"] == "datasource"] == ["datasource"]
        assert "claude-code-bot" in dashboard["tags"]
        assert [(link["type"], link["tags"]) for link in dashboard["links"]] == [("dashboards", ["claude-code-bot"])]
        for p in data_panels(dashboard):
            assert p["title"] and p["description"] and p["fieldConfig"]["defaults"]["unit"], p["title"]
            assert "maxDataPoints" not in p and "span" not in p
            assert [t["refId"] for t in p["targets"]] == [chr(ord("A") + i) for i in range(len(p["targets"]))]
            assert all(t["datasource"] == {"type": "prometheus", "uid": "${datasource}"} for t in p["targets"])


def test_bundled_schema_is_grafanas() -> None:
    reference = shared_dir("reference", "grafana", "dashboard.jsonschema.json")
    bundled = ROOT / "ccb_observe" / "schemas" / "grafana-dashboard.jsonschema.json"
    assert bundled.read_bytes() == reference.read_bytes()
    assert "Apache License" in (bundled.parent / "NOTICE.md").read_text()


def test_grafanalib_json_needs_the_normalisation(seed: System) -> None:
    """What grafanalib writes by itself is what DESIGN.md says: Grafana's schema rejects it."""
    dashboard = grafana.dashboards(seed)[1]
    raw = grafana.grafanalib_json(seed, dashboard)
    assert raw["schemaVersion"] == 12 and raw["panels"][1]["maxDataPoints"] == 100
    assert list(schema_validator().iter_errors(raw))
    assert not list(schema_validator().iter_errors(grafana.normalise_dashboard(raw)))


def test_plain_json_is_what_grafanalibs_encoder_writes_without_nulls(seed: System) -> None:
    # The compiler skips the encode/decode round trip; it must give the same data.
    for dashboard in grafana.dashboards(seed):
        built = grafana.grafanalib_dashboard(seed, dashboard)
        encoded = json.dumps(built.to_json_data(), cls=DashboardEncoder)
        assert grafana.plain_json(built) == json.loads(encoded, object_hook=lambda d: {k: v for k, v in d.items() if v is not None})
        assert "null" in encoded  # grafanalib does write nulls: the comparison drops something


def test_every_expression_is_rendered_by_the_builder(seed: System, generated_copy: Path) -> None:
    built = {query.expr.render() for d in grafana.dashboards(seed) for p in d.data_panels() for query in p.queries}
    written = {t["expr"] for d in dashboards_in(generated_copy).values() for p in data_panels(d) for t in p["targets"]}
    assert written == built
    assert any("[$__rate_interval]" in expr for expr in written)


def test_panels_read_only_series_the_rules_record(seed: System, generated_copy: Path) -> None:
    recorded = set(seed.recorded_series())
    read = set()
    for dashboard in dashboards_in(generated_copy).values():
        for p in data_panels(dashboard):
            for t in p["targets"]:
                read |= {s.metric for s in facts(q.parseable(t["expr"])).selectors if ":" in s.metric}
    assert read and read <= recorded
    assert {naming.SLI_PERIOD, naming.BUDGET_REMAINING, "kpi:integrations_created:1d", "slo:error_ratio:5m"} <= read


# ---------------------------------------------------------------- what each dashboard shows


GUIDE_PANELS = {
    "claude-code-bot-system-health": ["Uptime (30d)", "Uptime per hour", "Response time percentiles", "Error rate trend",
                                      "Active database connections", "Database connection pool use", "Active Redis clients"],
    "claude-code-bot-business-metrics": ["New integrations per day", "Integrations created per day by type",
                                         "Webhook events processed per hour", "Webhook events processed by source",
                                         "AI API calls", "GitHub API calls"],
    "claude-code-bot-infrastructure": ["CPU usage", "Memory usage", "Memory use of limit", "Disk I/O", "Network traffic",
                                       "Pods by phase", "Pods not running", "Pod restarts (1h)"],
}


@pytest.mark.parametrize("uid", sorted(GUIDE_PANELS))
def test_guide_panels_are_present(generated_copy: Path, uid: str) -> None:
    titles = [p["title"] for p in data_panels(dashboards_in(generated_copy)[uid])]
    assert [t for t in GUIDE_PANELS[uid] if t not in titles] == []


def test_slo_overview_per_slo(seed: System, generated_copy: Path) -> None:
    overview = dashboards_in(generated_copy)["claude-code-bot-slo-overview"]
    for slo in seed.slos:
        sli = panel(overview, f"{slo.name}: SLI vs objective")
        assert [t["expr"] for t in sli["targets"]] == [
            f'slo:sli:ratio{{service="claude-code-bot", slo="{slo.name}"}}',
            f'slo:objective:ratio{{service="claude-code-bot", slo="{slo.name}"}}',
        ]
        assert steps(sli)[1]["value"] == float(slo.objective_ratio)
        assert "slo:error_budget_remaining:ratio" in panel(overview, f"{slo.name}: error budget remaining")["targets"][0]["expr"]
        burn = panel(overview, f"{slo.name}: burn rate")
        windows = sorted({w for t in slo.tiers for w in (t.long_window, t.short_window)})
        assert [t["legendFormat"] for t in burn["targets"]] == [str(w) for w in windows]
        assert all(t["expr"].startswith(naming.burn_rate(w)) for t, w in zip(burn["targets"], windows))
        assert [s["value"] for s in steps(burn)[1:]] == [1, 3, 6, 14.4]  # the Workbook's factors for 30 days
        assert [s["color"] for s in steps(burn)[1:]] == ["orange", "orange", "red", "red"]
        assert burn["fieldConfig"]["defaults"]["custom"]["thresholdsStyle"]["mode"] == "dashed"
        firing = panel(overview, f"{slo.name}: firing alerts")["targets"][0]["expr"]
        assert f'ALERTS{{alertstate="firing", service="claude-code-bot", slo="{slo.name}"}}' in firing


def test_slo_dashboard_links_resolve(seed: System) -> None:
    uid = grafana.slo_overview_uid(seed)
    assert all(slo.dashboard_url.endswith("/d/" + uid) for slo in seed.slos)


def test_kpi_panels_show_their_target(seed: System, generated_copy: Path) -> None:
    business = dashboards_in(generated_copy)["claude-code-bot-business-metrics"]
    for kpi in seed.kpis:
        stat = panel(business, kpi.description)
        assert stat["targets"][0]["expr"] == f'{kpi.series}{{kpi="{kpi.name}", service="claude-code-bot"}}'
        if kpi.target is None:
            assert steps(stat) == [{"color": "blue", "value": None}]
            continue
        below, above = ("red", "green") if kpi.target.op in (">", ">=") else ("green", "red")
        assert steps(stat) == [{"color": below, "value": None}, {"color": above, "value": float(kpi.target.value)}]


def test_layout_on_the_24_column_grid() -> None:
    one = TimeSeries("a", "d", "short", (q.vector(1),), width=16)
    panels = [Row("r"), one, Stat("b", "d", "short", (q.vector(1),), width=8), Stat("c", "d", "short", (q.vector(1),), width=12), Row("s"),
              Text("t", "note", width=6)]
    placed = [(p.x, p.y, p.w, p.h) for _, p in grafana.layout(panels)]
    assert placed == [(0, 0, 24, 1), (0, 1, 16, 8), (16, 1, 8, 8), (0, 9, 12, 8), (0, 17, 24, 1), (0, 18, 6, 3)]


# ---------------------------------------------------------------- the lint, one rule broken at a time

Mutation = Callable[[JSON], None]
HEALTH = "claude-code-bot-system-health"
LATENCY = "Response time percentiles"


def _latency(d: JSON) -> JSON:
    return panel(d, LATENCY)


def _set(path: str, value: Any) -> Mutation:
    def mutate(d: JSON) -> None:
        *parents, last = path.split(".")
        node = _latency(d)
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        node[last] = value  # type: ignore[index]
    return mutate


def _drop_datasource_variable(d: JSON) -> None:
    d["templating"]["list"] = []


def _overlap(d: JSON) -> None:
    _latency(d)["gridPos"] = dict(panel(d, "Error rate trend")["gridPos"])


def _off_grid(d: JSON) -> None:
    _latency(d)["gridPos"].update(x=20, w=8)


def _duplicate_id(d: JSON) -> None:
    _latency(d)["id"] = panel(d, "Error rate trend")["id"]


def _drop_description(d: JSON) -> None:
    del _latency(d)["description"]


def _drop_unit(d: JSON) -> None:
    del _latency(d)["fieldConfig"]["defaults"]["unit"]


def _drop_ref_id(d: JSON) -> None:
    del _latency(d)["targets"][1]["refId"]


def _graph_panel(d: JSON) -> None:
    _latency(d)["type"] = "graph"


def _unsorted_thresholds(d: JSON) -> None:
    _latency(d)["fieldConfig"]["defaults"]["thresholds"]["steps"].reverse()


def _gauge_options_in_field_config(d: JSON) -> None:
    panel(d, "Database connection pool use")["fieldConfig"]["showThresholdMarkers"] = True


LINT_CASES: list[tuple[str, Mutation, bool]] = [  # rule, mutation, names the panel
    ("schema-version", lambda d: d.update(schemaVersion=12), False),
    ("editable", lambda d: d.update(editable=True), False),
    ("uid", lambda d: d.update(uid="Claude_Code_Bot"), False),
    ("datasource-variable", _drop_datasource_variable, False),
    ("null", lambda d: d.update(refresh=None), False),
    ("panel-type", _graph_panel, True),
    ("grid", _overlap, True),
    ("grid", _off_grid, True),
    ("panel-id", _duplicate_id, True),
    ("panel-description", _drop_description, True),
    ("panel-unit", _drop_unit, True),
    ("ref-id", _drop_ref_id, True),
    ("datasource", _set("targets.0.datasource", {"type": "prometheus", "uid": "prod-prometheus"}), True),
    ("promql", _set("targets.0.expr", "sum(rate(http_requests_total[$__rate_interval])"), True),
    ("promql", _set("targets.0.expr", "rate(http_requests_total[$__unknown_range])"), True),
    ("recorded-series", _set("targets.0.expr", "slo:error_ratio:7m"), True),
    ("thresholds", _unsorted_thresholds, True),
    ("schema", _set("fieldConfig.defaults.thresholds.steps", ""), False),  # grafanalib's Stat default
    ("grafanalib-default", _set("maxDataPoints", 100), True),
    ("schema", _gauge_options_in_field_config, False),  # where grafanalib puts them
]


@pytest.mark.parametrize(("rule", "mutate", "names_panel"), LINT_CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(LINT_CASES)])
def test_lint_catches(generated_copy: Path, rule: str, mutate: Mutation, names_panel: bool) -> None:
    path = generated_copy / SYSTEM_DIR / grafana.DASHBOARDS_DIR / f"{HEALTH}.json"
    data = json.loads(path.read_text())
    mutate(data)
    path.write_text(json.dumps(data))
    found = [f for f in checks(generated_copy / SYSTEM_DIR) if f.check == f"dashboard/{rule}"]
    assert found, f"no dashboard/{rule} finding"
    assert all(f.file == str(path) for f in found)
    assert any("(Claude Code Bot: System Health)" in f.message for f in found)  # the dashboard, by uid and title
    if names_panel:
        assert any(f"panel {LATENCY!r}" in f.message for f in found), [f.message for f in found]


def test_lint_names_the_uid_file_mismatch(generated_copy: Path) -> None:
    folder = generated_copy / SYSTEM_DIR / grafana.DASHBOARDS_DIR
    (folder / f"{HEALTH}.json").rename(folder / "health.json")
    messages = [f.message for f in checks(generated_copy / SYSTEM_DIR) if f.check == "dashboard/uid"]
    assert messages == [f"dashboard {HEALTH!r} (Claude Code Bot: System Health): the file is named health.json, not after its uid"]


# ---------------------------------------------------------------- determinism and provisioning


COMPILE_GRAFANA = (
    "import sys; from ccb_observe.loader import load_systems; from ccb_observe.compile import grafana;"
    "(system,) = load_systems('definitions'); files = grafana.compile(system);"
    "sys.stdout.write(repr(sorted(files.items())))"
)


def test_output_is_byte_identical_under_any_hash_seed() -> None:
    runs = [
        subprocess.run([sys.executable, "-c", COMPILE_GRAFANA], cwd=ROOT, env={**os.environ, "PYTHONHASHSEED": seed},
                       check=True, capture_output=True, text=True).stdout
        for seed in ("0", "4242")
    ]
    assert runs[0] == runs[1]
    assert runs[0].count("('grafana/dashboards/") == 4 and "grafana/provisioning/dashboards.yml" in runs[0]


def test_compiler_is_pure(seed: System) -> None:
    assert grafana.compile(seed) == grafana.compile(seed)


def test_provisioning_points_at_the_generated_folder(generated_copy: Path) -> None:
    text = (generated_copy / SYSTEM_DIR / grafana.PROVISIONING_FILE).read_text()
    config = yaml.safe_load(text)
    assert config["apiVersion"] == 1
    (provider,) = config["providers"]
    assert provider["type"] == "file" and provider["allowUiUpdates"] is False and provider["disableDeletion"] is True
    assert provider["options"]["path"] == f"{grafana.MOUNT_ROOT}/{SYSTEM_DIR}"
    assert provider["folder"] == SYSTEM_DIR and provider["orgId"] == 1
    assert (generated_copy / SYSTEM_DIR / grafana.DASHBOARDS_DIR).is_dir()


# ---------------------------------------------------------------- the model names what is wrong

requests = counter("app_requests_total", "Requests.", ["status"])
busy = gauge("app_busy", "Busy workers.")
SLOS = (SLO("errors", 99, RatioIndicator(total=requests(), bad=requests(status="500")), "Requests succeed"),)


def _system(*panels: Any) -> System:
    return System("app", metrics=(requests, busy), slos=SLOS, dashboards=(Dashboard("app-main", "Main", "The app.", tuple(panels)),))


def _line_of(marker: str) -> int:
    lines = Path(__file__).read_text().splitlines()
    return next(i for i, line in enumerate(lines, start=1) if marker in line and "_line_of" not in line)


def test_a_valid_dashboard_is_accepted() -> None:
    system = _system(Stat("Busy", "Busy workers.", "short", (Query(q.sum_(busy()), "busy"),), (threshold(5, "red"),)))
    (main,) = [d for d in grafana.dashboards(system) if d.uid == "app-main"]
    assert [d.uid for d in grafana.dashboards(system)] == ["app-slo-overview", "app-main"]
    assert main.panels[0].thresholds[0].value == Decimal(5)


@pytest.mark.parametrize(("build", "rule"), [
    (lambda: Dashboard("App_Main", "Main", "The app.", (Stat("a", "b", "short", (q.vector(1),)),)), "lower-case words"),
    (lambda: Dashboard("a" * 41, "Main", "The app.", (Stat("a", "b", "short", (q.vector(1),)),)), "at most 40"),
    (lambda: Stat("a", "", "short", (q.vector(1),)), "description"),
    (lambda: Stat("a", "b", "", (q.vector(1),)), "not a Grafana unit"),
    (lambda: Stat("a", "b", "furlongs", (q.vector(1),)), "not a Grafana unit"),
    (lambda: Stat("a", "b", "short", ()), "at least one query"),
    (lambda: Stat("a", "b", "short", (requests()[q.RATE_INTERVAL],)), "instant vector"),
    (lambda: Stat("a", "b", "short", (q.vector(1),), (threshold(2, "red"), threshold(1, "orange"))), "strictly increasing"),
    (lambda: Stat("a", "b", "short", (q.vector(1),), width=25), "width"),
    (lambda: Dashboard("app", "Main", "The app.", (Stat("a", "b", "short", (q.vector(1),)), Stat("a", "c", "short", (q.vector(1),)))), "two panels"),
])
def test_bad_panels_are_definition_errors(build: Callable[[], object], rule: str) -> None:
    with pytest.raises(DefinitionError) as caught:
        build()
    assert rule in caught.value.rule
    assert caught.value.where.file.endswith("test_grafana.py")


def test_a_panel_reading_an_unrecorded_series_names_its_line() -> None:
    with pytest.raises(DefinitionError) as caught:
        _system(Stat("Ghost", "Reads nothing recorded.", "short", (q.selector("slo:error_ratio:7m"),)))  # ghost-series
    assert "neither in the catalog nor recorded" in caught.value.rule
    assert caught.value.what == "dashboard 'app-main' panel 'Ghost'"
    assert caught.value.where.line == _line_of("# ghost-series")


def test_a_panel_rating_a_gauge_is_rejected() -> None:
    with pytest.raises(DefinitionError) as caught:
        _system(TimeSeries("Busy rate", "Nonsense.", "short", (q.rate(busy()[q.RATE_INTERVAL]),)))
    assert "rate() is for counters" in caught.value.rule


def test_kpi_stat_uses_the_recorded_series() -> None:
    kpi = KPI("orders", "Orders per day", q.sum_(q.increase(requests()["1d"])), "short", "1d", target=target(">=", 10))
    stat = kpi_stat(kpi, "app")
    assert stat.queries[0].expr.render() == 'kpi:orders:1d{kpi="orders", service="app"}'
    assert (stat.base_color, [(t.value, t.color) for t in stat.thresholds]) == ("red", [(Decimal(10), "green")])


def test_table_targets_are_instant_tables(seed: System, generated_copy: Path) -> None:
    infra = dashboards_in(generated_copy)["claude-code-bot-infrastructure"]
    table = panel(infra, "Pods not running")
    assert table["type"] == "table"
    assert [(t["format"], t["instant"], t["range"]) for t in table["targets"]] == [("table", True, False)]


# ---------------------------------------------------------------- the builder's Grafana range


def test_range_variable_renders_and_parses() -> None:
    expr = q.rate(requests()[q.RATE_INTERVAL])
    assert expr.render() == "rate(app_requests_total[$__rate_interval])"
    assert q.parseable(expr.render()) == "rate(app_requests_total[5m])"
    assert q.rate(requests()["5m"]).render() == "rate(app_requests_total[5m])"  # durations unchanged
    with pytest.raises(ValueError):
        q.raw(expr.render())  # unsubstituted, it is not PromQL: never let one into a rule


def test_cli_exit_2_on_a_bad_dashboard_leaves_output_untouched(tmp_path: Path) -> None:
    definitions = tmp_path / "defs"
    definitions.mkdir()
    (definitions / "app.py").write_text(
        "from ccb_observe import promql as q\n"
        "from ccb_observe.model import System, gauge\n"
        "from ccb_observe.model.dashboards import Dashboard, Stat\n"
        "busy = gauge('app_busy', 'Busy workers.')\n"
        "SYSTEM = System('app', metrics=(busy,), dashboards=(Dashboard('app', 'A', 'B', (\n"
        "    Stat('x', 'y', 'short', (q.selector('kpi:missing:1d'),)),)),))\n"
    )
    out = tmp_path / "generated"
    out.mkdir()
    (out / "keep.txt").write_text("old")
    result = subprocess.run(CLI + ["generate", "-d", str(definitions), "-o", str(out)],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 2
    assert "app.py:6" in result.stderr and "dashboard 'app' panel 'x'" in result.stderr
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


def test_prometheus_2_42_parses_every_dashboard_query(promtool: str, generated_copy: Path, tmp_path: Path) -> None:
    """promql-parser is newer than Prometheus 2.42: let the real parser judge, as recording rules."""
    exprs = sorted({q.parseable(t["expr"]) for d in dashboards_in(generated_copy).values() for p in data_panels(d) for t in p["targets"]})
    rules = [{"record": f"dashboard:query{i}:check", "expr": expr} for i, expr in enumerate(exprs)]
    path = tmp_path / "dashboard-queries.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard-queries", "rules": rules}]}))
    result = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(exprs)} rules found" in result.stdout
    assert len(exprs) > 40


def test_an_slo_without_alert_tiers_still_gets_a_burn_rate_panel() -> None:
    quiet = SLO("quiet", 99, RatioIndicator(total=requests(), bad=requests(status="500")), "Requests succeed", tiers=())
    system = System("app", metrics=(requests,), slos=(quiet,))
    (overview,) = grafana.dashboards(system)
    (burn,) = [p for p in overview.data_panels() if p.title == "quiet: burn rate"]
    assert [query.legend for query in burn.queries] == ["5m"] and burn.thresholds == ()


def test_the_slo_overview_is_paged_and_the_pages_link_each_other(tmp_path: Path) -> None:
    # 53 SLOs: pages of 25, 25 and 3; page 1 keeps the overview's uid (SLOs' dashboard links point there).
    slos = tuple(SLO(f"s{i}", 99, RatioIndicator(total=requests(), bad=requests(status="500")), f"Requests succeed {i}") for i in range(53))
    system = System("app", metrics=(requests,), slos=slos)
    output = compile_all([system])
    folder = tmp_path / "app"
    for path, content in output.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_bytes(content)
    uids = ["app-slo-overview", "app-slo-overview-2", "app-slo-overview-3"]
    pages = {p.stem: json.loads(p.read_text()) for p in (folder / grafana.DASHBOARDS_DIR).glob("*.json")}
    assert sorted(pages) == sorted(uids)
    shown = [[p["title"].removesuffix(": SLI vs objective") for p in pages[uid]["panels"] if p["title"].endswith(": SLI vs objective")] for uid in uids]
    assert shown == [[s.name for s in slos[:25]], [s.name for s in slos[25:50]], [s.name for s in slos[50:]]]
    assert [pages[uid]["title"] for uid in uids] == [f"app: SLO overview, page {k} of 3" for k in (1, 2, 3)]
    assert "Page 2 of 3 of the SLOs of app (s25 to s49)" in pages[uids[1]]["description"]
    links = {uid: [(link["title"], link["url"]) for link in pages[uid]["links"] if link["type"] == "link"] for uid in uids}
    assert links == {
        uids[0]: [("next page", "/d/app-slo-overview-2")],
        uids[1]: [("previous page", "/d/app-slo-overview"), ("next page", "/d/app-slo-overview-3")],
        uids[2]: [("SLO overview: first page", "/d/app-slo-overview"), ("previous page", "/d/app-slo-overview-2")],
    }
    findings = checks(folder)
    assert findings == [], "\n".join(map(str, findings))
    assert compile_all([system]) == output  # deterministic


def test_overview_page_uids_stay_within_grafanas_limit() -> None:
    system = System("a" * 40, metrics=(requests,), slos=SLOS)
    assert grafana.slo_overview_uid(system) == "a" * 27 + "-slo-overview"
    assert grafana.slo_overview_uid(system, 123) == "a" * 27 + "-slo-over-123"
    assert all(len(grafana.slo_overview_uid(system, k)) <= 40 for k in (1, 9, 10, 999, 1000))


def test_dashboards_built_by_forked_workers_are_the_same_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    slos = tuple(SLO(f"s{i}", 99, RatioIndicator(total=requests(), bad=requests(status="500")), f"Requests succeed {i}") for i in range(80))
    system = System("app", metrics=(requests,), slos=slos)
    monkeypatch.setattr(grafana, "PARALLEL_FROM_DASHBOARDS", 2)
    monkeypatch.setenv("CCB_OBSERVE_WORKERS", "2")
    forked = grafana.compile(system)
    monkeypatch.setenv("CCB_OBSERVE_WORKERS", "1")
    assert forked == grafana.compile(system)
    assert len([p for p in forked if "slo-overview" in p]) == 4


def test_a_dashboard_taking_an_overview_pages_uid_is_refused() -> None:
    slos = tuple(SLO(f"s{i}", 99, RatioIndicator(total=requests(), bad=requests(status="500")), f"Requests succeed {i}") for i in range(30))
    clash = Dashboard("app-slo-overview-2", "Mine", "Mine.", (Stat("a", "b", "short", (q.vector(1),)),))  # clash-here
    system = System("app", metrics=(requests,), slos=slos, dashboards=(clash,))
    with pytest.raises(DefinitionError, match=r"derived SLO overview's \(page 2 of 2\)") as exc:
        grafana.compile(system)
    assert exc.value.where.line == _line_of("# clash-here")
    assert grafana.compile(replace(system, slos=slos[:25]))  # one page: that uid is free
