"""SshPool.warm (the engine's start: connection and probe shells opened ahead of the first
probes) and one connection attempt's outcome shared by the calls that waited on it."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from jaraba_tui.profile import Profile
from jaraba_tui.transport._common import Timeouts
from jaraba_tui.transport.base import TransportError
from jaraba_tui.transport.factory import Transports
from jaraba_tui.transport.ssh import SshPool, SshTarget, ssh_pool, ssh_targets

pytestmark = pytest.mark.lab

#: The PID of the shell that ran the probe (see test_ssh_probe_lab.py).
SHELL_PID = ["sh", "-c", 'read -r _ _ _ ppid _ < "/proc/$PPID/stat"; echo "$ppid"']


class CountingPool(SshPool):
    """Counts the connection attempts (real ones: :meth:`SshPool._open` runs as is)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.attempts = 0

    async def _open(self, target: SshTarget, tunnel: object) -> object:  # type: ignore[override]
        self.attempts += 1
        return await super()._open(target, tunnel)  # type: ignore[arg-type]


def pool_of(target: SshTarget, sessions: int = 2) -> CountingPool:
    return CountingPool(
        {target.name: target}, timeouts=Timeouts(connect=3.0, read=5.0), probe_sessions=sessions
    )


async def test_warm_opens_the_probe_shells_the_first_probes_use(lab_target: SshTarget) -> None:
    pool = pool_of(lab_target, sessions=2)
    try:
        await pool.warm("lab")
        idle = list(pool._probe_idle["lab"])
        assert len(idle) == 2 and all(s.synced for s in idle)
        shell = pool.shell("lab")
        pids = await asyncio.gather(*(shell.probe(SHELL_PID) for _ in range(4)))
        assert {id(s) for s in pool._probe_idle["lab"]} == {id(s) for s in idle}
    finally:
        await pool.close()
    assert len({r.stdout for r in pids}) == 2  # 4 probes in the 2 warmed shells, no third
    assert pool.attempts == 1


async def test_probes_asked_while_warming_wait_for_its_shells(lab_target: SshTarget) -> None:
    pool = pool_of(lab_target, sessions=2)
    try:
        warming = asyncio.create_task(pool.warm("lab"))
        await asyncio.sleep(0)  # warm holds the probe slots now
        shell = pool.shell("lab")
        pids = await asyncio.gather(*(shell.probe(SHELL_PID) for _ in range(4)))
        await warming
    finally:
        await pool.close()
    assert len({r.stdout for r in pids}) <= 2
    assert pool.attempts == 1


async def test_warm_leaves_a_failure_to_the_poll(lab_target: SshTarget, closed_port: int) -> None:
    pool = pool_of(dataclasses.replace(lab_target, port=closed_port))
    try:
        await pool.warm("lab")  # no exception: the first poll reports it
        assert not pool._probe_idle.get("lab")
        with pytest.raises(TransportError) as info:
            await pool.shell("lab").probe(["true"])
    finally:
        await pool.close()
    assert info.value.kind == "refused"
    assert pool.attempts == 2  # a later call (not one that waited on warm) tries again


async def test_calls_waiting_on_a_failing_attempt_get_its_error(
    lab_target: SshTarget, closed_port: int
) -> None:
    pool = pool_of(dataclasses.replace(lab_target, port=closed_port))
    try:
        got = await asyncio.gather(*(pool.connect("lab") for _ in range(4)), return_exceptions=True)
    finally:
        await pool.close()
    assert all(isinstance(e, TransportError) and e.kind == "refused" for e in got), got
    assert pool.attempts == 1  # one attempt, not one per waiting caller


async def test_transports_use_the_pool_built_ahead(lab_profile: Profile) -> None:
    pool = ssh_pool(lab_profile)
    assert set(pool.targets) == set(lab_profile.ssh.hosts)
    assert pool.targets == ssh_targets(lab_profile)
    assert pool.timeouts == Timeouts(
        connect=lab_profile.poll.connect_timeout, read=lab_profile.poll.read_timeout
    )
    async with Transports(lab_profile, ssh=pool) as tr:
        assert tr.ssh is pool
    async with Transports(lab_profile) as tr:
        assert tr.ssh is not pool
        assert tr.ssh.targets == pool.targets
        assert tr.ssh.command_timeout == pool.command_timeout


async def test_probes_asked_while_warm_hangs_share_its_timeout(
    lab_target: SshTarget, tarpit: int
) -> None:
    hung = dataclasses.replace(lab_target, port=tarpit, connect_timeout=1.0)
    pool = pool_of(hung)
    try:
        warming = asyncio.create_task(pool.warm("lab"))
        await asyncio.sleep(0)  # warm's connection attempt is under way
        shell = pool.shell("lab")
        # (as many probes as there are probe slots: a probe queued on a slot asks later)
        got = await asyncio.gather(
            *(shell.probe(["true"]) for _ in range(2)), return_exceptions=True
        )
        await warming
    finally:
        await pool.close()
    assert all(isinstance(e, TransportError) and e.kind == "timeout" for e in got), got
    assert pool.attempts == 1  # the probes waited on warm's attempt: no second timeout each
