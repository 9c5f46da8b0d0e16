"""Instruments built from the catalog expose exactly the series the generated rules select."""

from __future__ import annotations

import re

import pytest
from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from ccb_observe import DefinitionError, Instruments, build_instruments, counter, gauge, histogram, info
from ccb_observe.compile.rules import rule_files
from ccb_observe.model import Metric, MetricType, System
from ccb_observe.model.metrics import TARGET_LABELS
from ccb_observe.model.system import BUILTIN_SERIES
from ccb_observe.promql_ast import facts

Exposition = dict[str, dict[str, set[str]]]  # sample name -> label -> values seen


def exercise(instruments: Instruments, metrics: tuple[Metric, ...]) -> None:
    """One child per labelled metric, observed once, so that every family has samples."""
    for metric in metrics:
        labels = {name: f"{name}-value" for name in metric.labels}
        if metric.type is MetricType.INFO:
            instruments.info(metric).info({name: "1" for name in metric.labels})
            continue
        instrument = instruments[metric]
        child = instrument.labels(**labels) if labels else instrument
        if metric.type is MetricType.COUNTER:
            child.inc()  # type: ignore[union-attr]
        elif metric.type is MetricType.GAUGE:
            child.set(1)  # type: ignore[union-attr]
        else:
            child.observe(0.3)  # type: ignore[union-attr]


def exposition(registry: CollectorRegistry) -> tuple[Exposition, dict[str, str]]:
    """Sample names with their labels' values, and each family's type, parsed back from the text."""
    samples: Exposition = {}
    types: dict[str, str] = {}
    for family in text_string_to_metric_families(generate_latest(registry).decode()):
        for sample in family.samples:
            types[sample.name] = family.type
            seen = samples.setdefault(sample.name, {})
            for label, value in sample.labels.items():
                seen.setdefault(label, set()).add(value)
    return samples, types


def rule_exprs(system: System) -> list[str]:
    return [rule["expr"] for groups in rule_files(system).values() for group in groups for rule in group["rules"]]


def selection_problems(exprs: list[str], system: System, exposed: Exposition, types: dict[str, str]) -> list[str]:
    """What a rule selects that the exposition (plus Prometheus' target labels) or the rules' own
    recorded series do not carry; `le` matchers must match a bucket the client exposes."""
    recorded = {**system.recorded_series(), **BUILTIN_SERIES}
    problems = []
    for expr in exprs:
        found = facts(expr)
        for series in found.selectors:
            if series.metric in recorded:
                extra = series.labels - recorded[series.metric]
            elif series.metric in exposed:
                extra = series.labels - set(exposed[series.metric]) - TARGET_LABELS
                for label, op, value in series.matchers:
                    if label == "le" and not any(_matches(op, value, v) for v in exposed[series.metric]["le"]):
                        problems.append(f"{expr}: le{op}{value!r} matches no exposed bucket")
            else:
                problems.append(f"{expr}: series {series.metric!r} is neither exposed nor recorded")
                continue
            if extra:
                problems.append(f"{expr}: {series.metric!r} carries no label {sorted(extra)}")
        for function, metric in found.counter_calls:
            if metric in types and types[metric] not in ("counter", "histogram"):
                problems.append(f"{expr}: {function}() over {metric!r}, exposed as a {types[metric]}")
    return problems


def _matches(op: str, pattern: str, value: str) -> bool:
    hit = value == pattern if op in ("=", "!=") else re.fullmatch(pattern, value) is not None
    return hit if op in ("=", "=~") else not hit


@pytest.fixture
def seed_exposition(seed: System) -> tuple[Exposition, dict[str, str]]:
    # The whole world the rules read: the bot's own metrics and stand-ins for Prometheus' `up`
    # and the exporters' series (source=None builds every catalog metric).
    registry = CollectorRegistry()
    exercise(build_instruments(seed, registry, source=None), seed.metrics)
    return exposition(registry)


def test_the_app_exposes_only_its_own_metrics(seed: System) -> None:
    registry = CollectorRegistry()
    own = [m for m in seed.metrics if m.source == ""]
    exercise(build_instruments(seed, registry), own)
    exposed, _ = exposition(registry)
    assert "http_requests_total" in exposed and "integrations_active" in exposed
    # An app exposing `up` or an exporter's gauges would mask the real ones (a false page).
    assert not {"up", "pg_up", "redis_up", "kube_pod_status_phase", "container_memory_usage_bytes"} & set(exposed)
    pg = CollectorRegistry()
    build_instruments(seed, pg, source="postgres_exporter").gauge("pg_up").set(1)
    exposed_pg = set(exposition(pg)[0])
    assert "pg_up" in exposed_pg and all(name.startswith("pg_") for name in exposed_pg)


def test_generated_rules_select_exactly_the_exposed_series(seed: System, seed_exposition: tuple[Exposition, dict[str, str]]) -> None:
    exposed, types = seed_exposition
    exprs = rule_exprs(seed)
    assert len(exprs) > 50
    assert selection_problems(exprs, seed, exposed, types) == []
    # Every catalog series the rules read is one the client exposes.
    read = {s.metric for e in exprs for s in facts(e).selectors} - set(seed.recorded_series())
    assert read and read <= set(exposed)
    assert {"http_requests_total", "http_request_duration_seconds_bucket", "up"} <= read


def test_the_check_catches_a_name_a_label_and_a_bucket_the_client_does_not_expose(
    seed: System, seed_exposition: tuple[Exposition, dict[str, str]]
) -> None:
    exposed, types = seed_exposition
    bad = [
        'sum(rate(http_request_total[5m]))',
        'sum(rate(http_requests_total{path="/"}[5m]))',
        'sum(rate(http_request_duration_seconds_bucket{le="0.3"}[5m]))',
        'rate(integrations_active[5m])',
    ]
    problems = selection_problems(bad, seed, exposed, types)
    assert len(problems) == 4, problems


def test_exposition_names_are_the_catalog_names(seed_exposition: tuple[Exposition, dict[str, str]]) -> None:
    exposed, types = seed_exposition
    assert types["http_requests_total"] == "counter"
    assert set(exposed["http_requests_total"]) == {"method", "handler", "status"}
    assert "http_requests_total_total" not in exposed
    assert exposed["http_request_duration_seconds_bucket"]["le"] == {"0.05", "0.1", "0.25", "0.5", "1.0", "2.5", "5.0", "10.0", "+Inf"}
    assert set(exposed["redis_memory_used_bytes"]) == set()


def test_histogram_buckets_come_from_the_catalog() -> None:
    latency = histogram("job_seconds", "Job time.", buckets=["0.5", 1, 30], labels=["queue"], unit="seconds")
    instruments = build_instruments([latency], CollectorRegistry())
    assert instruments.histogram(latency)._upper_bounds == [0.5, 1.0, 30.0, float("inf")]
    assert instruments.histogram("job_seconds")._labelnames == ("queue",)


def test_info_metric_is_named_from_the_catalog() -> None:
    build = info("app_build_info", "Build of the running app.", ["version", "revision"])
    registry = CollectorRegistry()
    build_instruments([build], registry).info(build).info({"version": "1.2", "revision": "abc"})
    exposed, types = exposition(registry)
    assert exposed == {"app_build_info": {"version": {"1.2"}, "revision": {"abc"}}}


def test_info_refuses_labels_the_catalog_does_not_declare() -> None:
    build = info("app_build_info", "Build of the running app.", ["version"])
    instrument = build_instruments([build], CollectorRegistry()).info(build)
    with pytest.raises(ValueError, match=r"app_build_info carries the labels \['version'\], not \['release'\]"):
        instrument.info({"release": "1.2"})


def test_info_name_without_suffix_is_a_definition_error() -> None:
    with pytest.raises(DefinitionError, match=r"test_instruments\.py:\d+: metric 'app_build': .*ends in _info"):
        build_instruments([info("app_build", "Build.")], CollectorRegistry())


def test_a_unit_never_renames_the_series() -> None:
    odd = gauge("queue_depth", "Jobs waiting.", unit="jobs")
    registry = CollectorRegistry()
    build_instruments([odd], registry).gauge(odd).set(3)
    assert set(exposition(registry)[0]) == {"queue_depth"}


def test_typed_accessors_refuse_the_wrong_kind() -> None:
    requests = counter("requests_total", "Requests.")
    instruments = build_instruments([requests], CollectorRegistry())
    assert isinstance(instruments.counter("requests_total"), Counter)
    assert "requests_total" in instruments and list(instruments) == ["requests_total"]
    with pytest.raises(TypeError, match="is a Counter, not a Gauge"):
        instruments.gauge(requests)


def test_instruments_register_in_the_given_registry_only() -> None:
    registry = CollectorRegistry()
    build_instruments([counter("only_here_total", "Requests.")], registry).counter("only_here_total").inc(2)
    assert registry.get_sample_value("only_here_total") == 2.0
    from prometheus_client import REGISTRY

    assert REGISTRY.get_sample_value("only_here_total") is None
