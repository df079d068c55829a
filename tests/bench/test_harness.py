"""bench/harness.py (the console as ``jaraba-ops`` runs it, with the engine forked, measured
from outside) and bench/harnessdata.py (the records joined into per-update and per-cycle
figures).

The arithmetic is checked on hand-made records; the harness itself runs for real, on the
lab, in a real terminal (tmux), and must produce joined records from both processes: if the
product's engine or console changes shape under the instrumentation, this fails instead of
the benchmark quietly measuring nothing.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.labutil import REPO, require_lab

BENCH = REPO / "bench"


def _bench_modules() -> tuple[ModuleType, ModuleType]:
    """bench's ``common`` and ``harnessdata``, imported with bench/ on sys.path only for the
    import (bench/profile.py would shadow the stdlib's ``profile`` for the whole session)."""
    sys.path.insert(0, str(BENCH))
    try:
        return importlib.import_module("common"), importlib.import_module("harnessdata")
    finally:
        sys.path.remove(str(BENCH))


common, hd = _bench_modules()


def _records() -> dict[str, Any]:
    # two layers polled in one 2 s window starting at t=100; the console's records of their
    # way to the screen: [layer, at, read, emit, apply, drawn, shown, framed]
    poll = [
        ["galera", 100.30, 100.0, 0.25, 100.26, 100.27],
        ["haproxy", 100.52, 100.1, 0.40, 100.51, 100.53],
        ["redis", 101.95, 101.9, 0.04, 101.95, 101.951],  # never shown (the run ended)
    ]
    ui = {
        ("galera", 100.30): ["galera", 100.30, 100.27, 100.28, 100.285, 100.30, 100.32, True],
        ("haproxy", 100.52): ["haproxy", 100.52, 100.55, 100.57, 100.575, 100.65, 100.65, False],
    }
    return {
        "collect": [["galera", 100.0, 0.25], ["haproxy", 100.1, 0.40], ["redis", 101.9, 0.04]],
        "poll": poll,
        "ui": ui,
        "apply": [[100.285, 0.005, "galera", "overview"], [100.575, 0.075, "haproxy", "o"]],
        "frame": [[100.30, 0.02, "overview", True]],
        "decode": [[100.27, 0.01], [100.55, 0.02]],
    }


def test_each_update_is_split_into_parts_that_add_up_to_its_poll_start_to_screen() -> None:
    ups = {u["layer"]: u for u in hd.updates(_records())}
    g = ups["galera"]
    assert g["e2e"] == pytest.approx(320.0)
    assert g["poll"] == pytest.approx(250.0)
    assert g["merge"] == pytest.approx(10.0)
    assert g["queue"] == pytest.approx(10.0)
    assert g["decode"] == pytest.approx(10.0)
    assert g["to_apply"] == pytest.approx(5.0)
    assert g["draw"] == pytest.approx(15.0)
    assert g["to_screen"] == pytest.approx(20.0)
    assert g["handoff"] == pytest.approx(10.0)
    for u in (g, ups["haproxy"]):
        parts = ("poll", "merge", "queue", "decode", "to_apply", "draw", "to_screen")
        assert sum(u[p] for p in parts) == pytest.approx(u["e2e"])
    assert ups["haproxy"]["framed"] is False
    assert ups["haproxy"]["to_screen"] == pytest.approx(0.0)
    assert ups["redis"]["shown"] is None


def test_a_cycle_is_its_slowest_update_end_to_end_and_keeps_the_old_sum_beside() -> None:
    (cycle,) = hd.cycles(_records(), 100.0, 102.0, 2.0)
    assert cycle["cycle_ms"] == pytest.approx(550.0)  # haproxy: 100.1 -> 100.65
    assert cycle["poll_ms"] == pytest.approx(400.0)
    assert cycle["render_ms"] == pytest.approx(30 + 80 + 20)  # decode + apply + frames
    assert cycle["sum_ms"] == pytest.approx(400.0 + 130.0)
    assert cycle["unshown"] == 1


def test_records_of_both_processes_are_gathered_by_window() -> None:
    console = [{"apply": [[100.2, 0.01, "galera", "o"]], "ui": [["galera", 1.0, 0, 0, 0, 0, 0, 1]]}]
    engine = [{"collect": [["galera", 100.0, 0.2], ["galera", 99.0, 0.2]]}]
    rec = hd.timings(console, 100.0, 102.0, engine)
    assert rec["collect"] == [["galera", 100.0, 0.2]]
    assert rec["apply"] == [[100.2, 0.01, "galera", "o"]]
    assert ("galera", 1.0) in rec["ui"]


@contextlib.contextmanager
def _own_tmux() -> Iterator[str]:
    socket = f"jaraba-test-harness-{os.getpid()}"
    saved = common.TMUX_SOCKET
    common.TMUX_SOCKET = socket
    try:
        yield socket
    finally:
        common.TMUX_SOCKET = saved
        subprocess.run(
            ["tmux", "-L", socket, "kill-server"], capture_output=True, check=False, timeout=30
        )


@pytest.mark.lab
@pytest.mark.slow
@pytest.mark.parametrize("engine", ["process", "thread"])
def test_the_harness_measures_the_console_on_the_lab(tmp_path: Path, engine: str) -> None:
    require_lab(3307, 6032, 8404, 6379, 26379, 9090, 9093, 2222)
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed")
    stats = tmp_path / "h.jsonl"
    with _own_tmux(), common.tmux_session("harness-test") as t:
        pid = hd.start(t, str(REPO / "profiles" / "local.toml"), stats, 1.0, engine)
        assert hd.wait_samples(stats, 6, 60), t.capture()
        t.send("4")  # a pane switch is timed too
        time.sleep(2.5)
        quit_s = t.quit_and_wait()
    assert quit_s is not None
    lines = hd.read(stats)
    child = hd.read_engine(stats)
    assert lines[-1].get("exit") == 0
    samples = [s for s in lines if s.get("proc") == "console"]
    assert all(s["engine_mode"] == engine for s in samples)
    assert all(s["ops"] for s in samples)  # the product's ui.run built it, action ops too
    rec = hd.timings(lines, 0, time.time() + 1, child)
    shown = [u for u in hd.updates(rec) if u["shown"] is not None]
    assert {u["layer"] for u in shown} >= {"galera", "haproxy", "redis"}
    for u in shown:
        assert u["e2e"] >= u["poll"] > 0
    assert any(r[2] == "haproxy" for s in lines for r in s.get("goto", []))
    if engine == "process":
        assert child, "the engine child wrote no line"
        engine_pids = {s["pid"] for s in child}
        assert engine_pids == {samples[0]["engine_pid"]} and pid not in engine_pids
        running = [s for s in child if not s["last"]]
        assert all(s["engine_tasks"] > 0 and s["VmRSS"] > 0 for s in running)
        assert sum(running[-1]["polls"].values()) > 0
        assert any(s["engine"].get("VmRSS", 0) > 0 for s in samples)
        assert not any(s.get("collect") for s in samples)  # the polls ran in the child
        assert any(r for s in lines for r in s.get("decode", []))
    else:
        assert not child
        assert any(s.get("collect") for s in samples)
        assert all(s["engine_tasks"] > 0 for s in samples if s["asyncio_tasks"] is not None)


def test_screens_and_keys_go_through_one_control_mode_client() -> None:
    """The benchmarks read the screen every few ms: through a tmux control-mode client, not a
    tmux process per capture (which cost about half a core). Same text as a capture-pane
    process; keys with quotes, $ and backslashes arrive literally."""
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed")
    with _own_tmux(), common.tmux_session("control-test") as t:
        t.start(["cat"])
        assert isinstance(t._control(), common.TmuxControl)
        for key in ("x", "'", '"', "$HOME", "\\", "a b", "é─"):
            t.send(key)
        deadline = time.monotonic() + 5
        while "é─" not in t.capture() and time.monotonic() < deadline:
            time.sleep(0.02)
        via_control = t.capture()
        via_process = t._tmux("capture-pane", "-p", "-t", t.name)
        assert via_control == via_process
        assert via_control.splitlines()[0] == "x'\"$HOME\\a bé─"
        ctl = t._ctl
        assert ctl is not None and ctl.command("no-such-command") is None  # an error reply
        assert t.capture() == via_process  # still in step after it
    assert ctl.proc.poll() is not None  # closed with the session
