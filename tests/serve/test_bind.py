"""`jaraba-ops serve --bind`: only the one address given; bad values say why, exit 2."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from jaraba_tui.serve import (
    Bind,
    BindError,
    PublicUrl,
    console_command,
    origin_allowed,
    parse_bind,
    parse_public_url,
)
from tests.labutil import REPO
from tests.serve.served import WS_UPGRADE, serving


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


def test_public_urls() -> None:
    assert parse_public_url("https://Ops.Example.com/console/") == PublicUrl(
        "https", "ops.example.com", 443, "/console"
    )
    assert parse_public_url("http://[::1]:8080").url == "http://[::1]:8080"
    assert parse_public_url("https://ops.example.com:443/").url == "https://ops.example.com"
    for bad, says in [
        ("ops.example.com", "write http"),
        ("ftp://ops.example.com", "write http"),
        ("https://ops.example.com:99999", "out of range"),
        ("https://ops.example.com/?a=1", "no query"),
        ("https://ops.example.com/#x", "no query"),
    ]:
        with pytest.raises(BindError, match=says):
            parse_public_url(bad)
    with pytest.raises(BindError) as err:
        parse_public_url("https://admin:s3cret@ops.example.com")
    assert "s3cret" not in str(err.value) and "no user or password" in str(err.value)


def test_origins_behind_a_reverse_proxy() -> None:
    local = Bind("127.0.0.1", 8765)
    proxy = parse_public_url("https://ops.example.com/console")
    assert origin_allowed("https://ops.example.com", local, proxy)
    assert origin_allowed("https://OPS.example.com:443", local, proxy)
    assert origin_allowed("http://127.0.0.1:8765", local, proxy)  # the bound address still
    assert not origin_allowed("http://ops.example.com", local, proxy)  # not the same site
    assert not origin_allowed("https://ops.example.com:8443", local, proxy)
    assert not origin_allowed("https://evil.example", local, proxy)
    assert not origin_allowed("https://ops.example.com", local)  # only when given


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


def test_the_cli_refuses_a_bad_public_url_with_exit_2() -> None:
    out = run_cli("--public-url", "https://u:hunter2@ops.example.com", "--profile", "local")
    assert out.returncode == 2, out
    assert out.stderr.startswith("jaraba-ops serve: --public-url") and "Traceback" not in out.stderr
    assert "hunter2" not in out.stderr


def test_the_served_page_points_its_websocket_at_the_public_url(tmp_path: Path) -> None:
    """A real `jaraba-ops serve` (textual-serve, no browser): the page names the proxy's
    websocket address; a websocket from the proxy's site passes the origin check (it is
    not refused with 403), one from another site is refused."""
    args = ("--public-url", "https://ops.example.com/console", "--profile", "local")
    with serving(*args, log=tmp_path / "serve.log") as (url, _):
        page = httpx.get(url + "/", timeout=5)
        assert "wss://ops.example.com/console/ws" in page.text
        assert "https://ops.example.com/console/static/" in page.text
        assert url.removeprefix("http://") not in page.text
        ws = WS_UPGRADE
        evil = httpx.get(url + "/ws", headers={**ws, "Origin": "https://evil.example"})
        assert evil.status_code == 403
        # the proxy's site: past the origin check (a full session would start a console)
        same = httpx.get(url + "/ws", headers={**ws, "Origin": "https://ops.example.com"})
        assert same.status_code != 403
