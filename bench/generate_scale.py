"""Generation at scale: a synthetic System of N SLOs, built through the public API, compiled by every
target and written into a temporary directory, as `ccb-observe generate` does.

    .venv/bin/python bench/generate_scale.py --slos 10000 --json

The system: one service, a counter and a histogram per 100 SLOs (handlers tell SLOs apart), SLOs
alternating ratio and latency indicators with three burn-rate tiers each (the defaults' page-fast,
page-slow and ticket-fast), one team per 100 SLOs with its own receiver and route, one dependency
whose outage inhibits a few SLOs, and one dashboard per 50 SLOs (an SLI stat and a burn-rate graph
per SLO).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

from ccb_observe import promql as q
from ccb_observe.compile import TARGETS, Compiler, compile_stream
from ccb_observe.model import DEFAULT_TIERS, SLO, Alert, LatencyIndicator, Metric, RatioIndicator, System, counter, gauge, histogram
from ccb_observe.model.conditions import gauge_compare
from ccb_observe.model.dashboards import Dashboard, Query, Row, Stat, TimeSeries, slo_query, threshold
from ccb_observe.model.routing import Dependency, Routing, Slack, receiver, route
from ccb_observe import naming
from ccb_observe.durations import Duration
from ccb_observe.output import write_tree

SERVICE = "bench"
SLOS_PER_METRIC = 100
SLOS_PER_TEAM = 100
SLOS_PER_DASHBOARD = 50
BUCKETS = ["0.05", "0.1", "0.25", "0.5", "1", "2.5", "5"]
TIERS = DEFAULT_TIERS[:3]  # page-fast, page-slow, ticket-fast


def team_of(i: int) -> str:
    return f"team-{i // SLOS_PER_TEAM}"


def synthetic_system(n: int) -> System:
    groups = range((n + SLOS_PER_METRIC - 1) // SLOS_PER_METRIC)
    requests = [counter(f"bench_requests_{g}_total", "Requests served.", ["handler", "status"]) for g in groups]
    durations = [histogram(f"bench_request_{g}_duration_seconds", "Request latency.", buckets=BUCKETS, labels=["handler"], unit="seconds") for g in groups]
    db_up = gauge("bench_db_up", "1 when the database answers.")
    slos = tuple(synthetic_slo(i, requests[i // SLOS_PER_METRIC], durations[i // SLOS_PER_METRIC]) for i in range(n))
    outage = Alert("DatabaseDown", gauge_compare(db_up(), "==", 0), "critical", "P0",
                   summary="The database is unreachable", description="Every SLO that reads it burns.", for_="1m")
    return System(
        SERVICE,
        metrics=(*requests, *durations, db_up),
        slos=slos,
        alerts=(outage,),
        routing=synthetic_routing(n, outage.name),
        dashboards=tuple(synthetic_dashboard(d, slos[d * SLOS_PER_DASHBOARD:(d + 1) * SLOS_PER_DASHBOARD])
                         for d in range((n + SLOS_PER_DASHBOARD - 1) // SLOS_PER_DASHBOARD)),
        team="platform",
    )


def synthetic_slo(i: int, requests: Metric, duration: Metric) -> SLO:
    handler = f"/api/v1/h{i}"
    indicator: LatencyIndicator | RatioIndicator
    if i % 2:
        indicator = LatencyIndicator(duration(handler=handler), "0.5")
        objective = "99"
    else:
        indicator = RatioIndicator(total=requests(handler=handler), bad=requests(handler=handler, status=q.matches("5..")))
        objective = "99.9"
    return SLO(f"slo-{i}", objective, indicator, f"Handler {handler} serves its users", team=team_of(i), tiers=TIERS,
               runbook_url=f"https://runbooks.example/slo-{i}")


def synthetic_routing(n: int, outage: str) -> Routing:
    teams = sorted({team_of(i) for i in range(n)})
    receivers = [receiver(f"{t}-slack", Slack(f"#{t}", api_url_file=f"/etc/alertmanager/secrets/{t}")) for t in teams]
    routes = [route(f"{t}-slack", match={"team": t}) for t in teams]
    return Routing(
        receivers=(receiver("platform-slack", Slack("#platform", api_url_file="/etc/alertmanager/secrets/platform")), *receivers),
        route=route("platform-slack", *routes),
        dependencies=(Dependency("database", outage=outage, symptoms=tuple(f"slo-{i}" for i in range(min(n, 5)))),),
    )


def synthetic_dashboard(d: int, slos: tuple[SLO, ...]) -> Dashboard:
    panels: list[object] = [Row(f"SLOs {d * SLOS_PER_DASHBOARD} to {d * SLOS_PER_DASHBOARD + len(slos) - 1}")]
    for slo in slos:
        panels.append(Stat(f"{slo.name} SLI", "The SLI over the period.", "percentunit",
                           (Query(slo_query(naming.SLI_PERIOD, slo, SERVICE)),), (threshold(slo.objective_ratio, "green"),), "red", width=6))
        panels.append(TimeSeries(f"{slo.name} burn rate", "The 1h burn rate.", "short",
                                 (Query(slo_query(naming.burn_rate(Duration(3600)), slo, SERVICE)),), width=18))
    return Dashboard(f"bench-slos-{d}", f"Bench SLOs, page {d}", "Synthetic SLOs.", tuple(panels))  # type: ignore[arg-type]


def timed(name: str, compiler: Compiler, seconds: dict[str, float]) -> Compiler:
    def run(system: System) -> dict[str, bytes]:
        started = time.perf_counter()
        try:
            return compiler(system)
        finally:
            seconds[name] = round(time.perf_counter() - started, 3)
    return run


def run(n: int) -> dict[str, object]:
    started = time.perf_counter()
    system = synthetic_system(n)
    built = time.perf_counter()
    per_target: dict[str, float] = {}
    originals = dict(TARGETS)
    TARGETS.update({name: timed(name, compiler, per_target) for name, compiler in originals.items()})  # measuring only
    try:
        with tempfile.TemporaryDirectory(prefix="ccb-bench-gen-") as tmp:
            # As `ccb-observe generate` does: each target's files written as they are compiled.
            written = write_tree(compile_stream([system]), Path(tmp) / "generated")
            done = time.perf_counter()
            sizes = [p.stat().st_size for p in Path(tmp).rglob("*") if p.is_file()]
    finally:
        TARGETS.update(originals)
    compile_seconds = sum(per_target.values())
    return {
        "slos": n,
        "seconds": round(done - started, 3),
        "max_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),  # Linux: KiB
        # Forked workers (rules, dashboards from 500 SLOs): the largest one's peak, shared pages included.
        "max_worker_rss_mib": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1),
        "files": written.files,
        "bytes": sum(sizes),
        "model_seconds": round(built - started, 3),
        "compile_seconds": round(compile_seconds, 3),
        "write_seconds": round(done - built - compile_seconds, 3),
        "target_seconds": per_target,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slos", type=int, default=1000, help="number of SLOs (default 1000)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    if args.slos < 1:
        parser.error("--slos is at least 1")
    result = run(args.slos)
    if args.json:
        print(json.dumps(result, sort_keys=False))
    else:
        for key, value in result.items():
            print(f"{key:>16}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
