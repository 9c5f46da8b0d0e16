"""Interop: the rule data as PrometheusRule/Mimir/Thanos, Sloth and OpenSLO import and export."""

from __future__ import annotations

import yaml

from ccb_observe.compile import kubernetes, rules
from ccb_observe.model import SLO, RatioIndicator, System, counter
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
    objects = kubernetes.prometheus_rules(system)
    assert {o["metadata"]["labels"]["ccb-observe/service"] for o in objects.values()} == set(services)
    assert len(objects) > 2, "8 SLOs of ~10 KiB each must not fit one 64 KiB object"
    for name, obj in objects.items():
        from ccb_observe.output import to_yaml

        assert len(to_yaml(obj)) < kubernetes.MAX_OBJECT_BYTES, name
        service = obj["metadata"]["labels"]["ccb-observe/service"]
        assert all(r["labels"]["service"] == service for g in obj["spec"]["groups"] for r in g["rules"])
    regrouped = [g for o in objects.values() for g in o["spec"]["groups"]]
    assert sorted(g["name"] for g in regrouped) == sorted(g["name"] for g in kubernetes.plain_groups(system))


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
