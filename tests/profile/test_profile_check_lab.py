"""``profile check`` against the lab: every endpoint tried concurrently, each bounded."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from jaraba_tui import profile_check
from jaraba_tui.profile import load_profile
from tests.labutil import LAB_DIR, REPO, require_lab

pytestmark = pytest.mark.lab

TARPIT = 3392


@pytest.fixture
def tarpit() -> Iterator[int]:
    labctl = [sys.executable, str(REPO / "lab" / "labctl.py"), "fault"]
    subprocess.run([*labctl, "hang", "--port", str(TARPIT)], check=True, capture_output=True)
    try:
        yield TARPIT
    finally:
        subprocess.run([*labctl, "unhang", "--port", str(TARPIT)], check=True, capture_output=True)


async def test_check_profile_on_the_lab() -> None:
    require_lab(2222, 3307, 3308, 3309, 6379, 26379, 9090, 9093, 9999, 8404)
    results = await profile_check.check_profile(load_profile("local"))
    by_layer = {(r.layer, r.name): r for r in results}
    expected = {"ssh", "galera", "proxysql", "haproxy", "redis", "sentinel", "prometheus"}
    assert expected <= {r.layer for r in results}
    for key, result in by_layer.items():
        if key[0] == "proxysql":
            continue  # the ProxySQL stand-in may be down; its row is still there
        assert result.ok, result
    assert "Synced" in by_layer[("galera", "node1")].detail
    assert by_layer[("haproxy", "runtime")].detail.startswith("HAProxy ")


def test_main_prints_a_table_or_json() -> None:
    require_lab(2222, 3307, 6379, 9090)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = profile_check.main(["local", "--json"])
    rows = json.loads(out.getvalue())
    assert code in (0, 1)
    assert code == (0 if all(r["ok"] for r in rows) else 1)
    assert {"layer", "name", "endpoint", "ok", "detail", "kind", "seconds"} == set(rows[0])
    table = io.StringIO()
    with contextlib.redirect_stdout(table):
        profile_check.main(["local"])
    assert "endpoints reachable" in table.getvalue()


def test_an_endpoint_that_never_answers_is_bounded(tmp_path: Path, tarpit: int) -> None:
    require_lab(3307, 9090)
    path = tmp_path / "p.toml"
    path.write_text(
        'name = "t"\nenvironment = "lab"\n'
        "[poll]\nconnect_timeout = 1.0\nread_timeout = 1.0\n"
        '[[galera.nodes]]\nname = "hung"\nhost = "127.0.0.1"\n'
        f"port = {tarpit}\n"
        'password = { env = "MYSQL_ROOT_PASSWORD", default_for_lab = "jaraba_root_dev" }\n'
        '[[galera.nodes]]\nname = "ok"\nhost = "127.0.0.1"\nport = 3307\n'
        'password = { env = "MYSQL_ROOT_PASSWORD", default_for_lab = "jaraba_root_dev" }\n'
        '[prometheus]\nurl = "http://127.0.0.1:9090"\n'
    )
    out = io.StringIO()
    start = time.monotonic()
    with contextlib.redirect_stdout(out):
        code = profile_check.main([str(path), "--json"])
    elapsed = time.monotonic() - start
    rows = {r["name"]: r for r in json.loads(out.getvalue())}
    assert code == 1
    assert rows["hung"]["kind"] == "timeout" and not rows["hung"]["ok"]
    assert rows["ok"]["ok"] and rows["prometheus"]["ok"]
    assert rows["ok"]["seconds"] < 1.0, "the healthy node was not delayed by the hung one"
    assert elapsed < 5


def test_unreachable_ssh_host_is_reported(tmp_path: Path, closed_port: int) -> None:
    path = tmp_path / "p.toml"
    path.write_text(
        'name = "t"\nenvironment = "lab"\n[ssh.hosts.gone]\nhost = "127.0.0.1"\n'
        f"port = {closed_port}\n"
        f'known_hosts = "{LAB_DIR}/ssh/known_hosts"\n'
    )
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = profile_check.main([str(path), "--json"])
    assert code == 1
    assert json.loads(out.getvalue())[0]["kind"] == "refused"


@pytest.fixture
def closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
