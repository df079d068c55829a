"""Benchmark 5, scale: poll + render time per cycle and peak RSS on the large setup.

bench/largesetup.py runs an HAProxy with 50 backends x 20 servers and a Prometheus +
Alertmanager with 300 firing alerts on the benchmark's own ports; profiles add 9 Galera
names (the lab's 3 nodes listed three times) and the lab's ProxySQL, Redis/Sentinel, SSH.
Every layer polls every 2 s. The console runs in tmux (120x40) through bench/harness.py: the
real app, with the poll engine forked into its own process by the product's own code
(``fork_engine`` + ``ProcessEngineSource``, as ``jaraba-ops`` runs it; ``--engine thread``
or ``JARABA_BENCH_ENGINE=thread``: the product's thread fall-back), timed from outside. It
shows, in turn, the overview, the HAProxy pane (1000 server rows) and the Alerts pane (300
alerts), ``--scale-seconds`` each.

"Poll + render per cycle" (the budget's figure, ``cycle_ms``): with the engine in its own
process the poll and the render no longer share one interpreter, so their sum is not a
latency. Per 2 s window, cycle = the slowest of the window's layer polls measured end to
end, from the start of its collect (in the engine process) to the end of the first screen
update that painted its result (in the console): collect + merge + pickle/pipe + the
console's wait + decode + apply + draw + paint (bench/harnessdata.py ``updates``). An update
whose draw changed no visible widget is counted to the end of its draw. Also per window:
poll = the slowest layer collect; render = the console's own work in the window (decode +
every update's handling + every screen update, one after another on its thread); sum =
poll + render, the definition of sessions 1-3 (kept for comparison: an upper bound now).

Peak RSS counts both processes of a console: the console's and the engine child's peak
(VmHWM) and their sum, which is the budget's figure (an upper bound: the two peaks may be at
different times, and the pages the child shares with the console since the fork count in
both). Also given: the sampled peak of the sum of the two RSS, and the sum of the two peak
PSS (shared pages split between the processes: nearer the pair's real footprint).

  A. one console on ``large-9`` (9 Galera nodes in one profile): the budget figures;
  B. the 9 nodes over 3 profiles (``large-a/b/c``, 3 nodes each): three consoles at once
     (six processes on the machine's cores).

Budget (issue 6): <= 250 ms per cycle (p95 here), <= 200 MB peak RSS per console (console +
engine child).
"""

from __future__ import annotations

import os
import time
from typing import Any

import harnessdata as hd
import largesetup
from common import (
    WORK,
    Figure,
    Tmux,
    dist,
    loadavg,
    log,
    result,
    tmux_session,
    wait_lab_healthy,
)

NAME = "scale"
TITLE = "large setup (HAProxy 50x20, 300 alerts, 9 Galera): poll+render per cycle, peak RSS"
INTERVAL = 2.0
PHASES = (("overview", "1"), ("haproxy", "4"), ("alerts", "6"))
BUDGET_CYCLE_MS = 250.0
BUDGET_RSS_MB = 200.0
#: The harness's engine mode when run.py gives none (``process``: the product's).
ENGINE = os.environ.get("JARABA_BENCH_ENGINE", "process")


def run_consoles(profiles: dict[str, str], seconds: float, engine: str) -> dict[str, Any]:
    """Run one harness per profile at once; the same pane phases in each."""
    sessions: dict[str, tuple[Tmux, Any]] = {}
    out: dict[str, Any] = {}
    lab = wait_lab_healthy()
    with _sessions(list(profiles)) as ts:
        for name, profile in profiles.items():
            stats = WORK / "scale" / f"{name}.jsonl"
            hd.start(ts[name], profile, stats, INTERVAL, engine)
            sessions[name] = (ts[name], stats)
        for _name, (_t, stats) in sessions.items():
            hd.wait_samples(stats, 3, 60)
        time.sleep(4)  # first polls and lazy panes done
        phases: list[tuple[str, float, float, list[float]]] = []
        for pane, key in PHASES:
            for t, _ in sessions.values():
                t.send(key)
            time.sleep(2.0)  # the switch itself is benchmark 3's business
            p0 = time.time()
            load0 = loadavg()
            time.sleep(seconds)
            phases.append((pane, p0, time.time(), load0))
        for t, _ in sessions.values():
            t.quit_and_wait()
    for name, (_t, stats) in sessions.items():
        out[name] = analyse(hd.read(stats), hd.read_engine(stats), phases)
        out[name]["profile"] = profiles[name]
        out[name]["engine_mode"] = engine
    out["lab"] = lab
    return out


def _cpu_per_cycle(points: list[tuple[float, float]]) -> float | None:
    """CPU ms per 2 s cycle from (wall, cpu seconds) samples."""
    if len(points) < 2 or points[-1][0] <= points[0][0]:
        return None
    return round(
        (points[-1][1] - points[0][1]) / ((points[-1][0] - points[0][0]) / INTERVAL) * 1000, 1
    )


def analyse(
    samples: list[dict[str, Any]],
    engine_samples: list[dict[str, Any]],
    phases: list[tuple[str, float, float, list[float]]],
) -> dict[str, Any]:
    """One console's figures per pane phase (see the module's docstring)."""
    res: dict[str, Any] = {"phases": {}}
    for pane, p0, p1, load0 in phases:
        rec = hd.timings(samples, p0, p1, engine_samples)
        cyc = hd.cycles(rec, p0, p1, INTERVAL)
        near = [s for s in samples if "cpu_s" in s and p0 - 2.5 <= s["wall"] <= p1 + 2.5]
        console_cpu = _cpu_per_cycle([(s["wall"], s["cpu_s"]) for s in near])
        child = [(s["wall"], s["engine"]["cpu_s"]) for s in near if "cpu_s" in s.get("engine", {})]
        engine_cpu = _cpu_per_cycle(child)
        res["phases"][pane] = {
            "seconds": round(p1 - p0, 1),
            "load": load0,
            "cycles": len(cyc),
            "cycle_ms": dist([c["cycle_ms"] for c in cyc if c["cycle_ms"] is not None]),
            "unshown_polls": sum(c["unshown"] for c in cyc),
            "poll_ms": dist([c["poll_ms"] for c in cyc]),
            "render_ms": dist([c["render_ms"] for c in cyc]),
            "decode_ms": dist([c["decode_ms"] for c in cyc]),
            "apply_ms": dist([c["apply_ms"] for c in cyc]),
            "frames_ms": dist([c["frames_ms"] for c in cyc]),
            "sum_ms": dist([c["sum_ms"] for c in cyc]),
            "cpu_ms_per_cycle": (console_cpu or 0) + (engine_cpu or 0) if console_cpu else None,
            "console_cpu_ms_per_cycle": console_cpu,
            "engine_cpu_ms_per_cycle": engine_cpu,
            **hd.per_layer(rec),
        }
    lines = [s for s in samples if "VmHWM" in s]
    child = [s["engine"] for s in lines if "VmHWM" in s.get("engine", {})]
    child += [s for s in engine_samples if "VmHWM" in s]  # the child's own readings

    def mb(kb: float | None) -> float | None:
        return round(kb / 1024, 1) if kb is not None else None

    console_peak = max((s["VmHWM"] for s in lines), default=None)
    engine_peak = max((s["VmHWM"] for s in child), default=None)
    res["console_peak_rss_mb"] = mb(console_peak)
    res["engine_peak_rss_mb"] = mb(engine_peak)
    res["peak_rss_mb"] = mb((console_peak or 0) + (engine_peak or 0)) if console_peak else None
    both = [s for s in lines if "VmRSS" in s.get("engine", {})]
    res["sampled_peak_rss_sum_mb"] = mb(
        max((s["VmRSS"] + s["engine"]["VmRSS"] for s in both), default=None)
    )
    console_pss = max((s["Pss"] for s in lines if s.get("Pss") is not None), default=None)
    engine_pss = max((s["Pss"] for s in engine_samples if s.get("Pss") is not None), default=None)
    res["peak_pss_sum_mb"] = (
        mb(console_pss + engine_pss)
        if console_pss is not None and engine_pss is not None
        else mb(console_pss)
    )
    res["last_rss_mb"] = mb(lines[-1]["VmRSS"]) if lines else None
    res["exit"] = next((s["exit"] for s in samples if "exit" in s), None)
    return res


class _sessions:
    def __init__(self, names: list[str]) -> None:
        self.names = names
        self.ctx = [tmux_session(f"scale-{n}") for n in names]

    def __enter__(self) -> dict[str, Tmux]:
        return {n: c.__enter__() for n, c in zip(self.names, self.ctx, strict=True)}

    def __exit__(self, *exc: object) -> None:
        for c in self.ctx:
            c.__exit__(None, None, None)


def worst_phase(res: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return max(res["phases"].items(), key=lambda kv: kv[1]["cycle_ms"].get("p95", 0))


def bench(opts: Any) -> dict[str, Any]:
    seconds = opts.scale_seconds
    engine = getattr(opts, "engine", None) or ENGINE
    with largesetup.running() as info:
        profiles: dict[str, str] = info["profiles"]  # type: ignore[assignment]
        log(f"A: one console on large-9 (engine: {engine}), {len(PHASES)} panes x {seconds:.0f} s")
        a = run_consoles({"large-9": profiles["large-9"]}, seconds, engine)
        log("B: three consoles at once on large-a/b/c")
        b = run_consoles(
            {k: profiles[k] for k in ("large-a", "large-b", "large-c")}, seconds, engine
        )
    return result(
        NAME,
        figures(a, b, engine),
        setup=info,
        one_console=a,
        three_consoles=b,
        interval_s=INTERVAL,
        engine_mode=engine,
    )


def figures(a: dict[str, Any], b: dict[str, Any], engine: str) -> list[Figure]:
    """The figures of run A (one console on large-9) and B (three consoles)."""
    one = a["large-9"]
    pane, worst = worst_phase(one)
    cmd = (
        f"python3 bench/run.py --only scale --engine {engine} "
        "(bench/harness.py in tmux 120x40 on large-9.toml)"
    )
    where = "engine in its own process" if engine == "process" else "engine on a thread"
    parts = worst.get("parts_ms", {})

    def p95(part: str) -> Any:
        return parts.get(part, {}).get("p95")

    def fig(fid: str, label: str, value: Any, unit: str, **kw: Any) -> Figure:
        return Figure(fid, label, value, unit, load=worst["load"], command=cmd, **kw)

    figs = [
        fig(
            "cycle_p95_ms",
            f"one console, 9 nodes: poll+render per cycle p95, poll start -> screen ({pane} pane)",
            worst["cycle_ms"].get("p95"),
            "ms",
            budget=BUDGET_CYCLE_MS,
            note=(
                f"{worst['cycles']} cycles of 2 s, worst of the 3 panes; {where}; per cycle "
                "the slowest layer from its poll's start to the screen update showing it"
            ),
        ),
        fig(
            "cycle_p50_ms",
            f"one console: poll+render per cycle p50 ({pane} pane)",
            worst["cycle_ms"].get("p50"),
            "ms",
        ),
        fig(
            "poll_p95_ms",
            f"one console: poll part p95 (slowest collect per cycle, {pane} pane)",
            worst["poll_ms"].get("p95"),
            "ms",
        ),
        fig(
            "render_p95_ms",
            f"one console: console's render work per cycle p95 ({pane} pane)",
            worst["render_ms"].get("p95"),
            "ms",
            note="decode + apply/draw + screen updates in the window, on the console's thread",
        ),
        fig(
            "sum_p95_ms",
            f"one console: poll part + render work per cycle p95 ({pane} pane)",
            worst["sum_ms"].get("p95"),
            "ms",
            note="sessions 1-3's definition"
            + ("; an upper bound with two processes" if engine == "process" else ""),
        ),
        fig(
            "update_parts_p95_ms",
            f"one console: per update p95 poll/merge/queue/decode/draw/to-screen ({pane} pane)",
            p95("e2e"),
            "ms",
            note=" / ".join(
                f"{k} {p95(k)}" for k in ("poll", "merge", "queue", "decode", "draw", "to_screen")
            ),
        ),
        fig(
            "cpu_per_cycle_ms",
            f"one console: CPU per 2 s cycle, console + engine ({pane} pane)"
            if engine == "process"
            else f"one console: CPU per 2 s cycle ({pane} pane)",
            worst["cpu_ms_per_cycle"],
            "ms",
            note=(
                f"console {worst['console_cpu_ms_per_cycle']} + "
                f"engine {worst['engine_cpu_ms_per_cycle']}"
                if engine == "process"
                else "the engine's thread included"
            ),
        ),
        fig(
            "peak_rss_mb",
            "one console, 9 nodes: peak RSS, console + engine process (sum of VmHWM)"
            if engine == "process"
            else "one console, 9 nodes: peak RSS (VmHWM; the engine on a thread of it)",
            one["peak_rss_mb"],
            "MB",
            budget=BUDGET_RSS_MB,
            note=(
                f"console {one['console_peak_rss_mb']} + engine {one['engine_peak_rss_mb']}; "
                f"sampled peak of the sum of RSS {one['sampled_peak_rss_sum_mb']}; "
                f"peak PSS console + engine {one['peak_pss_sum_mb']}"
                if engine == "process"
                else f"peak PSS {one['peak_pss_sum_mb']}"
            ),
        ),
    ]
    for name in ("large-a", "large-b", "large-c"):
        r = b[name]
        p, w = worst_phase(r)
        figs.append(
            Figure(
                f"{name}_cycle_p95_ms",
                f"3 consoles at once, {name}: cycle p95 ({p} pane)",
                w["cycle_ms"].get("p95"),
                "ms",
                budget=BUDGET_CYCLE_MS,
                load=w["load"],
                command=cmd.replace("large-9", name),
                note=f"three consoles ({where}) share the machine's cores",
            )
        )
        figs.append(
            Figure(
                f"{name}_peak_rss_mb",
                f"3 consoles at once, {name}: peak RSS"
                + (", console + engine" if engine == "process" else ""),
                r["peak_rss_mb"],
                "MB",
                budget=BUDGET_RSS_MB,
                load=w["load"],
                command=cmd.replace("large-9", name),
                note=f"console {r['console_peak_rss_mb']} + engine {r['engine_peak_rss_mb']}"
                if engine == "process"
                else "",
            )
        )
    return figs
