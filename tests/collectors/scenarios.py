"""Build collector snapshots from real captured answers through scripted transports."""

from __future__ import annotations

from collections.abc import Mapping

from jaraba_tui.collectors import galera, proxysql, redis
from jaraba_tui.collectors.sentinel import SentinelTarget
from tests.collectors.captured import load, text
from tests.collectors.fakes import FakeRedis, FakeRuntime, FakeShell, FakeSql, refused

EMPTY: Mapping[str, object] = {}

CLOCK = lambda: 1_000.0  # noqa: E731


def galera_node(
    i: int, scenario: str = "healthy", *, sql: object = None
) -> galera.GaleraNodeTarget:
    answer = sql if sql is not None else load(scenario, f"galera_node{i}_wsrep_status.json")
    d = f"/tmp/jaraba-lab/galera/node{i}"
    pgrep = text(scenario, "galera_pgrep.txt")
    pids = pgrep.split()
    script: dict[str, object] = {
        "pgrep -x mariadbd|mysqld": pgrep,
        f"df -P -k -- {d}/data": text(scenario, f"galera_node{i}_df.txt"),
        f"tail -n 20 -- {d}/error.log": text(scenario, f"galera_node{i}_error_log_tail.txt"),
    }
    for p in pids:
        script[f"readlink /proc/{p}/cwd"] = text(scenario, f"galera_readlink_cwd_{p}.txt")
    shell = FakeShell(
        "lab", script, {f"{d}/data/grastate.dat": text(scenario, f"galera_node{i}_grastate.dat")}
    )
    return galera.GaleraNodeTarget(
        f"node{i}",
        FakeSql(f"127.0.0.1:{3306 + i}", {galera.WSREP_POLL_QUERY: answer}),
        shell,
        f"{d}/data",
        f"{d}/error.log",
    )


def proxysql_sql(scenario: str = "proxysql", over: Mapping[str, object] = EMPTY) -> FakeSql:
    script: dict[str, object] = {
        proxysql.Q_VERSION_COMMENT: load(scenario, "proxysql_version_comment.json"),
        proxysql.Q_ADMIN_VERSION: load(scenario, "proxysql_admin_version.json"),
        proxysql.Q_SERVERS: load(scenario, "proxysql_runtime_mysql_servers.json"),
        proxysql.Q_POOL: load(scenario, "proxysql_stats_mysql_connection_pool.json"),
        proxysql.Q_GALERA_HG: load(scenario, "proxysql_runtime_mysql_galera_hostgroups.json"),
        proxysql.Q_PING_LOG: load(scenario, "proxysql_ping_log.json"),
        proxysql.Q_GALERA_LOG: load(scenario, "proxysql_galera_log.json"),
        proxysql.Q_GLOBAL: load(scenario, "proxysql_stats_mysql_global.json"),
        proxysql.Q_DIGEST.format(limit=10): load(scenario, "proxysql_query_digest.json"),
    }
    script.update(over)
    return FakeSql("127.0.0.1:6032", script)


def runtime(scenario: str = "healthy", over: Mapping[str, object] = EMPTY) -> FakeRuntime:
    script: dict[str, object] = {
        "show info": text("healthy", "haproxy_show_info.txt"),
        "show stat": text(scenario, "haproxy_show_stat.csv"),
        "show map /m": text("healthy", "haproxy_show_map.txt"),
    }
    script.update(over)
    return FakeRuntime("/tmp/admin.sock", script)


def redis_fake(port: int, scenario: str) -> FakeRedis:
    name = f"redis_{port}_info.txt"
    try:
        info: object = text(scenario, name)
    except FileNotFoundError:
        info = refused(f"127.0.0.1:{port}")
    return FakeRedis(f"127.0.0.1:{port}", {"INFO": info})


def sentinel_fake(port: int, scenario: str, over: Mapping[str, object] = EMPTY) -> FakeRedis:
    m = "jaraba-master"
    script: dict[str, object] = {
        "SENTINEL MASTERS": load(scenario, f"sentinel_{port}_masters.json"),
        f"SENTINEL GET-MASTER-ADDR-BY-NAME {m}": load(
            scenario, f"sentinel_{port}_get_master_addr.json"
        ),
        f"SENTINEL REPLICAS {m}": load(scenario, f"sentinel_{port}_replicas.json"),
        f"SENTINEL SENTINELS {m}": load(scenario, f"sentinel_{port}_sentinels.json"),
        f"SENTINEL CKQUORUM {m}": text(scenario, f"sentinel_{port}_ckquorum.json"),
    }
    script.update(over)
    return FakeRedis(f"127.0.0.1:{port}", script)


async def collect_redis(
    scenario: str, sentinel_over: Mapping[str, object] = EMPTY
) -> redis.RedisSnapshot:
    return await redis.collect(
        [redis.RedisTarget(f"r{p}", redis_fake(p, scenario)) for p in (6379, 6380, 6381)],
        [
            SentinelTarget(f"s{p}", sentinel_fake(p, scenario, sentinel_over))
            for p in (26379, 26380, 26381)
        ],
        "jaraba-master",
        clock=CLOCK,
    )
