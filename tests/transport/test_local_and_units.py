"""LocalShell, and the transport helpers that need no lab."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from pathlib import Path

import pytest

from jaraba_tui.secrets import register_secret_value
from jaraba_tui.transport._common import DaemonWorker, error, validate_argv
from jaraba_tui.transport.base import TransportError
from jaraba_tui.transport.local import LocalShell
from jaraba_tui.transport.ssh import SshTarget, _changed_key_message, _unknown_key_message


async def test_local_shell_never_interprets_arguments(tmp_path: Path) -> None:
    marker = tmp_path / f"pwned-{uuid.uuid4().hex[:6]}"
    hostile = [f"$(touch {marker})", f"; touch {marker}", f"`touch {marker}`", "a'b\"c", "x\ny"]
    result = await LocalShell().run(["printf", "%s\\n", *hostile])
    assert result.exit_status == 0
    assert result.stdout == "".join(f"{h}\n" for h in hostile)
    assert not marker.exists()


async def test_local_shell_status_and_missing_program() -> None:
    shell = LocalShell()
    result = await shell.run(["sh", "-c", "echo err >&2; exit 4"])
    assert (result.exit_status, result.stderr) == (4, "err\n")
    with pytest.raises(TransportError, match="program not found"):
        await shell.run(["jaraba-no-such-program"])


async def test_local_shell_timeout_kills_the_whole_group(tmp_path: Path) -> None:
    marker = tmp_path / "late"
    script = f"(sleep 2; touch {marker}) & sleep 30"
    start = time.monotonic()
    with pytest.raises(TransportError) as info:
        await LocalShell().run(["sh", "-c", script], timeout=0.5)
    assert info.value.kind == "timeout"
    assert time.monotonic() - start < 3.5
    await asyncio.sleep(2.5)
    assert not marker.exists(), "a child of the timed-out command survived"


async def test_local_read_file_tail(tmp_path: Path) -> None:
    path = tmp_path / "log"
    path.write_text("".join(f"line {i}\n" for i in range(1000)))
    shell = LocalShell()
    assert (await shell.read_file(str(path), max_bytes=9)) == "line 999\n"
    assert (await shell.read_file(str(path))).startswith("line 0\n")
    with pytest.raises(TransportError, match="no such file"):
        await shell.read_file(str(tmp_path / "missing"))


@pytest.mark.parametrize(
    "argv",
    [[], [""], ["echo hi"], ["$(id)"], ["-rf"], ["a;b"], ["ok", "nul\x00"], "echo hi", b"echo"],
)
def test_validate_argv_refuses(argv: object) -> None:
    with pytest.raises(ValueError):
        validate_argv(argv)  # type: ignore[arg-type]


def test_validate_argv_accepts() -> None:
    assert validate_argv(("/usr/bin/systemctl", "start", "$x; y")) == [
        "/usr/bin/systemctl",
        "start",
        "$x; y",
    ]


def test_errors_are_scrubbed_of_known_secrets() -> None:
    register_secret_value("Sup3r-Secret-Transport")
    exc = error("auth failed for Sup3r-Secret-Transport", kind="auth", endpoint="db")
    assert "Sup3r-Secret-Transport" not in str(exc)
    assert (exc.kind, exc.endpoint) == ("auth", "db")


async def test_daemon_worker_threads_are_daemons() -> None:
    worker = DaemonWorker("t")
    name = await worker.run(lambda: threading.current_thread().name)
    assert name == "t"
    thread = next(t for t in threading.enumerate() if t.name == "t")
    assert thread.daemon
    with pytest.raises(ZeroDivisionError):
        await worker.run(lambda: 1 / 0)
    worker.close()


def test_host_key_messages_say_how_to_fix() -> None:
    target = SshTarget(name="db1", host="node1.db.jaraba.io")
    unknown = _unknown_key_message(target, Path("/k"), "SHA256:abc")
    assert "ssh-keyscan node1.db.jaraba.io >> /k" in unknown
    assert "[ssh.hosts.db1]" in unknown and "SHA256:abc" in unknown
    changed = _changed_key_message(target, Path("/k"), ["SHA256:old"], "SHA256:new")
    assert "HOST KEY MISMATCH" in changed and "SHA256:old" in changed
    assert "ssh-keygen -R 'node1.db.jaraba.io' -f /k" in changed


def test_http_transport_leaves_out_httpx_command_line_client() -> None:
    """httpx's CLI (click, pygments) is never imported by the transport; httpx still works."""
    import subprocess
    import sys

    code = (
        "import sys, jaraba_tui.transport.http, httpx\n"
        "assert sys.modules['httpx._main'] is None\n"
        "assert 'click' not in sys.modules and 'pygments' not in sys.modules\n"
        "assert httpx.Request('GET', 'http://x/').url.host == 'x'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_http_client_imports_httpcore_without_trio_and_trio_stays_importable() -> None:
    """httpcore is imported with trio hidden (asyncio only here); a request still works
    and trio, when installed, can be imported afterwards as before."""
    import importlib.util
    import subprocess
    import sys

    code = (
        "import asyncio, sys\n"
        "from jaraba_tui.transport._common import Timeouts\n"
        "from jaraba_tui.transport.http import HttpxClient\n"
        "async def answer(reader, writer):\n"
        "    await reader.readuntil(b'\\r\\n\\r\\n')\n"
        "    writer.write(b'HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok')\n"
        "    await writer.drain(); writer.close()\n"
        "async def main():\n"
        "    server = await asyncio.start_server(answer, '127.0.0.1', 0)\n"
        "    port = server.sockets[0].getsockname()[1]\n"
        "    client = HttpxClient('t', f'http://127.0.0.1:{port}', timeouts=Timeouts(2, 2))\n"
        "    got = await client.get('/')\n"
        "    await client.close(); server.close()\n"
        "    return got\n"
        "got = asyncio.run(main())\n"
        "assert (got.status, got.text) == (200, 'ok'), got\n"
        "assert 'httpcore' in sys.modules and 'trio' not in sys.modules\n"
    )
    if importlib.util.find_spec("trio") is not None:
        code += "import trio\nassert trio.Lock\n"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_sql_preferred_tls_context_matches_pymysql_without_loading_cas() -> None:
    """pymysql's "preferred" TLS context (no ssl option) verifies nothing: ours has its
    settings, is built once, and loads no CA store (pymysql's loads the system's)."""
    import ssl

    import pymysql

    from jaraba_tui.transport.sql import _Connection, preferred_tls_context

    theirs = pymysql.connections.Connection(host="127.0.0.1", defer_connect=True)
    ours = _Connection(host="127.0.0.1", defer_connect=True)
    assert ours.ctx is preferred_tls_context() is _Connection(defer_connect=True).ctx
    for name in ("verify_mode", "check_hostname", "verify_flags", "options", "protocol"):
        assert getattr(ours.ctx, name) == getattr(theirs.ctx, name), name
    assert (ours.ctx.minimum_version, ours.ctx.maximum_version) == (
        theirs.ctx.minimum_version,
        theirs.ctx.maximum_version,
    )
    assert ours.ctx.verify_mode == ssl.CERT_NONE
    assert ours.ctx.cert_store_stats()["x509_ca"] == 0
    assert (ours.ssl, ours._ssl_required) == (theirs.ssl, theirs._ssl_required)
    # explicit TLS options still get pymysql's own context
    strict = _Connection(host="127.0.0.1", defer_connect=True, ssl_verify_cert=True)
    assert strict.ctx is not preferred_tls_context() and strict._ssl_required
