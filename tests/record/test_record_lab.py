"""Recording the live console on the lab: every layer's data, findings, an action's audit
records, no secret; `jaraba-ops --record` through the real CLI in tmux; `jaraba-ops report`
on the live profile."""

from __future__ import annotations

import asyncio
import gzip
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from jaraba_tui.actions.audit import AuditLog, Who
from jaraba_tui.model.snapshot import LAYERS
from jaraba_tui.profile import load_profile
from jaraba_tui.record import load_recording
from jaraba_tui.record.live import recording
from jaraba_tui.record.writer import Recorder
from jaraba_tui.resources import themes_dir
from jaraba_tui.secrets import PUBLIC_LAB_CREDENTIALS
from jaraba_tui.ui.app import ConsoleInfo, JarabaApp
from jaraba_tui.ui.source import engine_source
from tests.labutil import REPO, require_lab

pytestmark = pytest.mark.lab

PORTS = (3307, 3308, 3309, 6032, 8404, 6379, 26379, 9090, 9093, 2222)
#: The lab's passwords (user names of the same table are public words, not secrets).
PASSWORDS = sorted(c for c in PUBLIC_LAB_CREDENTIALS if c.endswith("_dev"))


def assert_no_password(path: Path) -> None:
    with gzip.open(path) as f:
        text = f.read().decode()
    leaked = [p for p in PASSWORDS if p in text]
    assert not leaked, f"lab passwords in the recording: {leaked}"


async def test_the_console_records_what_it_sees_and_the_actions(tmp_path: Path) -> None:
    require_lab(*PORTS)
    profile = load_profile("local")
    out = tmp_path / "live.jsonl.gz"
    audit_path = tmp_path / "audit.log"  # the shared lab's audit log is left alone
    recorder = Recorder(
        out, profile=profile.name, environment=profile.environment, flush_interval=0.5
    )
    factory = recording(
        engine_source(profile), recorder, audit_path=audit_path, profile=profile.name
    )
    app = JarabaApp(
        ConsoleInfo.from_profile(profile, read_only=True),
        factory,
        state_path=tmp_path / "ui.json",
        theme_dirs=[themes_dir()],
    )
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.latest is not None and set(LAYERS) <= set(app.latest.states))
        log = AuditLog(audit_path)
        who = Who.current()
        log.record(
            "started",
            "run-rec-test",
            who=who,
            profile=profile,
            action="haproxy.drain",
            target="bk_app_blue/app2",
            dangerous=False,
        )
        log.record(
            "finished",
            "run-rec-test",
            who=who,
            profile=profile,
            action="haproxy.drain",
            target="bk_app_blue/app2",
            status="verified",
            outcome={"message": "drained"},
        )
        await pilot.pause(2.5)  # the recorder follows the audit log every second
        polls = len(load_recording(out).updates)  # readable while it is being written
        assert polls >= len(LAYERS)
        await app.action_quit()
    rec = load_recording(out)
    assert not rec.truncated, rec.damage
    fresh = {f.update.layer for f in rec.updates if f.fresh}  # type: ignore[union-attr]
    assert set(LAYERS) <= fresh
    last = rec.updates[-1].update
    assert last is not None and last.findings
    assert last.snapshot.galera is not None and len(last.snapshot.galera.nodes) == 3
    events = [r["event"] for r in rec.audit_records]
    assert events == ["started", "finished"]
    assert rec.audit_records[0]["who"]["user"] == who.user  # type: ignore[index]
    assert_no_password(out)


async def until(pilot: Pilot[Any], cond: Any, limit: float = 60.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while loop.time() < deadline and not cond():
        await pilot.pause(0.25)
    assert cond()


@pytest.mark.slow
def test_record_flag_through_the_cli_in_tmux(tmp_path: Path) -> None:
    require_lab(*PORTS)
    if shutil.which("tmux") is None:
        pytest.skip("needs tmux")
    out = tmp_path / "cli.jsonl.gz"
    sock = f"jrec-{uuid.uuid4().hex[:8]}"
    cmd = (
        f"cd {REPO} && env PYTHONPATH={REPO} XDG_STATE_HOME={tmp_path}/state "
        f"XDG_CONFIG_HOME={tmp_path}/config TERM=xterm-256color {sys.executable} -m jaraba_tui "
        f"--read-only --record {out}; echo EXIT=$? > {tmp_path}/exit; sleep 30"
    )
    env = {**os.environ}
    subprocess.run(
        ["tmux", "-L", sock, "new-session", "-d", "-x", "120", "-y", "40", cmd], check=True, env=env
    )
    try:
        deadline = time.monotonic() + 60
        count = 0
        while time.monotonic() < deadline:
            time.sleep(1.0)
            if out.exists() and out.stat().st_size > 0:
                try:
                    count = len(load_recording(out).updates)
                except Exception:
                    count = 0
                if count >= 2 * len(LAYERS):
                    break
        assert count >= 2 * len(LAYERS), "the recording grows while the console runs"
        subprocess.run(["tmux", "-L", sock, "send-keys", "q"], check=True)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not (tmp_path / "exit").exists():
            time.sleep(0.2)
        assert (tmp_path / "exit").read_text().strip() == "EXIT=0"
    finally:
        subprocess.run(["tmux", "-L", sock, "kill-server"], capture_output=True)
    rec = load_recording(out)
    assert not rec.truncated and rec.profile == "local"
    assert_no_password(out)


def test_live_report_polls_once(tmp_path: Path) -> None:
    require_lab(*PORTS)
    target = tmp_path / "live.md"
    out = subprocess.run(
        [sys.executable, "-m", "jaraba_tui", "report", "-o", str(target)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert out.returncode == 0, out.stderr
    text = target.read_text()
    assert "Source: a live poll of profile local" in text
    for layer in ("Galera", "ProxySQL", "HAProxy", "Redis/Sentinel", "Alerts", "Hosts"):
        assert f"| {layer} |" in text
    assert not [p for p in PASSWORDS if p in text]
