"""Secrets sweep and SSH host keys, through the CLI against the lab (marked lab).

Secrets: distinctive values in the environment variables the lab profile reads (wrong for
the lab, so every SQL/Redis/HAProxy-stats login takes its error path); plus a profile whose
endpoints are a closed port and a port that accepts and never answers. No value may appear
in any output, the audit log, or any file the run wrote under its own XDG dirs.
SSH: an unknown host key is refused with the fix (ssh-keyscan / accept_new_host_key); a
changed key is refused loudly (HOST KEY MISMATCH).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.hostile.conftest import CliDriver, Listener, cli_env
from tests.hostile.garbage_servers import closed_port
from tests.labutil import LAB_DIR, require_lab

pytestmark = pytest.mark.lab

SECRETS = {
    "MYSQL_ROOT_PASSWORD": "Hx7-mysql-Q9zWv2",
    "PROXYSQL_ADMIN_PASSWORD": "Hx7-proxysql-K3pLm8",
    "REDIS_PASSWORD": "Hx7-redis-T5nRq1",
    "HAPROXY_STATS_PASSWORD": "Hx7-haproxy-B2xYc4",
}


def swept_files(*roots: Path) -> list[Path]:
    return [p for root in roots if root.exists() for p in root.rglob("*") if p.is_file()]


def assert_clean(text: str, where: str) -> None:
    for name, value in SECRETS.items():
        assert value not in text, f"{name}'s value appears in {where}"


def test_no_secret_anywhere(tmp_path: Path, cli_driver: CliDriver, listener: Listener) -> None:
    require_lab(3307, 6032, 6379, 8404, 2222)
    home = tmp_path / "home"
    env = cli_env(
        **SECRETS,
        XDG_STATE_HOME=str(home / "state"),
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_CACHE_HOME=str(home / "cache"),
        JARABA_LAB_DIR=str(LAB_DIR),
    )
    # endpoints on a closed port and on a port that accepts and never answers
    hung = tmp_path / "hung.toml"
    hung.write_text(
        f"""name = "hung"
environment = "staging"
[[galera.nodes]]
name = "node1"
host = "127.0.0.1"
port = {listener.port}
password = {{ env = "MYSQL_ROOT_PASSWORD" }}
[proxysql]
host = "127.0.0.1"
port = {closed_port()}
password = {{ env = "PROXYSQL_ADMIN_PASSWORD" }}
[[redis.instances]]
name = "redis1"
host = "127.0.0.1"
port = {listener.port}
password = {{ env = "REDIS_PASSWORD" }}
[haproxy]
stats_url = "http://127.0.0.1:{closed_port()}/stats"
stats_user = "admin"
stats_password = {{ env = "HAPROXY_STATS_PASSWORD" }}
[poll]
connect_timeout = 1.0
read_timeout = 1.5
"""
    )
    runs = [
        ["--profile", "local", "status"],
        ["--profile", "local", "status", "--json"],
        ["--profile", "local", "status", "-v"],
        ["--profile", "local", "check"],
        ["--profile", "local", "profile", "check"],
        ["--profile", "local", "verify", "--json"],
        ["--profile", "local", "action", "galera.stop", "node1", "--dry-run"],
        ["--profile", "local", "--read-only", "action", "haproxy.drain", "blue/app1", "--yes"],
        ["--profile", "local", "--debug", "status"],
        ["--profile", str(hung), "status", "--json"],
        ["--profile", str(hung), "check"],
        ["--profile", str(hung), "profile", "check"],
    ]
    audit = LAB_DIR / "audit.log"
    audit_before = audit.stat().st_size if audit.exists() else 0
    for argv in runs:
        run = cli_driver.run(argv, env=env, cwd=tmp_path, timeout=180)
        assert not run.timed_out, argv
        assert "Traceback" not in run.output or "--debug" in argv, (argv, run.stderr[-1500:])
        assert_clean(run.output, " ".join(argv))
    if audit.exists():
        with audit.open("rb") as f:
            f.seek(audit_before)
            assert_clean(f.read().decode("utf-8", "replace"), str(audit))
    for path in swept_files(home, tmp_path):
        if path.suffix in (".toml",):
            continue
        assert_clean(path.read_bytes().decode("utf-8", "replace"), str(path))


def test_wrong_passwords_take_the_auth_path(tmp_path: Path, cli_driver: CliDriver) -> None:
    """Control for the sweep: with these values the lab answers 'access denied'."""
    require_lab(3307, 6379)
    run = cli_driver.run(
        ["--profile", "local", "status", "--json"],
        env=cli_env(**SECRETS, JARABA_LAB_DIR=str(LAB_DIR)),
        cwd=tmp_path,
        timeout=180,
    )
    text = run.output.lower()
    assert "auth" in text or "denied" in text or "wrongpass" in text, run.output[-2000:]
    assert_clean(run.output, "status --json")


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_recording_holds_no_secret(tmp_path: Path) -> None:
    """--record (being built by another helper): skips only while the option does not exist."""
    require_lab(3307, 6379)
    env = cli_env(**SECRETS, JARABA_LAB_DIR=str(LAB_DIR))
    helptext = subprocess.run(
        ["python3", "-m", "jaraba_tui", "--help"], capture_output=True, text=True, env=env
    ).stdout
    if "--record" not in helptext:
        pytest.skip("jaraba-ops has no --record option yet")
    rec = tmp_path / "rec.jsonl"
    session = f"hostile-{os.getpid()}"
    cmd = f"cd {tmp_path} && python3 -m jaraba_tui --profile local --record {rec}"
    subprocess.run(
        ["tmux", "new-session", "-d", "-s", session, "-x", "100", "-y", "30", cmd],
        env=env,
        check=True,
    )
    try:
        screens = []
        time.sleep(12)
        for key in ["1", "2", "3", "4", "5", "6", "7", "8", "question_mark"]:
            subprocess.run(
                ["tmux", "send-keys", "-t", session, "?" if key == "question_mark" else key],
                check=False,
            )
            time.sleep(1.0)
            cap = subprocess.run(
                ["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True
            )
            screens.append(cap.stdout)
        subprocess.run(["tmux", "send-keys", "-t", session, "Escape"], check=False)
        subprocess.run(["tmux", "send-keys", "-t", session, "q"], check=False)
        time.sleep(3)
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], check=False, capture_output=True)
    assert any(s.strip() for s in screens)
    for i, s in enumerate(screens):
        assert_clean(s, f"screen {i + 1}")
    if rec.exists():
        assert_clean(rec.read_bytes().decode("utf-8", "replace"), str(rec))


# -- SSH host keys --------------------------------------------------------------------------
def ssh_profile(tmp: Path, known_hosts: Path) -> Path:
    path = tmp / "ssh.toml"
    path.write_text(
        f"""name = "sshkeys"
environment = "lab"
[ssh.hosts.lab]
host = "127.0.0.1"
port = 2222
user = "root"
key_file = "{LAB_DIR}/ssh/id_ed25519"
known_hosts = "{known_hosts}"
use_agent = false

[[galera.nodes]]
name = "node1"
host = "127.0.0.1"
port = 3307
password = {{ env = "MYSQL_ROOT_PASSWORD", default_for_lab = "jaraba_root_dev" }}
ssh = "lab"
datadir = "{LAB_DIR}/galera/node1/data"
"""
    )
    return path


def test_unknown_host_key_is_refused_with_the_fix(tmp_path: Path, cli_driver: CliDriver) -> None:
    require_lab(2222, 3307)
    known = tmp_path / "known_hosts"
    known.write_text("")
    run = cli_driver.run(
        ["--profile", str(ssh_profile(tmp_path, known)), "status", "--json"],
        env=cli_env(),
        cwd=tmp_path,
        timeout=120,
    )
    assert run.rc == 0 and "Traceback" not in run.output, run.stderr[-1500:]
    assert "is not in" in run.stdout and "refusing to connect" in run.stdout
    assert "ssh-keyscan -p 2222 127.0.0.1" in run.stdout
    assert "accept_new_host_key = true" in run.stdout
    assert known.read_text() == "", "an unknown key was recorded without accept_new_host_key"


def test_changed_host_key_is_refused_loudly(tmp_path: Path, cli_driver: CliDriver) -> None:
    require_lab(2222, 3307)
    other = tmp_path / "other_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    known = tmp_path / "known_hosts"
    known.write_text("[127.0.0.1]:2222 " + (tmp_path / "other_key.pub").read_text())
    before = known.read_text()
    run = cli_driver.run(
        ["--profile", str(ssh_profile(tmp_path, known)), "status", "--json"],
        env=cli_env(),
        cwd=tmp_path,
        timeout=120,
    )
    assert run.rc == 0 and "Traceback" not in run.output, run.stderr[-1500:]
    assert "HOST KEY MISMATCH" in run.stdout and "man in the middle" in run.stdout
    assert known.read_text() == before
