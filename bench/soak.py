"""Benchmark 6, soak: an accelerated run (every layer's interval 0.1 s) of the real console
(bench/harness.py in tmux 120x40 on the lab) for ``--soak-seconds`` (issue: 10 minutes).

Every 5 s the harness writes RSS, peak RSS, open fds, sockets, threads, asyncio tasks (all of
the loop's, and the engine's own), polls per layer and the timeline's length. Memory is
"flat" when the median RSS of the last minute is within 5 MB of the median of the minute
after the warm-up (the first minute; for short runs a fifth of the run, windows a quarter);
tasks, fds and sockets have not leaked when their least-squares trend after the warm-up stays
under 1 per 10 minutes, and the last minute's floor (minimum: in-flight polls come and go, a
leak raises the floor) is no higher than the first window's (this floor moves by +-1 with
the polls in flight; the trend is the better test). The engine backs a layer off (x2 .. x8)
when its poll takes longer than the interval: the polls actually made are in the results.

Budgets (issue 6, our reading): memory flat (<= 5 MB growth); no leaked tasks or connections
(trend < 1 per 10 min; floor growth <= 0).
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import harnessdata as hd
from common import (
    WORK,
    Figure,
    lab_status,
    loadavg,
    local_variant,
    log,
    profiles_dir,
    result,
    slope_per_min,
    tmux_session,
    wait_lab_healthy,
)

NAME = "soak"
TITLE = "accelerated run (0.1 s interval): RSS flat, no leaked tasks/fds"
EVERY = 5.0
BUDGET_RSS_GROWTH_MB = 5.0


def bench(opts: Any) -> dict[str, Any]:
    seconds = opts.soak_seconds
    profile = local_variant(profiles_dir() / "soak.toml", name="soak", intervals=0.1)
    stats = WORK / "soak" / "soak.jsonl"
    lab0 = wait_lab_healthy()
    load0 = loadavg()
    lab_seen: list[dict[str, Any]] = []
    with tmux_session("soak") as t:
        pid = hd.start(t, str(profile), stats, EVERY)
        log(f"soak: {seconds:.0f} s at 0.1 s intervals (pid {pid})")
        started = time.monotonic()
        next_check = started
        while time.monotonic() - started < seconds:
            if time.monotonic() >= next_check:  # note other engineers' faults as we go
                healthy, problems = lab_status()
                lab_seen.append(
                    {
                        "t": round(time.monotonic() - started),
                        "healthy": healthy,
                        "problems": problems,
                    }
                )
                next_check += 60
            time.sleep(1)
        final_screen = t.capture()
        quit_s = t.quit_and_wait()
    samples = [s for s in hd.read(stats) if "VmRSS" in s and s.get("asyncio_tasks") is not None]
    if len(samples) < 4:
        return result(NAME, [], error="too few samples", samples=samples)
    end = samples[-1]["t"]
    warm = min(60.0, end / 5)
    window = min(60.0, end / 4)
    first = [s for s in samples if warm <= s["t"] < warm + window]
    last = [s for s in samples if s["t"] >= end - window]

    def med(rows: list[dict[str, Any]], key: str) -> float:
        return statistics.median(r[key] for r in rows)

    def floor(rows: list[dict[str, Any]], key: str) -> float:
        return min(r[key] for r in rows)

    rss_growth = (med(last, "VmRSS") - med(first, "VmRSS")) / 1024
    slope = slope_per_min([(s["t"], s["VmRSS"] / 1024) for s in samples if s["t"] >= warm])
    growth = {
        key: floor(last, key) - floor(first, key)
        for key in ("asyncio_tasks", "engine_tasks", "fds", "sockets", "Threads")
    }
    after = [s for s in samples if s["t"] >= warm]
    tasks_per_10min = 10 * slope_per_min([(s["t"], s["asyncio_tasks"]) for s in after])
    fds_per_10min = 10 * slope_per_min([(s["t"], s["fds"]) for s in after])
    polls = samples[-1]["polls"]
    wall = end - samples[0]["t"]
    load = loadavg()
    cmd = f"python3 bench/run.py --only soak --soak-seconds {seconds:.0f} (harness on {profile})"
    figs = [
        Figure(
            "duration_s",
            "soak duration",
            round(end, 1),
            "s",
            load=load0,
            command=cmd,
            note="budget run length 600 s" if end < 590 else "",
        ),
        Figure(
            "rss_growth_mb",
            "RSS growth, last minute vs after warm-up (medians)",
            round(rss_growth, 2),
            "MB",
            budget=BUDGET_RSS_GROWTH_MB,
            load=load,
            command=cmd,
        ),
        Figure(
            "rss_slope_mb_min",
            "RSS trend after warm-up (least squares)",
            round(slope, 3),
            "MB/min",
            load=load,
            command=cmd,
        ),
        Figure(
            "rss_end_mb",
            "RSS at the end",
            round(samples[-1]["VmRSS"] / 1024, 1),
            "MB",
            load=load,
            command=cmd,
        ),
        Figure(
            "tasks_trend",
            "asyncio tasks trend after warm-up (least squares)",
            round(tasks_per_10min, 2),
            "tasks/10 min",
            budget=1.0,
            load=load,
            command=cmd,
            note="a leak is a trend; single samples swing with the polls in flight",
        ),
        Figure(
            "fds_trend",
            "open fds trend after warm-up (least squares)",
            round(fds_per_10min, 2),
            "fds/10 min",
            budget=1.0,
            load=load,
            command=cmd,
        ),
        Figure(
            "tasks_growth",
            "asyncio tasks: floor growth (last min vs first window)",
            growth["asyncio_tasks"],
            "tasks",
            budget=0,
            load=load,
            command=cmd,
        ),
        Figure(
            "engine_tasks_growth",
            "engine tasks growth",
            growth["engine_tasks"],
            "tasks",
            budget=0,
            load=load,
            command=cmd,
        ),
        Figure(
            "fds_growth", "open fds growth", growth["fds"], "fds", budget=0, load=load, command=cmd
        ),
        Figure(
            "sockets_growth",
            "sockets growth",
            growth["sockets"],
            "sockets",
            budget=0,
            load=load,
            command=cmd,
        ),
        Figure(
            "threads_growth", "threads growth", growth["Threads"], "threads", load=load, command=cmd
        ),
        Figure(
            "polls_per_s",
            "polls per second achieved (all layers)",
            round(sum(polls.values()) / wall, 1) if wall else None,
            "polls/s",
            load=load,
            command=cmd,
            note="6 layers at 0.1 s would be 60/s; the engine backs off slow layers",
        ),
    ]
    return result(
        NAME,
        figs,
        seconds=seconds,
        warmup_s=warm,
        polls=polls,
        failures=samples[-1].get("failures"),
        timeline_len=samples[-1].get("timeline"),
        lab_start=lab0,
        lab_during=lab_seen,
        quit_s=quit_s,
        final_screen=final_screen,
        samples=[
            {
                k: s.get(k)
                for k in (
                    "t",
                    "VmRSS",
                    "VmHWM",
                    "fds",
                    "sockets",
                    "Threads",
                    "asyncio_tasks",
                    "engine_tasks",
                    "timeline",
                    "cpu_s",
                )
            }
            for s in samples
        ],
    )
