"""The PromQL builder: escaping, exact numbers, precedence; everything it renders parses."""

from __future__ import annotations

import subprocess
from decimal import Decimal
from pathlib import Path

import promql_parser
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from ccb_observe import promql as q
from ccb_observe.promql_ast import facts

label_values = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=20)


def test_label_values_are_escaped() -> None:
    sel = q.selector("http_requests_total", handler='a"b\\c\nd')
    assert sel.render() == 'http_requests_total{handler="a\\"b\\\\c\\nd"}'
    assert facts(sel.render()).selectors[0].matchers == (("handler", "=", 'a"b\\c\nd'),)


@given(label_values)
@settings(max_examples=200, deadline=None)
def test_any_label_value_round_trips_through_the_parser(value: str) -> None:
    text = q.selector("x", label=value).render()
    (series,) = facts(text).selectors
    assert series.matchers == (("label", "=", value),)


@given(st.lists(label_values.filter(bool), min_size=1, max_size=4))
@settings(max_examples=100, deadline=None)
def test_one_of_matches_exactly_its_values(values: list[str]) -> None:
    import re

    matcher = q.one_of(*values)
    for value in values:
        assert re.fullmatch(matcher.value, value)
    assert not re.fullmatch(matcher.value, "".join(values) + "x")


def test_numbers_are_exact() -> None:
    assert q.lit(0.001).render() == "0.001"
    assert q.lit(Decimal("14.4") * Decimal("0.001")).render() == "0.0144"
    assert q.lit(1e-9).render() == "0.000000001"
    assert "e" not in q.lit(Decimal("1E+3")).render()


def test_precedence_parenthesises_only_where_needed() -> None:
    a, b, c = q.selector("a"), q.selector("b"), q.selector("c")
    assert (a - (b - c)).render() == "a - (b - c)"
    assert ((a - b) - c).render() == "a - b - c"
    assert (a * (b + c)).render() == "a * (b + c)"
    assert (a / b.gt(0)).render() == "a / (b > 0)"
    assert a.gt(1).and_(b.gt(2)).or_(c).render() == "a > 1 and b > 2 or c"


def test_types_are_checked() -> None:
    with pytest.raises(TypeError):
        q.rate(q.selector("x"))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        q.sum_(q.selector("x")["5m"])
    with pytest.raises(ValueError):
        q.Call("limitk", ())  # not in Prometheus 2.42


def test_raw_promql_is_parsed() -> None:
    assert q.raw("time()").kind == "scalar"
    assert q.raw("x[5m]").kind == "matrix"
    with pytest.raises(ValueError):
        q.raw("sum(rate(x[5m])")


def _expressions(rule_files: dict[str, list[dict[str, object]]]) -> list[str]:
    return [str(rule["expr"]) for groups in rule_files.values() for g in groups for rule in g["rules"]]  # type: ignore[index,union-attr]


def test_every_generated_expression_parses(seed) -> None:  # type: ignore[no-untyped-def]
    from ccb_observe.compile.rules import rule_files

    exprs = _expressions(rule_files(seed))
    assert len(exprs) > 100
    for text in exprs:
        promql_parser.parse(text)


def test_promtool_accepts_every_rule_file(generated_copy: Path, promtool: str) -> None:
    files = sorted(generated_copy.glob("*/prometheus/rules/*.yml"))
    assert len(files) >= 6
    done = subprocess.run([promtool, "check", "rules", *map(str, files)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("SUCCESS") == len(files)


@given(st.lists(label_values, min_size=1, max_size=3))
@settings(max_examples=15, deadline=None)
def test_hostile_label_values_survive_promtool(tmp_path_factory: pytest.TempPathFactory, values: list[str]) -> None:
    from conftest import require_tool

    promtool = require_tool("promtool")
    rules = [
        {"record": f"test:hostile:{i}", "expr": q.sum_(q.rate(q.selector("x_total", label=v)["5m"])).render()}
        for i, v in enumerate(values)
    ]
    path = tmp_path_factory.mktemp("hostile") / "rules.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "hostile", "rules": rules}]}, allow_unicode=True))
    done = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
