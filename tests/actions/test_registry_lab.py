"""The capability registry on a real lab snapshot, the lock between two consoles on the real
lab, and the CLI's lock commands (on a copy of the lab profile with its own audit log)."""

from __future__ import annotations

import io
import json
import os
import subprocess
from pathlib import Path

import pytest

from jaraba_tui.actions import (
    ActionContext,
    LockHeld,
    available_actions,
    list_actions,
    prepare,
)
from jaraba_tui.actions.cli import main as action_cli
from jaraba_tui.actions.lock import LockHolder
from tests.actions.labkit import lab_context
from tests.labutil import REPO, require_lab

pytestmark = pytest.mark.lab


async def test_available_actions_follow_the_snapshot(lab_ctx: ActionContext) -> None:
    require_lab(3307, 6032, 9999, 26379, 9093)
    snap = await lab_ctx.poll()
    pairs = {(a.action, a.target) for a in available_actions(snap, lab_ctx.profile)}
    hp = snap.haproxy
    assert hp is not None and hp.live_colour in ("blue", "green")
    idle = "green" if hp.live_colour == "blue" else "blue"
    assert ("bluegreen.switch", idle) in pairs
    assert ("bluegreen.switch", hp.live_colour) not in pairs
    assert ("haproxy.drain", f"bk_app_{idle}/app1") in pairs
    assert ("redis.failover", "jaraba-master") in pairs
    assert {("galera.stop", n) for n in ("node1", "node2", "node3")} <= pairs
    assert not any(a == "galera.bootstrap" for a, _ in pairs), "a Primary exists"
    assert not any(a == "galera.start" for a, _ in pairs), "every node runs"
    assert any(a == "proxysql.drain" for a, _ in pairs)
    dangerous = {a.action for a in available_actions(snap, lab_ctx.profile) if a.dangerous}
    assert {"redis.failover", "bluegreen.switch", "galera.stop"} <= dangerous
    assert "haproxy.drain" not in dangerous
    assert available_actions(snap, lab_ctx.profile, read_only=True) == []
    keys = {i.name: i.key for i in list_actions(lab_ctx.profile)}
    assert keys["haproxy.drain"] == "d" and keys["alert.silence"] == "s"


async def test_a_second_console_is_told_who_holds_the_lock(audit_path: Path) -> None:
    require_lab(9999)
    first, second = lab_context(audit_path), lab_context(audit_path)
    try:
        prepared = await prepare(first, "haproxy.drain", "bk_app_green/app1")
        with pytest.raises(LockHeld) as info:
            await prepare(second, "redis.failover", "jaraba-master")
        text = str(info.value)
        assert "tester from 192.0.2.7" in text and "haproxy.drain bk_app_green/app1" in text
        assert " since " in text and info.value.stale is False
        prepared.release()
        again = await prepare(second, "redis.failover", "jaraba-master")
        again.release()
    finally:
        await first.aclose()
        await second.aclose()
    assert first.audit.records() == [], "nothing executed, nothing audited"


@pytest.fixture
def own_profile(tmp_path: Path) -> Path:
    """The lab profile with its audit log (and so its lock) in a temporary directory."""
    text = (REPO / "profiles" / "local.toml").read_text()
    lines = [
        f'audit_log = "{tmp_path}/audit.log"' if line.startswith("audit_log =") else line
        for line in text.splitlines()
    ]
    path = tmp_path / "local.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_cli_lock_status_and_clear_stale_lock(own_profile: Path, tmp_path: Path) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    holder = LockHolder(
        user="mallory",
        ssh_client="198.51.100.4",
        host=os.uname().nodename,
        pid=dead.pid,
        pid_start=None,
        action="galera.bootstrap",
        target="galera",
        profile="local",
        since=1_700_000_000.0,
    )
    lock = tmp_path / "audit.log.local.lock"
    lock.write_text(json.dumps(holder.to_dict()))
    out = io.StringIO()
    assert (
        action_cli(["--lock-status"], profile_name=str(own_profile), read_only=False, out=out) == 0
    )
    assert "mallory from 198.51.100.4" in out.getvalue() and "[STALE]" in out.getvalue()
    out = io.StringIO()
    assert (
        action_cli(["--clear-stale-lock"], profile_name=str(own_profile), read_only=False, out=out)
        == 0
    )
    assert "cleared the stale lock of mallory" in out.getvalue() and not lock.exists()
    assert action_cli(["--clear-stale-lock"], profile_name=str(own_profile), read_only=False) == 4


def test_cli_typed_confirmation_force_and_yes(own_profile: Path, tmp_path: Path) -> None:
    from tests.actions.haproxy_lab import idle_colour, restore_servers

    require_lab(9999)
    restore_servers()
    name = str(own_profile)
    target = f"bk_app_{idle_colour()}/app3"
    answers = iter([target])
    out = io.StringIO()
    code = action_cli(
        ["haproxy.drain", target],
        profile_name=name,
        read_only=False,
        out=out,
        ask=lambda prompt: next(answers),
    )
    try:
        assert code == 0, out.getvalue()
        assert "Type the target's name" not in out.getvalue()  # the prompt goes to ask()
        assert f"set server {target} state drain" in out.getvalue()
        assert "VERIFIED" in out.getvalue()
        # --yes (lab profile): no typing; the plan is still printed.
        out = io.StringIO()
        assert (
            action_cli(
                ["haproxy.ready", target, "--yes"], profile_name=name, read_only=False, out=out
            )
            == 0
        ), out.getvalue()
        assert "Preflight checks:" in out.getvalue()
        # A failed check (the server is UP, nothing to make ready) needs --force AND the
        # second typed confirmation; the audit records the override.
        assert (
            action_cli(
                ["haproxy.ready", target], profile_name=name, read_only=False, out=io.StringIO()
            )
            == 4
        )
        typed = iter([target, "override"])
        out = io.StringIO()
        code = action_cli(
            ["haproxy.ready", target, "--force"],
            profile_name=name,
            read_only=False,
            out=out,
            ask=lambda prompt: next(typed),
        )
        assert code == 0, out.getvalue()
    finally:
        restore_servers()
    from jaraba_tui.actions import AuditLog

    records = AuditLog(tmp_path / "audit.log").records()
    started = [r for r in records if r["event"] == "started"]
    assert [r["action"] for r in started] == ["haproxy.drain", "haproxy.ready", "haproxy.ready"]
    assert [r["confirmation"] for r in started] == ["typed", "--yes", "typed + override"]
    assert started[-1]["forced"] is True
    assert [c["name"] for c in started[-1]["overridden_checks"]] == ["server state"]
    assert sum(r["event"] == "finished" for r in records) == 3
