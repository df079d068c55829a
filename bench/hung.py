"""Benchmark 7, hung endpoints: an endpoint that accepts TCP and never answers (the lab's
tarpit.py, run by the benchmark on its own port 18399) is reported as timed out within its
timeout, and the console quits at once when asked.

(a) Engine (no screen): a PollEngine on local.toml with Galera node3 (a pymysql read in a
    thread) or Redis redis3 (redis.asyncio) moved to the tarpit; seconds from the poll's start
    to the update that reports the endpoint timed out, against the endpoint's timeout
    (connect_timeout + read_timeout of the profile: 3 + 5 s).
(b) Screen: the console (tmux 120x40) on the same profile, the Galera pane open; seconds from
    launch, and from the first frame, until the screen says node3 timed out.
(c) Quit: with node3's read hanging (the first poll runs for 5 s), ``q``; seconds until the
    process is gone (/proc/PID). The same on the healthy lab for comparison.

Budgets: reported <= connect+read timeout (issue 6: "within its timeout"); quit <= 0.5 s
(our reading of "at once": the issue names no number).
"""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import Any

from common import (
    LOCAL_PROFILE,
    Figure,
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

NAME = "hung"
TITLE = "hung endpoint reported within its timeout; quit at once"
PORT = 18399
BUDGET_QUIT_S = 0.5


async def engine_time(profile_path: str, layer: str, endpoint: str) -> dict[str, Any]:
    from jaraba_tui.engine import PollEngine
    from jaraba_tui.profile import load_profile
    from jaraba_tui.transport.factory import Transports

    prof = load_profile(profile_path)
    t0 = time.monotonic()
    seen: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()

    def on_update(u: Any) -> None:
        if u.layer != layer or seen.done():
            return
        snap = u.snapshot
        err = None
        if layer == "galera" and snap.galera:
            node = next((n for n in snap.galera.nodes if n.name == endpoint), None)
            err = node.sql_error if node else None
        if layer == "redis" and snap.redis:
            inst = next((i for i in snap.redis.instances if i.name == endpoint), None)
            err = inst.error if inst else None
        if err is not None:
            seen.set_result(
                {
                    "after_s": round(time.monotonic() - t0, 3),
                    "kind": err.kind,
                    "message": err.message,
                }
            )

    eng = PollEngine(prof, Transports(prof), on_update, close_transports=True, layers=[layer])
    task = asyncio.create_task(eng.run())
    try:
        out = await asyncio.wait_for(seen, 60)
    finally:
        c0 = time.monotonic()
        await eng.aclose()
        out_close = time.monotonic() - c0
        task.cancel()
    out["engine_aclose_s"] = round(out_close, 3)
    out["timeout_s"] = prof.poll.connect_timeout + prof.poll.read_timeout
    out["read_timeout_s"] = prof.poll.read_timeout
    return out


def screen_time(profile: str) -> dict[str, Any]:
    with tmux_session("hung-screen") as t:
        t0 = time.monotonic()
        t.start([jaraba_ops(), "--profile", profile])
        ok, t_first, _ = t.wait_screen(lambda s: "jaraba-ops" in s, 30, 0.01)
        t.send("2")
        ok, t_seen, screen = t.wait_screen(
            lambda s: any("node3" in line and "timed out" in line for line in s.splitlines()),
            30,
            0.01,
        )
        t.quit_and_wait()
    return {
        "seen": ok,
        "launch_to_first_frame_s": round(t_first - t0, 3),
        "launch_to_timed_out_s": round(t_seen - t0, 3),
        "first_frame_to_timed_out_s": round(t_seen - t_first, 3),
        "line": next((ln.strip() for ln in screen.splitlines() if "timed out" in ln), None),
    }


def quit_times(profile: str, reps: int, hung: bool) -> list[dict[str, Any]]:
    out = []
    for _ in range(reps):
        with tmux_session("hung-quit") as t:
            t.start([jaraba_ops(), "--profile", profile])
            ok, _, _ = t.wait_screen(lambda s: len(layers_with_data(s)) >= 5, 30, 0.05)
            time.sleep(0.5)
            # the hung read: node3's first poll is blocked for read_timeout (5 s) from start
            screen = t.capture()
            load = loadavg()
            q = t.quit_and_wait()
        out.append(
            {
                "quit_s": None if q is None else round(q, 3),
                "data_before_quit": ok,
                "galera_card": next(
                    (ln[:60] for ln in screen.splitlines() if "Galera" in ln), None
                ),
                "hung": hung,
                "load": load,
            }
        )
        time.sleep(1)
    return out


def bench(opts: Any) -> dict[str, Any]:
    reps = max(5, opts.reps + 2)
    galera = local_variant(
        profiles_dir() / "hung-galera.toml", name="hung-galera", ports={3309: PORT}
    )
    redis = local_variant(profiles_dir() / "hung-redis.toml", name="hung-redis", ports={6381: PORT})
    lab = wait_lab_healthy()
    with tarpit(PORT):
        log("engine: Galera node3 on the tarpit")
        load_g = loadavg()
        eg = asyncio.run(engine_time(str(galera), "galera", "node3"))
        log(f"  -> {eg}")
        log("engine: Redis redis3 on the tarpit")
        load_r = loadavg()
        er = asyncio.run(engine_time(str(redis), "redis", "redis3"))
        log(f"  -> {er}")
        log("screen: Galera pane until node3 says timed out")
        load_s = loadavg()
        sc = screen_time(str(galera))
        log(f"  -> {sc}")
        log(f"quit with node3's read hanging: {reps} times")
        qh = quit_times(str(galera), reps, hung=True)
    wait_lab_healthy()
    log(f"quit on the healthy lab: {reps} times")
    qk = quit_times(str(LOCAL_PROFILE), reps, hung=False)
    hung_q = [q["quit_s"] for q in qh if q["quit_s"] is not None]
    ok_q = [q["quit_s"] for q in qk if q["quit_s"] is not None]
    cmd_e = "PollEngine(hung profile).run() in-process; time to the update with the error"
    cmd_q = f"tmux: {jaraba_ops()} --profile {galera}; send q; wait for /proc/PID to go"
    figs = [
        Figure(
            "galera_reported_s",
            "Galera node (thread) reported timed out after",
            eg["after_s"],
            "s",
            budget=eg["timeout_s"],
            load=load_g,
            command=cmd_e,
            note=f"{eg['kind']}: {eg['message']}; read timeout {eg['read_timeout_s']} s",
        ),
        Figure(
            "redis_reported_s",
            "Redis instance (asyncio) reported timed out after",
            er["after_s"],
            "s",
            budget=er["timeout_s"],
            load=load_r,
            command=cmd_e,
            note=f"{er['kind']}: {er['message']}; read timeout {er['read_timeout_s']} s",
        ),
        Figure(
            "screen_timed_out_s",
            "screen says node3 timed out, after first frame",
            sc["first_frame_to_timed_out_s"],
            "s",
            budget=eg["timeout_s"],
            load=load_s,
            command=f"tmux: jaraba-ops --profile {galera}; key 2; capture-pane",
            note=f"launch to screen {sc['launch_to_timed_out_s']} s",
        ),
        Figure(
            "quit_hung_p50_s",
            "quit with a read hanging, median",
            _med(hung_q),
            "s",
            budget=BUDGET_QUIT_S,
            load=qh[0]["load"],
            command=cmd_q,
            note=f"max {max(hung_q) if hung_q else None} s over {len(hung_q)}",
        ),
        Figure(
            "quit_hung_max_s",
            "quit with a read hanging, max",
            max(hung_q, default=None),
            "s",
            budget=BUDGET_QUIT_S,
            load=qh[-1]["load"],
            command=cmd_q,
        ),
        Figure(
            "quit_healthy_p50_s",
            "quit on the healthy lab, median",
            _med(ok_q),
            "s",
            budget=BUDGET_QUIT_S,
            load=qk[0]["load"],
            command=cmd_q.replace(str(galera), "local"),
        ),
    ]
    return result(
        NAME,
        figs,
        engine_galera=eg,
        engine_redis=er,
        screen=sc,
        quit_hung=qh,
        quit_healthy=qk,
        quit_hung_s=dist(hung_q, 3),
        quit_healthy_s=dist(ok_q, 3),
        lab=lab,
    )


def _med(xs: list[float]) -> float | None:
    return round(statistics.median(xs), 3) if xs else None
