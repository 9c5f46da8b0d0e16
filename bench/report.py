"""`make bench`: run both benchmarks once, side by side, and write docs/benchmarks.md.

    .venv/bin/python bench/report.py [--slos 1000,10000] [--services 6] [--rounds 8]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
DOC = ROOT / "docs" / "benchmarks.md"


def run_json(*args: str) -> dict[str, Any]:
    done = subprocess.run([sys.executable, *args, "--json"], cwd=ROOT, check=True, capture_output=True, text=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def machine() -> list[str]:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")), platform.processor())
    memory = next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal"))
    prometheus = subprocess.run(["prometheus", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    return [
        f"- CPU: {cpu}, {os.cpu_count()} cores visible; memory {int(memory) // 1024 // 1024} GiB",
        f"- {platform.system()} {platform.release()}, Python {platform.python_version()}, {prometheus}",
    ]


def fmt(x: float, digits: int = 3) -> str:
    return "NaN" if x != x else f"{x:.{digits}g}"


def generation_section(results: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| SLOs | seconds | model s | compile s | write s | max RSS MiB | worker RSS MiB | files | MB |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(f"| {r['slos']} | {r['seconds']} | {r['model_seconds']} | {r['compile_seconds']} | {r['write_seconds']} "
                     f"| {r['max_rss_mib']} | {r['max_worker_rss_mib']} | {r['files']} | {r['bytes'] / 1e6:.1f} |")
    targets = list(results[-1]["target_seconds"])
    lines += ["", "Compile seconds by target:", "", "| SLOs | " + " | ".join(targets) + " |", "|---:|" + "---:|" * len(targets)]
    lines += [f"| {r['slos']} | " + " | ".join(str(r["target_seconds"].get(t, "")) for t in targets) + " |" for r in results]
    if len(results) >= 2:
        a, b = results[0], results[-1]
        lines += ["", f"Growth from {a['slos']} to {b['slos']} SLOs ({b['slos'] / a['slos']:g}× the SLOs): "
                      f"{b['seconds'] / a['seconds']:.2f}× the time, {b['bytes'] / a['bytes']:.2f}× the bytes."]
    return lines


def rule_eval_section(r: dict[str, Any]) -> list[str]:
    sets = r["sets"]
    lines = [
        "| rule set | s per round (median) | 1-pod services | 10-pod services | cost vs Sloth-style | 30d SLI mean abs rel error | max | NaN | absent with traffic | idle service |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name in ("ours", "sloth", "raw"):
        s, by = sets[name], r["seconds_per_round_by_pods"][name]
        lines.append(
            f"| {name} | {fmt(s['seconds_per_round'])} | {fmt(by.get('1_pod', float('nan')))} | {fmt(by.get('10_pod', float('nan')))} "
            f"| {r['cost_vs_sloth'][name]:.2f}× | {fmt(s['sli_30d_mean_abs_rel_error'])} | {fmt(s['sli_30d_max_abs_rel_error'])} "
            f"| {s['nan']} | {s['absent_with_traffic']} | {', '.join(f'{k}: {v}' for k, v in s['idle_services'].items())} |"
        )
    lines += ["", "Phases (s): " + ", ".join(f"{k.removesuffix('_s')} {v}" for k, v in r["timings"].items()) + "."]
    return lines


def generation_findings(results: list[dict[str, Any]]) -> list[str]:
    last = results[-1]
    targets = sorted(last["target_seconds"].items(), key=lambda kv: -kv[1])
    compile_s = sum(last["target_seconds"].values()) or 1.0
    top = ", ".join(f"{name} {sec:g} s ({100 * sec / compile_s:.0f}%)" for name, sec in targets[:3])
    lines = [f"- At {last['slos']} SLOs the largest targets are {top} of the compile time."]
    at_10k = next((r for r in results if r["slos"] == 10_000), None)
    if at_10k is not None:
        met = "met" if at_10k["seconds"] <= 10 else "missed"
        rss = max(at_10k["max_rss_mib"], at_10k["max_worker_rss_mib"])
        lines.append(f"- 10,000 SLOs: {at_10k['seconds']} s (target ≤ 10 s: {met}), peak RSS {rss} MiB "
                     f"(target ≤ 1024 MiB: {'met' if rss <= 1024 else 'missed'}).")
    at_1k = next((r for r in results if r["slos"] == 1_000), None)
    if at_1k is not None and at_10k is not None:
        growth = at_10k["seconds"] / at_1k["seconds"]
        lines.append(f"- 1,000 → 10,000 SLOs: {growth:.2f}× the time (target ≤ 11×: {'met' if growth <= 11 else 'missed'}).")
    return lines


def rule_findings(r: dict[str, Any]) -> list[str]:
    sets, by = r["sets"], r["seconds_per_round_by_pods"]
    ours, sloth, raw = (sets[n] for n in ("ours", "sloth", "raw"))
    lines = [
        f"- Ours costs {r['cost_vs_sloth']['ours']:.2f}× Sloth-style and "
        f"{ours['seconds_per_round'] / raw['seconds_per_round']:.2f}× raw per round, with a 30d SLI "
        f"error of {fmt(ours['sli_30d_mean_abs_rel_error'])} and {ours['nan']} NaN "
        f"(targets: ≤ 0.5×, ≤ 1e-3, 0 NaN).",
    ]
    for name in ("ours", "sloth", "raw"):
        if by[name].get("1_pod") and by[name].get("10_pod"):
            lines.append(f"- {name}: 10-pod services cost {by[name]['10_pod'] / by[name]['1_pod']:.2f}× the 1-pod ones.")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slos", default="1000,10000", help="SLO counts for generate_scale, comma-separated")
    parser.add_argument("--services", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=8)
    args = parser.parse_args()
    started, load_before = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), load()
    generation = [run_json(str(BENCH / "generate_scale.py"), "--slos", n) for n in args.slos.split(",")]
    rules = run_json(str(BENCH / "rule_eval.py"), "--services", str(args.services), "--rounds", str(args.rounds))
    load_after = load()
    text = TEMPLATE.format(
        started=started, load_before=load_before, load_after=load_after, machine="\n".join(machine()),
        slos=args.slos, services=args.services, rounds=args.rounds,
        generation="\n".join(generation_section(generation)), rule_eval="\n".join(rule_eval_section(rules)),
        generation_findings="\n".join(generation_findings(generation)), rule_findings="\n".join(rule_findings(rules)),
        raw_json=json.dumps({"generate_scale": generation, "rule_eval": rules}, indent=2),
    )
    DOC.write_text(text)
    print(f"wrote {DOC.relative_to(ROOT)}")
    return 0


TEMPLATE = """# Benchmarks

Written by `make bench` (`bench/report.py`) from one run, {started}. Both benchmarks ran one after
the other on the same machine; inside the rule benchmark the three rule sets were evaluated by the
same Prometheus at the same time, so their **ratios** are what to read. Absolute seconds are noisy:
the machine is shared with other work, whose load varies (load average {load_before} before,
{load_after} after, on 2 cores), so expect ±30% or more between runs on the absolute numbers.

## Machine

{machine}

## Generation at scale

`bench/generate_scale.py --slos N --json` for N in {slos}: a synthetic System built through the
public API (alternating ratio and latency SLOs with three burn-rate tiers each, a counter and
a histogram per 100 SLOs, one team, receiver and route per 100 SLOs, a dependency inhibiting five
SLOs, one dashboard per 50 SLOs: a row, an SLI stat and a burn-rate graph per SLO), every target compiled and its files written into a
temporary directory as they come, as `generate` does (`compile_stream` into `write_tree`). Seconds
are wall time of the whole; "write s" is what is left once the model and the compilers are counted.

{generation}

Targets: 10,000 SLOs in ≤ 10 s and ≤ 1 GiB, 1,000 → 10,000 growing ≤ 11×. "max RSS" is the
main process; forked workers (rule files and dashboards are built by one worker per core from 500
SLOs or 100 dashboards) peak at the "worker RSS" figure, pages shared with the main process
counted in both.

### What limits generation

{generation_findings}
- The cost is per SLO and linear: no step grows faster than the SLOs (routing resolves each kind of
  alert once, the dashboard checks and the rules are built once per system, the kubernetes and
  Mimir files embed the rule files' own YAML text).
- `rules` leads: about thirty rules per SLO, each a PromQL tree built, checked and rendered by the
  typed builder, then written by our own block-YAML emitter (byte-identical to PyYAML's, which it
  replaced on this data; tests fuzz the two against each other). It is spread over the cores.
- `grafana`: the synthetic system has one dashboard per 50 SLOs plus the SLO overview (in pages of
  25 SLOs): 600 dashboards at 10,000 SLOs (200 and 400 pages), each built as grafanalib
  objects, turned into plain data, normalised and written as indented JSON (our own walk, the same
  bytes as `json.dumps`, whose indented encoder is pure Python), in forked workers from 100
  dashboards.
- The work is CPU: at 10,000 SLOs, rules and grafana take about 1.6× longer in one process
  (`CCB_OBSERVE_WORKERS=1`: 7.6 s and 6.8 s, measured apart) than on two cores, so the remaining
  way to 10 s is less work per rule and per panel, not more parallelism. Writing
  files is bound by the disk (a plain write of 486 MB took 2.4 s here); it runs on its own thread
  beside the compilers.
- The cyclic garbage collector is paused while compiling: it rescanned the large model again and
  again (5,000 SLOs: 14.8 s → 12.8 s).
- `promtool-tests` is no longer a cost: SLOs whose rule files are one template (the same text with
  their names and selectors blanked out) share the first one's suites (`prometheus/suite-sharing.yml`),
  so the synthetic system gets two SLO suites, not 20,000 files.
- Memory: files are written as each target compiles them (`compile_stream` into `write_tree`), so
  the peak is the model plus the largest target's output, not the whole tree.
- Bytes: every rule is written three times (rule files, PrometheusRule objects, a Mimir namespace):
  that is the deliverable, and about half the bytes.

## Rule evaluation in a real Prometheus

`bench/rule_eval.py --services {services} --rounds {rounds} --json`: Debian's Prometheus 2.42 on
127.0.0.1 with a temporary data directory, over 31 days of synthetic request counters at a 60 s
sample step for {services} services (service 0 idle, every third low-traffic with no requests from
01:00 to 05:00, a daily cycle, an incident per 10 days, services alternating 1 and 10 pods,
counters starting between 1e9 and 2e9). One ratio SLO per service, 99.9% over 30 days, default
tiers, production evaluation step 30 s. The series each set reads over long windows were
backfilled for the whole 30 days at that step with `promtool tsdb create-blocks-from rules`
(pass 1: our 5m events and Sloth-style 5m ratios; pass 2: our 5m buckets, at their 5m interval),
Prometheus was restarted on the blocks and compaction awaited, then all three sets evaluated live.

- **ours**: `ccb_observe.compile.rules` (5m events at the base step, 5m buckets every 5m, windows of
  a day or more summed from buckets, everything guarded against zero traffic), including its alerts
  and bookkeeping series (burn rates, budget, objective, info).
- **sloth**: every window a `rate` ratio, 30d the mean of the 5m ratios
  (`sum_over_time / count_over_time`), unguarded like Sloth's, plus the four tier alerts.
- **raw**: short windows as `rate` ratios, 30d as `increase[30d]` ratio, plus the four tier alerts.

Cost: `prometheus_rule_group_last_duration_seconds` summed over a set's groups, sampled once per
30 s round, median over the rounds; our 5m bucket group runs once per ten rounds and counts a tenth.
Error: each set's 30d SLI expression evaluated at the end of the backfilled window against the
exact value from the synthetic counts, over the services with traffic. NaN counts every service;
"absent with traffic" counts services that had requests but got no value; for the idle service
"absent" (no data) is the right answer.

{rule_eval}

### What the numbers mean

{rule_findings}
- Why ours is cheaper: its 30d window sums 5m buckets (8,640 samples per series over 30 days),
  Sloth-style averages 5m ratios recorded every 30 s (86,400 samples), raw reads every raw sample
  of every pod over 30 days (43,200 per series, two series per pod). Ours also takes 1d and 3d from
  the buckets, where the other two read 1d and 3d of raw counters.
- The 1-pod column holds the idle service and the 10-pod one two busy services, so read the
  pod split as the growth of each set with cardinality, not as a clean per-pod cost.
- What limits ours: the windows below a day (5m to 6h) read the raw counters, as the others do, so
  that part grows with pods per SLO; the bucket group runs every 5m and is small.
- Accuracy: raw `increase[30d]` is exact here (the window starts on a sample, counters never
  reset). Ours stays close to exact: on fixed evaluation ticks the buckets tile the 5m events, each
  minute weighted alike; what is left comes from the fine samples on bucket edges, which 2.42's
  closed range `[t-5m, t]` counts in two buckets. Sloth-style is biased wherever traffic changes within
  the window (a mean of ratios, not a ratio of sums), and is NaN for every service with a quiet 5
  minutes in 30 days: its unguarded 5m ratio is 0/0 there, and one NaN poisons the 30d mean. Its
  error column covers only the services it did not turn NaN.
- Caveats: the raw data and the backfilled series extend an hour past the start of the live
  evaluation (so short windows read fresh samples); the TSDB therefore discards the live results
  as out of bounds. Evaluation cost is unchanged by that, but rules reading live-recorded ratios
  (burn rates, alerts) find none, so their small share is understated for all three sets alike.
  Synthetic samples are 60 s apart; production scrapes are often 15–30 s, which raises the raw
  sets' cost more than ours.

## Raw results

```json
{raw_json}
```
"""

if __name__ == "__main__":
    sys.exit(main())
