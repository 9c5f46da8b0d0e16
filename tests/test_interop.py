"""Interop: the rule data as PrometheusRule/Mimir/Thanos, Sloth and OpenSLO import and export."""

from __future__ import annotations

import yaml

from ccb_observe.compile import kubernetes, rules
from decimal import Decimal

from ccb_observe.model import SLO, AvailabilityIndicator, RatioIndicator, System, counter
from ccb_observe.output import Output
from ccb_observe.promql import matches

SYSTEM = "claude-code-bot"


def _plain_groups(seed_output: Output) -> list[dict]:
    files = sorted(p for p in seed_output if p.startswith(f"{SYSTEM}/{rules.RULES_DIR}/"))
    return [g for path in files for g in yaml.safe_load(seed_output[path])["groups"]]


def _crds(seed_output: Output) -> list[dict]:
    paths = sorted(p for p in seed_output if p.startswith(f"{SYSTEM}/kubernetes/prometheusrule-"))
    return [yaml.safe_load(seed_output[p]) for p in paths]


# ---------------------------------------------------------------- Kubernetes, Mimir, Thanos


def test_crd_groups_equal_the_plain_rule_groups(seed_output: Output) -> None:
    crds = _crds(seed_output)
    assert crds, "no PrometheusRule generated"
    from_crds = [g for crd in crds for g in crd["spec"]["groups"]]
    plain = _plain_groups(seed_output)
    assert len(plain) > 10
    assert sorted(from_crds, key=lambda g: g["name"]) == sorted(plain, key=lambda g: g["name"])


def test_crds_are_prometheus_operator_objects_under_512_kib(seed_output: Output) -> None:
    for path in (p for p in seed_output if "/kubernetes/prometheusrule-" in p):
        assert len(seed_output[path]) < 512 * 1024, path
        crd = yaml.safe_load(seed_output[path])
        assert crd["apiVersion"] == "monitoring.coreos.com/v1" and crd["kind"] == "PrometheusRule"
        assert crd["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "ccb-observe"
        assert crd["metadata"]["labels"]["ccb-observe/service"] == crd["metadata"]["name"]


def test_one_object_per_service_split_when_too_big(monkeypatch) -> None:
    monkeypatch.setattr(kubernetes, "MAX_OBJECT_BYTES", 64 * 1024)  # the same packing, on fewer SLOs
    requests = counter("requests_total", "Requests.", ["code", "route"])
    services = ["checkout", "search"]
    slos = tuple(
        SLO(f"route-{i}", 99.9, RatioIndicator(total=requests(route=f"/r{i}"), bad=requests(route=f"/r{i}", code=matches("5.."))),
            f"Route {i} answers", service=services[i % 2])
        for i in range(16)
    )
    system = System("shop", metrics=(requests,), slos=slos)
    texts = kubernetes.prometheus_rules(system)
    objects = {name: yaml.safe_load(text) for name, text in texts.items()}
    assert {o["metadata"]["labels"]["ccb-observe/service"] for o in objects.values()} == set(services)
    assert len(objects) > 2, "8 SLOs of ~10 KiB each must not fit one 64 KiB object"
    for name, obj in objects.items():
        from ccb_observe.output import to_yaml

        assert texts[name] == to_yaml(obj), f"{name}: the embedded rule text is not what the object serialises to"
        assert len(texts[name]) < kubernetes.MAX_OBJECT_BYTES, name
        service = obj["metadata"]["labels"]["ccb-observe/service"]
        assert all(r["labels"]["service"] == service for g in obj["spec"]["groups"] for r in g["rules"])
    regrouped = [g for o in objects.values() for g in o["spec"]["groups"]]
    assert sorted(g["name"] for g in regrouped) == sorted(g["name"] for g in kubernetes.plain_groups(system))
    from ccb_observe.output import to_yaml

    assert kubernetes.mimir_namespace(system) == to_yaml({"namespace": "shop", "groups": kubernetes.plain_groups(system)})


def test_mimir_namespace_holds_the_plain_groups(seed_output: Output) -> None:
    mimir = yaml.safe_load(seed_output[f"{SYSTEM}/mimir/{SYSTEM}.rules.yaml"])
    assert mimir["namespace"] == SYSTEM
    assert mimir["groups"] == _plain_groups(seed_output)


def test_thanos_ruler_args(seed_output: Output) -> None:
    thanos = yaml.safe_load(seed_output[f"{SYSTEM}/thanos/ruler-args.yaml"])
    args = thanos["args"]
    assert args[0] == "rule"
    assert "--eval-interval=15s" in args
    assert "--alertmanagers.url=http://alertmanager:9093" in args
    assert any(a.startswith("--rule-file=") for a in args)


# ---------------------------------------------------------------- import: every shared spec

import os  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from conftest import ROOT, shared_dir  # noqa: E402

CLI = str(Path(sys.executable).with_name("ccb-observe"))
SLOTH_SPECS = ("getting-started.yml", "k8s-getting-started.yml", "kubernetes-apiserver.yml",
               "openslo-getting-started.yml", "raw-home-wifi.yml")
OPENSLO_SPECS = ("bundle.yaml", "minimal-slo.yaml")


def _cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CLI, *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def imported_and_generated(tool: str, spec: Path, work: Path) -> Path:
    """`import TOOL SPEC -o defs/x.py`, then `generate --definitions defs`; the generated system dir."""
    defs, out = work / "defs", work / "generated"
    done = _cli("import", tool, str(spec), "-o", str(defs / (spec.stem.replace("-", "_") + ".py")))
    assert done.returncode == 0, done.stderr
    done = _cli("generate", "--definitions", str(defs), "--output", str(out))
    assert done.returncode == 0, done.stderr
    (system_dir,) = out.iterdir()
    return system_dir


@pytest.fixture(scope="module")
def sloth_imports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = shared_dir("interop", "sloth")
    return {name: imported_and_generated("sloth", folder / name, tmp_path_factory.mktemp(name)) for name in SLOTH_SPECS}


@pytest.fixture(scope="module")
def openslo_imports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = shared_dir("interop", "openslo")
    return {name: imported_and_generated("openslo", folder / name, tmp_path_factory.mktemp(name)) for name in OPENSLO_SPECS}


def test_every_shared_spec_is_covered() -> None:
    folder = shared_dir("interop")
    assert sorted(p.name for p in (folder / "sloth").glob("*.yml")) == sorted(SLOTH_SPECS)
    assert sorted(p.name for p in (folder / "openslo").glob("*.yaml")) == sorted(OPENSLO_SPECS)


def _promtool_accepts(system_dir: Path, promtool: str) -> int:
    files = sorted((system_dir / rules.RULES_DIR).glob("*.yml"))
    assert files
    done = subprocess.run([promtool, "check", "rules", *map(str, files)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    return len(files)


@pytest.mark.parametrize("spec", SLOTH_SPECS)
def test_sloth_spec_imports_and_promtool_accepts_the_rules(spec: str, sloth_imports: dict[str, Path], promtool: str) -> None:
    assert _promtool_accepts(sloth_imports[spec], promtool) >= 1


@pytest.mark.parametrize("spec", OPENSLO_SPECS)
def test_openslo_spec_imports_and_promtool_accepts_the_rules(spec: str, openslo_imports: dict[str, Path], promtool: str) -> None:
    assert _promtool_accepts(openslo_imports[spec], promtool) >= 1


def _load(source: str, tmp_path: Path) -> System:
    from ccb_observe.loader import load_systems

    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "imported.py").write_text(source)
    (system,) = load_systems(tmp_path)
    return system


def test_sloth_queries_become_typed_indicators(tmp_path: Path) -> None:
    from ccb_observe.interop import sloth
    from ccb_observe.interop.emit import module_source
    from ccb_observe.model import LatencyIndicator, MetricType, RawIndicator

    system = _load(module_source(sloth.import_file(shared_dir("interop", "sloth") / "kubernetes-apiserver.yml")), tmp_path)
    availability, latency = system.slos
    assert isinstance(availability.indicator, RatioIndicator)
    assert availability.indicator.bad.render() == 'apiserver_request_total{code=~"(5..|429)"}'  # type: ignore[union-attr]
    assert isinstance(latency.indicator, LatencyIndicator)
    assert latency.indicator.threshold == Decimal("0.4")
    assert latency.objective == Decimal("99")
    assert latency.runbook_url.endswith("#alert-name-kubeapilatencyhigh")  # Sloth's `runbook` annotation
    catalog = system.catalog
    assert catalog["apiserver_request_duration_seconds"].type is MetricType.HISTOGRAM
    assert catalog["apiserver_request_duration_seconds"].labels == ("verb",)
    assert catalog["apiserver_request_total"].type is MetricType.COUNTER
    wifi = _load(module_source(sloth.import_file(shared_dir("interop", "sloth") / "raw-home-wifi.yml")), tmp_path / "wifi")
    assert isinstance(wifi.slos[0].indicator, RawIndicator)
    assert "[5m]" in wifi.slos[0].indicator.bad_events_5m.render()
    assert wifi.catalog["unifipoller_client_satisfaction_ratio"].type is MetricType.GAUGE


def test_sloth_alert_switches_choose_the_tiers(tmp_path: Path) -> None:
    from ccb_observe.interop import sloth
    from ccb_observe.interop.emit import module_source

    spec = tmp_path / "spec.yml"
    spec.write_text(
        'version: "prometheus/v1"\nservice: "svc"\nslos:\n  - name: "errors"\n    objective: 99.5\n'
        '    sli:\n      events:\n        error_query: sum(rate(req_total{code=~"5.."}[{{.window}}]))\n'
        '        total_query: sum(rate(req_total[{{ .window }}]))\n'
        '    alerting:\n      name: X\n      ticket_alert:\n        disable: true\n'
    )
    system = _load(module_source(sloth.import_file(spec)), tmp_path / "defs")
    assert [t.name for t in system.slos[0].tiers] == ["page-fast", "page-slow"]
    assert system.slos[0].description == "Imported from Sloth SLO errors"


def test_emitted_text_is_data_never_code(tmp_path: Path) -> None:
    from ccb_observe.interop import sloth
    from ccb_observe.interop.emit import module_source

    hostile = 'x"""; import os; os.system("false") #\\n{{ .x }}'
    spec = tmp_path / "spec.yml"
    spec.write_text(yaml.safe_dump({"version": "prometheus/v1", "service": "svc", "slos": [{
        "name": "errors", "objective": 99.5, "description": hostile,
        "sli": {"events": {"error_query": 'sum(rate(req_total{path="a\\"b\'c"}[{{.window}}]))',
                           "total_query": "sum(rate(req_total[{{.window}}]))"}},
    }]}))
    system = _load(module_source(sloth.import_file(spec)), tmp_path / "defs")
    assert system.slos[0].description == hostile
    assert system.slos[0].indicator.bad.matchers[0].value == "a\"b'c"  # type: ignore[union-attr]


def test_openslo_bundle_resolves_references(tmp_path: Path) -> None:
    from ccb_observe.interop import openslo
    from ccb_observe.interop.emit import module_source

    system = _load(module_source(openslo.import_file(shared_dir("interop", "openslo") / "bundle.yaml")), tmp_path)
    (slo,) = system.slos
    assert (slo.name, slo.objective, str(slo.period), slo.team) == ("checkout-availability", Decimal("99.9"), "30d", "payments")
    assert slo.indicator.bad.render() == 'http_requests_total{code=~"5..", job="checkout"}'  # type: ignore[union-attr]
    (fast,) = slo.tiers
    assert (fast.factor, str(fast.long_window), str(fast.short_window), str(fast.for_), fast.severity) == (Decimal("14.4"), "1h", "5m", "2m", "critical")


def test_openslo_threshold_metric(tmp_path: Path, promtool: str) -> None:
    from ccb_observe.interop import openslo
    from ccb_observe.interop.emit import module_source

    spec = tmp_path / "latency.yaml"
    spec.write_text(
        "apiVersion: openslo/v1\nkind: SLO\nmetadata:\n  name: p95\nspec:\n  service: web\n  description: P95 under 300ms\n"
        "  indicator:\n    metadata:\n      name: p95-latency\n    spec:\n      thresholdMetric:\n        metricSource:\n"
        "          type: Prometheus\n          spec:\n            query: histogram_quantile(0.95, sum by (le) (rate(web_seconds_bucket[5m])))\n"
        "  timeWindow:\n    - duration: 7d\n      isRolling: true\n  budgetingMethod: Occurrences\n"
        "  objectives:\n    - op: lte\n      value: 0.3\n      target: 0.99\n"
    )
    system = _load(module_source(openslo.import_file(spec)), tmp_path / "defs")
    (slo,) = system.slos
    assert str(slo.period) == "7d"
    bad = slo.indicator.bad_events_5m.render()  # type: ignore[union-attr]
    assert " > 0.3)[5m:1m]" in bad and bad.startswith("sum(count_over_time((")
    assert system.catalog["web_seconds"].type.value == "histogram"


def test_export_openslo_round_trips(tmp_path: Path, seed: System) -> None:
    from ccb_observe.interop import openslo
    from ccb_observe.interop.emit import module_source

    exported = tmp_path / "ccb.openslo.yaml"
    done = _cli("export", "openslo", "-o", str(exported))
    assert done.returncode == 0, done.stderr
    docs = list(yaml.safe_load_all(exported.read_text()))
    assert [d["kind"] for d in docs] == ["Service"] + ["SLO"] * len(seed.slos)
    assert all(d["apiVersion"] == "openslo/v1" for d in docs)
    back = _load(module_source(openslo.import_file(exported)), tmp_path / "defs")
    for ours, theirs in zip(seed.slos, back.slos):
        assert (theirs.name, theirs.objective, theirs.period) == (ours.name, ours.objective, ours.period)
        assert [(t.name, t.burn_factor(ours.period), t.long_window, t.short_window, t.severity, t.priority) for t in theirs.tiers] == \
               [(t.name, t.burn_factor(ours.period), t.long_window, t.short_window, t.severity, t.priority) for t in ours.tiers]
        if not isinstance(ours.indicator, AvailabilityIndicator):
            assert theirs.indicator == ours.indicator


# ---------------------------------------------------------------- bad input: file, document, field; exit 2


BAD_SPECS = {
    "unknown field": (
        'version: "prometheus/v1"\nservice: svc\nslos:\n  - name: errors\n    objective: 99\n    objectiv: 98\n'
        '    sli:\n      raw:\n        error_ratio_query: vector(0)\n',
        ":6: document 1, field slos[0].objectiv: unknown field",
    ),
    "missing objective": (
        'version: "prometheus/v1"\nservice: svc\nslos:\n  - name: errors\n'
        '    sli:\n      raw:\n        error_ratio_query: vector(0)\n',
        "document 1, field slos[0].objective: is required",
    ),
    "unsupported SLI kind": (
        '---\nversion: "prometheus/v1"\nservice: svc\nslos: []\n---\nversion: "prometheus/v1"\nservice: svc\nslos:\n  - name: errors\n    objective: 99\n'
        '    sli:\n      plugin:\n        id: sloth-common/availability\n',
        "document 2, field slos[0].sli.plugin: unsupported SLI kind",
    ),
    "objective of 100%": (
        'version: "prometheus/v1"\nservice: svc\nslos:\n  - name: errors\n    objective: 100\n'
        '    sli:\n      raw:\n        error_ratio_query: vector(0)\n',
        "document 1, field slos[0].objective: objective must be strictly between 0 and 100 percent",
    ),
    "grouped query": (
        'version: "prometheus/v1"\nservice: svc\nslos:\n  - name: errors\n    objective: 99\n'
        '    sli:\n      events:\n        error_query: sum by (code) (rate(x_total[{{.window}}]))\n        total_query: sum(rate(x_total[{{.window}}]))\n',
        "document 1, field slos[0].sli.events.error_query: an SLI query yields one series",
    ),
    "bad PromQL": (
        'version: "prometheus/v1"\nservice: svc\nslos:\n  - name: errors\n    objective: 99\n'
        '    sli:\n      events:\n        error_query: sum(rate(x_total[{{.window}}])\n        total_query: sum(rate(x_total[{{.window}}]))\n',
        "document 1, field slos[0].sli.events.error_query: PromQL does not parse",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_SPECS))
def test_bad_sloth_spec_exits_2_naming_file_document_and_field(case: str, tmp_path: Path) -> None:
    text, expected = BAD_SPECS[case]
    spec = tmp_path / "bad.yml"
    spec.write_text(text)
    out = tmp_path / "out.py"
    done = _cli("import", "sloth", str(spec), "-o", str(out))
    assert done.returncode == 2, done.stdout + done.stderr
    assert str(spec) in done.stderr and expected in done.stderr, done.stderr
    assert not out.exists() and list(tmp_path.iterdir()) == [spec]


def test_bad_openslo_spec_exits_2(tmp_path: Path) -> None:
    spec = tmp_path / "bad.yaml"
    text = (shared_dir("interop", "openslo") / "bundle.yaml").read_text().replace("counter: true", "counter: true\n    rawType: success")
    spec.write_text(text)
    done = _cli("import", "openslo", str(spec))
    assert done.returncode == 2
    assert "document 3, field spec.ratioMetric.rawType: unknown field" not in done.stderr  # rawType is known...
    assert "document 3, field spec.ratioMetric" in done.stderr and "unsupported SLI kind" in done.stderr, done.stderr
    assert done.stdout == ""


# ---------------------------------------------------------------- our rules against Sloth's, on the same series

COMPARED = ("getting-started.yml", "k8s-getting-started.yml", "kubernetes-apiserver.yml", "openslo-getting-started.yml", "raw-home-wifi.yml")
MINUTES = 120
OUTAGE_AT = 60  # minute the outage starts; healthy before
# A 5% budget (wifi, 95%) pages at 14.4x: 72% bad over the last hour, 44 minutes into a full outage.
ALL_FIRING_AT = OUTAGE_AT + 50


def _counter(per_minute: list[float]) -> str:
    values, total = ["0"], 0.0
    for step in per_minute:
        total += step
        values.append(repr(total))
    return " ".join(values)


def _healthy_then(healthy: float, outage: float) -> list[float]:
    return [healthy] * OUTAGE_AT + [outage] * (MINUTES - OUTAGE_AT)


# Per example: the series its SLIs read, healthy for an hour, then a full outage (errors, or slow, or unsatisfied).
OUTAGE_SERIES: dict[str, dict[str, str]] = {
    "getting-started.yml": {
        'http_request_duration_seconds_count{job="myservice",code="200"}': _counter(_healthy_then(1000, 0)),
        'http_request_duration_seconds_count{job="myservice",code="500"}': _counter(_healthy_then(0, 1000)),
    },
    "kubernetes-apiserver.yml": {
        'apiserver_request_total{code="200"}': _counter(_healthy_then(1000, 0)),
        'apiserver_request_total{code="500"}': _counter(_healthy_then(0, 1000)),
        'apiserver_request_duration_seconds_count{verb="GET"}': _counter(_healthy_then(1000, 1000)),
        'apiserver_request_duration_seconds_bucket{verb="GET",le="0.4"}': _counter(_healthy_then(1000, 0)),
    },
    "raw-home-wifi.yml": {
        "unifipoller_client_satisfaction_ratio": " ".join(["1"] * (OUTAGE_AT + 1) + ["0"] * (MINUTES - OUTAGE_AT)),
    },
}
OUTAGE_SERIES["k8s-getting-started.yml"] = OUTAGE_SERIES["getting-started.yml"]
OUTAGE_SERIES["openslo-getting-started.yml"] = OUTAGE_SERIES["getting-started.yml"]
FIRING = 'count by (alertname, sloth_severity, burn_tier) (ALERTS{alertstate="firing"})'


def _sloth_rules(spec: str, folder: Path) -> Path:
    """Sloth's own generated rules, as a plain rule file (the CRD example wraps them in a PrometheusRule)."""
    generated = yaml.safe_load((shared_dir("interop", "sloth", "_gen") / spec).read_text())
    path = folder / "sloth.rules.yml"
    path.write_text(yaml.safe_dump({"groups": generated["spec"]["groups"] if "spec" in generated else generated["groups"]}))
    return path


def _alerts(rule_file: Path, label: str) -> list[str]:
    """`{alertname="…", <label>="…"}` for each alert rule of the file, as promtool prints grouped ALERTS."""
    found = set()
    for group in yaml.safe_load(rule_file.read_text())["groups"]:
        for rule in group["rules"]:
            if "alert" in rule:
                found.add(f'{{alertname="{rule["alert"]}", {label}="{rule["labels"][label]}"}}')
    return sorted(found)


def _run_promtool_test(folder: Path, rule_files: list[Path], series: dict[str, str], checks: list[dict], promtool: str) -> str:
    suite = {
        "rule_files": [p.name for p in rule_files],
        "evaluation_interval": "1m",
        "tests": [{"interval": "1m", "input_series": [{"series": s, "values": v} for s, v in series.items()],
                   "promql_expr_test": checks}],
    }
    (folder / "compare.test.yml").write_text(yaml.safe_dump(suite, sort_keys=False))
    done = subprocess.run([promtool, "test", "rules", "compare.test.yml"], cwd=folder, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.mark.parametrize("spec", COMPARED)
def test_same_alerts_fire_as_sloths_on_an_outage(spec: str, sloth_imports: dict[str, Path], tmp_path: Path, promtool: str) -> None:
    sloth_file = _sloth_rules(spec, tmp_path)
    ours = sorted((sloth_imports[spec] / rules.RULES_DIR).glob("slo-*.rules.yml"))
    for path in ours:
        (tmp_path / path.name).write_text(path.read_text())
    ours = [tmp_path / p.name for p in ours]
    sloth_alerts = _alerts(sloth_file, "sloth_severity")
    our_alerts = sorted(a for p in ours for a in _alerts(p, "burn_tier"))
    # Sloth's page and ticket alerts are our four tiers two by two; where Sloth has none, neither do we.
    assert len(our_alerts) == 2 * len(sloth_alerts)
    every = [{"labels": labels, "value": 1} for labels in sorted(sloth_alerts + our_alerts)]
    checks = [{"expr": f"{FIRING} or vector(0)", "eval_time": f"{OUTAGE_AT}m", "exp_samples": [{"labels": "{}", "value": 0}]}]
    if every:
        checks.append({"expr": FIRING, "eval_time": f"{ALL_FIRING_AT}m", "exp_samples": every})
    else:
        checks.append({"expr": f"{FIRING} or vector(0)", "eval_time": f"{ALL_FIRING_AT}m", "exp_samples": [{"labels": "{}", "value": 0}]})
    _run_promtool_test(tmp_path, [sloth_file, *ours], OUTAGE_SERIES[spec], checks, promtool)


def test_pages_within_the_same_two_minutes_as_sloth(sloth_imports: dict[str, Path], tmp_path: Path, promtool: str) -> None:
    spec = "getting-started.yml"
    sloth_file = _sloth_rules(spec, tmp_path)
    ours = tmp_path / "ours.rules.yml"
    ours.write_text((sloth_imports[spec] / rules.RULES_DIR / "slo-requests-availability.rules.yml").read_text())
    pages = 'count by (alertname) (ALERTS{alertstate="firing", sloth_severity="page"} or ALERTS{alertstate="firing", severity="critical"})'
    both = [{"labels": '{alertname="MyServiceHighErrorRate"}', "value": 1}, {"labels": '{alertname="RequestsAvailabilityBudgetBurn"}', "value": 2}]
    # promtool evaluates the groups of a tick in random order, so an alert reading another group's
    # record may lag one evaluation: at 2 minutes both pages fire, whatever the order.
    checks = [{"expr": f"{pages} or vector(0)", "eval_time": f"{OUTAGE_AT}m", "exp_samples": [{"labels": "{}", "value": 0}]},
              {"expr": pages, "eval_time": f"{OUTAGE_AT + 2}m", "exp_samples": both}]
    _run_promtool_test(tmp_path, [sloth_file, ours], OUTAGE_SERIES[spec], checks, promtool)


# Burst then quiet (the shared README's case): 10 min at 1000 req/min with 10% errors, then 50 min at
# 10 req/min without errors. Truly 1000 of 10,500 requests failed over the period.
BURST_OK = [900.0] * 10 + [10.0] * 50
BURST_BAD = [100.0] * 10 + [0.0] * 50
TRUE_RATIO = sum(BURST_BAD) / (sum(BURST_OK) + sum(BURST_BAD))


def test_our_30d_sli_is_event_weighted_where_sloths_is_not(sloth_imports: dict[str, Path], tmp_path: Path, promtool: str) -> None:
    spec = "getting-started.yml"
    sloth_file = _sloth_rules(spec, tmp_path)
    ours = tmp_path / "ours.rules.yml"
    ours.write_text((sloth_imports[spec] / rules.RULES_DIR / "slo-requests-availability.rules.yml").read_text())
    series = {
        'http_request_duration_seconds_count{job="myservice",code="200"}': _counter(BURST_OK),
        'http_request_duration_seconds_count{job="myservice",code="500"}': _counter(BURST_BAD),
    }
    truth = repr(TRUE_RATIO)
    true_ = [{"labels": "{}", "value": 1}]
    checks = [
        # Ours: within 1% of the truth (the edges of the first 5m windows cost the rest).
        {"expr": f'vector(1) and on () (abs(slo:error_ratio:30d{{slo="requests-availability"}} / {truth} - 1) < 0.01)',
         "eval_time": "60m", "exp_samples": true_},
        # Sloth's mean of 5m ratios weighs the quiet minutes like the busy ones: under a third of the truth.
        {"expr": f'vector(1) and on () (slo:sli_error:ratio_rate30d{{sloth_slo="requests-availability"}} < {truth} / 3)',
         "eval_time": "60m", "exp_samples": true_},
    ]
    _run_promtool_test(tmp_path, [sloth_file, ours], series, checks, promtool)


# ---------------------------------------------------------------- docs/slos.md


def test_slo_page_has_the_guides_tables_from_the_model(seed: System, seed_output: Output) -> None:
    page = seed_output[f"{SYSTEM}/docs/slos.md"].decode()
    rows = {line.split(" | ")[0].removeprefix("| "): line for line in page.splitlines() if line.startswith("| ")}
    for slo in seed.slos:
        row = rows[slo.name]
        assert f"| {q_format(slo.objective)}% | {slo.period} |" in row
        assert f"| {slo.team} |" in row and f"]({slo.dashboard_url})" in row
        for t in slo.tiers:
            factor = t.burn_factor(slo.period)
            assert f"{t.name} ({t.severity}, {t.priority}): errors > {q_format(factor * slo.error_budget * 100)}% over {t.long_window} and {t.short_window}" in row
    assert "errors > 1.44% over 1h and 5m (14.4× burn)" in rows["availability"]
    for kpi in seed.kpis:
        assert f"`{kpi.series}`" in rows[kpi.name]
    assert "| \\> 1000 | short | 1h |" in rows["webhook-events"]
    for alert in seed.alerts:
        assert alert.name in rows


def test_slo_page_escapes_markdown() -> None:
    from ccb_observe.compile.docs import slo_page

    requests = counter("requests_total", "Requests.", ["code"])
    slo = SLO("errors", 99, RatioIndicator(total=requests(), bad=requests(code="500")), "a | b <script> *x*\nnext",
              dashboard_url="https://g.example/d/a b(c)")
    page = slo_page(System("shop", metrics=(requests,), slos=(slo,)))
    assert "a \\| b \\<script\\> \\*x\\* next" in page
    assert "(https://g.example/d/a%20b%28c%29)" in page


def q_format(value: Decimal) -> str:
    from ccb_observe.promql import format_number

    return format_number(value.normalize())


def test_idle_minutes_are_no_data_for_us_and_nan_for_sloth(sloth_imports: dict[str, Path], tmp_path: Path, promtool: str) -> None:
    spec = "getting-started.yml"
    sloth_file = _sloth_rules(spec, tmp_path)
    ours = tmp_path / "ours.rules.yml"
    ours.write_text((sloth_imports[spec] / rules.RULES_DIR / "slo-requests-availability.rules.yml").read_text())
    series = {  # 10 busy minutes, then 20 without a request
        'http_request_duration_seconds_count{job="myservice",code="200"}': _counter([900.0] * 10 + [0.0] * 20),
        'http_request_duration_seconds_count{job="myservice",code="500"}': _counter([100.0] * 10 + [0.0] * 20),
    }
    nan_count = "count({0} != {0}) or vector(0)"
    checks = [
        {"expr": nan_count.format('slo:sli_error:ratio_rate30d{sloth_slo="requests-availability"}'), "eval_time": "30m",
         "exp_samples": [{"labels": "{}", "value": 1}]},
        {"expr": nan_count.format('slo:error_ratio:30d{slo="requests-availability"}'), "eval_time": "30m",
         "exp_samples": [{"labels": "{}", "value": 0}]},
        {"expr": 'vector(1) and on () (abs(slo:error_ratio:30d{slo="requests-availability"} - 0.1) < 0.001)', "eval_time": "30m",
         "exp_samples": [{"labels": "{}", "value": 1}]},
    ]
    _run_promtool_test(tmp_path, [sloth_file, ours], series, checks, promtool)


def test_import_is_deterministic(tmp_path: Path) -> None:
    spec = str(shared_dir("interop", "sloth") / "kubernetes-apiserver.yml")
    texts = set()
    for seed_value in ("1", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": seed_value}
        done = subprocess.run([CLI, "import", "sloth", spec], capture_output=True, text=True, env=env, timeout=60)
        assert done.returncode == 0, done.stderr
        texts.add(done.stdout)
    assert len(texts) == 1


def test_sloth_alert_windows_set_period_and_tiers(tmp_path: Path) -> None:
    from ccb_observe.interop import sloth
    from ccb_observe.interop.emit import module_source
    from ccb_observe.model import DEFAULT_TIERS

    windows = shared_dir("interop", "sloth", "windows")
    spec = shared_dir("interop", "sloth") / "getting-started.yml"
    week = _load(module_source(sloth.import_file(spec, windows / "7d.yaml")), tmp_path / "7d").slos[0]
    assert str(week.period) == "7d"
    # Sloth's factor: budget percent x period / long window (8% of 7d in 1h: 13.44x).
    assert [str(t.burn_factor(week.period)) for t in week.tiers] == ["13.44", "3.5", "1.4", "0.98"]
    google = _load(module_source(sloth.import_file(spec, windows / "google-28d.yaml")), tmp_path / "28d").slos[0]
    assert str(google.period) == "28d" and google.tiers == DEFAULT_TIERS
    done = _cli("import", "sloth", str(spec), "--windows", str(windows / "custom-30d.yaml"), "-o", str(tmp_path / "x.py"))
    assert done.returncode == 2 and "custom-30d.yaml:6: document 1, field spec.page.quick: windows are multiples of 5m (got 2m)" in done.stderr
    assert not (tmp_path / "x.py").exists()


@pytest.mark.parametrize("change, expected", [
    (("duration: 28d\n      isRolling: true", "duration: 28x"), "field spec.timeWindow[0].duration: unsupported duration"),
    (("  timeWindow:\n    - duration: 28d\n      isRolling: true\n", "  timeWindow: []\n"), "field spec.timeWindow: give exactly one time window (got 0)"),
    (("target: 0.999", "target: 1.5"), "field spec.objectives[0].target: objective must be strictly between 0 and 100 percent, got 150"),
    (("budgetingMethod: Occurrences", "budgetingMethod: Timeslices"), "field spec.budgetingMethod: unsupported budgeting method"),
    (("type: Prometheus", "type: Datadog"), "metricSource.type: unsupported metric source 'Datadog'"),
])
def test_bad_openslo_fields_are_named(change: tuple[str, str], expected: str, tmp_path: Path) -> None:
    from ccb_observe.errors import DefinitionError
    from ccb_observe.interop import openslo

    text = (shared_dir("interop", "openslo") / "minimal-slo.yaml").read_text()
    assert change[0] in text
    spec = tmp_path / "bad.yaml"
    spec.write_text(text.replace(change[0], change[1]))
    with pytest.raises(DefinitionError) as caught:
        openslo.import_file(spec)
    assert expected in str(caught.value) and str(spec) in str(caught.value)


def test_unrecognised_event_queries_stay_raw_and_compile(tmp_path: Path, promtool: str) -> None:
    spec = tmp_path / "spec.yml"
    spec.write_text(
        'version: "prometheus/v1"\nservice: "svc"\nslos:\n  - name: "jobs"\n    objective: 99\n'
        '    sli:\n      events:\n'
        '        error_query: sum(rate(jobs_failed_total[{{.window}}])) + sum(rate(jobs_timeout_total[{{.window}}]))\n'
        '        total_query: sum(rate(jobs_total[{{.window}}]))\n'
    )
    system_dir = imported_and_generated("sloth", spec, tmp_path)
    assert _promtool_accepts(system_dir, promtool) == 1
    text = (tmp_path / "defs" / "spec.py").read_text()
    assert "RawIndicator(" in text and "raw('sum(rate(jobs_failed_total[5m])) + sum(rate(jobs_timeout_total[5m]))')" in text


def test_rule_text_ending_in_a_kept_blank_line_embeds_cleanly(seed) -> None:
    """An alert whose last annotation is a `|+` block: its group's YAML alone ends with `...`,
    which must not land between groups of the PrometheusRule or the Mimir namespace."""
    import dataclasses

    from ccb_observe.output import to_yaml

    last = dataclasses.replace(seed.alerts[-1], description="Something is wrong.\n\n", runbook_url="")
    system = dataclasses.replace(seed, alerts=(*seed.alerts[:-1], last))
    mimir = kubernetes.mimir_namespace(system)
    assert mimir == to_yaml({"namespace": system.name, "groups": kubernetes.plain_groups(system)})
    assert yaml.safe_load(mimir)["groups"][0]["rules"][-1]["annotations"]["description"] == "Something is wrong.\n\n"
    for name, text in kubernetes.prometheus_rules(system).items():
        assert text == to_yaml(yaml.safe_load(text)), name
