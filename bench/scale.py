"""Benchmark 5, scale: poll + render time per cycle and peak RSS on the large setup.

bench/largesetup.py runs an HAProxy with 50 backends x 20 servers and a Prometheus +
Alertmanager with 300 firing alerts on the benchmark's own ports; profiles add 9 Galera
names (the lab's 3 nodes listed three times) and the lab's ProxySQL, Redis/Sentinel, SSH.
Every layer polls every 2 s. The console runs in tmux (120x40) through bench/harness.py (the
real app and engine, timed from outside) and shows, in turn, the overview, the HAProxy pane
(1000 server rows) and the Alerts pane (300 alerts), ``--scale-seconds`` each.

Per 2 s window: poll = the slowest layer poll started in it (layers poll concurrently);
render = every update's handling (panes fed) + every screen update (compositor + terminal
write) in it, which run one after another on the UI thread; cycle = poll + render.

  A. one console on ``large-9`` (9 Galera nodes in one profile): the budget figures;
  B. the 9 nodes over 3 profiles (``large-a/b/c``, 3 nodes each): three consoles at once.

Budget (issue 6): <= 250 ms per cycle (p95 here), <= 200 MB peak RSS.
"""

from __future__ import annotations

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


def run_consoles(profiles: dict[str, str], seconds: float) -> dict[str, Any]:
    """Run one harness per profile at once; the same pane phases in each."""
    sessions: dict[str, tuple[Tmux, Any]] = {}
    out: dict[str, Any] = {}
    lab = wait_lab_healthy()
    with _sessions(list(profiles)) as ts:
        for name, profile in profiles.items():
            stats = WORK / "scale" / f"{name}.jsonl"
            hd.start(ts[name], profile, stats, INTERVAL)
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
        samples = hd.read(stats)
        res: dict[str, Any] = {"profile": profiles[name], "phases": {}}
        for pane, p0, p1, load0 in phases:
            rec = hd.timings(samples, p0, p1)
            cyc = hd.cycles(rec, p0, p1, INTERVAL)
            cpu = [s for s in samples if "cpu_s" in s and p0 - 2.5 <= s["wall"] <= p1 + 2.5]
            cpu_per_cycle = (
                (cpu[-1]["cpu_s"] - cpu[0]["cpu_s"])
                / ((cpu[-1]["wall"] - cpu[0]["wall"]) / INTERVAL)
                if len(cpu) >= 2 and cpu[-1]["wall"] > cpu[0]["wall"]
                else None
            )
            res["phases"][pane] = {
                "seconds": round(p1 - p0, 1),
                "load": load0,
                "cycles": len(cyc),
                "cycle_ms": dist([c["cycle_ms"] for c in cyc]),
                "poll_ms": dist([c["poll_ms"] for c in cyc]),
                "render_ms": dist([c["render_ms"] for c in cyc]),
                "apply_ms": dist([c["apply_ms"] for c in cyc]),
                "frames_ms": dist([c["frames_ms"] for c in cyc]),
                "cpu_ms_per_cycle": round(cpu_per_cycle * 1000, 1) if cpu_per_cycle else None,
                **hd.per_layer(rec),
            }
        stat_lines = [s for s in samples if "VmHWM" in s]
        res["peak_rss_mb"] = (
            round(max(s["VmHWM"] for s in stat_lines) / 1024, 1) if stat_lines else None
        )
        res["last_rss_mb"] = round(stat_lines[-1]["VmRSS"] / 1024, 1) if stat_lines else None
        res["exit"] = next((s["exit"] for s in samples if "exit" in s), None)
        out[name] = res
    out["lab"] = lab
    return out


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
    with largesetup.running() as info:
        profiles: dict[str, str] = info["profiles"]  # type: ignore[assignment]
        log(f"A: one console on large-9, {len(PHASES)} panes x {seconds:.0f} s")
        a = run_consoles({"large-9": profiles["large-9"]}, seconds)
        log("B: three consoles at once on large-a/b/c")
        b = run_consoles({k: profiles[k] for k in ("large-a", "large-b", "large-c")}, seconds)
    one = a["large-9"]
    pane, worst = worst_phase(one)
    cmd = "python3 bench/run.py --only scale (bench/harness.py in tmux 120x40 on large-9.toml)"
    figs = [
        Figure(
            "cycle_p95_ms",
            f"one console, 9 nodes: poll+render per cycle p95 ({pane} pane)",
            worst["cycle_ms"].get("p95"),
            "ms",
            budget=BUDGET_CYCLE_MS,
            load=worst["load"],
            command=cmd,
            note=f"{worst['cycles']} cycles of 2 s; worst of the 3 panes",
        ),
        Figure(
            "cycle_p50_ms",
            f"one console: poll+render per cycle p50 ({pane} pane)",
            worst["cycle_ms"].get("p50"),
            "ms",
            load=worst["load"],
            command=cmd,
        ),
        Figure(
            "render_p95_ms",
            f"one console: render part p95 ({pane} pane)",
            worst["render_ms"].get("p95"),
            "ms",
            load=worst["load"],
            command=cmd,
        ),
        Figure(
            "poll_p95_ms",
            f"one console: poll part p95 ({pane} pane)",
            worst["poll_ms"].get("p95"),
            "ms",
            load=worst["load"],
            command=cmd,
        ),
        Figure(
            "cpu_per_cycle_ms",
            f"one console: CPU per 2 s cycle ({pane} pane)",
            worst["cpu_ms_per_cycle"],
            "ms",
            load=worst["load"],
            command=cmd,
        ),
        Figure(
            "peak_rss_mb",
            "one console, 9 nodes: peak RSS (VmHWM)",
            one["peak_rss_mb"],
            "MB",
            budget=BUDGET_RSS_MB,
            load=worst["load"],
            command=cmd,
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
                note="three consoles share 2 cores",
            )
        )
        figs.append(
            Figure(
                f"{name}_peak_rss_mb",
                f"3 consoles at once, {name}: peak RSS",
                r["peak_rss_mb"],
                "MB",
                budget=BUDGET_RSS_MB,
                load=w["load"],
                command=cmd.replace("large-9", name),
            )
        )
    return result(NAME, figs, setup=info, one_console=a, three_consoles=b, interval_s=INTERVAL)
