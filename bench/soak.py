"""Benchmark 6, soak: an accelerated run (every layer's interval 0.1 s) of the real console
(bench/harness.py in tmux 120x40 on the lab) for ``--soak-seconds`` (issue: 10 minutes).

Every 5 s the harness writes RSS, peak RSS, open fds, sockets, threads, asyncio tasks (all of
the loop's, and the engine's own), polls per layer and the timeline's length. Memory is
"flat" when the median RSS of the last minute is within 5 MB of the median of the minute
after the warm-up (the first minute; for short runs a fifth of the run, windows a quarter);
tasks, fds and sockets have not leaked when their least-squares trend after the warm-up stays
under 5 per 10 minutes (single samples swing by +-10 tasks with the polls in flight; the
standard error of the trend, about 2 per 10 minutes, is in each note, with the change of the
floor between the first window and the last minute). The engine backs a layer off (x2 .. x8)
when its poll takes longer than the interval: the polls actually made are in the results.

Budgets (issue 6, our reading): memory flat (<= 5 MB growth); no leaked tasks or connections
(trend <= 5 per 10 min); the engine's own tasks unchanged.

    python3 bench/soak.py --reanalyse   # recompute bench/results/soak.json's figures
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path
from typing import Any

import harnessdata as hd
from common import (
    RESULTS,
    WORK,
    Figure,
    lab_status,
    loadavg,
    local_variant,
    log,
    now_iso,
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
#: One leaked task (fd, socket) per ~1,000 polls would add >= 6 in a 10-minute run here;
#: single samples swing by +-10 tasks with the polls in flight (standard error ~2/10 min).
BUDGET_LEAK_PER_10MIN = 5.0


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
    samples = [{k: s.get(k) for k in KEEP} for s in samples]
    cmd = f"python3 bench/run.py --only soak --soak-seconds {seconds:.0f} (harness on {profile})"
    return result(
        NAME,
        analyse(samples, lab_seen, load0, loadavg(), cmd),
        seconds=seconds,
        polls=samples[-1]["polls"],
        failures=samples[-1].get("failures"),
        timeline_len=samples[-1].get("timeline"),
        lab_start=lab0,
        lab_during=lab_seen,
        lab_unhealthy_at_s=[x["t"] for x in lab_seen if not x["healthy"]],
        quit_s=quit_s,
        final_screen=final_screen,
        command=cmd,
        load_measured=[load0, loadavg()],
        per_minute=per_minute(samples),
        samples=samples,
    )


KEEP = (
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
    "polls",
    "failures",
)


def per_minute(samples: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for m in range(int(samples[-1]["t"] // 60) + 1):
        w = [s for s in samples if m * 60 <= s["t"] < (m + 1) * 60]
        if w:
            out.append(
                {
                    "minute": m,
                    "rss_mb": round(statistics.median(s["VmRSS"] for s in w) / 1024, 2),
                    "tasks_min_med_max": _mmm([s["asyncio_tasks"] for s in w]),
                    "fds_min_med_max": _mmm([s["fds"] for s in w]),
                    "sockets_min_med_max": _mmm([s["sockets"] for s in w]),
                }
            )
    return out


def _mmm(xs: list[float]) -> list[float]:
    return [min(xs), statistics.median(xs), max(xs)]


def trend(samples: list[dict[str, Any]], key: str) -> tuple[float, float]:
    """Least-squares slope per 10 minutes and its standard error."""
    pts = [(s["t"], float(s[key])) for s in samples]
    n = len(pts)
    slope = slope_per_min(pts) / 60  # per second
    mx = statistics.fmean(p[0] for p in pts)
    my = statistics.fmean(p[1] for p in pts)
    sxx = sum((p[0] - mx) ** 2 for p in pts)
    resid = [p[1] - (my + slope * (p[0] - mx)) for p in pts]
    se = (sum(r * r for r in resid) / max(1, n - 2) / sxx) ** 0.5 if sxx and n > 2 else 0.0
    return round(600 * slope, 2), round(600 * se, 2)


def analyse(
    samples: list[dict[str, Any]],
    lab_seen: list[dict[str, Any]],
    load0: list[float],
    load: list[float],
    cmd: str,
    polls: dict[str, int] | None = None,
) -> list[Figure]:
    end = samples[-1]["t"]
    warm = min(60.0, end / 5)
    window = min(60.0, end / 4)
    first = [s for s in samples if warm <= s["t"] < warm + window]
    last = [s for s in samples if s["t"] >= end - window]
    after = [s for s in samples if s["t"] >= warm]

    def med(rows: list[dict[str, Any]], key: str) -> float:
        return statistics.median(r[key] for r in rows)

    rss_growth = (med(last, "VmRSS") - med(first, "VmRSS")) / 1024
    rss_slope = slope_per_min([(s["t"], s["VmRSS"] / 1024) for s in after])
    floors = {
        key: min(r[key] for r in last) - min(r[key] for r in first)
        for key in ("asyncio_tasks", "fds", "sockets")
    }
    polls = polls or samples[-1].get("polls") or {}
    wall = end - samples[0]["t"]
    bad = [x["t"] for x in lab_seen if not x["healthy"]]
    lab_note = f"lab unhealthy at t={bad} s (someone else's fault/down)" if bad else "lab healthy"
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
            note=lab_note,
        ),
        Figure(
            "rss_slope_mb_min",
            "RSS trend after warm-up (least squares)",
            round(rss_slope, 3),
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
    ]
    for key, label, unit in (
        ("asyncio_tasks", "asyncio tasks", "tasks"),
        ("fds", "open fds", "fds"),
        ("sockets", "sockets", "sockets"),
    ):
        slope, se = trend(after, key)
        figs.append(
            Figure(
                f"{key}_trend",
                f"{label}: trend after warm-up (least squares)",
                slope,
                f"{unit}/10 min",
                budget=BUDGET_LEAK_PER_10MIN,
                load=load,
                command=cmd,
                note=f"standard error {se}; floor last minute vs first window {floors[key]:+d}",
            )
        )
    figs += [
        Figure("engine_tasks_growth", "engine's own tasks, end - start",
               samples[-1]["engine_tasks"] - samples[0]["engine_tasks"], "tasks", budget=0,
               load=load, command=cmd),
        Figure("threads_growth", "threads, end - start",
               samples[-1]["Threads"] - samples[0]["Threads"], "threads", load=load,
               command=cmd),
        Figure("polls_per_s", "polls per second achieved (all layers)",
               round(sum(polls.values()) / wall, 1) if wall else None, "polls/s", load=load,
               command=cmd,
               note="6 layers at 0.1 s would be 60/s; the engine backs off slow layers"),
    ]  # fmt: skip
    return figs


def reanalyse(path: Path) -> dict[str, Any]:
    """Recompute the figures of a recorded soak (bench/results/soak.json) with this module's
    analysis; the samples are not touched."""
    data = json.loads(path.read_text())
    samples = [{k: s.get(k) for k in KEEP} for s in data["samples"]]
    lab = data.get("lab_during", [])
    load0, load1 = data.get("load_measured") or [data.get("load_start"), data.get("load_end")]
    cmd = data.get("command") or next(
        (f["command"] for f in data["figures"] if f.get("command")),
        "python3 bench/run.py --only soak",
    )
    figs = analyse(samples, lab, load0, load1, cmd, data.get("polls"))
    data["figures"] = [f.as_dict() for f in figs]
    data["per_minute"] = per_minute(samples)
    data["reanalysed"] = {"when": now_iso(), "note": "figures recomputed from the same samples"}
    return data


if __name__ == "__main__":
    import sys

    if sys.argv[1:2] == ["--reanalyse"]:
        target = RESULTS / "soak.json"
        target.write_text(json.dumps(reanalyse(target), indent=2, default=str) + "\n")
        print(f"re-analysed {target}")
