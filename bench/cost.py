"""Benchmark 2, cost: CPU seconds per minute of the console in a real terminal (tmux 120x40)
against the lab, idle input, every layer polled at 1 s and at 2 s; in the same run, the
reference: Dolphie watching one Galera node (127.0.0.1:3307) at 1 s.

CPU = utime + stime of the process (all threads) from /proc/PID/stat over the window, after
the first frame with data and a short warm-up. The three configurations are interleaved
(ours 1 s, Dolphie, ours 2 s, ours 1 s read-only; repeated) so that they share the
machine's noise; medians. The read-only run is a diagnostic (see the figure's note).

Budget (issue 6): ours watching the whole stack <= half of Dolphie watching one node.
"""

from __future__ import annotations

import re
import statistics
import time
from typing import Any

from common import (
    DOLPHIE,
    WORK,
    Figure,
    cpu_seconds,
    jaraba_ops,
    layers_with_data,
    loadavg,
    local_variant,
    log,
    profiles_dir,
    result,
    status_kb,
    tmux_session,
    wait_lab_healthy,
)

NAME = "cost"
TITLE = "CPU s/min in tmux, idle (ours whole stack vs Dolphie one node)"
WARMUP_S = 5.0
DOLPHIE_DATA = re.compile(r"Version\s+MariaDB")


def configs() -> list[tuple[str, list[str], dict[str, str]]]:
    p1 = local_variant(profiles_dir() / "cost-1s.toml", name="cost-1s", intervals=1.0)
    p2 = local_variant(profiles_dir() / "cost-2s.toml", name="cost-2s", intervals=2.0)
    home = WORK / "dolphie-home"  # Dolphie writes ~/dolphie_hosts: keep it out of /root
    home.mkdir(parents=True, exist_ok=True)
    dolphie = [
        str(DOLPHIE),
        "-h",
        "127.0.0.1",
        "-P",
        "3307",
        "-u",
        "root",
        "-p",
        "jaraba_root_dev",
        "-r",
        "1",
    ]
    return [
        ("ours_1s", [jaraba_ops(), "--profile", str(p1)], {}),
        ("dolphie_1s", dolphie, {"HOME": str(home)}),
        ("ours_2s", [jaraba_ops(), "--profile", str(p2)], {}),
        # diagnostic: a read-only console offers no action keys, so it never refreshes its
        # bindings after a poll (the footer is not rebuilt on every update)
        ("ours_1s_read_only", [jaraba_ops(), "--profile", str(p1), "--read-only"], {}),
    ]


def has_data(kind: str, screen: str) -> bool:
    if kind.startswith("dolphie"):
        return bool(DOLPHIE_DATA.search(screen))
    return len(layers_with_data(screen)) == 6


def measure(kind: str, argv: list[str], env: dict[str, str], seconds: float) -> dict[str, Any]:
    lab = wait_lab_healthy()
    with tmux_session(f"cost-{kind}") as t:
        pid = t.start(argv, env)
        seen, _, screen = t.wait_screen(lambda s: has_data(kind, s), 30, step=0.2)
        if not seen:
            return {"kind": kind, "error": "no data on screen in 30 s", "screen": screen[-2000:]}
        time.sleep(WARMUP_S)
        load0 = loadavg()
        c0, t0 = cpu_seconds(pid), time.monotonic()
        time.sleep(seconds)
        c1, t1 = cpu_seconds(pid), time.monotonic()
        mem = status_kb(pid)
        screen = t.capture()
        t.quit_and_wait()
    per_min = (c1 - c0) / (t1 - t0) * 60
    return {
        "kind": kind,
        "cpu_s_per_min": round(per_min, 3),
        "window_s": round(t1 - t0, 1),
        "cpu_s": round(c1 - c0, 2),
        "rss_mb": round(mem.get("VmRSS", 0) / 1024, 1),
        "load_before": load0,
        "load_after": loadavg(),
        "lab": lab,
        "command": " ".join(argv).replace("jaraba_root_dev", "***"),
        "screen_ok": has_data(kind, screen),
    }


def bench(opts: Any) -> dict[str, Any]:
    seconds = opts.cost_seconds
    reps = opts.reps
    runs: list[dict[str, Any]] = []
    cfgs = configs()
    for rep in range(reps):
        for kind, argv, env in cfgs:
            log(f"cost {kind} rep {rep + 1}/{reps}: {seconds:.0f} s window")
            r = measure(kind, argv, env, seconds)
            r["rep"] = rep + 1
            runs.append(r)
            log(f"  -> {r.get('cpu_s_per_min', r.get('error'))} CPU s/min")
    med: dict[str, float | None] = {}
    loads: dict[str, list[float]] = {}
    for kind, _, _ in cfgs:
        vals = [r["cpu_s_per_min"] for r in runs if r["kind"] == kind and "cpu_s_per_min" in r]
        med[kind] = round(statistics.median(vals), 2) if vals else None
        ls = [r["load_before"][0] for r in runs if r["kind"] == kind and "load_before" in r]
        loads[kind] = [round(statistics.median(ls), 2)] if ls else loadavg()
    cmd = {k: " ".join(a).replace("jaraba_root_dev", "***") for k, a, _ in cfgs}
    how = f"tmux 120x40, utime+stime over {seconds:.0f} s, median of {reps}"
    figs = [
        Figure(
            "ours_1s",
            "ours, whole stack, every layer 1 s",
            med["ours_1s"],
            "CPU s/min",
            load=loads["ours_1s"],
            command=cmd["ours_1s"],
            note=how,
        ),
        Figure(
            "ours_2s",
            "ours, whole stack, every layer 2 s",
            med["ours_2s"],
            "CPU s/min",
            load=loads["ours_2s"],
            command=cmd["ours_2s"],
            note=how,
        ),
        Figure(
            "ours_1s_read_only",
            "diagnostic: ours 1 s with --read-only",
            med["ours_1s_read_only"],
            "CPU s/min",
            load=loads["ours_1s_read_only"],
            command=cmd["ours_1s_read_only"],
            note="no action keys: bindings not refreshed after each poll",
        ),
        Figure(
            "dolphie_1s",
            "Dolphie 6.18, one Galera node, 1 s",
            med["dolphie_1s"],
            "CPU s/min",
            load=loads["dolphie_1s"],
            command=cmd["dolphie_1s"],
            note=how,
        ),
    ]
    d = med["dolphie_1s"]
    for kind in ("ours_1s", "ours_2s"):
        ours = med[kind]
        ratio = round(ours / d, 3) if ours is not None and d else None
        figs.append(
            Figure(
                f"ratio_{kind}",
                f"{kind.replace('_', ' ')} / Dolphie 1 s",
                ratio,
                "x",
                budget=0.5 if kind == "ours_1s" else None,
                load=loads[kind],
                command="ratio of the medians above",
                note="budget: at most half of Dolphie (same interval)"
                if kind == "ours_1s"
                else "informational: ours at 2 s vs Dolphie at 1 s",
            )
        )
    return result(
        NAME,
        figs,
        window_s=seconds,
        reps=reps,
        warmup_s=WARMUP_S,
        runs=runs,
        profiles_note="profiles/local.toml with every [poll] interval (8 of them) set to 1 s / 2 s",
    )
