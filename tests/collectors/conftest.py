"""Fixtures for the collector tests that talk to the lab's real servers.

``lab_io`` builds the transports for a test in one of two ways (the ``lab_io`` fixture is
parametrised over both):

- ``adapters``: the small test-only adapters in ``tests/collectors/lab_io.py``;
- ``production``: ``jaraba_tui.transport.factory.Transports`` built from ``profiles/local.toml``
  (skipped, with the reason, while those transports cannot be imported or built).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from jaraba_tui.collectors import alerts, galera, haproxy, hosts, proxysql, redis
from jaraba_tui.collectors.sentinel import SentinelTarget
from jaraba_tui.collectors.stack import StackTargets
from jaraba_tui.transport.base import HttpClient, RedisClient, Shell
from tests.collectors.lab_io import LabHAProxy, LabHttp, LabRedis, LabSql, LocalShell
from tests.labutil import LAB_DIR

MASTER = "jaraba-master"
ROOT_PW = "jaraba_root_dev"  # the seed's public Quick Start dev credentials
REDIS_PW = "redis_dev"


@dataclass
class LabIO:
    """Everything a collector needs to reach the lab, built by one transport family."""

    kind: str
    galera: list[galera.GaleraNodeTarget]
    proxysql: proxysql.ProxySQLTarget
    haproxy: haproxy.HAProxyTarget
    redis: list[redis.RedisTarget]
    sentinels: list[SentinelTarget]
    prometheus: alerts.PrometheusTarget
    alertmanager: alerts.AlertmanagerTarget
    host: hosts.HostTarget
    sentinel_client: RedisClient
    prometheus_http: HttpClient
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    def stack(self) -> StackTargets:
        return StackTargets(
            galera=self.galera,
            proxysql=self.proxysql,
            haproxy=self.haproxy,
            redis=self.redis,
            sentinels=self.sentinels,
            master_name=MASTER,
            prometheus=self.prometheus,
            alertmanager=self.alertmanager,
            hosts=[self.host],
            profile="local",
            environment="lab",
        )


def _node_paths(i: int) -> tuple[str, str]:
    d = LAB_DIR / "galera" / f"node{i}"
    return str(d / "data"), str(d / "error.log")


def adapters_io() -> LabIO:
    shell: Shell = LocalShell("localhost")
    nodes = []
    for i in (1, 2, 3):
        datadir, log = _node_paths(i)
        sql = LabSql("127.0.0.1", 3306 + i, "root", ROOT_PW, timeout=3.0)
        nodes.append(galera.GaleraNodeTarget(f"node{i}", sql, shell, datadir, log))
    stats = LabHttp("http://127.0.0.1:8404/stats", auth=("admin", "admin_dev"))
    sentinel_clients = [LabRedis("127.0.0.1", p, None) for p in (26379, 26380, 26381)]
    prom = LabHttp("http://127.0.0.1:9090")
    io = LabIO(
        kind="adapters",
        galera=nodes,
        proxysql=proxysql.ProxySQLTarget(
            "proxysql", LabSql("127.0.0.1", 6032, "admin", "admin_dev")
        ),
        haproxy=haproxy.HAProxyTarget(
            "haproxy",
            LabHAProxy(str(LAB_DIR / "haproxy" / "admin.sock")),
            str(LAB_DIR / "haproxy" / "maps" / "bluegreen.map"),
            stats,
        ),
        redis=[
            redis.RedisTarget(f"redis{n}", LabRedis("127.0.0.1", p, REDIS_PW))
            for n, p in enumerate((6379, 6380, 6381), 1)
        ],
        sentinels=[SentinelTarget(f"sentinel{n}", c) for n, c in enumerate(sentinel_clients, 1)],
        prometheus=alerts.PrometheusTarget("prometheus", prom),
        alertmanager=alerts.AlertmanagerTarget("alertmanager", LabHttp("http://127.0.0.1:9093")),
        host=hosts.HostTarget("lab", shell, ("/",)),
        sentinel_client=sentinel_clients[0],
        prometheus_http=prom,
    )
    for t in io.galera:
        io.closers.append(t.sql.close)
    io.closers += [io.proxysql.sql.close, stats.close, prom.close]
    io.closers += [t.client.close for t in io.redis] + [c.close for c in sentinel_clients]
    return io


def production_io() -> LabIO:
    try:
        from jaraba_tui.profile import load_profile
        from jaraba_tui.transport.factory import Transports
    except Exception as exc:  # not there yet, or broken: say so
        pytest.skip(f"production transports unavailable: {type(exc).__name__}: {exc}")
    try:
        profile: Any = load_profile("local")
        t: Any = Transports(profile)
        nodes = []
        for node in profile.galera.nodes:
            nodes.append(
                galera.GaleraNodeTarget(
                    node.name,
                    t.galera(node.name),
                    t.galera_shell(node.name),
                    str(node.datadir),
                    str(node.error_log),
                )
            )
        stats = t.haproxy_stats()
        sentinels = [SentinelTarget(n, t.sentinel(n)) for n in t.sentinel_names()]
        prom = t.prometheus()
        io = LabIO(
            kind="production",
            galera=nodes,
            proxysql=proxysql.ProxySQLTarget("proxysql", t.proxysql()),
            haproxy=haproxy.HAProxyTarget(
                "haproxy", t.haproxy_runtime(), str(profile.haproxy.map_file), stats
            ),
            redis=[
                redis.RedisTarget(i.name, t.redis(i.name), f"{i.host}:{i.port}")
                for i in profile.redis.instances
            ],
            sentinels=sentinels,
            prometheus=alerts.PrometheusTarget("prometheus", prom),
            alertmanager=alerts.AlertmanagerTarget("alertmanager", t.alertmanager()),
            host=hosts.HostTarget("lab", t.shell("lab"), ("/",)),
            sentinel_client=sentinels[0].client,
            prometheus_http=prom,
        )
    except Exception as exc:
        pytest.skip(f"production transports could not be built from profiles/local.toml: {exc}")
    io.closers.append(t.aclose)
    return io


@pytest.fixture(params=["adapters", "production"])
async def lab_io(request: pytest.FixtureRequest) -> AsyncIterator[LabIO]:
    io = adapters_io() if request.param == "adapters" else production_io()
    try:
        yield io
    finally:
        for close in io.closers:
            with contextlib.suppress(Exception):  # closing is best effort in teardown
                await close()


def faults_allowed() -> None:
    """Fault injection disturbs a lab others may be using: only under ``make test``/CI
    (JARABA_REQUIRE_LAB=1) or when asked for (JARABA_LAB_FAULTS=1)."""
    if os.environ.get("JARABA_REQUIRE_LAB") == "1" or os.environ.get("JARABA_LAB_FAULTS") == "1":
        return
    pytest.skip("fault injection disturbs a shared lab: set JARABA_LAB_FAULTS=1 to run it")
