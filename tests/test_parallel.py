"""Work spread over forked workers gives what one process gives, in order."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from ccb_observe import parallel
from ccb_observe.compile import compile_all, rules

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import generate_scale  # noqa: E402  (the synthetic system of the benchmark)


def test_results_come_back_in_order_from_other_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "PARALLEL_FROM", 1)
    monkeypatch.setenv("CCB_OBSERVE_WORKERS", "2")
    parent = os.getpid()
    results = parallel.map_indices(lambda i: (i * i, os.getpid()), 50)
    assert [r for r, _ in results] == [i * i for i in range(50)]
    assert parent not in {pid for _, pid in results}, "the work did not leave this process"


def test_small_inputs_and_one_worker_stay_here(monkeypatch: pytest.MonkeyPatch) -> None:
    assert parallel.workers(parallel.PARALLEL_FROM - 1) == 1
    monkeypatch.setenv("CCB_OBSERVE_WORKERS", "1")
    assert parallel.workers(10**6) == 1
    assert {pid for pid in parallel.map_indices(lambda i: os.getpid(), 3)} == {os.getpid()}


def test_a_failure_in_a_worker_reaches_the_caller(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "PARALLEL_FROM", 1)
    monkeypatch.setenv("CCB_OBSERVE_WORKERS", "2")

    def job(i: int) -> int:
        if i == 7:
            raise ValueError("item 7 is bad")
        return i

    with pytest.raises(ValueError, match="item 7 is bad"):
        parallel.map_indices(job, 20)


def test_parallel_generation_is_byte_identical(monkeypatch: pytest.MonkeyPatch) -> None:
    system = generate_scale.synthetic_system(40)
    monkeypatch.setenv("CCB_OBSERVE_WORKERS", "1")
    alone = compile_all([system])
    rules.forget_group_texts()
    monkeypatch.setattr(parallel, "PARALLEL_FROM", 1)
    monkeypatch.setenv("CCB_OBSERVE_WORKERS", "2")
    assert parallel.workers(len(system.slos)) == 2
    assert compile_all([system]) == alone


def test_a_definition_error_in_a_worker_keeps_its_location(monkeypatch: pytest.MonkeyPatch) -> None:
    from ccb_observe.errors import DefinitionError, Location

    monkeypatch.setattr(parallel, "PARALLEL_FROM", 1)
    monkeypatch.setenv("CCB_OBSERVE_WORKERS", "2")

    def job(i: int) -> int:
        if i == 3:
            raise DefinitionError(Location("defs.py", 12), "SLO 'x'", "a rule it breaks")
        return i

    with pytest.raises(DefinitionError) as caught:
        parallel.map_indices(job, 8)
    assert str(caught.value) == "defs.py:12: SLO 'x': a rule it breaks" and caught.value.where.line == 12
