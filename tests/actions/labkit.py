"""Helpers of the action tests: lab settings, contexts, the lab's own commands, waits."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from jaraba_tui.actions import ActionContext, ActionSettings, GaleraNodeCommands, Who
from jaraba_tui.profile import Profile, load_profile
from tests.labutil import LAB_DIR, REPO

LABCTL = [sys.executable, str(REPO / "lab" / "labctl.py")]
#: On the lab's SSH host: the lab's own labctl wrapper (absolute interpreter and state dir),
#: as the lab profile runs it; the remote login shell's PATH need not hold the project.
LAB_REMOTE = [str(LAB_DIR / "bin" / "labctl")]

TEST_WHO = Who(user="tester", sudo_user=None, ssh_client="192.0.2.7", host="", pid=0)


def lab_node_commands(index: int) -> GaleraNodeCommands:
    d = LAB_DIR / "galera" / f"node{index}"
    return GaleraNodeCommands(
        start=(*LAB_REMOTE, "fault", "galera-start", str(index), "--wait"),
        stop=(*LAB_REMOTE, "fault", "galera-stop", str(index)),
        bootstrap=(
            *LAB_REMOTE,
            "fault",
            "galera-start",
            str(index),
            "--new-cluster",
            "--position",
            "{position}",
            "--wait",
        ),
        recover=(
            "/usr/sbin/mariadbd",
            f"--defaults-file={d / 'my.cnf'}",
            "--wsrep-recover",
            f"--log-error={d / 'recover.log'}",
        ),
        recover_log=str(d / "recover.log"),
        start_timeout=240.0,
        stop_timeout=120.0,
        recover_timeout=120.0,
    )


def lab_settings(profile: Profile) -> ActionSettings:
    base = ActionSettings.from_profile(profile)
    nodes = profile.galera.nodes if profile.galera else []
    return replace(
        base,
        galera={n.name: lab_node_commands(i) for i, n in enumerate(nodes, 1)},
        bluegreen=replace(
            base.bluegreen,
            frontend_url="http://127.0.0.1:8080/",
            step_pause=1.0,
            frontend_samples=12,
        ),
    )


def lab_context(audit: Path, *, read_only: bool = False) -> ActionContext:
    profile = load_profile("local")
    import os

    who = replace(TEST_WHO, host=os.uname().nodename, pid=os.getpid())
    return ActionContext.create(
        profile,
        read_only=read_only,
        settings=lab_settings(profile),
        audit_path=audit,
        who=who,
    )


def labctl(*args: str, timeout: float = 300.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*LABCTL, *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def wait_until(probe: Callable[[], bool], timeout: float, interval: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if probe():
                return True
        except Exception:
            pass
        time.sleep(interval)
    return False


async def await_until(probe: Callable[[], object], timeout: float, interval: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            result = probe()
            if asyncio.iscoroutine(result):
                result = await result
            if result:
                return True
        except Exception:
            pass
        await asyncio.sleep(interval)
    return False
