"""Benchmark 3, responsiveness: key press to screen update, p50/p95, in a real terminal.

The console runs in tmux (120x40). A pane key (2..8, 1: every pane in turn) is sent with
``tmux send-keys``; the time runs until ``capture-pane`` shows that pane's title line (the
third row of the screen). Three cases:
  (a) healthy: profiles/local.toml on the lab;
  (b) one endpoint hangs: local.toml with Galera node3 moved to a tarpit that accepts TCP
      and never answers (the lab's tarpit.py, run by the benchmark on port 18399);
  (c) the large setup (bench/largesetup.py: HAProxy 50x20, 300 alerts, 9 Galera names).
Calibration: the same send-keys -> capture loop against ``cat`` (the terminal's own echo)
is the apparatus's floor, reported alongside (not subtracted).

Budget (issue 6): p95 <= 100 ms in all three.

``JARABA_BENCH_RESP_CASES=large`` (comma-separated: healthy, hung_endpoint, large) runs only
those cases (default: all three).
"""

from __future__ import annotations

import os
import random
import re
import time
from typing import Any

import largesetup
from common import (
    LOCAL_PROFILE,
    Figure,
    Tmux,
    dist,
    jaraba_ops,
    layers_with_data,
    loadavg,
    local_variant,
    log,
    profiles_dir,
    result,
    tarpit,
    tmux_session,
    wait_lab_healthy,
)

NAME = "responsiveness"
TITLE = "key press -> screen update p50/p95 (healthy, hung endpoint, large setup)"
TARPIT_PORT = 18399
BUDGET_MS = 100.0
SEQUENCE = "23456781"
TITLES = {
    "2": "Galera",
    "3": "ProxySQL",
    "4": "HAProxy",
    "5": "Redis/Sentinel",
    "6": "Alerts",
    "7": "Hosts",
    "8": "Timeline",
}
BOX = set("─━│┃╭┏╮┓")
CASES = ("healthy", "hung_endpoint", "large")


def wanted_cases() -> set[str]:
    """``$JARABA_BENCH_RESP_CASES`` (comma-separated), else every case."""
    names = {n.strip() for n in os.environ.get("JARABA_BENCH_RESP_CASES", "").split(",")}
    names.discard("")
    unknown = names - set(CASES)
    if unknown:
        raise SystemExit(f"JARABA_BENCH_RESP_CASES: unknown case(s) {sorted(unknown)}; {CASES}")
    return names or set(CASES)


def shows_pane(key: str, line: str) -> bool:
    """Row 3 of the screen once pane ``key`` is shown."""
    if key == "1":
        return bool(re.search(r"[─━] 2 Galera ", line))
    if BOX & set(line):
        return False
    title = re.escape(TITLES[key])
    return bool(re.match(rf"^\s*(?:[✓!✗?]\s+[A-Z]+\s+)?{title}\b", line))


def calibrate(n: int = 30) -> dict[str, Any]:
    """send-keys -> capture-pane against ``cat``: the measuring loop's own latency."""
    samples = []
    with tmux_session("resp-calibrate") as t:
        t.start(["cat"])
        time.sleep(0.3)
        for i in range(1, n + 1):
            t0 = time.monotonic()
            t.send("x")
            ok, seen, _ = t.wait_screen(lambda s, i=i: s.splitlines()[0].count("x") >= i, 5, 0.002)
            if ok:
                samples.append((seen - t0) * 1000)
            time.sleep(0.05)
    return dist(samples)


def presses(t: Tmux, n: int) -> tuple[list[float], list[dict[str, Any]]]:
    ms: list[float] = []
    rows: list[dict[str, Any]] = []
    rng = random.Random(6)
    for i in range(n):
        key = SEQUENCE[i % len(SEQUENCE)]
        t0 = time.monotonic()
        t.send(key)
        ok, seen, _ = t.wait_screen(lambda s, k=key: _row3(s, k), 15, 0.003)
        dt = (seen - t0) * 1000
        rows.append({"key": key, "ms": round(dt, 1), "seen": ok})
        if ok:
            ms.append(dt)
        time.sleep(rng.uniform(0.2, 0.5))  # not in step with the polls
    return ms, rows


def _row3(screen: str, key: str) -> bool:
    lines = screen.splitlines()
    return len(lines) > 2 and shows_pane(key, lines[2])


def case(name: str, profile: str, n: int, min_layers: int) -> dict[str, Any]:
    lab = wait_lab_healthy()
    argv = [jaraba_ops(), "--profile", profile]
    with tmux_session(f"resp-{name}") as t:
        t.start(argv)
        ok, _, screen = t.wait_screen(lambda s: len(layers_with_data(s)) >= min_layers, 30, 0.2)
        if not ok:
            return {"case": name, "error": "no data on screen in 30 s", "screen": screen[-1500:]}
        time.sleep(3.0)
        load0 = loadavg()
        ms, rows = presses(t, n)
        load1 = loadavg()
        quit_s = t.quit_and_wait()
    return {
        "case": name,
        "command": " ".join(argv),
        "ms": dist(ms),
        "missed": sum(1 for r in rows if not r["seen"]),
        "per_key_p50": {
            k: dist([r["ms"] for r in rows if r["key"] == k and r["seen"]])["p50"]
            for k in SEQUENCE
            if any(r["key"] == k and r["seen"] for r in rows)
        },
        "presses": rows,
        "load_before": load0,
        "load_after": load1,
        "quit_s": quit_s,
        "lab": lab,
    }


def bench(opts: Any) -> dict[str, Any]:
    n = opts.presses
    log("calibrating send-keys -> capture-pane against cat")
    cal = calibrate()
    cases: list[dict[str, Any]] = []
    run = wanted_cases()
    if "healthy" in run:
        log(f"(a) healthy: {n} presses")
        cases.append(case("healthy", str(LOCAL_PROFILE), n, 6))
    if "hung_endpoint" in run:
        hung = local_variant(
            profiles_dir() / "hung-galera.toml", name="hung-galera", ports={3309: TARPIT_PORT}
        )
        with tarpit(TARPIT_PORT):
            log(f"(b) Galera node3 -> tarpit :{TARPIT_PORT}: {n} presses")
            cases.append(case("hung_endpoint", str(hung), n, 5))
    if "large" in run:
        with largesetup.running() as info:
            log(f"(c) large setup: {n} presses")
            c = case("large", str(info["profiles"]["large-9"]), n, 6)  # type: ignore[index]
            c["setup"] = info
            cases.append(c)
    figs = []
    for c in cases:
        d = c.get("ms", {})
        load = c.get("load_before", loadavg())
        cmd = f"tmux send-keys (panes 2..8,1) -> capture-pane row 3; {c.get('command', '')}"
        note = f"{d.get('n', 0)} presses; calibration floor p50 {cal.get('p50')} ms"
        if c.get("error"):
            note = c["error"]
        figs.append(
            Figure(
                f"{c['case']}_p95",
                f"{c['case'].replace('_', ' ')}: p95",
                d.get("p95"),
                "ms",
                budget=BUDGET_MS,
                load=load,
                command=cmd,
                note=note,
            )
        )
        figs.append(
            Figure(
                f"{c['case']}_p50",
                f"{c['case'].replace('_', ' ')}: p50",
                d.get("p50"),
                "ms",
                load=load,
                command=cmd,
            )
        )
    figs.append(
        Figure(
            "calibration_p50",
            "apparatus floor (cat echo): p50",
            cal.get("p50"),
            "ms",
            command="tmux send-keys x -> capture-pane, against cat",
        )
    )
    return result(NAME, figs, calibration=cal, cases=cases, presses_per_case=n)
