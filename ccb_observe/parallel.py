"""Per-item work spread over the machine's cores, for systems of thousands of SLOs.

Workers are forked, so they inherit the model as it is in memory (nothing is pickled on the way
in); only their results travel back, in order, so the output is the same as one process makes.
Small inputs, platforms without fork, and CCB_OBSERVE_WORKERS=1 stay in this process.
"""

from __future__ import annotations

import multiprocessing
import os
from typing import Callable, TypeVar

T = TypeVar("T")

PARALLEL_FROM = 500  # items: below this, forking costs more than it saves
_job: Callable[[int], object] | None = None  # what the forked workers run (set just before forking)


def workers(count: int, parallel_from: int | None = None) -> int:
    """How many processes share `count` items (heavy items may start sharing at fewer)."""
    wanted = os.environ.get("CCB_OBSERVE_WORKERS", "")
    cores = int(wanted) if wanted.isdigit() and int(wanted) > 0 else _cores()
    if count < (PARALLEL_FROM if parallel_from is None else parallel_from) or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return max(1, min(cores, 8))


def _cores() -> int:
    """The cores this process may run on (its affinity where the platform says, else the machine's)."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else os.cpu_count() or 1


def map_indices(job: Callable[[int], T], count: int, parallel_from: int | None = None) -> list[T]:
    """[job(0), ..., job(count - 1)], computed by forked workers when there are many."""
    processes = workers(count, parallel_from)
    if processes == 1:
        return [job(i) for i in range(count)]
    global _job
    _job = job
    try:
        pieces = processes * 4  # several per worker, so that one slow piece does not idle the rest
        bounds = [(count * p // pieces, count * (p + 1) // pieces) for p in range(pieces)]
        with multiprocessing.get_context("fork").Pool(processes) as pool:
            parts = pool.map(_run, bounds, chunksize=1)
    finally:
        _job = None
    return [result for part in parts for result in part]  # type: ignore[misc]


def _run(bounds: tuple[int, int]) -> list[object]:
    assert _job is not None, "map_indices sets the job before forking"
    return [_job(i) for i in range(*bounds)]
