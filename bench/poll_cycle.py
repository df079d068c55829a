"""Benchmark: one whole-stack poll vs its endpoints (issue 3's concurrency ratio).

For N cycles (reusing connections, as the console does), time each endpoint polled alone
(sequentially), then the whole stack polled concurrently. Reports p50/p95 of the wall
time, of the slowest single endpoint and of the sum of all endpoints, and the ratio
wall / slowest (budget: <= 1.3).

    python bench/poll_cycle.py [--profile local] [--cycles 50]

The suite's runner (bench/run.py) calls :func:`bench`, which adds the figures and budget.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from jaraba_tui.collectors.stack import StackTargets, collect_stack
from jaraba_tui.profile import load_profile
from jaraba_tui.transport.factory import Transports
from jaraba_tui.wiring import build_targets, layer_timeout

RESULTS = Path(os.environ.get("JARABA_BENCH_RESULTS", Path(__file__).resolve().parent / "results"))
NAME = "poll_cycle"
TITLE = "whole-stack poll wall time vs slowest / sum of endpoints"


def endpoints(t: StackTargets) -> dict[str, StackTargets]:
    """One StackTargets per single endpoint."""
    empty = StackTargets(master_name=t.master_name, profile=t.profile, environment=t.environment)
    out: dict[str, StackTargets] = {}
    for g in t.galera:
        out[f"galera/{g.name}"] = replace(empty, galera=(g,))
    if t.proxysql:
        out["proxysql"] = replace(empty, proxysql=t.proxysql)
    if t.haproxy:
        out["haproxy"] = replace(empty, haproxy=t.haproxy)
    for r in t.redis:
        out[f"redis/{r.name}"] = replace(empty, redis=(r,))
    for s in t.sentinels:
        out[f"sentinel/{s.name}"] = replace(empty, sentinels=(s,))
    if t.prometheus:
        out["prometheus"] = replace(empty, prometheus=t.prometheus)
    if t.alertmanager:
        out["alertmanager"] = replace(empty, alertmanager=t.alertmanager)
    for h in t.hosts:
        out[f"host/{h.name}"] = replace(empty, hosts=(h,))
    return out


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def machine_busy_s() -> float:
    """CPU seconds every core of this machine has spent busy since boot (``/proc/stat``):
    the client, the lab's servers, sshd and its shells, and anything else running."""
    with open("/proc/stat") as f:
        fields = f.readline().split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def without_ssh(t: StackTargets) -> StackTargets:
    """The same stack without the SSH side (Galera host probes, host checks): separates the
    console's own concurrency from a single sshd serving every probe of the lab."""
    return replace(t, galera=tuple(replace(g, shell=None) for g in t.galera), hosts=())


async def run(profile_name: str, cycles: int, *, no_ssh: bool = False) -> dict[str, object]:
    profile = load_profile(profile_name)
    lt = layer_timeout(profile)
    timeout = profile.poll.connect_timeout + profile.poll.read_timeout
    async with Transports(profile) as tr:
        targets = build_targets(profile, tr)
        if no_ssh:
            targets = without_ssh(targets)
        singles = endpoints(targets)
        await collect_stack(targets, timeout=timeout, layer_timeout=lt)  # warm connections
        rows = []
        machine_cpu = 0.0
        for _ in range(cycles):
            per: dict[str, float] = {}
            for name, sub in singles.items():
                t0 = time.perf_counter()
                await collect_stack(sub, timeout=timeout, layer_timeout=lt)
                per[name] = (time.perf_counter() - t0) * 1000
            busy0, cpu0 = machine_busy_s(), time.process_time()
            t0 = time.perf_counter()
            await collect_stack(targets, timeout=timeout, layer_timeout=lt)
            wall = (time.perf_counter() - t0) * 1000
            client_cpu = (time.process_time() - cpu0) * 1000
            machine_cpu += machine_busy_s() - busy0
            slowest = max(per, key=lambda k: per[k])
            rows.append(
                {
                    "wall_ms": wall,
                    "slowest_ms": per[slowest],
                    "slowest": slowest,
                    "sum_ms": sum(per.values()),
                    "client_cpu_ms": client_cpu,
                    "per_endpoint_ms": per,
                }
            )
    walls = [r["wall_ms"] for r in rows]
    slows = [r["slowest_ms"] for r in rows]
    sums = [r["sum_ms"] for r in rows]
    ratios = [r["wall_ms"] / r["slowest_ms"] for r in rows]
    cores = os.cpu_count() or 1
    # /proc/stat counts in clock ticks (10 ms): one poll's share is only meaningful as the
    # mean over all the cycles' whole-stack polls.
    machine_ms = machine_cpu / cycles * 1000
    summary = {
        "benchmark": "poll_cycle",
        "profile": profile_name,
        "without_ssh": no_ssh,
        "cycles": cycles,
        "endpoints": len(singles),
        "host": platform.node(),
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "wall_ms": {"p50": statistics.median(walls), "p95": pct(walls, 0.95)},
        "slowest_endpoint_ms": {"p50": statistics.median(slows), "p95": pct(slows, 0.95)},
        "sum_of_endpoints_ms": {"p50": statistics.median(sums), "p95": pct(sums, 0.95)},
        "wall_over_slowest": {"p50": statistics.median(ratios), "p95": pct(ratios, 0.95)},
        "budget_wall_over_slowest": 1.3,
        "client_cpu_ms": {
            "p50": statistics.median(r["client_cpu_ms"] for r in rows),
            "p95": pct([r["client_cpu_ms"] for r in rows], 0.95),
        },
        "machine_cpu_per_poll_ms": machine_ms,
        "cores": cores,
        "cpu_floor_ms": machine_ms / cores,
        "cpu_floor_over_slowest": machine_ms / cores / statistics.median(slows),
        "slowest_endpoints_seen": sorted({r["slowest"] for r in rows}),
    }
    return {"summary": summary, "cycles": rows}


def bench(opts: Any) -> dict[str, Any]:
    """For bench/run.py: the lab checked first, then :func:`run`, with figures."""
    from common import Figure, git_state, loadavg, wait_lab_healthy

    lab = wait_lab_healthy()
    load0 = loadavg()
    result = asyncio.run(run("local", opts.cycles))
    s = result["summary"]
    assert isinstance(s, dict)
    load1 = loadavg()
    variant = asyncio.run(run("local", opts.cycles, no_ssh=True))
    v = variant["summary"]
    assert isinstance(v, dict)
    cmd = f"python3 bench/run.py --only poll_cycle --cycles {opts.cycles}"
    how = f"{s['cycles']} cycles, {s['endpoints']} endpoints, lab profile"
    figs = [
        Figure(
            "wall_over_slowest_p50",
            "wall / slowest endpoint, p50",
            round(s["wall_over_slowest"]["p50"], 3),
            "x",
            budget=1.3,
            load=load0,
            command=cmd,
            note=how,
        ),
        Figure(
            "wall_over_slowest_p95",
            "wall / slowest endpoint, p95",
            round(s["wall_over_slowest"]["p95"], 3),
            "x",
            budget=1.3,
            load=load0,
            command=cmd,
            note=how,
        ),
        Figure(
            "wall_p50",
            "whole-stack poll wall, p50",
            round(s["wall_ms"]["p50"], 1),
            "ms",
            load=load0,
            command=cmd,
        ),
        Figure(
            "slowest_p50",
            "slowest single endpoint, p50",
            round(s["slowest_endpoint_ms"]["p50"], 1),
            "ms",
            load=load0,
            command=cmd,
        ),
        Figure(
            "sum_p50",
            "sum of all endpoints, p50",
            round(s["sum_of_endpoints_ms"]["p50"], 1),
            "ms",
            load=load0,
            command=cmd,
        ),
        Figure(
            "client_cpu_p50",
            "client CPU per whole-stack poll, p50 (one interpreter: a floor for the wall)",
            round(s["client_cpu_ms"]["p50"], 1),
            "ms",
            load=load0,
            command=cmd,
        ),
        Figure(
            "machine_cpu_per_poll",
            "whole machine's CPU per whole-stack poll (client + servers + sshd), mean",
            round(s["machine_cpu_per_poll_ms"], 1),
            "ms",
            load=load0,
            command=cmd,
            note="from /proc/stat around each whole-stack poll; anything else running counts",
        ),
        Figure(
            "cpu_floor_over_slowest",
            f"CPU floor (machine CPU per poll / {s['cores']} cores) / slowest endpoint p50",
            round(s["cpu_floor_over_slowest"], 2),
            "x",
            load=load0,
            command=cmd,
            note="the wall cannot go below this ratio with the CPU work each poll needs here",
        ),
        Figure(
            "no_ssh_wall_over_slowest_p50",
            "without the SSH probes: wall / slowest, p50",
            round(v["wall_over_slowest"]["p50"], 3),
            "x",
            load=load1,
            command=cmd,
            note=f"diagnostic: {v['endpoints']} endpoints, Galera SQL only, no host checks",
        ),
        Figure(
            "no_ssh_wall_over_slowest_p95",
            "without the SSH probes: wall / slowest, p95",
            round(v["wall_over_slowest"]["p95"], 3),
            "x",
            load=load1,
            command=cmd,
        ),
        Figure(
            "wall_over_sum_p50",
            "wall / sum of endpoints, p50",
            round(s["wall_ms"]["p50"] / s["sum_of_endpoints_ms"]["p50"], 3),
            "x",
            load=load0,
            command=cmd,
        ),
    ]
    return {
        "benchmark": NAME,
        "when": s["when"],
        "git": git_state(),
        "figures": [f.as_dict() for f in figs],
        "lab": lab,
        **result,
        "without_ssh": variant,
    }


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--profile", default="local")
    ap.add_argument("--cycles", type=int, default=50)
    args = ap.parse_args()
    result = asyncio.run(run(args.profile, args.cycles))
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "poll_cycle.json"
    out.write_text(json.dumps(result, indent=2))
    s = result["summary"]
    assert isinstance(s, dict)
    print(f"poll cycle over {s['cycles']} cycles, {s['endpoints']} endpoints ({out})")
    print(f"{'':24}{'p50 ms':>10}{'p95 ms':>10}")
    for key in ("wall_ms", "slowest_endpoint_ms", "sum_of_endpoints_ms"):
        print(f"{key:24}{s[key]['p50']:>10.1f}{s[key]['p95']:>10.1f}")
    r = s["wall_over_slowest"]
    budget = s["budget_wall_over_slowest"]
    print(f"{'wall / slowest':24}{r['p50']:>10.2f}{r['p95']:>10.2f}   budget <= {budget}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
