"""`ccb-observe generate`: deterministic, atomic, stale check, clear errors with exit 2."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest

from ccb_observe.compile import compile_all
from ccb_observe.errors import DefinitionError, Location
from ccb_observe.loader import load_systems
from ccb_observe.output import stale_files, write_tree

from conftest import ROOT

CLI = [str(Path(sys.executable).parent / "ccb-observe")]  # the installed entry point


def run(*args: str, cwd: Path = ROOT, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], cwd=cwd, capture_output=True, text=True, env={**os.environ, **(env or {})})


def tree(directory: Path) -> dict[str, bytes]:
    return {p.relative_to(directory).as_posix(): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def test_committed_generated_matches_definitions() -> None:
    """`make generate` on a fresh clone changes no tracked file."""
    stale = stale_files(compile_all(load_systems(ROOT / "definitions")), ROOT / "generated")
    assert stale == [], f"generated/ is stale, run `make generate`: {stale[:10]}"


def test_byte_identical_under_any_hash_seed(tmp_path: Path) -> None:
    outputs = []
    for seed in ("0", "1", "4242"):
        out = tmp_path / f"gen-{seed}"
        done = run("generate", "--output", str(out), env={"PYTHONHASHSEED": seed})
        assert done.returncode == 0, done.stderr
        outputs.append(tree(out))
    assert outputs[0] == outputs[1] == outputs[2]
    assert len(outputs[0]) > 20


def test_file_read_order_does_not_matter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    defs = tmp_path / "defs"
    shutil.copytree(ROOT / "definitions", defs, ignore=shutil.ignore_patterns("__pycache__"))
    (defs / "another.py").write_text((ROOT / "tests" / "data" / "second_system.py").read_text())
    forward = compile_all(load_systems(defs))
    original_glob = Path.glob
    monkeypatch.setattr(Path, "glob", lambda self, pattern: reversed(sorted(original_glob(self, pattern))))
    backward = compile_all(load_systems(defs))
    assert list(forward) == list(backward) and forward == backward
    assert any(k.startswith("shop/") for k in forward) and any(k.startswith("claude-code-bot/") for k in forward)


def test_check_lists_stale_files_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "generated"
    assert run("generate", "--output", str(out)).returncode == 0
    assert run("generate", "--output", str(out), "--check").returncode == 0
    defs = tmp_path / "defs"
    shutil.copytree(ROOT / "definitions", defs, ignore=shutil.ignore_patterns("__pycache__"))
    main = defs / "claude_code_bot.py"
    main.write_text(main.read_text().replace('"error-rate", 99.9', '"error-rate", 99.95'))
    before = tree(out)
    done = run("generate", "--definitions", str(defs), "--output", str(out), "--check")
    assert done.returncode == 1
    assert "slo-error-rate.rules.yml" in done.stderr
    assert tree(out) == before


def test_files_no_longer_produced_are_removed(tmp_path: Path) -> None:
    out = tmp_path / "generated"
    (out / "claude-code-bot" / "old").mkdir(parents=True)
    (out / "claude-code-bot" / "old" / "leftover.yml").write_text("x")
    assert run("generate", "--output", str(out)).returncode == 0
    assert not (out / "claude-code-bot" / "old").exists()


def test_bad_definition_exits_2_names_the_line_and_leaves_output_untouched(tmp_path: Path) -> None:
    out = tmp_path / "generated"
    assert run("generate", "--output", str(out)).returncode == 0
    before = tree(out)
    defs = tmp_path / "defs"
    shutil.copytree(ROOT / "definitions", defs, ignore=shutil.ignore_patterns("__pycache__"))
    main = defs / "claude_code_bot.py"
    text = main.read_text().replace('LatencyIndicator(http_duration(job=JOB), "0.5")', 'LatencyIndicator(http_duration(job=JOB), "0.3")')
    main.write_text(text)
    done = run("generate", "--definitions", str(defs), "--output", str(out))
    assert done.returncode == 2
    lines = text.splitlines()
    line = next(i for i, l in enumerate(lines, 1) if '"latency", 95' in l) - 1  # the SLO( call begins a line above
    assert lines[line - 1].strip() == "SLO("
    assert f"claude_code_bot.py:{line}" in done.stderr and "not a bucket" in done.stderr
    assert "Traceback" not in done.stderr
    assert tree(out) == before


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("raise RuntimeError('boom')\n", "bad.py:1: definitions: module raised RuntimeError: boom"),
        ("def broken(:\n", "bad.py:1: definitions: syntax error"),
        ("X = 1\n", "defs:0: definitions: no System defined"),
    ],
)
def test_broken_definition_modules(tmp_path: Path, source: str, message: str) -> None:
    defs = tmp_path / "defs"
    defs.mkdir()
    (defs / "bad.py").write_text(source)
    done = run("generate", "--definitions", str(defs), "--output", str(tmp_path / "out"))
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()


def test_a_failure_while_writing_leaves_the_old_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "generated"
    write_tree({"a/one.yml": b"1", "a/two.yml": b"2"}, out)
    calls = {"n": 0}
    original = Path.write_bytes

    def failing(self: Path, data: bytes) -> int:
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("disk full")
        return original(self, data)

    monkeypatch.setattr(Path, "write_bytes", failing)
    with pytest.raises(OSError):
        write_tree({"a/one.yml": b"new", "a/two.yml": b"new", "b/three.yml": b"3"}, out)
    monkeypatch.undo()
    assert tree(out) == {"a/one.yml": b"1", "a/two.yml": b"2"}
    assert [p.name for p in tmp_path.iterdir()] == ["generated"], "no staging folder is left behind"


def test_a_compiler_failing_mid_stream_leaves_the_old_tree(tmp_path: Path) -> None:
    out = tmp_path / "generated"
    write_tree({"a/one.yml": b"1"}, out)

    def stream() -> Iterator[tuple[str, bytes]]:
        yield "a/one.yml", b"new"
        yield "b/two.yml", b"2"
        raise DefinitionError(Location("defs.py", 3), "SLO 'x'", "refused by a compiler")

    with pytest.raises(DefinitionError):
        write_tree(stream(), out)
    assert tree(out) == {"a/one.yml": b"1"}
    assert [p.name for p in tmp_path.iterdir()] == ["generated"], "no staging folder is left behind"


def test_an_unchanged_tree_is_left_as_it_was(tmp_path: Path) -> None:
    out = tmp_path / "generated"
    assert write_tree({"a/one.yml": b"1", "b.sh": b"#!/bin/sh\n"}, out) == (2, ["a/one.yml", "b.sh"])
    before = (out.stat().st_ino, (out / "a/one.yml").stat().st_mtime_ns)
    assert write_tree(iter([("a/one.yml", b"1"), ("b.sh", b"#!/bin/sh\n")]), out) == (2, [])
    assert (out.stat().st_ino, (out / "a/one.yml").stat().st_mtime_ns) == before
    assert write_tree({"a/one.yml": b"1"}, out).changed == ["b.sh"], "a file no longer produced is a change"
    assert tree(out) == {"a/one.yml": b"1"}


def test_the_garbage_collector_is_back_on_after_compiling(seed, monkeypatch: pytest.MonkeyPatch) -> None:
    import gc

    from ccb_observe import compile as compilers
    from ccb_observe.errors import CcbObserveError

    compile_all([seed])
    assert gc.isenabled()

    def refusing(system: object) -> dict[str, bytes]:
        assert not gc.isenabled(), "paused while compiling"
        raise CcbObserveError("refused")

    monkeypatch.setitem(compilers.TARGETS, "refusing", refusing)
    with pytest.raises(CcbObserveError):
        compile_all([seed])
    assert gc.isenabled()
