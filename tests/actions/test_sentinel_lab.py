"""Redis Sentinel failover on the lab's real Redis + Sentinels; refused without a healthy
replica (both replicas' links cut by a wrong masterauth, restored in teardown)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from jaraba_tui.actions import ActionContext, ActionRefused, TypedConfirmer, run_action
from tests.actions.labkit import labctl, wait_until
from tests.labutil import require_lab

pytestmark = pytest.mark.lab
PASSWORD = "redis_dev"  # the seed's public lab credential
PORTS = (6379, 6380, 6381)
SENTINELS = (26379, 26380, 26381)
MASTER = "jaraba-master"


def r(port: int) -> redis.Redis:
    return redis.Redis(port=port, password=PASSWORD, socket_timeout=5, decode_responses=True)


def s(port: int) -> redis.Redis:
    return redis.Redis(port=port, socket_timeout=5, decode_responses=True)


def master_port() -> int:
    ports = set()
    for p in SENTINELS:
        reply = s(p).sentinel_get_master_addr_by_name(MASTER)
        assert isinstance(reply, tuple), reply
        ports.add(int(reply[1]))
    assert len(ports) == 1, ports
    return ports.pop()


def settled() -> bool:
    """One master all Sentinels name; both replicas linked to it, caught up."""
    m = master_port()
    info = r(m).info("replication")
    if info["role"] != "master" or info.get("connected_slaves") != 2:
        return False
    for p in PORTS:
        if p != m:
            rep = r(p).info("replication")
            if rep["role"] != "slave" or rep["master_port"] != m:
                return False
            if rep["master_link_status"] != "up":
                return False
    return all(f"slave{n}" in info and info[f"slave{n}"]["lag"] <= 1 for n in range(2))


@pytest.fixture
def healthy_redis() -> Iterator[None]:
    require_lab(*PORTS, *SENTINELS)
    assert wait_until(settled, 60), "Redis/Sentinel not settled before the test"
    yield
    for p in PORTS:
        try:
            r(p).config_set("masterauth", PASSWORD)
            r(p).config_rewrite()  # a Sentinel may have rewritten the file meanwhile
        except redis.RedisError:
            pass  # down (another test's fault injection): `labctl start redis` below
    if not wait_until(settled, 30):
        labctl("start", "redis")
        assert wait_until(settled, 90), "Redis/Sentinel did not settle after the test"


async def test_failover_verified(lab_ctx: ActionContext, healthy_redis: None) -> None:
    old = master_port()
    outcome = await run_action(
        lab_ctx, "redis.failover", MASTER, confirmer=TypedConfirmer([MASTER])
    )
    assert outcome.status == "verified", outcome.left_in
    new = master_port()
    assert new != old
    info = r(old).info("replication")
    assert info["role"] == "slave" and info["master_port"] == new
    assert outcome.steps[0].command == f"SENTINEL FAILOVER {MASTER}"


async def test_failover_without_a_healthy_replica_is_refused(
    lab_ctx: ActionContext, healthy_redis: None
) -> None:
    m = master_port()
    replicas = [p for p in PORTS if p != m]
    for p in replicas:
        r(p).config_set("masterauth", "wrong-on-purpose")
        r(p).client_kill_filter(_type="master")
    assert wait_until(
        lambda: all(r(p).info("replication")["master_link_status"] == "down" for p in replicas),
        30,
    )
    with pytest.raises(ActionRefused, match="no replica has its link up"):
        await run_action(lab_ctx, "redis.failover", MASTER, confirmer=TypedConfirmer([MASTER]))
    assert master_port() == m, "nothing failed over"
    assert lab_ctx.audit.records() == []
