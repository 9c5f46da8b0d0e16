"""Smoke runs of the benchmarks (small N, short span: shape and finiteness, never timing), and the
property the generation speed-up rests on: both YAML emitters write the same bytes."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from ccb_observe import output

ROOT = Path(__file__).resolve().parents[1]


def _pure_python_yaml(data: Any) -> bytes:
    text = yaml.dump(data, Dumper=output._Dumper, sort_keys=False, allow_unicode=True, width=10**6, default_flow_style=False)
    return (output.HEADER + text).encode()


_text = st.text(alphabet=st.characters(codec="utf-8"), max_size=30) | st.text(alphabet="ab: -\n", min_size=100, max_size=200)
_tree = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | _text,
    lambda leaf: st.lists(leaf, max_size=4) | st.dictionaries(_text, leaf, max_size=4),
    max_leaves=12,
)


@settings(max_examples=1000, deadline=None)
@given(_tree)
def test_to_yaml_writes_what_the_pure_python_emitter_writes(data: Any) -> None:
    assert output.to_yaml(data) == _pure_python_yaml(data)


def test_awkward_text_takes_the_pure_python_path() -> None:
    for text in ("a\rb", "\x85", "\u2028", "\ufeff", "smile \U0001f600"):
        data = {"groups": [{"name": text, "labels": {text: text}}]}
        assert output.to_yaml(data) == _pure_python_yaml(data)
    assert output._plain_text_only({"k": ["plain", "кириллица €"]})
    assert not output._plain_text_only({"k": ["emoji \U0001f600"]})
