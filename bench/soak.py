"""Benchmark 6, soak: an accelerated run (every layer's interval 0.1 s) of the real console
(bench/harness.py in tmux 120x40 on the lab) for ``--soak-seconds`` (issue: 10 minutes), run
as ``jaraba-ops`` runs it: the poll engine forked into its own process by the product's own
code (``--engine thread`` or ``JARABA_BENCH_ENGINE=thread``: the product's thread fall-back,
one process).

Every 5 s the console writes its RSS, peak RSS, open fds, sockets, threads, asyncio tasks
and timeline length, and the engine child's RSS/fds/sockets/threads read from /proc; the
child writes its own line (its RSS, fds, sockets, threads, its loop's asyncio tasks, the
engine's own tasks, polls per layer). Each process is judged on its own, with the same
rules. Memory is "flat" when the median RSS of the last minute is within 5 MB of the median
of the minute after the warm-up (the first minute; for short runs a fifth of the run,
windows a quarter); tasks, fds and sockets have not leaked when their least-squares trend
after the warm-up stays under 5 per 10 minutes (single samples swing by +-10 tasks with the
polls in flight; the standard error of the trend, about 2 per 10 minutes, is in each note,
with the change of the floor between the first window and the last minute). The console's
RSS growth plus the engine's is also given (no budget of its own). The engine backs a layer
off (x2 .. x8) when its poll takes longer than the interval: the polls actually made are in
the results. The child's last line (written as it stops, its tasks already cancelled) is
left out. The child also counts its loop's tasks every 0.25 s: the trend of each line's
floor (least count) is given beside the budget's trend (no budget of its own: less noisy,
a leaked task lifts it as much).

Budgets (issue 6, our reading), for the console and for the engine process: memory flat
(<= 5 MB growth); no leaked tasks or connections (trend <= 5 per 10 min); the engine's own
tasks unchanged.

    python3 bench/soak.py --reanalyse   # recompute bench/results/soak.json's figures
"""

from __future__ import annotations

import json
import os
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
#: The harness's engine mode when run.py gives none (``process``: the product's).
ENGINE = os.environ.get("JARABA_BENCH_ENGINE", "process")


def bench(opts: Any) -> dict[str, Any]:
    seconds = opts.soak_seconds
    engine = getattr(opts, "engine", None) or ENGINE
    profile = local_variant(profiles_dir() / "soak.toml", name="soak", intervals=0.1)
    stats = WORK / "soak" / "soak.jsonl"
    lab0 = wait_lab_healthy()
    load0 = loadavg()
    lab_seen: list[dict[str, Any]] = []
    with tmux_session("soak") as t:
        pid = hd.start(t, str(profile), stats, EVERY, engine)
        log(f"soak: {seconds:.0f} s at 0.1 s intervals (pid {pid}, engine: {engine})")
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
    raw = hd.read(stats)
    samples = [s for s in raw if "VmRSS" in s and s.get("asyncio_tasks") is not None]
    if len(samples) < 4:
        return result(NAME, [], error="too few samples", samples=samples)
    child = engine_lines(samples, hd.read_engine(stats))
    if engine == "process" and len(child) < 4:
        return result(NAME, [], error="too few samples from the engine process", samples=samples)
    samples = [{k: s.get(k) for k in KEEP} for s in samples]
    last = child[-1] if child else samples[-1]
    cmd = (
        f"python3 bench/run.py --only soak --soak-seconds {seconds:.0f} --engine {engine} "
        f"(harness on {profile})"
    )
    return result(
        NAME,
        analyse(samples, lab_seen, load0, loadavg(), cmd, engine=child or None),
        seconds=seconds,
        engine_mode=engine,
        polls=last["polls"],
        failures=last.get("failures"),
        timeline_len=samples[-1].get("timeline"),
        lab_start=lab0,
        lab_during=lab_seen,
        lab_unhealthy_at_s=[x["t"] for x in lab_seen if not x["healthy"]],
        quit_s=quit_s,
        final_screen=final_screen,
        command=cmd,
        load_measured=[load0, loadavg()],
        per_minute=per_minute(samples, child),
        samples=samples,
        engine_samples=child,
    )


def engine_lines(
    console: list[dict[str, Any]], child: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The engine child's own lines, on the console's time axis (``t`` from the console's
    start), without its last line (written as it stops)."""
    if not console or not child:
        return []
    origin = console[0]["wall"] - console[0]["t"]
    out = []
    for s in child:
        if s.get("last") or "VmRSS" not in s:
            continue
        row = {k: s.get(k) for k in ENGINE_KEEP}
        row["t"] = round(s["wall"] - origin, 3)
        out.append(row)
    return out


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
    "engine",
)
#: The engine child's own line (bench/harness.py ``_ChildSampler``).
ENGINE_KEEP = (
    "t",
    "VmRSS",
    "VmHWM",
    "Pss",
    "fds",
    "sockets",
    "Threads",
    "asyncio_tasks",
    "asyncio_tasks_min",
    "asyncio_tasks_max",
    "engine_tasks",
    "cpu_s",
    "polls",
    "failures",
)


def per_minute(
    samples: list[dict[str, Any]], engine: list[dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    out = []
    for m in range(int(samples[-1]["t"] // 60) + 1):
        w = [s for s in samples if m * 60 <= s["t"] < (m + 1) * 60]
        if w:
            row: dict[str, Any] = {
                "minute": m,
                "rss_mb": round(statistics.median(s["VmRSS"] for s in w) / 1024, 2),
                "tasks_min_med_max": _mmm([s["asyncio_tasks"] for s in w]),
                "fds_min_med_max": _mmm([s["fds"] for s in w]),
                "sockets_min_med_max": _mmm([s["sockets"] for s in w]),
            }
            e = [s for s in engine or [] if m * 60 <= s["t"] < (m + 1) * 60]
            if e:
                row["engine"] = {
                    "rss_mb": round(statistics.median(s["VmRSS"] for s in e) / 1024, 2),
                    "tasks_min_med_max": _mmm([s["asyncio_tasks"] for s in e]),
                    "fds_min_med_max": _mmm([s["fds"] for s in e]),
                    "sockets_min_med_max": _mmm([s["sockets"] for s in e]),
                }
            out.append(row)
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
    engine: list[dict[str, Any]] | None = None,
) -> list[Figure]:
    """The figures of a soak: ``samples`` the console's lines, ``engine`` the engine child's
    (None: the engine ran on a thread of the console, whose lines then hold its figures)."""
    end = samples[-1]["t"]
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
    ]
    who = "console: " if engine else ""
    growth = _process_figures(figs, samples, "", who, end, load, cmd, lab_note)
    figs.append(
        Figure("threads_growth", f"{who}threads, end - start",
               samples[-1]["Threads"] - samples[0]["Threads"], "threads", load=load,
               command=cmd),
    )  # fmt: skip
    own = engine or samples  # where the engine's own figures are
    if engine:
        growth += _process_figures(figs, engine, "engine_", "engine process: ", end, load, cmd,
                                   lab_note)  # fmt: skip
        floors = [s for s in engine if s.get("asyncio_tasks_min") is not None]
        if len(floors) >= 4:
            warm = min(60.0, end / 5)
            slope, se = trend([s for s in floors if s["t"] >= warm], "asyncio_tasks_min")
            figs.append(
                Figure("engine_asyncio_tasks_floor_trend",
                       "engine process: asyncio tasks, floor of each line's window: trend",
                       slope, "tasks/10 min", load=load, command=cmd,
                       note=f"standard error {se}; counts every 0.25 s, the least per line "
                       "(a leaked task lifts the floor; polls in flight do not)")
            )  # fmt: skip
        figs += [
            Figure("engine_threads_growth", "engine process: threads, end - start",
                   engine[-1]["Threads"] - engine[0]["Threads"], "threads", load=load,
                   command=cmd),
            Figure("rss_sum_growth_mb", "console + engine process: RSS growth (sum of the two)",
                   round(growth, 2), "MB", load=load, command=cmd,
                   note="each process has the 5 MB budget of its own above"),
            Figure("rss_sum_end_mb", "console + engine process: RSS at the end",
                   round((samples[-1]["VmRSS"] + engine[-1]["VmRSS"]) / 1024, 1), "MB",
                   load=load, command=cmd),
        ]  # fmt: skip
    polls = polls or own[-1].get("polls") or {}
    figs += [
        Figure("engine_tasks_growth", "engine's own tasks, end - start",
               own[-1]["engine_tasks"] - own[0]["engine_tasks"], "tasks", budget=0,
               load=load, command=cmd),
        Figure("polls_per_s", "polls per second achieved (all layers)",
               round(sum(polls.values()) / wall, 1) if wall else None, "polls/s", load=load,
               command=cmd,
               note="6 layers at 0.1 s would be 60/s; the engine backs off slow layers"),
    ]  # fmt: skip
    return figs


def _process_figures(
    figs: list[Figure],
    samples: list[dict[str, Any]],
    prefix: str,
    who: str,
    end: float,
    load: list[float],
    cmd: str,
    lab_note: str,
) -> float:
    """One process's memory and leak figures (appended to ``figs``); returns its RSS growth
    (MB). The windows are on the console's time axis (``end``: its last sample)."""
    warm = min(60.0, end / 5)
    window = min(60.0, end / 4)
    first = [s for s in samples if warm <= s["t"] < warm + window] or samples[:1]
    last = [s for s in samples if s["t"] >= end - window] or samples[-1:]
    after = [s for s in samples if s["t"] >= warm]

    def med(rows: list[dict[str, Any]], key: str) -> float:
        return statistics.median(r[key] for r in rows)

    rss_growth = (med(last, "VmRSS") - med(first, "VmRSS")) / 1024
    rss_slope = slope_per_min([(s["t"], s["VmRSS"] / 1024) for s in after])
    floors = {
        key: min(r[key] for r in last) - min(r[key] for r in first)
        for key in ("asyncio_tasks", "fds", "sockets")
    }
    figs += [
        Figure(
            f"{prefix}rss_growth_mb",
            f"{who}RSS growth, last minute vs after warm-up (medians)",
            round(rss_growth, 2),
            "MB",
            budget=BUDGET_RSS_GROWTH_MB,
            load=load,
            command=cmd,
            note=lab_note,
        ),
        Figure(
            f"{prefix}rss_slope_mb_min",
            f"{who}RSS trend after warm-up (least squares)",
            round(rss_slope, 3),
            "MB/min",
            load=load,
            command=cmd,
        ),
        Figure(
            f"{prefix}rss_end_mb",
            f"{who}RSS at the end",
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
                f"{prefix}{key}_trend",
                f"{who}{label}: trend after warm-up (least squares)",
                slope,
                f"{unit}/10 min",
                budget=BUDGET_LEAK_PER_10MIN,
                load=load,
                command=cmd,
                note=f"standard error {se}; floor last minute vs first window {floors[key]:+d}",
            )
        )
    return rss_growth


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
    engine = data.get("engine_samples") or None
    figs = analyse(samples, lab, load0, load1, cmd, data.get("polls"), engine)
    data["figures"] = [f.as_dict() for f in figs]
    data["per_minute"] = per_minute(samples, engine)
    data["reanalysed"] = {"when": now_iso(), "note": "figures recomputed from the same samples"}
    return data


if __name__ == "__main__":
    import sys

    if sys.argv[1:2] == ["--reanalyse"]:
        target = RESULTS / "soak.json"
        target.write_text(json.dumps(reanalyse(target), indent=2, default=str) + "\n")
        print(f"re-analysed {target}")
