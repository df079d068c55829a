"""ProxySQL, HAProxy, Redis, alert and host rules: each triggers and clears."""

from __future__ import annotations

from dataclasses import replace

from jaraba_tui.collectors.common import EndpointError
from jaraba_tui.collectors.haproxy import HAProxySnapshot
from jaraba_tui.collectors.hosts import DiskUsage, LoadAvg, MemInfo
from jaraba_tui.collectors.redis import RedisInfo, RedisInstanceSnapshot, RedisSnapshot
from jaraba_tui.collectors.sentinel import QuorumCheck
from jaraba_tui.model.findings import Finding, Severity
from jaraba_tui.model.health.alerts import alert_findings
from jaraba_tui.model.health.haproxy import haproxy_findings
from jaraba_tui.model.health.hosts import host_findings
from jaraba_tui.model.health.proxysql import proxysql_findings
from jaraba_tui.model.health.redis import redis_findings
from jaraba_tui.model.thresholds import Thresholds
from tests.model.snapshots import alerts_snap, haproxy_snap, host_snap, proxysql_snap, redis_snap

TH = Thresholds()


def codes(findings: list[Finding]) -> dict[str, Severity]:
    out: dict[str, Severity] = {}
    for f in findings:
        if f.code not in out or f.severity.rank > out[f.code].rank:
            out[f.code] = f.severity
    return out


def problems(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity is not Severity.OK]


# -- ProxySQL --------------------------------------------------------------------------------


async def test_proxysql_healthy_notes_the_standin_as_ok() -> None:
    f = proxysql_findings(await proxysql_snap(), TH)
    assert problems(f) == []
    assert set(codes(f)) == {"proxysql.standin", "proxysql.ok"}
    ok = next(x for x in f if x.code == "proxysql.ok")
    assert ok.message == "proxysql: writer 127.0.0.1:3307 ONLINE in hg 10; 3/3 backends in service"


async def test_proxysql_node_stopped_backend_out_of_service_and_ping_errors() -> None:
    f = proxysql_findings(await proxysql_snap("proxysql_node_stopped"), TH)
    c = codes(f)
    assert c["proxysql.backend"] is Severity.WARN and c["proxysql.ping"] is Severity.WARN
    backend = next(x for x in f if x.code == "proxysql.backend")
    assert backend.target == "127.0.0.1:3309" and "offline hostgroup" in backend.message
    assert "proxysql.no_writer" not in c  # 3307 still writes


async def test_proxysql_no_online_writer_is_critical() -> None:
    snap = await proxysql_snap()
    servers = tuple(
        replace(s, status="OFFLINE_HARD") if s.hostgroup == 10 and s.status == "ONLINE" else s
        for s in snap.servers
    )
    f = proxysql_findings(replace(snap, servers=servers), TH)
    w = next(x for x in f if x.code == "proxysql.no_writer")
    assert w.severity is Severity.CRIT and "writes fail" in w.message


async def test_proxysql_unreachable_and_query_errors() -> None:
    snap = await proxysql_snap()
    down = replace(
        snap, servers=(), errors=(EndpointError("127.0.0.1:6032", "refused", "connection refused"),)
    )
    (f,) = proxysql_findings(down, TH)
    assert f.severity is Severity.CRIT and f.code == "proxysql.unreachable"
    partial = replace(
        snap, errors=(EndpointError("e", "protocol", "no such table", "stats_mysql_global"),)
    )
    assert codes(proxysql_findings(partial, TH))["proxysql.query"] is Severity.UNKNOWN


async def test_proxysql_latency_and_new_connection_errors() -> None:
    snap = await proxysql_snap()
    slow = replace(snap, pool=tuple(replace(p, latency_us=250_000) for p in snap.pool))
    assert codes(proxysql_findings(slow, TH))["proxysql.latency"] is Severity.WARN
    later = replace(snap, pool=tuple(replace(p, conn_err=(p.conn_err or 0) + 3) for p in snap.pool))
    assert codes(proxysql_findings(later, TH, prev=snap))["proxysql.conn_err"] is Severity.WARN
    assert "proxysql.conn_err" not in codes(proxysql_findings(snap, TH, prev=snap))


# -- HAProxy ---------------------------------------------------------------------------------


async def test_haproxy_healthy() -> None:
    f = haproxy_findings(await haproxy_snap(), TH)
    assert [x.message for x in f] == [
        "haproxy: live colour blue; bk_app_blue 3/3 UP, bk_app_green 3/3 UP"
    ]


async def test_haproxy_server_down_is_warn_and_names_the_server() -> None:
    f = haproxy_findings(await haproxy_snap("app_stopped"), TH)
    (w,) = problems(f)
    assert w.severity is Severity.WARN and w.target == "bk_app_blue/app2"
    assert "DOWN" in w.message and "2/3 UP in live backend bk_app_blue" in w.message


async def test_haproxy_live_backend_empty_is_crit_standby_empty_is_warn() -> None:
    snap = await haproxy_snap()

    def all_down(backend: str) -> HAProxySnapshot:
        return replace(
            snap,
            servers=tuple(
                replace(s, state="DOWN") if s.proxy == backend else s for s in snap.servers
            ),
        )

    live = codes(haproxy_findings(all_down("bk_app_blue"), TH))
    assert live["haproxy.backend_down"] is Severity.CRIT
    standby = haproxy_findings(all_down("bk_app_green"), TH)
    b = next(x for x in standby if x.code == "haproxy.backend_down")
    assert b.severity is Severity.WARN and "standby" in b.message


async def test_haproxy_maint_and_drain() -> None:
    snap = await haproxy_snap()
    for state in ("MAINT", "DRAIN"):
        servers = tuple(
            replace(s, state=state) if s.key == "bk_app_green/app1" else s for s in snap.servers
        )
        f = haproxy_findings(replace(snap, servers=servers), TH)
        assert any(x.code == "haproxy.server" and state in x.message for x in f)


async def test_haproxy_5xx_rate_needs_two_polls() -> None:
    snap = await haproxy_snap()
    later = replace(
        snap,
        collected_at=snap.collected_at + 10,
        backends=tuple(replace(b, hrsp_5xx=(b.hrsp_5xx or 0) + 500) for b in snap.backends),
    )
    assert "haproxy.5xx" not in codes(haproxy_findings(later, TH))
    assert codes(haproxy_findings(later, TH, prev=snap))["haproxy.5xx"] is Severity.CRIT
    slower = replace(later, collected_at=snap.collected_at + 100)
    assert codes(haproxy_findings(slower, TH, prev=snap))["haproxy.5xx"] is Severity.WARN


async def test_haproxy_unreachable_and_http_fallback() -> None:
    snap = await haproxy_snap()
    gone = replace(
        snap,
        frontends=(),
        backends=(),
        servers=(),
        stat_source=None,
        live_colour=None,
        errors=(EndpointError("/s", "refused", "connection refused", "show info"),),
    )
    (f,) = haproxy_findings(gone, TH)
    assert f.severity is Severity.CRIT and "connection refused" in f.message
    fallback = replace(snap, stat_source="http", live_colour=None, errors=gone.errors)
    c = codes(haproxy_findings(fallback, TH))
    assert c["haproxy.runtime"] is Severity.WARN and "haproxy.backend_down" not in c


async def test_haproxy_map_without_live_key() -> None:
    snap = replace(await haproxy_snap(), live_colour=None, live_backend=None, map_entries={})
    assert codes(haproxy_findings(snap, TH))["haproxy.colour"] is Severity.WARN


# -- Redis -----------------------------------------------------------------------------------


async def test_redis_healthy() -> None:
    f = redis_findings(await redis_snap(), TH)
    assert [x.message for x in f] == [
        "redis: master 127.0.0.1:6379 (3/3 Sentinels agree), 2 replicas linked"
    ]


async def test_redis_after_failover_old_master_dead_then_claiming() -> None:
    f = redis_findings(await redis_snap("redis_failover/after_failover"), TH)
    assert codes(f) == {"redis.down": Severity.WARN}
    f = redis_findings(await redis_snap("old_master_back"), TH)
    old = next(x for x in f if x.code == "redis.old_master")
    assert old.severity is Severity.WARN and "still claims master" in old.message
    assert "127.0.0.1:6380" in old.message


async def test_redis_sentinels_disagree_and_no_majority() -> None:
    snap = await redis_snap()
    s1, s2, s3 = snap.sentinels
    split = replace(
        snap,
        sentinels=(s1, replace(s2, master_addr="127.0.0.1:6380"), replace(s3, master_addr=None)),
        master_votes={"127.0.0.1:6379": ("s26379",), "127.0.0.1:6380": ("s26380",)},
        master_source="sentinel-minority",
    )
    c = codes(redis_findings(split, TH))
    assert c["redis.disagree"] is Severity.CRIT and c["redis.no_majority"] is Severity.CRIT


async def test_redis_quorum_odown_sdown_failover() -> None:
    snap = await redis_snap()
    noq = replace(
        snap,
        sentinels=tuple(
            replace(s, quorum=QuorumCheck(False, "NOQUORUM 1 usable")) for s in snap.sentinels
        ),
    )
    assert codes(redis_findings(noq, TH))["redis.quorum"] is Severity.CRIT
    for flag, code, sev in (
        ("o_down", "redis.odown", Severity.CRIT),
        ("s_down", "redis.sdown", Severity.WARN),
        ("failover_in_progress", "redis.failover", Severity.WARN),
    ):
        flagged = replace(
            snap,
            sentinels=tuple(
                replace(s, master=replace(s.master, flags=("master", flag))) if s.master else s
                for s in snap.sentinels
            ),
        )
        assert codes(redis_findings(flagged, TH))[code] is sev


async def test_redis_replica_link_lag_memory_persistence() -> None:
    snap = await redis_snap()
    master = snap.instance("127.0.0.1:6379")
    replica = snap.instance("127.0.0.1:6380")
    assert (
        master is not None
        and master.info is not None
        and replica is not None
        and replica.info is not None
    )

    def swap(inst: RedisInstanceSnapshot, info: RedisInfo) -> RedisSnapshot:
        return replace(
            snap, instances=tuple(replace(i, info=info) if i is inst else i for i in snap.instances)
        )

    link = swap(replica, replace(replica.info, master_link_status="down"))
    assert codes(redis_findings(link, TH))["redis.link"] is Severity.WARN
    lagging = replace(
        master.info, replicas=tuple(replace(r, lag_s=45) for r in master.info.replicas)
    )
    assert codes(redis_findings(swap(master, lagging), TH))["redis.lag"] is Severity.CRIT
    full = replace(master.info, used_memory=int((master.info.maxmemory or 0) * 0.9))
    assert codes(redis_findings(swap(master, full), TH))["redis.memory"] is Severity.WARN
    bgsave = replace(master.info, rdb_last_bgsave_status="err")
    assert codes(redis_findings(swap(master, bgsave), TH))["redis.rdb"] is Severity.CRIT
    aof = replace(master.info, aof_last_write_status="err")
    assert codes(redis_findings(swap(master, aof), TH))["redis.aof"] is Severity.CRIT
    role = replace(master.info, role="slave")
    assert codes(redis_findings(swap(master, role), TH))["redis.master_role"] is Severity.CRIT


async def test_redis_sentinel_unreachable() -> None:
    snap = await redis_snap()
    s1 = replace(snap.sentinels[0], errors=(EndpointError("s", "timeout", "no answer within 2s"),))
    c = codes(redis_findings(replace(snap, sentinels=(s1, *snap.sentinels[1:])), TH))
    assert c["redis.sentinel"] is Severity.WARN


# -- alerts ----------------------------------------------------------------------------------


async def test_alerts_firing_critical_warning_silenced_pending() -> None:
    f = alert_findings(await alerts_snap("alerts"))
    crit = next(x for x in f if x.target == "CaptureAlwaysFiring")
    assert crit.severity is Severity.CRIT and crit.code == "alerts.firing"
    silenced = next(x for x in f if x.target == "CaptureWarning")
    assert silenced.severity is Severity.OK and "silenced by capture_lab.py" in silenced.message
    assert not any(x.target == "CapturePending" for x in f)


async def test_alerts_quiet_and_unreachable() -> None:
    quiet = alert_findings(await alerts_snap())
    assert [x.message for x in quiet] == ["alerts: nothing firing, 0 pending, 0 silences active"]
    snap = await alerts_snap()
    assert snap.prometheus is not None
    broken = replace(
        snap,
        prometheus=replace(
            snap.prometheus, error=EndpointError("p", "refused", "connection refused")
        ),
    )
    assert codes(alert_findings(broken))["alerts.prometheus"] is Severity.WARN


async def test_warning_alert_unsilenced_is_warn() -> None:
    snap = await alerts_snap("alerts")
    assert snap.alertmanager is not None
    unsilenced = replace(snap, alertmanager=replace(snap.alertmanager, alerts=()))
    f = alert_findings(unsilenced)
    assert next(x for x in f if x.target == "CaptureWarning").severity is Severity.WARN


# -- hosts -----------------------------------------------------------------------------------


async def test_host_rules() -> None:
    h = await host_snap()
    assert [x.code for x in host_findings(h, TH)] == ["host.ok"]
    hot = replace(h, load=LoadAvg(9.0, 9.0, 9.0, 1, 1), cpus=2)
    assert codes(host_findings(hot, TH))["host.load"] is Severity.CRIT
    mem = replace(h, memory=MemInfo(1000, 50, 0, 0))
    assert codes(host_findings(mem, TH))["host.memory"] is Severity.WARN
    disk = replace(h, disks=(DiskUsage("/dev/x", "/var", 100, 91, 9),))
    assert codes(host_findings(disk, TH))["host.disk"] is Severity.CRIT
    gone = replace(
        h,
        load=None,
        memory=None,
        disks=(),
        errors=(EndpointError("lab", "unreachable", "ssh: no route"),),
    )
    (f,) = host_findings(gone, TH)
    assert f.severity is Severity.CRIT and "no route" in f.message
