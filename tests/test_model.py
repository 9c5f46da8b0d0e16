"""The model refuses bad definitions with an error naming file:line and the rule broken."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from pathlib import Path

import pytest

from ccb_observe.errors import DefinitionError
from ccb_observe.model import (
    KPI,
    SLO,
    Alert,
    AvailabilityIndicator,
    LatencyIndicator,
    RatioIndicator,
    System,
    counter,
    gauge,
    histogram,
    tier,
)
from ccb_observe.model.conditions import ratio_above
from ccb_observe.promql import increase, matches, rate, raw, selector, sum_

requests = counter("http_requests_total", "Requests.", ["status"])
latency = histogram("http_request_duration_seconds", "Latency.", ["0.1", "0.5", "1"])
queue = gauge("queue_depth", "Jobs waiting.")
HERE = "tests/test_model.py"


def error_slo(**changes: object) -> SLO:
    fields = dict(name="errors", objective=99.9, indicator=RatioIndicator(total=requests(), bad=requests(status=matches("5.."))),
                  description="Requests succeed")
    fields.update(changes)
    return SLO(**fields)  # type: ignore[arg-type]


def assert_refused(make: object, rule: str) -> DefinitionError:
    with pytest.raises(DefinitionError) as caught:
        make()  # type: ignore[operator]
    error = caught.value
    assert rule in str(error), str(error)
    assert str(error).startswith(HERE + ":"), f"the error names the definition's file:line: {error}"
    return error


def test_a_valid_system_builds() -> None:
    system = System("shop", metrics=(requests, latency, queue), slos=(error_slo(),))
    assert system.slos[0].service == "shop"
    assert system.slos[0].error_budget == Decimal("0.001")


def test_error_names_the_line_of_the_definition() -> None:
    error = assert_refused(lambda: error_slo(objective=100), "strictly between 0 and 100")
    line = int(str(error).split(":")[1])
    assert 0 < line < 200
    source = Path(__file__).read_text().splitlines()
    assert source[line - 1].strip() == "return SLO(**fields)  # type: ignore[arg-type]", "the SLO(...) call is the definition named"


@pytest.mark.parametrize("objective", [100, 100.5, 0, -1])
def test_objective_out_of_range(objective: float) -> None:
    assert_refused(lambda: error_slo(objective=objective), "strictly between 0 and 100")


def test_slo_naming_a_metric_not_in_the_catalog() -> None:
    slo = error_slo(indicator=RatioIndicator(total=selector("orders_total"), bad=selector("orders_failed_total")))
    assert_refused(lambda: System("shop", metrics=(requests,), slos=(slo,)), "'orders_total' is not in the catalog")


def test_latency_threshold_must_be_a_bucket() -> None:
    slo = SLO("fast", 95, LatencyIndicator(latency(), Decimal("0.3")), "Requests are fast")
    assert_refused(lambda: System("shop", metrics=(latency,), slos=(slo,)), "threshold 0.3 is not a bucket")


def test_latency_threshold_on_a_bucket_builds() -> None:
    slo = SLO("fast", 95, LatencyIndicator(latency(), Decimal("0.5")), "Requests are fast")
    assert System("shop", metrics=(latency,), slos=(slo,)).slos[0].name == "fast"


def test_rate_over_a_gauge_in_an_alert() -> None:
    alert = Alert("QueueGrowing", rate(queue()["5m"]).gt(1), "warning", "P2", summary="s", description="d")
    assert_refused(lambda: System("shop", metrics=(queue,), alerts=(alert,)), "rate() over 'queue_depth', a gauge")


def test_increase_over_a_gauge_in_a_kpi() -> None:
    kpi = KPI("jobs", "Jobs per hour", sum_(increase(queue()["1h"])), unit="short", window="1h")
    assert_refused(lambda: System("shop", metrics=(queue,), kpis=(kpi,)), "increase() over 'queue_depth'")


def test_rate_over_a_gauge_in_raw_promql() -> None:
    alert = Alert("QueueGrowing", raw("rate(queue_depth[5m]) > 1"), "warning", "P2", summary="s", description="d")
    assert_refused(lambda: System("shop", metrics=(queue,), alerts=(alert,)), "rate() over 'queue_depth'")


def test_label_the_catalog_does_not_declare() -> None:
    assert_refused(lambda: requests(code="500"), "label 'code' is not declared")


def test_label_not_declared_in_raw_promql() -> None:
    alert = Alert("Errors", raw('sum(rate(http_requests_total{code="500"}[5m])) > 1'), "warning", "P2", summary="s", description="d")
    assert_refused(lambda: System("shop", metrics=(requests,), alerts=(alert,)), "label 'code' is not declared")


def test_ratio_indicator_over_a_gauge() -> None:
    slo = error_slo(indicator=RatioIndicator(total=queue(), bad=queue()))
    assert_refused(lambda: System("shop", metrics=(queue,), slos=(slo,)), "is a gauge, not a counter")


def test_availability_indicator_over_a_counter() -> None:
    slo = error_slo(indicator=AvailabilityIndicator(requests()))
    assert_refused(lambda: System("shop", metrics=(requests,), slos=(slo,)), "reads a 0/1 gauge")


@pytest.mark.parametrize("kind", ["metric", "SLO", "alert"])
def test_duplicate_names(kind: str) -> None:
    alert = Alert("Errors", ratio_above(requests(status="500"), requests(), "5m", 0.01), "critical", "P1", summary="s", description="d")
    if kind == "metric":
        make = lambda: System("shop", metrics=(requests, counter("http_requests_total", "Again.")))  # noqa: E731
    elif kind == "SLO":
        make = lambda: System("shop", metrics=(requests,), slos=(error_slo(), error_slo()))  # noqa: E731
    else:
        make = lambda: System("shop", metrics=(requests,), alerts=(alert, alert))  # noqa: E731
    assert_refused(make, "duplicate name")


def test_series_neither_catalogued_nor_recorded() -> None:
    alert = Alert("Burn", selector("slo:nonsense:ratio").gt(1), "warning", "P2", summary="s", description="d")
    assert_refused(lambda: System("shop", metrics=(requests,), alerts=(alert,)), "neither in the catalog nor recorded")


def test_recorded_series_may_be_read() -> None:
    alert = Alert("Burn", selector("slo:burn_rate:1h", slo="errors").gt(1), "warning", "P2", summary="s", description="d")
    assert System("shop", metrics=(requests,), slos=(error_slo(),), alerts=(alert,)).alerts[0].name == "Burn"


@pytest.mark.parametrize(
    ("make", "rule"),
    [
        (lambda: counter("requests", "Requests."), "ends in _total"),
        (lambda: histogram("latency_seconds", "Latency.", []), "declares its bucket"),
        (lambda: histogram("latency_seconds", "Latency.", [1, "0.5"]), "strictly increasing"),
        (lambda: gauge("queue:depth", "Depth."), "colons are for recorded series"),
        (lambda: gauge("queue_depth", " "), "help text is required"),
        (lambda: tier("fast", "5m", "1h", "critical", "P0", factor=10), "short window must be shorter"),
        (lambda: tier("fast", "1h", "7m", "critical", "P0", factor=10), "multiples of 5m"),
        (lambda: tier("fast", "1h", "5m", "urgent", "P0", factor=10), "severity is one of"),
        (lambda: tier("fast", "1h", "5m", "critical", "P0"), "exactly one of budget_consumed or factor"),
        (lambda: error_slo(name="Errors"), "lower-case words"),
        (lambda: error_slo(description=""), "description is required"),
        (lambda: error_slo(objective="ninety"), "objective must be a number"),
        (lambda: error_slo(objective=99.9, tiers=(tier("x", "1h", "5m", "critical", "P0", factor=1000),)), "can never fire"),
        (lambda: error_slo(period="3d", tiers=(tier("x", "7d", "1h", "warning", "P2", factor=1),)), "exceeds the period"),
        (lambda: error_slo(indicator=RatioIndicator(total=requests())), "exactly one of `bad` or `good`"),
        (lambda: Alert("high_errors", selector("up").gt(1), "critical", "P1", summary="s", description="d"), "CamelCase"),
        (lambda: Alert("Errors", selector("up").gt(1), "critical", "P1", summary="s", description="d", labels={"severity": "x"}), "set by ccb_observe"),
    ],
)
def test_each_rule_of_the_model(make: object, rule: str) -> None:
    assert_refused(make, rule)


def test_model_objects_are_frozen() -> None:
    slo = error_slo()
    with pytest.raises(dataclasses.FrozenInstanceError):
        slo.objective = Decimal(1)  # type: ignore[misc]


def test_exact_decimals() -> None:
    slo = error_slo(objective=99.9)
    assert str(slo.error_budget) == "0.001"
    assert [str(t.burn_factor(slo.period)) for t in slo.tiers] == ["14.4", "6", "3", "1"]
    four_weeks = error_slo(period="28d")
    assert str(four_weeks.tiers[0].burn_factor(four_weeks.period)) == "13.44"


def test_bad_numbers_in_helpers_name_the_definition() -> None:
    from ccb_observe.durations import Duration
    from ccb_observe.model import histogram
    from ccb_observe.model.kpi import target

    with pytest.raises(DefinitionError, match=r"test_model\.py:\d+: metric 'x_seconds': buckets must be a number, got 'abc'"):
        histogram("x_seconds", "Latency.", ["0.1", "abc"])
    with pytest.raises(DefinitionError, match=r"test_model\.py:\d+: target > 'ten': the value must be a number"):
        target(">", "ten")
    with pytest.raises(ValueError, match="not a Prometheus duration"):
        Duration.parse("5m\n")
