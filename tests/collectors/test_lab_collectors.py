"""Every collector against the lab's real servers, through both transport families.

Healthy lab: each skips with the closed port named when the lab is down, and fails instead
under ``make test`` (JARABA_REQUIRE_LAB=1). The fault tests at the end stop and restore lab
components; they run under ``make test`` or with JARABA_LAB_FAULTS=1 (see conftest).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from typing import Any

import pytest

from jaraba_tui.collectors import alerts, galera, haproxy, hosts, proxysql, redis
from jaraba_tui.collectors.sentinel import (
    PipelineClient,
    SentinelSnapshot,
    collect_sentinel,
)
from jaraba_tui.collectors.sentinel_events import SentinelEvent, sentinel_events
from jaraba_tui.collectors.stack import collect_stack
from jaraba_tui.model.events import EventKind, diff
from jaraba_tui.model.findings import Finding, Severity
from jaraba_tui.model.health import evaluate
from jaraba_tui.model.snapshot import StackSnapshot
from tests.collectors.conftest import LabIO, faults_allowed
from tests.collectors.lab_io import LabRedis, LabSql
from tests.labutil import REPO, require_lab

pytestmark = pytest.mark.lab

GALERA = (3307, 3308, 3309)
REDIS = (6379, 6380, 6381)
SENTINELS = (26379, 26380, 26381)


def problems(findings: Sequence[Finding]) -> list[str]:
    return [f.message for f in findings if f.severity is not Severity.OK]


async def test_galera_every_node_reports_size_3_synced(lab_io: LabIO) -> None:
    require_lab(*GALERA, 2222)
    snap = await galera.collect(lab_io.galera, timeout=10)
    assert [n.name for n in snap.nodes] == ["node1", "node2", "node3"]
    uuids = set()
    for n in snap.nodes:
        assert n.sql_error is None, n.sql_error
        assert n.wsrep is not None
        assert (n.wsrep.cluster_size, n.wsrep.local_state_comment) == (3, "Synced")
        assert n.wsrep.cluster_status == "Primary" and n.wsrep.ready
        assert n.process is not None and n.process.running is True, n.process
        assert n.grastate is not None and n.disk is not None and n.error_log_tail
        assert n.shell_errors == ()
        uuids.add(n.wsrep.cluster_state_uuid)
        assert n.grastate.uuid == n.wsrep.cluster_state_uuid
    assert len(uuids) == 1
    json.dumps(snap.to_dict())
    # The next probe checks the PID that served each datadir first; a stale one (a PID that
    # is no mariadbd, or no process at all) falls back to scanning /proc: same answer.
    first = {n.name: n.process for n in snap.nodes}
    for t in lab_io.galera:
        proc = first[t.name]
        if t.shell is not None and t.datadir is not None and proc is not None:
            assert t.memo.pid == proc.pids[0]
    lab_io.galera[0].memo.pid = os.getpid()
    lab_io.galera[1].memo.pid = 2**22 + 1  # above the kernel's PID_MAX_LIMIT: never a process
    again = await galera.collect(lab_io.galera, timeout=10)
    assert {n.name: n.process for n in again.nodes} == first


async def test_haproxy_six_servers_up_live_blue(lab_io: LabIO) -> None:
    require_lab(8404, 9999)
    snap = await haproxy.collect(lab_io.haproxy, timeout=5)
    assert snap.errors == () and snap.stat_source == "runtime"
    assert snap.info is not None and snap.info.version
    assert len(snap.servers) == 6 and all(s.state == "UP" for s in snap.servers), [
        (s.key, s.status) for s in snap.servers
    ]
    assert snap.live_colour == "blue" and snap.live_backend == "bk_app_blue"


async def test_haproxy_stats_csv_over_http_as_fallback(lab_io: LabIO) -> None:
    require_lab(8404)
    target = haproxy.HAProxyTarget(
        "haproxy", None, None, lab_io.haproxy.stats_http, lab_io.haproxy.stats_path
    )
    snap = await haproxy.collect(target, timeout=5)
    assert snap.stat_source == "http" and snap.errors == ()
    assert len(snap.servers) == 6 and {b.proxy for b in snap.backends} == {
        "bk_app_blue",
        "bk_app_green",
    }


async def test_redis_master_is_what_the_sentinels_agree_on(lab_io: LabIO) -> None:
    require_lab(*REDIS, *SENTINELS)
    snap = await redis.collect(lab_io.redis, lab_io.sentinels, "jaraba-master", timeout=5)
    assert snap.master_source == "sentinel-majority" and not snap.sentinels_disagree
    assert snap.master in {f"127.0.0.1:{p}" for p in REDIS}
    assert all(s.errors == () and s.quorum is not None and s.quorum.ok for s in snap.sentinels)
    master = snap.instance(snap.master or "")
    assert master is not None and master.info is not None and master.info.role == "master"
    replicas = [i for i in snap.instances if i is not master]
    assert all(i.info is not None and i.info.role == "slave" for i in replicas)
    assert all(i.info is not None and i.info.master_link_status == "up" for i in replicas)
    assert {r.address for r in master.info.replicas} == {i.address for i in replicas}
    assert problems(evaluate(StackSnapshot(collected_at=snap.collected_at, redis=snap))) == []


class _OneByOne:
    """A Sentinel client without ``pipeline``: the poll asks its questions one by one."""

    def __init__(self, client: Any) -> None:
        self.endpoint = client.endpoint
        self._client = client

    async def command(self, *args: str) -> Any:
        return await self._client.command(*args)

    async def close(self) -> None:
        pass


@pytest.mark.parametrize("lab_io", ["production"], indirect=True)
async def test_sentinel_questions_in_one_round_trip_same_answers(lab_io: LabIO) -> None:
    """The product's client pipelines a Sentinel poll's five questions: same view as asking
    them one by one (the parts that do not change from one second to the next)."""
    require_lab(*SENTINELS)

    def view(s: SentinelSnapshot) -> tuple[object, ...]:
        m = s.master
        return (
            s.errors,
            s.master_addr,
            None if m is None else (m.name, m.address, m.flags, m.quorum, m.num_other_sentinels),
            sorted((r.address, r.flags) for r in s.replicas),
            sorted((p.ip, p.port, p.runid) for p in s.peers),
            s.quorum,
        )

    for t in lab_io.sentinels:
        assert isinstance(t.client, PipelineClient)
        piped = await collect_sentinel(t, "jaraba-master", timeout=5)
        plain = await collect_sentinel(replace(t, client=_OneByOne(t.client)), "jaraba-master", 5)
        assert piped.errors == () and piped.master is not None and piped.replicas
        assert view(piped) == view(plain)


async def test_prometheus_and_alertmanager_answer(lab_io: LabIO) -> None:
    require_lab(9090, 9093)
    snap = await alerts.collect(lab_io.prometheus, lab_io.alertmanager, timeout=5)
    assert snap.prometheus is not None and snap.prometheus.error is None
    assert snap.alertmanager is not None and snap.alertmanager.errors == ()
    rules = await lab_io.prometheus_http.get("/api/v1/rules")
    assert rules.status == 200 and json.loads(rules.text)["status"] == "success"


async def test_proxysql_admin(lab_io: LabIO) -> None:
    require_lab(6032)
    snap = await proxysql.collect(lab_io.proxysql, timeout=5)
    assert snap.errors == (), snap.errors
    assert snap.servers and snap.pool and snap.galera_hostgroups
    writer = snap.galera_hostgroups[0].writer_hostgroup
    assert any(s.hostgroup == writer and s.status == "ONLINE" for s in snap.servers)
    assert snap.counters.get("ProxySQL_Uptime", 0) > 0
    version = snap.version or ""
    assert snap.is_standin == version.endswith("-jaraba-standin")
    # The next poll reads only the monitor logs' newest rows (the real server's WHERE): it
    # sees every server the full read saw, at least as recently.
    again = await proxysql.collect(lab_io.proxysql, timeout=5)
    assert again.errors == () and again.version == snap.version
    for before, after in ((snap.ping, again.ping), (snap.galera_checks, again.galera_checks)):
        assert before is not None and after is not None and before.latest
        newest = {c.address: c.time_start_us for c in after.latest}
        assert all(newest.get(c.address, -1) >= c.time_start_us for c in before.latest)


async def test_host(lab_io: LabIO) -> None:
    require_lab(2222)
    snap = await hosts.collect(lab_io.host, timeout=5)
    assert snap.errors == () and snap.load is not None and snap.memory is not None
    assert snap.cpus and snap.disks and snap.disks[0].mount == "/"


async def test_whole_stack_healthy_and_round_trips(lab_io: LabIO) -> None:
    require_lab(*GALERA, 6032, 8404, 9999, *REDIS, *SENTINELS, 9090, 9093, 2222)
    t0 = time.monotonic()
    snap = await collect_stack(lab_io.stack(), timeout=5, layer_timeout=20)
    wall = time.monotonic() - t0
    assert snap.failures == ()
    # The lab shares its host with the tests: its load is the machine's, not the stack's.
    crit = [
        f.message
        for f in evaluate(snap)
        if f.severity is Severity.CRIT and f.code not in ("host.load", "host.memory")
    ]
    assert crit == []
    assert StackSnapshot.from_dict(json.loads(json.dumps(snap.to_dict()))) == snap
    # Layers run concurrently: the poll is not the sum of its layers.
    layers = [snap.galera, snap.proxysql, snap.haproxy, snap.redis, *snap.hosts]
    total = sum(x.elapsed_ms for x in layers if x is not None) / 1000
    assert wall < total or wall < 1.0


@contextlib.asynccontextmanager
async def silent_port() -> AsyncIterator[int]:
    """A TCP port that accepts connections and never says a word."""
    held: list[asyncio.StreamWriter] = []

    async def accept(_r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        held.append(w)

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        for w in held:
            w.close()


async def test_a_port_that_never_answers_costs_its_timeout_only(lab_io: LabIO) -> None:
    require_lab(*GALERA)
    real = [replace(t, shell=None) for t in lab_io.galera[:2]]  # SQL only: time what we test
    async with silent_port() as port:
        mute = galera.GaleraNodeTarget("mute", LabSql("127.0.0.1", port, "root", "x", timeout=1.0))
        t0 = time.monotonic()
        snap = await galera.collect([*real, mute], timeout=5)
        elapsed = time.monotonic() - t0
        await mute.sql.close()
    assert snap.nodes[0].wsrep is not None and snap.nodes[1].wsrep is not None
    err = snap.nodes[2].sql_error
    assert err is not None and err.kind in ("timeout", "other"), err
    # The silent endpoint costs about its own timeout (1 s), not the others' and not more.
    assert snap.nodes[2].elapsed_ms < 2500, snap.nodes[2].elapsed_ms
    assert elapsed < 3.0, elapsed


# -- faults (stop something, see it, restore it) ------------------------------------------


def labctl(*args: str) -> None:
    subprocess.run(
        [sys.executable, str(REPO / "lab" / "labctl.py"), *args], check=True, timeout=300
    )


async def poll_until(io: LabIO, ok: object, timeout: float = 30.0) -> StackSnapshot:
    deadline = time.monotonic() + timeout
    while True:
        snap = await collect_stack(io.stack(), timeout=5, layer_timeout=20)
        if ok(snap) or time.monotonic() > deadline:  # type: ignore[operator]
            return snap
        await asyncio.sleep(1)


@pytest.mark.slow
@pytest.mark.parametrize("lab_io", ["adapters"], indirect=True)
async def test_fault_app_server_stopped_and_restored(lab_io: LabIO) -> None:
    require_lab(8404, 9999, 8102)
    faults_allowed()
    before = await collect_stack(lab_io.stack(), timeout=5)
    labctl("fault", "app-stop", "blue2")
    try:
        down = await poll_until(
            lab_io,
            lambda s: (
                s.haproxy
                and any(
                    x.key == "bk_app_blue/app2" and x.state == "DOWN" for x in s.haproxy.servers
                )
            ),
        )
        f = [x for x in evaluate(down) if x.code == "haproxy.server"]
        assert f and f[0].target == "bk_app_blue/app2" and f[0].severity is Severity.WARN
        assert ("server_down", "bk_app_blue/app2") in [
            (e.kind.value, e.target) for e in diff(before, down)
        ]
    finally:
        labctl("up", "--only", "apps")
    up = await poll_until(
        lab_io, lambda s: s.haproxy and all(x.state == "UP" for x in s.haproxy.servers)
    )
    assert ("server_up", "bk_app_blue/app2") in [(e.kind.value, e.target) for e in diff(down, up)]


@pytest.mark.slow
@pytest.mark.parametrize("lab_io", ["adapters"], indirect=True)
async def test_fault_galera_node_stopped_and_restored(lab_io: LabIO) -> None:
    require_lab(*GALERA, 2222)
    faults_allowed()
    before = await collect_stack(lab_io.stack(), timeout=5)
    labctl("fault", "galera-stop", "3")
    try:
        down = await poll_until(lab_io, lambda s: s.galera and s.galera.primary_size == 2)
        size = next(x for x in evaluate(down) if x.code == "galera.size")
        assert size.severity is Severity.CRIT
        assert size.message.startswith("galera: cluster size 2/3 — node3 not in the cluster")
        assert EventKind.NODE_LEFT in [e.kind for e in diff(before, down)]
    finally:
        labctl("up", "--only", "galera")
    up = await poll_until(lab_io, lambda s: s.galera and s.galera.primary_size == 3, timeout=60)
    assert [x.code for x in evaluate(up) if x.component == "galera"] == ["galera.ok"]
    assert EventKind.NODE_JOINED in [e.kind for e in diff(down, up)]


@pytest.mark.slow
@pytest.mark.parametrize("lab_io", ["adapters"], indirect=True)
async def test_fault_redis_master_killed_sentinel_failover_observed(lab_io: LabIO) -> None:
    require_lab(*REDIS, *SENTINELS)
    faults_allowed()
    before = await redis.collect(lab_io.redis, lab_io.sentinels, "jaraba-master", timeout=5)
    old = before.master
    assert old is not None
    seen: list[SentinelEvent] = []
    sub = LabRedis("127.0.0.1", 26379, None, timeout=120)

    async def listen() -> None:
        async for ev in sentinel_events(sub, sentinel="sentinel1"):
            seen.append(ev)

    task = asyncio.create_task(listen())
    await asyncio.sleep(0.5)
    labctl("fault", "redis-kill-master")
    try:
        deadline = time.monotonic() + 60
        after = before
        while time.monotonic() < deadline:
            after = await redis.collect(lab_io.redis, lab_io.sentinels, "jaraba-master", timeout=5)
            if after.master not in (None, old) and after.master_source == "sentinel-majority":
                break
            await asyncio.sleep(1)
        assert after.master not in (None, old)
        prev = StackSnapshot(collected_at=1.0, redis=before)
        cur = StackSnapshot(collected_at=2.0, redis=after)
        assert [e.kind for e in diff(prev, cur) if e.kind is EventKind.FAILOVER]
        switch = [e for e in seen if e.kind == "+switch-master"]
        assert switch and switch[0].old_master == old and switch[0].new_master == after.master
    finally:
        task.cancel()
        with contextlib.suppress(BaseException):
            await task
        await sub.close()
        labctl("up", "--only", "redis")
