"""StackSnapshots built from the real captured outputs (through the collectors and scripted
transports), for rule and event tests. Synthetic variations use ``dataclasses.replace``."""

from __future__ import annotations

from jaraba_tui.collectors import alerts, galera, haproxy, hosts, proxysql, redis
from jaraba_tui.collectors.sentinel import SentinelTarget
from jaraba_tui.model.snapshot import StackSnapshot
from tests.collectors.captured import text
from tests.collectors.fakes import FakeHttp, FakeRedis, FakeShell, refused
from tests.collectors.scenarios import (
    CLOCK,
    collect_redis,
    galera_node,
    proxysql_sql,
    redis_fake,
    runtime,
    sentinel_fake,
)


async def galera_snap(scenario: str = "healthy") -> galera.GaleraSnapshot:
    if scenario == "galera_stopped":
        nodes = [
            galera_node(1, scenario),
            galera_node(2, scenario),
            galera_node(3, scenario, sql=refused("127.0.0.1:3309")),
        ]
    else:
        nodes = [galera_node(i, scenario) for i in (1, 2, 3)]
    return await galera.collect(nodes, clock=CLOCK)


async def proxysql_snap(scenario: str = "proxysql") -> proxysql.ProxySQLSnapshot:
    return await proxysql.collect(
        proxysql.ProxySQLTarget("proxysql", proxysql_sql(scenario)), clock=CLOCK
    )


async def haproxy_snap(scenario: str = "healthy") -> haproxy.HAProxySnapshot:
    return await haproxy.collect(
        haproxy.HAProxyTarget("haproxy", runtime(scenario), "/m"), clock=CLOCK
    )


async def redis_snap(scenario: str = "healthy") -> redis.RedisSnapshot:
    if scenario != "old_master_back":
        return await collect_redis(scenario)
    after = "redis_failover/after_failover"
    old = FakeRedis(
        "127.0.0.1:6379",
        {"INFO": text("redis_failover/old_master_back", "redis_6379_info_replication_00.txt")},
    )
    return await redis.collect(
        [
            redis.RedisTarget("r6379", old),
            redis.RedisTarget("r6380", redis_fake(6380, after)),
            redis.RedisTarget("r6381", redis_fake(6381, after)),
        ],
        [SentinelTarget(f"s{p}", sentinel_fake(p, after)) for p in (26379, 26380, 26381)],
        "jaraba-master",
        clock=CLOCK,
    )


async def alerts_snap(scenario: str = "healthy") -> alerts.AlertsSnapshot:
    prom = FakeHttp("http://p", {"/api/v1/alerts": text(scenario, "prometheus_alerts.json")})
    am = FakeHttp(
        "http://am",
        {
            "/api/v2/alerts": text(scenario, "alertmanager_alerts.json"),
            "/api/v2/silences": text(scenario, "alertmanager_silences.json"),
        },
    )
    return await alerts.collect(
        alerts.PrometheusTarget("prometheus", prom),
        alerts.AlertmanagerTarget("alertmanager", am),
        clock=CLOCK,
    )


async def host_snap() -> hosts.HostSnapshot:
    script = {
        "cat /proc/loadavg": text("healthy", "host_loadavg.txt"),
        "cat /proc/meminfo": text("healthy", "host_meminfo.txt"),
        "df -P -k -- /": text("healthy", "host_df.txt"),
        "getconf _NPROCESSORS_ONLN": text("healthy", "host_nproc.txt"),
    }
    return await hosts.collect(
        hosts.HostTarget("lab", FakeShell("lab", script), ("/",)), clock=CLOCK
    )


async def healthy_stack(at: float = 1000.0) -> StackSnapshot:
    return StackSnapshot(
        collected_at=at,
        galera=await galera_snap(),
        proxysql=await proxysql_snap(),
        haproxy=await haproxy_snap(),
        redis=await redis_snap(),
        alerts=await alerts_snap(),
        hosts=(await host_snap(),),
        profile="local",
        environment="lab",
    )
