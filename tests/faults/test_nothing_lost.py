"""Nothing lost: an action killed mid-way, or hit by a fault mid-way, on the lab's real servers.

- SIGKILL of a real ``jaraba-ops action ... --yes`` process in the middle of a blue/green
  switch: the audit holds the ``started`` record and is still valid JSON lines; the lock is
  recognised as stale by the next run, which proceeds after ``--clear-stale-lock``.
- HAProxy reloaded (master CLI ``reload``) during a blue/green switch; a Sentinel failover
  during a ProxySQL drain: the action stops safely or completes, and its final audit record
  says the state it left, checked here against the servers themselves.

(A node dying during a Galera bootstrap runs inside the full-outage test in
test_galera_outage.py, so the slow full-outage recovery happens once.)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jaraba_tui.actions import (
    ActionContext,
    ActionSettings,
    StepResult,
    Who,
    run_action,
)
from jaraba_tui.actions.confirm import TypedConfirmer
from jaraba_tui.profile import load_profile
from tests.actions.haproxy_lab import MAP, map_file, restore_servers, routing, runtime
from tests.faults.conftest import LAB_DIR, labctl, record, write_profile
from tests.labutil import require_lab

pytestmark = [pytest.mark.lab, pytest.mark.slow, pytest.mark.usefixtures("lab")]


def audit_lines(path: Path) -> list[dict[str, Any]]:
    """Every line of the audit log, each of which must be one JSON object."""
    lines = path.read_text(encoding="utf-8").splitlines()
    out = []
    for n, line in enumerate(lines, 1):
        data = json.loads(line)  # raises on a torn or half-written line
        assert isinstance(data, dict), f"audit line {n} is not an object"
        out.append(data)
    return out


def set_routing(live: str) -> None:
    for key, value in (("live", live), ("canary", "none"), ("canary_pct", "0")):
        runtime(f"set map {MAP} {key} {value}")
    Path(MAP).write_text(f"live {live}\ncanary none\ncanary_pct 0\n")


@pytest.fixture
def routing_restored() -> Iterator[tuple[str, str]]:
    """(live, idle) colours; the routing and every server restored afterwards."""
    require_lab(9999, 8080)
    restore_servers()
    live = routing().get("live", "blue")
    set_routing(live)
    yield live, ("green" if live == "blue" else "blue")
    set_routing(live)
    restore_servers()


def ops(profile: Path, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "jaraba_tui", "--profile", str(profile), "action", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


async def test_sigkill_mid_action_audit_valid_lock_stale(
    tmp_path: Path, routing_restored: tuple[str, str]
) -> None:
    _live, idle = routing_restored
    audit = tmp_path / "audit" / "audit.log"
    profile = write_profile(tmp_path / "p.toml", audit_log=audit)
    lock = audit.parent / f"{audit.name}.local.lock"
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "jaraba_tui",
        "--profile",
        str(profile),
        "action",
        "bluegreen.switch",
        idle,
        "-p",
        "steps=10,50,100",
        "--yes",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        # kill it once the canary step is recorded (the switch is half done)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if audit.exists() and any(
                r.get("event") == "step" and r["step"]["index"] >= 2 for r in audit_lines(audit)
            ):
                break
            assert proc.returncode is None, "the switch ended before it was killed"
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("the switch never reached its second step")
        proc.send_signal(signal.SIGKILL)
        await asyncio.wait_for(proc.wait(), 10)
        t_kill = time.time()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    records = audit_lines(audit)  # still valid JSON lines
    started = [r for r in records if r["event"] == "started"]
    assert len(started) == 1 and started[0]["action"] == "bluegreen.switch"
    run_id = started[0]["run_id"]
    assert not [r for r in records if r["event"] == "finished"], "killed: no finished record"
    steps_done = [r["step"]["title"] for r in records if r["event"] == "step"]
    assert lock.exists(), "the killed run's lock is left behind"

    status = ops(profile, "--lock-status")
    assert "STALE" in status.stdout + status.stderr, status
    refused = ops(profile, "bluegreen.switch", idle, "--yes")
    assert refused.returncode != 0
    assert "STALE" in refused.stdout + refused.stderr and "--clear-stale-lock" in (
        refused.stdout + refused.stderr
    )
    assert routing().get("canary") == idle, "the refused run changed nothing"
    cleared = ops(profile, "--clear-stale-lock")
    assert cleared.returncode == 0, cleared
    assert not lock.exists()
    assert run_id in cleared.stdout, "clearing names the interrupted run"
    # the documented way on: finish the switch the killed run began
    done = ops(profile, "bluegreen.switch", idle, "--yes")
    assert done.returncode == 0, done.stdout + done.stderr
    assert routing().get("live") == idle and map_file().get("live") == idle
    records = audit_lines(audit)
    finished = [r for r in records if r["event"] == "finished"]
    assert len(finished) == 1 and finished[0]["status"] == "verified"
    record(
        "SIGKILL of `jaraba-ops action bluegreen.switch --yes` mid-way",
        "audit valid JSON lines with the started record; lock STALE for the next run; "
        "--clear-stale-lock then the next action proceeds",
        f"killed after {len(steps_done)} step(s) ({'; '.join(steps_done)}); audit "
        f"{len(records)} lines all valid JSON; next run refused with STALE; cleared (naming "
        "the interrupted run); the next switch verified",
        t_kill=t_kill,
    )


def lab_ctx(audit: Path) -> ActionContext:
    profile = load_profile(write_profile(audit.parent / "p.toml", audit_log=audit))
    base = ActionSettings.from_profile(profile)
    from dataclasses import replace

    settings = replace(base, bluegreen=replace(base.bluegreen, step_pause=1.0, frontend_samples=8))
    who = Who("tester", None, None, os.uname().nodename, os.getpid())
    return ActionContext.create(profile, settings=settings, audit_path=audit, who=who)


def master_cli(command: str) -> str:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(10)
        s.connect(str(LAB_DIR / "haproxy" / "master.sock"))
        s.sendall(command.encode() + b"\n")
        chunks = []
        while data := s.recv(65536):
            chunks.append(data)
    return b"".join(chunks).decode(errors="replace")


async def test_haproxy_reload_during_a_bluegreen_switch(
    tmp_path: Path, routing_restored: tuple[str, str]
) -> None:
    _live, idle = routing_restored
    audit = tmp_path / "audit" / "audit.log"
    audit.parent.mkdir(parents=True)
    ctx = lab_ctx(audit)
    reloaded: list[str] = []
    pid_before = worker_pid()

    def reload_after_make_live(event: object) -> None:
        # HAProxy reloads (a deploy, a certificate renewal) right after the runtime map
        # made the new colour live and before the map file says so: the new worker loads
        # the file's old colour, asynchronously.
        if isinstance(event, StepResult) and event.title == f"make {idle} live" and event.ok:
            reloaded.append(master_cli("reload"))

    try:
        outcome = await run_action(
            ctx,
            "bluegreen.switch",
            idle,
            {"steps": "100"},
            confirmer=TypedConfirmer([idle]),
            assume_yes=True,
            on_event=reload_after_make_live,
        )
    finally:
        await ctx.aclose()
    assert reloaded, "the reload never happened"
    records = audit_lines(audit)
    final = records[-1]
    assert final["event"] == "finished" and final["run_id"] == outcome.run_id
    persist = next(
        r["step"] for r in records if r["event"] == "step" and "persist" in r["step"]["title"]
    )
    # the safe outcome: the switch completed and HAProxy's runtime and its map file agree,
    # on a new worker (the reload really happened), and stay so
    assert outcome.status == "verified", f"{outcome.status}: {final['outcome']['left_in']}"
    assert worker_pid() != pid_before, "HAProxy did not reload"
    rt, fl = routing(), map_file()
    want = {"live": idle, "canary": "none", "canary_pct": "0"}
    assert {k: rt.get(k) for k in want} == want and {k: fl.get(k) for k in want} == want, (
        rt,
        fl,
    )
    record(
        "HAProxy reload (master CLI) during a blue/green switch, right after 'make live' "
        "(before the map file is persisted)",
        "the switch ends with HAProxy's runtime map and the map file agreeing (set again "
        "where the reload undid it), verified through the frontend",
        f"{outcome.status}; worker {pid_before} -> {worker_pid()}; persist step: "
        f"{persist['detail'][:220]}; after: runtime live {rt.get('live')}, file live "
        f"{fl.get('live')}",
    )


def worker_pid() -> int | None:
    from jaraba_tui.collectors.haproxy import parse_info

    return parse_info(runtime("show info")).pid


async def test_sentinel_failover_during_a_proxysql_drain(tmp_path: Path) -> None:
    from tests.actions.labkit import wait_until
    from tests.actions.test_proxysql_lab import NODES, placement, settled, sql, writer

    require_lab(6032, *NODES.values())
    assert wait_until(settled, 60), placement()
    audit = tmp_path / "audit" / "audit.log"
    audit.parent.mkdir(parents=True)
    ctx = lab_ctx(audit)
    port = next(p for p in NODES.values() if p != writer())
    target = f"127.0.0.1:{port}"
    killed: list[str] = []

    def failover_after_first_step(event: object) -> None:
        if isinstance(event, StepResult) and event.index == 1 and not killed:
            killed.append("yes")
            subprocess.Popen(
                [
                    sys.executable,
                    str(Path(__file__).parents[2] / "lab" / "labctl.py"),
                    "fault",
                    "redis-kill-master",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )

    try:
        outcome = await run_action(
            ctx,
            "proxysql.drain",
            target,
            confirmer=TypedConfirmer([target]),
            assume_yes=True,
            on_event=failover_after_first_step,
        )
        placed = placement()[port]
        final = audit_lines(audit)[-1]
        assert final["event"] == "finished" and final["status"] == outcome.status
        if outcome.status == "verified":
            assert placed == {9999}, f"verified, but {target} is in hostgroups {placed}"
        else:
            assert placed, outcome.left_in
        back = await run_action(
            ctx, "proxysql.undrain", target, confirmer=TypedConfirmer([target]), assume_yes=True
        )
        assert back.status == "verified", back.left_in
    finally:
        await ctx.aclose()
        for p in NODES.values():
            with contextlib.suppress(Exception):
                sql(p, "SET GLOBAL wsrep_reject_queries=NONE")
        await labctl("up", "--only", "redis")
    assert killed
    record(
        "Sentinel failover (Redis master kill -9) during a ProxySQL drain",
        "the drain is unaffected (other system) and verified; audit final record matches "
        "ProxySQL's runtime placement",
        f"{outcome.status} ({outcome.message[:120]}); {target} in hostgroups {sorted(placed)}",
    )
