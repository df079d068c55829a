"""Collectors against scripted transports fed with real captured answers: one endpoint's
failure or silence never costs the others their data, nothing raises, every wait is bounded."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import time
import warnings
from dataclasses import replace

from jaraba_tui.collectors import alerts, galera, haproxy, hosts, proxysql, redis
from jaraba_tui.collectors.stack import StackTargets, collect_stack
from jaraba_tui.transport.base import CommandResult, HttpResponse, TransportError
from tests.collectors.captured import load, text
from tests.collectors.fakes import (
    HANG,
    FakeHttp,
    FakeRuntime,
    FakeShell,
    FakeSql,
    refused,
)
from tests.collectors.scenarios import (
    CLOCK,
    collect_redis,
    galera_node,
    proxysql_sql,
    redis_fake,
    runtime,
)


async def test_galera_healthy_every_node_and_host() -> None:
    snap = await galera.collect([galera_node(i) for i in (1, 2, 3)], clock=CLOCK)
    assert snap.expected_size == 3 and snap.primary_size == 3 and snap.collected_at == 1000.0
    for n in snap.nodes:
        assert n.wsrep is not None and n.wsrep.synced and n.sql_error is None
        assert n.process is not None and n.process.running is True
        assert n.grastate is not None and n.disk is not None and n.error_log_tail
        assert n.shell_errors == ()
    json.dumps(snap.to_dict())


async def test_galera_one_node_refused_others_keep_their_data() -> None:
    t3 = galera_node(3, "galera_stopped", sql=refused("127.0.0.1:3309"))
    snap = await galera.collect(
        [galera_node(1, "galera_stopped"), galera_node(2, "galera_stopped"), t3], clock=CLOCK
    )
    n1, n2, n3 = snap.nodes
    assert n1.wsrep is not None and n1.wsrep.cluster_size == 2
    assert n2.wsrep is not None
    assert n3.wsrep is None and n3.sql_error is not None and n3.sql_error.kind == "refused"
    assert n3.process is not None and n3.process.running is False
    assert n3.grastate is not None and n3.grastate.seqno > 0
    assert snap.primary_size == 2


async def test_galera_hanging_node_is_bounded_by_the_timeout() -> None:
    t = time.monotonic()
    snap = await galera.collect(
        [galera_node(1), galera_node(2, sql=HANG)], clock=CLOCK, timeout=0.2
    )
    assert time.monotonic() - t < 2
    assert snap.nodes[0].wsrep is not None
    err = snap.nodes[1].sql_error
    assert err is not None and err.kind == "timeout"


async def test_galera_without_shell_and_with_garbage_rows() -> None:
    t = galera.GaleraNodeTarget("n", FakeSql("e", {galera.WSREP_POLL_QUERY: [{"nonsense": 1}]}))
    snap = await galera.collect([t], clock=CLOCK)
    (n,) = snap.nodes
    assert n.wsrep is None and n.sql_error is not None and n.sql_error.kind == "parse"
    assert n.process is None and n.host is None


async def test_proxysql_reads_everything() -> None:
    snap = await proxysql.collect(proxysql.ProxySQLTarget("proxysql", proxysql_sql()), clock=CLOCK)
    assert snap.errors == () and snap.is_standin and snap.reachable
    assert len(snap.servers) == 7 and len(snap.pool) == 7 and snap.galera_hostgroups
    assert snap.ping is not None and snap.counters["ProxySQL_Uptime"] > 0


async def test_proxysql_missing_table_costs_only_that_table() -> None:
    err = TransportError("no such table: stats_mysql_query_digest", kind="protocol")
    sql = proxysql_sql(over={proxysql.Q_DIGEST.format(limit=10): err})
    snap = await proxysql.collect(proxysql.ProxySQLTarget("p", sql), clock=CLOCK)
    assert [e.step for e in snap.errors] == ["stats_mysql_query_digest"]
    assert snap.servers and snap.reachable


async def test_proxysql_refused_stops_at_the_first_query() -> None:
    sql = FakeSql("127.0.0.1:6032", {"*": refused()})
    snap = await proxysql.collect(proxysql.ProxySQLTarget("p", sql), clock=CLOCK)
    assert len(sql.calls) == 1 and not snap.reachable and snap.servers == ()
    assert snap.errors[0].kind == "refused"


async def test_haproxy_runtime() -> None:
    snap = await haproxy.collect(
        haproxy.HAProxyTarget("lb", runtime("app_stopped"), "/m"), clock=CLOCK
    )
    assert snap.stat_source == "runtime" and snap.errors == ()
    assert snap.live_colour == "blue" and snap.live_backend == "bk_app_blue" and snap.canary is None
    assert [s.key for s in snap.servers if not s.usable] == ["bk_app_blue/app2"]


async def test_haproxy_falls_back_to_http_when_the_runtime_api_is_down() -> None:
    rt = FakeRuntime("/tmp/admin.sock", {"*": refused()})
    http = FakeHttp("http://lb:8404", {";csv": text("healthy", "haproxy_stats_http.csv")})
    snap = await haproxy.collect(haproxy.HAProxyTarget("lb", rt, "/m", http), clock=CLOCK)
    assert rt.calls == ["show info"]  # no point asking a refused socket again
    assert snap.stat_source == "http" and len(snap.servers) == 6
    assert snap.live_colour is None and snap.errors[0].kind == "refused"


async def test_haproxy_truncated_stat_and_unknown_command() -> None:
    full = text("healthy", "haproxy_show_stat.csv")
    rt = runtime(
        over={"show stat": full[: len(full) - 200], "show map /m": "Unknown map identifier.\n"}
    )
    snap = await haproxy.collect(haproxy.HAProxyTarget("lb", rt, "/m"), clock=CLOCK)
    kinds = {e.step: e.kind for e in snap.errors}
    assert kinds == {"show map": "protocol", "show stat": "parse"}
    assert snap.servers  # the complete rows are kept


async def test_redis_healthy() -> None:
    snap = await collect_redis("healthy")
    assert snap.master == "127.0.0.1:6379" and snap.master_source == "sentinel-majority"
    assert not snap.sentinels_disagree
    assert all(s.quorum is not None and s.quorum.ok for s in snap.sentinels)
    inst = snap.instance("127.0.0.1:6379")
    assert inst is not None and inst.info is not None and inst.info.role == "master"


async def test_redis_after_failover_master_per_sentinels() -> None:
    snap = await collect_redis("redis_failover/after_failover")
    assert snap.master == "127.0.0.1:6380"
    old = snap.instance("127.0.0.1:6379")
    assert old is not None and old.info is None and old.error is not None


async def test_redis_noquorum_is_a_result_not_a_failure() -> None:
    err = TransportError(
        "NOQUORUM 1 usable Sentinels. Not enough available Sentinels", kind="protocol"
    )
    snap = await collect_redis("healthy", {"SENTINEL CKQUORUM jaraba-master": err})
    assert all(s.quorum is not None and s.quorum.ok is False for s in snap.sentinels)
    assert all(s.errors == () for s in snap.sentinels)


async def test_redis_replicas_command_falls_back_to_slaves() -> None:
    old = TransportError("ERR Unknown sentinel subcommand 'REPLICAS'", kind="protocol")
    over = {
        "SENTINEL REPLICAS jaraba-master": old,
        "SENTINEL SLAVES jaraba-master": load("healthy", "sentinel_26379_replicas.json"),
    }
    snap = await collect_redis("healthy", over)
    assert all(len(s.replicas) == 2 and s.errors == () for s in snap.sentinels)


async def test_redis_without_sentinels_trusts_the_single_self_reported_master() -> None:
    snap = await redis.collect(
        [redis.RedisTarget("r", redis_fake(6379, "healthy"), address="127.0.0.1:6379")],
        [],
        "m",
        clock=CLOCK,
    )
    assert (snap.master, snap.master_source) == ("127.0.0.1:6379", "self-reported")


async def test_alerts_collect() -> None:
    prom = FakeHttp("http://p", {"/api/v1/alerts": text("alerts", "prometheus_alerts.json")})
    am = FakeHttp(
        "http://am",
        {
            "/api/v2/alerts": text("alerts", "alertmanager_alerts.json"),
            "/api/v2/silences": text("alerts", "alertmanager_silences.json"),
        },
    )
    snap = await alerts.collect(
        alerts.PrometheusTarget("prom", prom), alerts.AlertmanagerTarget("am", am), clock=CLOCK
    )
    assert snap.prometheus is not None and len(snap.prometheus.firing) == 2
    assert snap.alertmanager is not None and len(snap.alertmanager.silences) == 1
    bad = FakeHttp("http://p", {"/api/v1/alerts": HttpResponse(503, "unavailable")})
    snap = await alerts.collect(alerts.PrometheusTarget("prom", bad), None, clock=CLOCK)
    assert snap.prometheus is not None and snap.prometheus.error is not None
    assert "503" in snap.prometheus.error.message and snap.alertmanager is None


async def test_hosts_collect_and_a_failing_command() -> None:
    script: dict[str, object] = {
        "cat /proc/loadavg": text("healthy", "host_loadavg.txt"),
        "cat /proc/meminfo": text("healthy", "host_meminfo.txt"),
        "df -P -k -- /": text("healthy", "host_df.txt"),
        "getconf _NPROCESSORS_ONLN": CommandResult(1, "", "getconf: not found"),
    }
    snap = await hosts.collect(hosts.HostTarget("h", FakeShell("h", script), ("/",)), clock=CLOCK)
    assert snap.load is not None and snap.memory is not None and snap.disks and snap.reachable
    assert [e.step for e in snap.errors] == ["cpus"] and snap.cpus is None
    down = FakeShell("h", {"*": TransportError("ssh: host unreachable", kind="unreachable")})
    snap = await hosts.collect(hosts.HostTarget("h", down), clock=CLOCK)
    assert not snap.reachable and [e.kind for e in snap.errors] == ["unreachable"]
    assert down.calls == ["host probe"]  # one SSH session for the whole host


async def test_stack_keeps_layers_apart_and_bounds_each() -> None:
    class Boom:
        endpoint = "boom"

        async def command(self, line: str) -> str:
            raise RuntimeError("a bug in a transport")

    targets = StackTargets(
        galera=[galera_node(1), galera_node(2), galera_node(3)],
        haproxy=haproxy.HAProxyTarget("lb", Boom()),
        hosts=[hosts.HostTarget("slow", FakeShell("slow", {"*": HANG}))],
        master_name="jaraba-master",
    )
    t = time.monotonic()
    snap = await collect_stack(targets, clock=CLOCK, layer_timeout=0.3)
    assert time.monotonic() - t < 2
    assert snap.galera is not None and snap.galera.primary_size == 3
    assert snap.haproxy is not None and snap.haproxy.errors[0].kind == "internal"
    assert [(f.layer, f.kind) for f in snap.failures] == [("hosts:slow", "timeout")]
    assert snap.redis is None and snap.proxysql is None
    json.dumps(snap.to_dict())


async def test_galera_host_steps_run_one_at_a_time() -> None:
    """SSH servers cap sessions per connection (MaxSessions): never more than one command
    per node in flight."""
    in_flight = 0
    peak = 0

    class CountingShell(FakeShell):
        async def run(self, argv, *, timeout=None):  # type: ignore[no-untyped-def]
            nonlocal in_flight, peak
            in_flight += 1
            peak = max(peak, in_flight)
            try:
                return await super().run(argv, timeout=timeout)
            finally:
                in_flight -= 1

    t = galera_node(1)
    assert isinstance(t.shell, FakeShell)
    shell = CountingShell(t.shell.host, t.shell.script, t.shell.files)
    snap = await galera.collect([replace(t, shell=shell)], clock=CLOCK)
    assert peak == 1 and snap.nodes[0].disk is not None and snap.nodes[0].error_log_tail


async def test_a_poll_cancelled_before_its_jobs_start_leaves_no_coroutine_unawaited() -> None:
    """The engine stopping mid-poll: no collector coroutine is created and never awaited
    (it had been, as a RuntimeWarning at garbage collection)."""
    targets = StackTargets(
        proxysql=proxysql.ProxySQLTarget("p", proxysql_sql()), galera=[galera_node(1)]
    )
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        task = asyncio.create_task(collect_stack(targets, clock=CLOCK))
        await asyncio.sleep(0)  # collect_stack is now waiting for its jobs, not yet started
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        del task
        for _ in range(3):  # the cancelled tasks' frames hold them for a cycle or two
            await asyncio.sleep(0)
            gc.collect()
    assert not [w for w in seen if "never awaited" in str(w.message)]
