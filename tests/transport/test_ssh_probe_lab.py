"""SshShell.probe against the lab's sshd: a long-lived shell per host, reused by probes."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import pytest

from jaraba_tui.collectors.common import run_probe
from jaraba_tui.transport._common import Timeouts
from jaraba_tui.transport.base import ProbeShell, TransportError
from jaraba_tui.transport.local import LocalShell
from jaraba_tui.transport.ssh import SshPool, SshTarget

pytestmark = pytest.mark.lab


#: The PID of the shell that ran the probe: the parent of coreutils' `timeout` (the wrapper
#: every remote command gets), whose parent is the probe shell.
SHELL_PID = ["sh", "-c", 'read -r _ _ _ ppid _ < "/proc/$PPID/stat"; echo "$ppid"']


def pool_of(target: SshTarget, sessions: int = 2) -> SshPool:
    return SshPool(
        {target.name: target}, timeouts=Timeouts(connect=3.0, read=5.0), probe_sessions=sessions
    )


async def test_probe_returns_what_run_returns(lab_target: SshTarget) -> None:
    pool = pool_of(lab_target)
    hostile = ["$(id)", "a'b\"c\\d", "line1\nline2", "", "no newline at the end"]
    script = 'printf "%s\\n" "$@"; printf "to stderr" >&2; printf tail; exit 3'
    argv = ["sh", "-c", script, "x", *hostile]
    try:
        shell = pool.shell("lab")
        assert isinstance(shell, ProbeShell)
        assert not isinstance(LocalShell(), ProbeShell)
        by_run, by_probe = await shell.run(argv), await shell.probe(argv)
    finally:
        await pool.close()
    assert by_probe == by_run
    assert by_probe.exit_status == 3
    assert by_probe.stdout == "".join(f"{h}\n" for h in hostile) + "tail"
    assert by_probe.stderr == "to stderr"


async def test_output_cannot_forge_the_end_marker(lab_target: SshTarget) -> None:
    pool = pool_of(lab_target, sessions=1)
    fake_end = "\n@@@0123456789abcdef01234567 0\n"
    try:
        shell = pool.shell("lab")
        got = await shell.probe(["printf", "%s", fake_end + "still mine"])
        after = await shell.probe(["echo", "next"])
    finally:
        await pool.close()
    assert got.stdout == fake_end + "still mine"
    assert (after.stdout, after.exit_status) == ("next\n", 0)


async def test_the_connection_prefers_aes_gcm(lab_target: SshTarget) -> None:
    """The cheap cipher on the client is negotiated with a stock OpenSSH (the lab's)."""
    pool = pool_of(lab_target, sessions=1)
    try:
        conn = await pool.connect("lab")
        ciphers = (conn.get_extra_info("send_cipher"), conn.get_extra_info("recv_cipher"))
        got = await pool.shell("lab").probe(["echo", "ok"])
    finally:
        await pool.close()
    assert ciphers == ("aes256-gcm@openssh.com",) * 2
    assert got.stdout == "ok\n"


async def test_probes_reuse_a_few_shells(lab_target: SshTarget) -> None:
    pool = pool_of(lab_target, sessions=2)
    try:
        shell = pool.shell("lab")
        pids = await asyncio.gather(*(shell.probe(SHELL_PID) for _ in range(6)))
        more = [await shell.probe(SHELL_PID) for _ in range(3)]
    finally:
        await pool.close()
    parents = {r.stdout for r in [*pids, *more]}
    assert len(parents) <= 2, parents  # 9 probes, at most 2 shells: no session per probe


async def test_a_timed_out_probe_takes_its_shell_and_the_next_works(
    lab_target: SshTarget,
) -> None:
    pool = pool_of(lab_target, sessions=1)
    seconds = f"{30 + uuid.uuid4().int % 1000 / 1000:.3f}"  # a unique `sleep` to look for
    try:
        shell = pool.shell("lab")
        before = (await shell.probe(SHELL_PID)).stdout
        start = time.monotonic()
        with pytest.raises(TransportError) as info:
            await shell.probe(["sleep", seconds], timeout=0.5)
        assert info.value.kind == "timeout"
        assert time.monotonic() - start < 3
        after = await shell.probe(SHELL_PID)
        assert after.exit_status == 0 and after.stdout != before  # a new shell
        await asyncio.sleep(2.5)  # the remote side gives up 1 s after our limit
        left = await shell.run(["pgrep", "-f", f"^sleep {seconds}$"])
        assert left.stdout == "", "the timed-out probe still runs on the host"
    finally:
        await pool.close()


async def test_a_cancelled_probe_does_not_poison_the_next(lab_target: SshTarget) -> None:
    pool = pool_of(lab_target, sessions=1)
    try:
        shell = pool.shell("lab")
        task = asyncio.create_task(shell.probe(["sh", "-c", "sleep 1; echo late"]))
        await asyncio.sleep(0.3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        got = await shell.probe(["echo", "fresh"])
        assert got.stdout == "fresh\n"  # never the cancelled probe's "late"
    finally:
        await pool.close()


async def test_probe_survives_a_dropped_connection(lab_target: SshTarget) -> None:
    pool = pool_of(lab_target)
    try:
        shell = pool.shell("lab")
        assert (await shell.probe(["echo", "one"])).stdout == "one\n"
        conn = await pool.connect("lab")
        conn.close()
        await conn.wait_closed()
        assert (await shell.probe(["echo", "two"])).stdout == "two\n"
    finally:
        await pool.close()


async def test_run_probe_uses_run_on_a_plain_shell(tmp_path: Path) -> None:
    got = await run_probe(LocalShell(), ["sh", "-c", "echo $0", "plain"], 5.0)
    assert (got.exit_status, got.stdout) == (0, "plain\n")
