"""The CLI: replay/report refuse bad recordings (exit 2, one sentence, no traceback);
report from a recording; demo in a terminal with no lab reachable (an empty netns)."""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from jaraba_tui.record.demo import DEMO_FILE, demo_recording
from tests.labutil import REPO
from tests.record.helpers import SMALL


def cli(
    *args: str, cwd: Path | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "jaraba_tui", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd or REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


def bad_files(tmp: Path) -> dict[str, Path]:
    files = {
        "missing": tmp / "missing.jsonl.gz",
        "empty": tmp / "empty.jsonl.gz",
        "not-gzip": tmp / "plain.jsonl",
        "garbage": tmp / "garbage.jsonl.gz",
        "version": tmp / "v99.jsonl.gz",
        "no-update": tmp / "header-only.jsonl.gz",
    }
    files["empty"].write_bytes(b"")
    files["not-gzip"].write_text("not a recording\n")
    with gzip.open(files["garbage"], "wb") as f:
        f.write(b"\x00\x01 garbage\n{{{\n")
    with gzip.open(files["version"], "wb") as f:
        f.write(b'{"type":"header","format":"jaraba-ops-recording","version":99}\n')
    with gzip.open(files["no-update"], "wb") as f:
        f.write(b'{"type":"header","format":"jaraba-ops-recording","version":1}\n')
    return files


@pytest.mark.parametrize("command", ["replay", "report"])
def test_bad_recordings_exit_2_with_a_message(tmp_path: Path, command: str) -> None:
    for name, path in bad_files(tmp_path).items():
        if command == "report" and name == "no-update":
            continue  # a report of an empty recording is an (empty) report
        args = (
            [command, str(path)]
            if command == "replay"
            else [command, "--from-recording", str(path)]
        )
        out = cli(*args)
        assert out.returncode == 2, (name, out.stdout, out.stderr)
        assert "Traceback" not in out.stderr and "Traceback" not in out.stdout
        assert out.stderr.startswith("jaraba-ops: "), (name, out.stderr)
        assert str(path) in out.stderr, (name, out.stderr)


def test_replay_rejects_bad_speed_and_time() -> None:
    out = cli("replay", str(SMALL), "--speed", "1000")
    assert out.returncode == 2 and "--speed must be between" in out.stderr
    out = cli("replay", str(SMALL), "--at", "tomorrow")
    assert out.returncode == 2 and "--at: unreadable time" in out.stderr


def test_report_from_a_recording(tmp_path: Path) -> None:
    target = tmp_path / "incident.md"
    out = cli("report", "--from-recording", str(SMALL), "-o", str(target))
    assert out.returncode == 0, out.stderr
    assert f"report written to {target}" in out.stderr
    text = target.read_text()
    assert text.startswith("# Incident report: local (lab)")
    for section in ("## Current findings", "## State of every layer", "## Timeline", "## Actions"):
        assert section in text
    for layer in ("Galera", "ProxySQL", "HAProxy", "Redis/Sentinel", "Alerts", "Hosts"):
        assert f"| {layer} |" in text
    assert "bk_app_blue/app2 went DOWN" in text
    assert "started bluegreen.switch on green" in text
    assert "bluegreen.switch on blue: VERIFIED" in text
    stdout = cli("report", "--from-recording", str(SMALL))
    assert stdout.returncode == 0 and stdout.stdout.startswith("# Incident report")
    under_a_file = target / "x.md"  # target is a file: no directory can be made there
    bad = cli("report", "--from-recording", str(SMALL), "-o", str(under_a_file))
    assert bad.returncode == 2 and "cannot write" in bad.stderr and "Traceback" not in bad.stderr


def test_the_demo_recording_ships_inside_the_package() -> None:
    assert demo_recording() == DEMO_FILE
    assert DEMO_FILE.is_relative_to(REPO / "jaraba_tui")
    assert DEMO_FILE.stat().st_size < 400 * 1024


def _netns_possible() -> str | None:
    if os.geteuid() != 0 or shutil.which("ip") is None or shutil.which("tmux") is None:
        return "needs root, ip and tmux"
    return None


@pytest.mark.slow
def test_demo_runs_with_no_lab_reachable(tmp_path: Path) -> None:
    """`jaraba-ops demo` in tmux inside an empty network namespace (no lab, no network):
    the console shows the recorded incident and quits on q."""
    why = _netns_possible()
    if why:
        pytest.skip(why)
    ns = f"jrec-demo-{uuid.uuid4().hex[:8]}"
    sock = f"jrec-{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "netns", "add", ns], check=True)
    try:
        subprocess.run(["ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up"], check=True)
        cmd = (
            f"cd {REPO} && env PYTHONPATH={REPO} JARABA_LAB_DIR={tmp_path}/nolab "
            f"XDG_STATE_HOME={tmp_path}/state XDG_CONFIG_HOME={tmp_path}/config "
            f"TERM=xterm-256color ip netns exec {ns} {sys.executable} -m jaraba_tui demo "
            f"--paused --at 100%; echo EXIT=$? > {tmp_path}/exit; sleep 30"
        )
        subprocess.run(
            ["tmux", "-L", sock, "new-session", "-d", "-x", "100", "-y", "30", cmd], check=True
        )
        screen = ""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            time.sleep(0.5)
            screen = subprocess.run(
                ["tmux", "-L", sock, "capture-pane", "-p"], capture_output=True, text=True
            ).stdout
            if "DEMO" in screen and "LIVE" in screen:
                break
        (tmp_path / "screen.txt").write_text(screen)
        assert "DEMO ❚❚ PAUSED" in screen, screen
        assert "READ-ONLY" in screen and "Galera" in screen and "LIVE" in screen, screen
        subprocess.run(["tmux", "-L", sock, "send-keys", "q"], check=True)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not (tmp_path / "exit").exists():
            time.sleep(0.2)
        assert (tmp_path / "exit").read_text().strip() == "EXIT=0"
    finally:
        subprocess.run(["tmux", "-L", sock, "kill-server"], capture_output=True)
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
