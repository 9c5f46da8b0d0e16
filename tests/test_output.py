"""to_yaml's fast emitter writes exactly what PyYAML writes: fuzzed on tricky text, on every document
the seed system compiles, and it really runs (no silent fallback) on the compilers' data."""

from __future__ import annotations

import sys
from typing import Any, Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccb_observe import output
from ccb_observe.compile import compile_all
from ccb_observe.compile.rules import rule_files
from ccb_observe.model import System


def pyyaml(data: Any) -> bytes:
    """The reference: PyYAML's pure-Python dumper with our settings."""
    return (output.HEADER + output._pyyaml(data)).encode()


def takes_fast_path(data: Any) -> bool:
    try:
        output._fast_yaml(data)
    except output._Uncertified:
        return False
    return True


# Text that sits on the edges of PyYAML's plain/quoted/literal decisions.
TRICKY = [
    "", " ", "a", "a b", "a: b", "a:b", "a:", ":", ":a", ": a", "a #b", "a#b", "#a", "-", "-a", "- a", "--", "---",
    "---a", "...", "..a", "?", "?a", "? a", ",a", "a,b", "[a", "a]", "{a}", "&a", "*a", "!a", "|a", ">a", "'a", "a'b",
    '"a', '%a', "@a", "`a", "<<", "<", "=", "==", "~", "null", "Null", "NULL", "nul", "yes", "No", "ON", "off", "y",
    "true", "False", "1", "-1", "+1", "012", "08", "0x1f", "0b101", "1_000", "1e3", "1.0e+3", "1.5", ".5", "-.inf",
    ".NaN", "1:30", "190:20:30", "2001-12-14", "2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43", " a", "a ",
    "a  b", "rate(x[5m])", 'sum by (a) (b{c="d"})', "{{ $labels.x }}", "é€ — кириллица", "\xa0", "a\tb", "a\rb",
    "\x00", "\x85", "\u2028", "\ufeff", "\U0001f600", "a\nb", "a\n", "a\n\n", "\n", "\na", " a\nb", "a \nb", "a\n b",
    "a\n\nb", "a\nb ", "a\n#b", "x" * 122, "x" * 123,
]
_text = st.sampled_from(TRICKY) | st.text(alphabet=st.sampled_from("a1 :#-.'\"\n\t{[?é"), max_size=12) | st.text(max_size=8)
_text |= st.text(alphabet="ab: -\n", min_size=100, max_size=200)  # long keys become "? key" entries
_key = _text | st.sampled_from(["name", "expr", "labels", "a: b", "on"]) | st.sampled_from([0, -1, None, True])
_tree = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | _text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_key, inner, max_size=4),
    max_leaves=16,
)


def test_to_yaml_writes_what_pyyaml_writes() -> None:
    fast: list[bool] = []

    @settings(max_examples=3000, deadline=None)
    @given(_tree)
    def check(data: Any) -> None:
        fast.append(takes_fast_path(data))
        assert output.to_yaml(data) == pyyaml(data)

    check()
    # The fuzzing must exercise the fast emitter, not only the fallback.
    assert sum(fast) > len(fast) / 4, f"{sum(fast)} of {len(fast)}"


@pytest.mark.parametrize("text", TRICKY)
def test_each_tricky_text_as_key_value_and_item(text: str) -> None:
    for data in ({text: text}, [text], {"k": [text, {"x": text}]}, [[text]], {"a": {text: [text]}}):
        assert output.to_yaml(data) == pyyaml(data), data


def test_the_fast_path_certifies_printable_text_and_nothing_else() -> None:
    printable = [t for t in TRICKY if t.isprintable() and "\x85" not in t and "\U0001f600" not in t and len(t) < 123]
    assert printable and all(takes_fast_path({t or "k": [t, {"v": t}]}) for t in printable)
    assert takes_fast_path({"text": "line one\n  indented\n\nlast\n"})
    # Double quotes, escapes, `? key` entries, bare scalars and text near the width are left to PyYAML.
    for data in ({"a\tb": 1}, ["a\rb"], ["a \nb"], ["emoji \U0001f600"], {"": 1}, {"x" * 123: 1}, {1: "a"}, "top", ("t",), ["x " * 50_001]):
        assert not takes_fast_path(data), data
        assert output.to_yaml(data) == pyyaml(data)


def test_floats_match_or_fall_back() -> None:
    for value in (0.0, -0.0, 1.5, 1e16, 1e-7, 5e-324, 1.7976931348623157e308, float("inf"), float("-inf"), float("nan")):
        assert takes_fast_path([value]), value
        assert output.to_yaml({"v": value}) == pyyaml({"v": value})


def _recording_to_yaml(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every document the compilers hand to to_yaml (each module imported the function by name)."""
    documents: list[Any] = []
    real: Callable[..., bytes] = output.to_yaml

    def recording(data: Any, header: bool = True) -> bytes:
        documents.append(data)
        return real(data, header)

    for name, module in list(sys.modules.items()):
        if name.startswith("ccb_observe.") and name != output.__name__ and getattr(module, "to_yaml", None) is real:
            monkeypatch.setattr(module, "to_yaml", recording)
    return documents


def test_every_seed_document_is_pyyaml_exact_and_fast(seed: System, monkeypatch: pytest.MonkeyPatch) -> None:
    documents = _recording_to_yaml(monkeypatch)
    compile_all([seed])
    assert len(documents) >= 10  # rule files, Alertmanager, routing tests, Kubernetes, Grafana...
    for data in documents:
        assert takes_fast_path(data), str(data)[:300]
        assert output.to_yaml(data) == pyyaml(data)


def test_rule_files_take_the_fast_path(seed: System) -> None:
    files = rule_files(seed)
    assert files
    for groups in files.values():
        assert takes_fast_path({"groups": groups})


def test_output_does_not_depend_on_the_cache() -> None:
    data = {"groups": [{"name": "a: b", "rules": [{"record": "x", "labels": {"on": "yes", "v": "1.5"}}]}]}
    first = output.to_yaml(data)
    output._SCALARS.clear()
    assert output.to_yaml(data) == first == pyyaml(data)


# ---------------------------------------------------------------- to_json


def reference_json(data: Any) -> bytes:
    import json

    return (json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([0.0, -0.0, 1e-05, 1e16, 1e15, 0.1, 5.0, 1e-7, 123456789.125]),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12), st.sampled_from(TRICKY),  # no lone surrogates: UTF-8 has none
)
json_data = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.tuples(inner, inner),
        st.dictionaries(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=6), inner, max_size=4),
    ),
    max_leaves=30,
)


@settings(max_examples=1500, deadline=None)
@given(json_data)
def test_to_json_writes_what_json_dumps_writes(data: Any) -> None:
    assert output.to_json(data) == reference_json(data)


def test_to_json_hands_other_data_to_json() -> None:
    for data in ({1: "a", 2: "b"}, {"a": {True: 1}}, [1, {2: 3}]):
        assert output.to_json(data) == reference_json(data)
    with pytest.raises(TypeError):
        output.to_json({"a": 1, 2: "b"})  # mixed key types cannot be sorted: json says so too
    with pytest.raises(TypeError):
        output.to_json({"a": object()})
    circular: list[Any] = []
    circular.append(circular)
    with pytest.raises(ValueError, match="Circular"):
        output.to_json(circular)


def test_the_seed_dashboards_take_the_direct_walk(seed: System) -> None:
    from ccb_observe.compile import grafana

    for dashboard in grafana.dashboards(seed):
        data = grafana.dashboard_json(seed, dashboard, ())
        out: list[str] = []
        output._json_value(data, "\n", out)  # raises _NotPlainJSON when it would hand over to json
        assert ("".join(out) + "\n").encode() == reference_json(data)
