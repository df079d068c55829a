"""`jaraba-ops serve --bind`: only the one address given; bad values say why, exit 2."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from jaraba_tui.serve import Bind, BindError, console_command, origin_allowed, parse_bind
from tests.labutil import REPO


def test_good_binds() -> None:
    assert parse_bind("127.0.0.1:8765") == Bind("127.0.0.1", 8765)
    assert parse_bind("localhost:9000") == Bind("127.0.0.1", 9000)
    v6 = parse_bind("[::1]:8080")
    assert v6 == Bind("::1", 8080) and v6.url == "http://[::1]:8080"
    assert parse_bind("192.0.2.10:8765", allow_remote=True) == Bind("192.0.2.10", 8765)


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("0.0.0.0:8765", "every interface"),
        ("[::]:8765", "every interface"),
        ("192.0.2.10:8765", "--allow-remote"),
        ("bastion.example:8765", "not an IP address"),
        ("127.0.0.1", "no port"),
        ("127.0.0.1:0", "from 1 to 65535"),
        ("127.0.0.1:http", "from 1 to 65535"),
        ("::1:8765", "brackets"),
        ("[::1]8765", "[ADDRESS]:PORT"),
    ],
)
def test_bad_binds_say_why(value: str, says: str) -> None:
    with pytest.raises(BindError, match=None) as err:
        parse_bind(value)
    assert says in str(err.value)


def test_every_interface_is_refused_even_with_allow_remote() -> None:
    with pytest.raises(BindError):
        parse_bind("0.0.0.0:8765", allow_remote=True)


def test_the_served_command_forces_read_only() -> None:
    cmd = console_command("/tmp/x y.toml", theme="jaraba-dark")
    assert cmd.startswith(sys.executable) and "--read-only" in cmd.split()
    assert "'/tmp/x y.toml'" in cmd  # quoted for the shell textual-serve runs it in


def test_origins() -> None:
    local = Bind("127.0.0.1", 8765)
    assert origin_allowed(None, local)  # a script, not a page
    assert origin_allowed("http://127.0.0.1:8765", local)
    assert origin_allowed("http://localhost:8765", local)
    assert not origin_allowed("http://evil.example", local)
    assert not origin_allowed("http://127.0.0.1:9999", local)
    assert not origin_allowed("null", local)


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "jaraba_tui", "serve", *args],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_cli_refuses_bad_binds_with_exit_2() -> None:
    for value in ("0.0.0.0:8765", "nonsense", "10.1.2.3:80"):
        out = run_cli("--bind", value, "--profile", "local")
        assert out.returncode == 2, out
        assert out.stderr.startswith("jaraba-ops serve: --bind") and "Traceback" not in out.stderr


def test_the_cli_says_when_the_port_is_taken() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        out = run_cli("--bind", f"127.0.0.1:{port}", "--profile", "local")
    assert out.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in out.stderr and "Traceback" not in out.stderr
