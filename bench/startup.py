"""Benchmark 4, start-up.

(a) Process start to the first frame with data, on the lab, in a real terminal (tmux 120x40):
    the clock starts just before ``tmux new-session`` launches ``jaraba-ops --profile local``
    and stops when ``capture-pane`` (polled every ~10 ms) shows the first frame at all, the
    first layer card with data, and every layer's card with data (the full-stack frame).
(b) ``jaraba-ops --help`` next to ``dolphie --help`` with hyperfine (no shell, warm-up runs).

Budgets (issue 6): first full-stack data frame <= 1.0 s; --help <= half of Dolphie's.

Before (a), the package's bytecode is compiled (``compileall``), as ``pip install`` does for an
installed console: in the shared dev tree with ``PYTHONDONTWRITEBYTECODE=1`` most of
``jaraba_tui`` had no ``.pyc`` and ~60 modules were compiled from source on every start
(~0.2-0.3 s of CPU that no installed copy pays). Each start also records the console's own
CPU seconds (utime+stime) when the full-stack frame is seen: the part of the wall time the
process itself spends (on a GIL-bound interpreter, the floor of its start-up).
"""

from __future__ import annotations

import compileall
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from common import (
    DOLPHIE,
    WORK,
    Figure,
    child_pids,
    dist,
    jaraba_ops,
    layers_with_data,
    loadavg,
    log,
    result,
    tmux_session,
    wait_lab_healthy,
)

NAME = "startup"
TITLE = "start to first data frame on the lab; --help vs dolphie --help"


def compile_package() -> dict[str, Any]:
    """Write the package's bytecode (what an installed copy has); returns what was done."""
    import jaraba_tui

    root = str(Path(jaraba_tui.__file__).parent)
    t0 = time.monotonic()
    ok = compileall.compile_dir(root, quiet=2, force=False)
    return {"dir": root, "ok": bool(ok), "seconds": round(time.monotonic() - t0, 2)}


def process_cpu(pid: int | None) -> float | None:
    """utime + stime of ``pid`` in seconds (None when it is gone)."""
    if pid is None:
        return None
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def first_frames(reps: int) -> list[dict[str, Any]]:
    runs = []
    argv = [jaraba_ops(), "--profile", "local"]
    for i in range(reps):
        lab = wait_lab_healthy()
        load0 = loadavg()
        with tmux_session("startup") as t:
            t0 = time.monotonic()
            pid = t.start(argv)
            marks: dict[str, float] = {}
            cpu: float | None = None
            kids: float | None = None
            seen_layers: dict[str, float] = {}
            deadline = t0 + 30
            while time.monotonic() < deadline:
                screen = t.capture()
                now = time.monotonic() - t0
                if "jaraba-ops" in screen and "first" not in marks:
                    marks["first"] = now
                for layer in layers_with_data(screen):
                    seen_layers.setdefault(layer, now)
                if seen_layers and "data" not in marks:
                    marks["data"] = now
                if len(seen_layers) == 6:
                    marks["full"] = now
                    cpu = process_cpu(pid)
                    kids = sum(process_cpu(c) or 0.0 for c in child_pids(pid) if c) or None
                    break
                time.sleep(0.01)
            t.quit_and_wait()
        runs.append(
            {
                "rep": i + 1,
                "first_frame_s": _r(marks.get("first")),
                "first_data_s": _r(marks.get("data")),
                "full_stack_s": _r(marks.get("full")),
                "cpu_at_full_s": _r(cpu),
                # the engine's own process (jaraba_tui.engine.process), when there is one
                "engine_process_cpu_at_full_s": _r(kids),
                "per_layer_s": {k: _r(v) for k, v in sorted(seen_layers.items())},
                "load": load0,
                "lab_healthy": lab["healthy"],
            }
        )
        log(f"start-up rep {i + 1}: {runs[-1]}")
        time.sleep(1)
    return runs


HELLO = """
from textual.app import App
from textual.widgets import Static

class Hello(App):
    def compose(self):
        yield Static("hello-bench")

Hello().run()
"""


def reference_frames(reps: int) -> dict[str, Any]:
    """The floor and the peer, in the same terminal: a bare Textual app's first frame, and
    Dolphie's first frame with data from one Galera node."""
    home = WORK / "dolphie-home"
    home.mkdir(parents=True, exist_ok=True)
    dolphie = [str(DOLPHIE), "-h", "127.0.0.1", "-P", "3307", "-u", "root"]
    dolphie += ["-p", "jaraba_root_dev", "-r", "1"]
    cases = {
        "textual_hello": ([sys.executable, "-c", HELLO], "hello-bench", {}),
        "dolphie_data": (dolphie, "MariaDB", {"HOME": str(home)}),
    }
    out: dict[str, Any] = {}
    for name, (argv, marker, env) in cases.items():
        times = []
        for _ in range(reps):
            with tmux_session("startup-ref") as t:
                t0 = time.monotonic()
                t.start(argv, env)
                ok, seen, _ = t.wait_screen(lambda s, m=marker: m in s, 30, 0.01)
                if ok:
                    times.append(seen - t0)
                t.quit_and_wait("q" if name == "dolphie_data" else "ctrl+q")
            time.sleep(0.5)
        out[name] = {"s": dist(times, 3), "load": loadavg()}
    return out


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 3)


def help_times(runs: int) -> dict[str, Any]:
    if shutil.which("hyperfine") is None:
        return {"error": "hyperfine not installed (apt-get install -y hyperfine)"}
    out = WORK / "hyperfine-help.json"
    WORK.mkdir(parents=True, exist_ok=True)
    ours = f"{jaraba_ops()} --help"
    theirs = f"{DOLPHIE} --help"
    cmd = ["hyperfine", "-N", "--warmup", "3", "--runs", str(runs), "--export-json", str(out)]
    load0 = loadavg()
    proc = subprocess.run([*cmd, ours, theirs], capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        return {"error": proc.stderr[-800:]}
    data = json.loads(out.read_text())["results"]
    res = {
        r["command"]: {
            "mean_ms": round(r["mean"] * 1000, 1),
            "median_ms": round(r["median"] * 1000, 1),
            "stddev_ms": round(r["stddev"] * 1000, 1),
            "min_ms": round(r["min"] * 1000, 1),
        }
        for r in data
    }
    return {
        "command": " ".join([*cmd, repr(ours), repr(theirs)]),
        "ours": res[ours],
        "dolphie": res[theirs],
        "load": load0,
        "stdout": proc.stdout,
    }


def bench(opts: Any) -> dict[str, Any]:
    reps = max(3, opts.reps + 2)
    compiled = compile_package()
    log(f"bytecode of the package written (as an installed copy has it): {compiled}")
    log(f"first frames: {reps} starts of jaraba-ops --profile local in tmux")
    runs = first_frames(reps)
    log("references: a bare Textual app's first frame, Dolphie's first data frame")
    refs = reference_frames(reps)
    log(f"  -> {refs}")
    log("--help: hyperfine")
    helps = help_times(10 if opts.quick else 30)
    full = [r["full_stack_s"] for r in runs if r["full_stack_s"] is not None]
    data = [r["first_data_s"] for r in runs if r["first_data_s"] is not None]
    first = [r["first_frame_s"] for r in runs if r["first_frame_s"] is not None]
    cpus = [r["cpu_at_full_s"] for r in runs if r["cpu_at_full_s"] is not None]
    load = [r["load"][0] for r in runs]
    cmd = f"tmux new-session 120x40 '{jaraba_ops()} --profile local' -> capture-pane every 10 ms"
    note = f"median of {len(full)} starts"
    figs = [
        Figure(
            "full_stack_s",
            "first full-stack data frame (median)",
            dist(full, 3).get("p50"),
            "s",
            budget=1.0,
            load=[max(load)] if load else loadavg(),
            command=cmd,
            note=note,
        ),
        Figure(
            "first_data_s",
            "first frame with any data (median)",
            dist(data, 3).get("p50"),
            "s",
            load=[max(load)] if load else loadavg(),
            command=cmd,
            note=note,
        ),
        Figure(
            "cpu_at_full_s",
            "the console's own CPU when the full-stack frame shows (median)",
            dist(cpus, 3).get("p50"),
            "s",
            load=[max(load)] if load else loadavg(),
            command=cmd + "; utime+stime from /proc/PID/stat",
            note="diagnostic: with one interpreter (GIL) this is the floor of full_stack_s",
        ),
        Figure(
            "first_frame_s",
            "first frame at all (median)",
            dist(first, 3).get("p50"),
            "s",
            load=[max(load)] if load else loadavg(),
            command=cmd,
            note=note,
        ),
    ]
    for name, label in (
        ("textual_hello", "reference: bare Textual app, first frame (median)"),
        ("dolphie_data", "reference: Dolphie, first frame with data (median)"),
    ):
        figs.append(
            Figure(
                f"ref_{name}_s",
                label,
                refs[name]["s"].get("p50"),
                "s",
                load=refs[name]["load"],
                command="same tmux start -> capture-pane loop",
            )
        )
    if "error" not in helps:
        o, d = helps["ours"]["median_ms"], helps["dolphie"]["median_ms"]
        hc = helps["command"]
        figs += [
            Figure(
                "help_ours_ms",
                "jaraba-ops --help (median)",
                o,
                "ms",
                load=helps["load"],
                command=hc,
            ),
            Figure(
                "help_dolphie_ms",
                "dolphie --help (median)",
                d,
                "ms",
                load=helps["load"],
                command=hc,
            ),
            Figure(
                "help_ratio",
                "--help: ours / Dolphie",
                round(o / d, 3),
                "x",
                budget=0.5,
                load=helps["load"],
                command=hc,
            ),
        ]
    return result(
        NAME,
        figs,
        first_frames=runs,
        full_stack_s=dist(full, 3),
        help=helps,
        bytecode=compiled,
        references=refs,
        definition="full-stack frame: each of the 6 overview cards shows data "
        "(not 'waiting for the first poll')",
    )
