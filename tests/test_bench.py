"""Smoke runs of the benchmarks (small N, short span: shape and finiteness, never timing). The YAML
emitter the generation speed-up rests on is fuzzed in tests/test_output.py."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

from conftest import require_tool

ROOT = Path(__file__).resolve().parents[1]  # the scripts run from the repo root


def _run_json(*args: str) -> dict[str, Any]:
    done = subprocess.run([sys.executable, *args, "--json"], cwd=ROOT, capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _finite(*values: float) -> bool:
    return all(isinstance(v, (int, float)) and math.isfinite(v) for v in values)


def test_generate_scale_reports_a_small_run() -> None:
    result = _run_json("bench/generate_scale.py", "--slos", "4")
    assert result["slos"] == 4
    assert {"seconds", "max_rss_mib", "files", "bytes"} <= set(result)
    assert _finite(result["seconds"], result["max_rss_mib"]) and result["max_rss_mib"] > 0
    # Four SLOs: a rule file each, plus dashboards and Alertmanager files at least.
    assert result["files"] > 4 and result["bytes"] > 10_000


def test_rule_eval_reports_a_short_span() -> None:
    require_tool("promtool")
    require_tool("prometheus")
    result = _run_json("bench/rule_eval.py", "--services", "2", "--days", "1", "--rounds", "1")
    assert set(result["sets"]) == {"ours", "sloth", "raw"}
    for name, measured in result["sets"].items():
        assert _finite(measured["seconds_per_round"]) and measured["seconds_per_round"] > 0, name
        assert isinstance(measured["nan"], int) and isinstance(measured["absent_with_traffic"], int)
        # An error is measured unless the set turned every service NaN (Sloth-style on quiet hours).
        assert _finite(measured["sli_30d_mean_abs_rel_error"]) or measured["nan"] == result["services"], name
        # Service 0 is idle: it has no SLI, and no set may invent one.
        assert measured["idle_services"]["svc-0"] in ("absent", "nan"), name
    assert result["cost_vs_sloth"]["sloth"] == 1.0
    assert all(_finite(result["cost_vs_sloth"][n]) and result["cost_vs_sloth"][n] > 0 for n in ("ours", "raw")), result["cost_vs_sloth"]
    # Ours never yields NaN: an idle service is no data.
    ours = result["sets"]["ours"]
    assert ours["nan"] == 0 and ours["idle_services"]["svc-0"] == "absent" and _finite(ours["sli_30d_mean_abs_rel_error"])
