"""SshPool / SshShell against the lab's real OpenSSH server (127.0.0.1:2222)."""

from __future__ import annotations

import asyncio
import dataclasses
import time
import uuid
from pathlib import Path

import asyncssh
import pytest

from jaraba_tui.transport._common import Timeouts
from jaraba_tui.transport.base import TransportError
from jaraba_tui.transport.ssh import SshPool, SshTarget
from tests.labutil import LAB_DIR

pytestmark = pytest.mark.lab


def pool_of(*targets: SshTarget) -> SshPool:
    return SshPool({t.name: t for t in targets}, timeouts=Timeouts(connect=3.0, read=5.0))


async def test_hostile_arguments_are_echoed_literally(lab_target: SshTarget) -> None:
    marker = Path(f"/tmp/jaraba-pwned-{uuid.uuid4().hex[:8]}")
    hostile = [
        f"$(touch {marker})",
        f"`touch {marker}`",
        f"; touch {marker}; rm -rf /nonexistent-jaraba",
        f"| touch {marker}",
        f"&& touch {marker}",
        "a'b\"c\\d",
        "line1\nline2",
        "$HOME ${PATH} * ?",
        "",
    ]
    pool = pool_of(lab_target)
    try:
        result = await pool.shell("lab").run(["printf", "%s\\n", *hostile])
    finally:
        await pool.close()
    assert result.exit_status == 0, result.stderr
    assert result.stdout == "".join(f"{h}\n" for h in hostile)
    assert not marker.exists(), "a hostile argument was executed"  # noqa: ASYNC240


async def test_argv0_is_validated(lab_target: SshTarget) -> None:
    shell = pool_of(lab_target).shell("lab")
    for bad in (["echo hi"], ["$(id)"], [""], ["-rf"], []):
        with pytest.raises(ValueError):
            await shell.run(bad)
    with pytest.raises(ValueError):
        await shell.run("echo hi")


async def test_exit_status_stderr_and_reuse(lab_target: SshTarget) -> None:
    pool = pool_of(lab_target)
    try:
        shell = pool.shell("lab")
        result = await shell.run(["sh", "-c", "echo oops >&2; exit 3"])
        assert (result.exit_status, result.stderr) == (3, "oops\n")
        first = await pool.connect("lab")
        await shell.run(["true"])
        assert await pool.connect("lab") is first  # one connection per host, reused
        first.close()
        await first.wait_closed()
        assert (await shell.run(["echo", "back"])).stdout == "back\n"  # reconnected
        assert await pool.connect("lab") is not first
    finally:
        await pool.close()


async def test_command_timeout_kills_the_remote_command(lab_target: SshTarget) -> None:
    pool = pool_of(lab_target)
    seconds = f"{30 + uuid.uuid4().int % 1000 / 1000:.3f}"  # a unique `sleep` to look for
    start = time.monotonic()
    try:
        with pytest.raises(TransportError) as info:
            await pool.shell("lab").run(["sleep", seconds], timeout=0.5)
        assert info.value.kind == "timeout"
        assert time.monotonic() - start < 5
        await asyncio.sleep(2.5)  # the remote side gives up 1 s after our limit
        left = await pool.shell("lab").run(["pgrep", "-f", f"^sleep {seconds}$"])
        assert left.stdout == "", "the timed-out command still runs on the host"
    finally:
        await pool.close()


async def test_read_file_returns_the_tail(lab_target: SshTarget) -> None:
    pool = pool_of(lab_target)
    shell = pool.shell("lab")
    try:
        grastate = await shell.read_file(
            str(LAB_DIR / "galera" / "node1" / "data" / "grastate.dat")
        )
        assert "safe_to_bootstrap" in grastate
        log = LAB_DIR / "galera" / "node1" / "error.log"
        tail = await shell.read_file(str(log), max_bytes=200)
        assert len(tail.encode()) <= 200
        assert log.read_bytes().endswith(tail.encode())
        with pytest.raises(TransportError, match="no such file"):
            await shell.read_file("/nonexistent/jaraba/grastate.dat")
    finally:
        await pool.close()


async def test_unknown_host_key_is_refused(lab_target: SshTarget, tmp_path: Path) -> None:
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    pool = pool_of(dataclasses.replace(lab_target, known_hosts=str(empty)))
    with pytest.raises(TransportError) as info:
        await pool.connect("lab")
    await pool.close()
    message = str(info.value)
    assert info.value.kind == "hostkey"
    assert "ssh-keyscan -p 2222 127.0.0.1" in message
    assert "accept_new_host_key = true" in message
    assert "SHA256:" in message  # the offered key's fingerprint, to verify out of band


async def test_changed_host_key_is_refused_loudly(lab_target: SshTarget, tmp_path: Path) -> None:
    other = asyncssh.generate_private_key("ssh-ed25519")
    known = tmp_path / "known_hosts"
    known.write_text(f"[127.0.0.1]:2222 {other.export_public_key('openssh').decode()}")
    target = dataclasses.replace(lab_target, known_hosts=str(known), accept_new_host_key=True)
    pool = pool_of(target)
    with pytest.raises(TransportError) as info:
        await pool.connect("lab")  # even with accept_new_host_key: a changed key never passes
    await pool.close()
    message = str(info.value)
    assert info.value.kind == "hostkey"
    assert "HOST KEY MISMATCH" in message
    assert str(other.get_fingerprint()) in message
    assert "ssh-keygen -R" in message


async def test_accept_new_host_key_records_it(lab_target: SshTarget, tmp_path: Path) -> None:
    known = tmp_path / "sub" / "known_hosts"
    pool = pool_of(
        dataclasses.replace(lab_target, known_hosts=str(known), accept_new_host_key=True)
    )
    try:
        await pool.connect("lab")
    finally:
        await pool.close()
    assert known.read_text().startswith("[127.0.0.1]:2222 ssh-ed25519 ")
    assert pool.accepted_keys and pool.accepted_keys[0][0] == "lab"
    strict = pool_of(dataclasses.replace(lab_target, known_hosts=str(known)))
    try:
        assert (await strict.shell("lab").run(["true"])).exit_status == 0
    finally:
        await strict.close()


async def test_unauthorised_key_is_an_auth_error(lab_target: SshTarget, tmp_path: Path) -> None:
    key = tmp_path / "id_other"
    key.write_bytes(asyncssh.generate_private_key("ssh-ed25519").export_private_key())
    key.chmod(0o600)
    pool = pool_of(dataclasses.replace(lab_target, key_file=str(key)))
    with pytest.raises(TransportError) as info:
        await pool.connect("lab")
    await pool.close()
    assert info.value.kind == "auth"


async def test_refused_port(lab_target: SshTarget, closed_port: int) -> None:
    pool = pool_of(dataclasses.replace(lab_target, port=closed_port))
    with pytest.raises(TransportError) as info:
        await pool.connect("lab")
    await pool.close()
    assert info.value.kind == "refused"  # not "unknown host key": it is not even listening


async def test_jump_host(lab_target: SshTarget) -> None:
    inner = dataclasses.replace(lab_target, name="inner", jump="lab")
    pool = pool_of(lab_target, inner)
    try:
        result = await pool.shell("inner").run(["echo", "through the bastion"])
        assert result.stdout == "through the bastion\n"
        assert pool._conns.keys() == {"lab", "inner"}
    finally:
        await pool.close()
