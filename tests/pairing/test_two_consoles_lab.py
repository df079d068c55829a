"""Two engineers on one bastion, one stack, one shared audit log: bob's console (a pilot
app on the live lab) watches while alice runs `jaraba-ops action` in another process.

Bob sees alice's lock in his header while she is asked to confirm, her run step by step in
his timeline, its verified end and the lock released; and when her process dies holding
the lock, the lock turns STALE on his screen. The HAProxy server drained is the idle
colour's app3 and is made ready again (also in a ``finally``).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from jaraba_tui.actions.audit import Who
from jaraba_tui.actions.context import ActionContext
from jaraba_tui.profile import load_profile
from jaraba_tui.resources import themes_dir
from jaraba_tui.ui.app import ConsoleInfo, JarabaApp
from jaraba_tui.ui.ops import ConsoleOps
from jaraba_tui.ui.source import engine_source
from jaraba_tui.ui.widgets.chrome import StatusHeader
from tests.actions.haproxy_lab import idle_colour, runtime, states
from tests.labutil import REPO, require_lab
from tests.ui.helpers import until as app_until

pytestmark = pytest.mark.lab


async def until(pilot: Pilot[Any], cond: Callable[[], bool], limit: float) -> bool:
    return await app_until(pilot, cond, limit, every=0.05)


def shared_profile(tmp_path: Path) -> Path:
    """profiles/local.toml with its audit log (and so its lock) in this test's directory."""
    text = (REPO / "profiles" / "local.toml").read_text()
    lines = [
        f'audit_log = "{tmp_path / "shared" / "audit.log"}"' if ln.startswith("audit_log") else ln
        for ln in text.splitlines()
    ]
    path = tmp_path / "local.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def alice_env() -> dict[str, str]:
    """Alice's environment. As root, ``sudo`` would have set SUDO_USER=alice (the name the
    consoles show); as an ordinary user the OS's login name is shown whatever is set."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "SUDO_USER": "alice", "USER": "alice"}
    env.pop("SSH_CLIENT", None)
    env.pop("SSH_CONNECTION", None)
    return env


def bobs_console(profile_path: Path, tmp_path: Path) -> JarabaApp:
    profile = load_profile(str(profile_path))
    bob = Who("bob", None, None, "bastion", os.getpid())
    ops = ConsoleOps(ActionContext.create(profile, who=bob))
    return JarabaApp(
        ConsoleInfo.from_profile(profile),
        engine_source(profile),
        state_path=tmp_path / "ui.json",
        keymap_path=tmp_path / "keymap.toml",
        theme_dirs=[themes_dir()],
        ops=ops,
        audit_interval=0.2,
    )


async def jaraba_ops(*args: str, stdin: int | None = None) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "jaraba_tui",
        *args,
        env=alice_env(),
        stdin=stdin,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


def header(app: JarabaApp) -> str:
    return str(app.query_one(StatusHeader).render())


def actions_seen(app: JarabaApp) -> list[str]:
    return [e.message for e in app.timeline if e.source in ("action", "lock")]


async def test_bob_watches_alice_drain_and_ready_an_app_server(tmp_path: Path) -> None:
    require_lab(9999, 8404)
    colour = idle_colour()
    backend = f"bk_app_{colour}"
    target = f"{backend}/app3"
    if states(backend).get("app3") != "UP":
        pytest.fail(f"{target} is not UP before the test: {states(backend)}")
    profile_path = shared_profile(tmp_path)
    who = Who.current(alice_env()).name  # "alice" as root, else the OS's login name
    app = bobs_console(profile_path, tmp_path)
    try:
        async with app.run_test(size=(160, 40)) as pilot:
            alice = await jaraba_ops(
                "action",
                "haproxy.drain",
                target,
                "--profile",
                str(profile_path),
                stdin=asyncio.subprocess.PIPE,
            )
            assert alice.stdin is not None
            # alice's process holds the lock while it asks her to type the target's name
            waiting = f"{who}: drain {target}, since "
            assert await until(
                pilot, lambda: (app.desk.lock_badge or "").startswith(waiting), 60
            ), (app.desk.lock_badge, actions_seen(app))
            assert (app.desk.lock_badge or "").endswith("· checks/confirmation")
            assert f"LOCK {waiting}" in header(app)
            assert f"{who} took the action lock: haproxy.drain {target}" in actions_seen(app)

            alice.stdin.write(f"{target}\n".encode())
            await alice.stdin.drain()
            out, err = await asyncio.wait_for(alice.communicate(), 120)
            assert alice.returncode == 0, (out.decode(), err.decode())

            def finished() -> bool:
                return app.desk.lock_badge is None and any(
                    "released the action lock" in m for m in actions_seen(app)
                )

            assert await until(pilot, finished, 15), actions_seen(app)
            seen = actions_seen(app)
            drain = f"haproxy.drain {target}"
            assert seen[seen.index(f"{who} took the action lock: {drain}") :] == [
                f"{who} took the action lock: {drain}",
                f"{who} started {drain} (typed)",
                f"{who}: {drain} step 1/2 ok: put {target} in drain (no new sessions)",
                f"{who}: {drain} step 2/2 ok: wait until {target} has no session (up to 120s)",
                f"{who}: {drain} VERIFIED: {target} DRAIN, 0 session(s)",
                next(m for m in seen if m.startswith(f"{who} released the action lock ({drain}")),
            ]
            assert seen[-1].endswith("(its run: verified)")
            assert "LOCK" not in header(app)
            assert states(backend)["app3"] == "DRAIN"  # the lab says so too

            # and the undo, from alice's side again (--yes: a lab profile)
            ready = await jaraba_ops(
                "action", "haproxy.ready", target, "--yes", "--profile", str(profile_path)
            )
            out, err = await asyncio.wait_for(ready.communicate(), 120)
            assert ready.returncode == 0, (out.decode(), err.decode())
            assert await until(
                pilot,
                lambda: f"{who}: haproxy.ready {target} VERIFIED" in " ".join(actions_seen(app)),
                15,
            ), actions_seen(app)
            assert states(backend)["app3"] == "UP"
    finally:
        if states(backend).get("app3") in ("DRAIN", "MAINT"):
            runtime(f"set server {target} state ready")


async def test_a_lock_left_by_a_dead_process_turns_stale_on_the_other_console(
    tmp_path: Path,
) -> None:
    require_lab(9999, 8404)
    target = f"bk_app_{idle_colour()}/app2"
    profile_path = shared_profile(tmp_path)
    who = Who.current(alice_env()).name
    app = bobs_console(profile_path, tmp_path)
    async with app.run_test(size=(160, 40)) as pilot:
        alice = await jaraba_ops(
            "action",
            "haproxy.drain",
            target,
            "--profile",
            str(profile_path),
            stdin=asyncio.subprocess.PIPE,
        )
        try:
            assert await until(
                pilot, lambda: "checks/confirmation" in (app.desk.lock_badge or ""), 60
            ), app.desk.lock_badge
        finally:
            alice.send_signal(signal.SIGKILL)  # her terminal died: nothing released the lock
            await alice.wait()
        assert await until(pilot, lambda: "STALE" in (app.desk.lock_badge or ""), 10)
        assert "(STALE: its process is gone)" in header(app)
        stale = [m for m in actions_seen(app) if "STALE" in m]
        assert stale and stale[0].startswith(f"{who}'s action lock is STALE (pid {alice.pid}")

        # nothing was started; bob clears it as the message says
        clear = await jaraba_ops("action", "--clear-stale-lock", "--profile", str(profile_path))
        out, err = await asyncio.wait_for(clear.communicate(), 60)
        assert clear.returncode == 0, (out.decode(), err.decode())
        assert await until(pilot, lambda: app.desk.lock_badge is None, 10)
        assert actions_seen(app)[-1].endswith("without acting (declined, refused or cleared)")
        assert not any(" started haproxy.drain" in m for m in actions_seen(app))
    assert states(target.split("/")[0])["app2"] == "UP"  # the killed run never changed it
