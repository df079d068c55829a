"""Post-deployment verdicts on real captured lab output (healthy and degraded)."""

from __future__ import annotations

import json

from jaraba_tui.collectors import galera, haproxy, proxysql
from jaraba_tui.collectors.common import EndpointError
from jaraba_tui.verify import evaluate
from jaraba_tui.verify.evaluate import RedisRole, SentinelView
from jaraba_tui.verify.model import Status
from tests.collectors import captured


def node(scenario: str, n: int) -> galera.GaleraNodeSnapshot:
    name = f"galera_node{n}_wsrep_status.json"
    wsrep, err = None, None
    if captured.exists(scenario, name):
        wsrep = galera.parse_wsrep_status(captured.load(scenario, name))
    else:
        e = captured.load(scenario, name + ".error.json")
        err = EndpointError(f"galera node{n}", e["kind"], e["message"])
    return galera.GaleraNodeSnapshot(
        f"node{n}", f"galera node{n}", None, 0.0, wsrep, err, None, None, None, (), ()
    )


def test_galera_healthy_and_node_stopped() -> None:
    ok = evaluate.galera_cluster([node("healthy", n) for n in (1, 2, 3)], 3)
    assert ok.status is Status.PASSED
    assert "node1: wsrep_cluster_size 3, wsrep_ready ON (Synced, Primary)" in ok.evidence
    bad = evaluate.galera_cluster([node("galera_stopped", n) for n in (1, 2, 3)], 3)
    assert bad.status is Status.FAILED
    assert "node3 unreachable" in bad.summary
    assert "node1: wsrep_cluster_size 2 (expected 3)" in bad.summary
    assert "node3: could not ask (connection refused)" in bad.evidence


def pool(scenario: str) -> tuple[proxysql.PoolEntry, ...]:
    return proxysql.parse_pool(captured.load(scenario, "proxysql_stats_mysql_connection_pool.json"))


HGS = proxysql.parse_galera_hostgroups(
    captured.load("proxysql", "proxysql_runtime_mysql_galera_hostgroups.json")
)


def entry(hg: int, port: int, status: str) -> proxysql.PoolEntry:
    return proxysql.PoolEntry(hg, "127.0.0.1", port, status, *([None] * 9))


def test_proxysql_backup_writers_shunned_by_design_pass() -> None:
    out = evaluate.proxysql_backends(pool("proxysql"), HGS, 3)
    assert out.status is Status.PASSED, out
    text = "\n".join(out.evidence)
    assert "SHUNNED in 10 (writer) by design (max_writers 1)" in text
    assert "writer hostgroup 10: 127.0.0.1:3307 ONLINE" in text


def test_proxysql_node_in_offline_hostgroup_fails() -> None:
    out = evaluate.proxysql_backends(pool("proxysql_node_stopped"), HGS, 3)
    assert out.status is Status.FAILED
    assert "127.0.0.1:3309 in offline hostgroup 9999" in out.summary


def test_proxysql_other_out_of_service_states() -> None:
    healthy = [entry(10, 3307, "ONLINE"), entry(20, 3308, "ONLINE"), entry(30, 3308, "ONLINE")]
    assert evaluate.proxysql_backends(healthy, HGS, 2).status is Status.PASSED
    soft = [*healthy, entry(30, 3309, "OFFLINE_SOFT"), entry(20, 3309, "ONLINE")]
    assert "OFFLINE_SOFT in hostgroup 30" in evaluate.proxysql_backends(soft, HGS, 3).summary
    # SHUNNED outside the writer hostgroup, or without being a backup writer, is a problem.
    shunned = [*healthy, entry(30, 3309, "SHUNNED"), entry(10, 3309, "SHUNNED")]
    out = evaluate.proxysql_backends(shunned, HGS, 3)
    assert "SHUNNED in hostgroup 30" in out.summary and "SHUNNED in hostgroup 10" in out.summary
    no_writer = [entry(10, 3307, "SHUNNED"), entry(20, 3307, "ONLINE")]
    assert "no ONLINE writer" in evaluate.proxysql_backends(no_writer, HGS, 1).summary
    assert "the profile has 3 Galera nodes" in evaluate.proxysql_backends(healthy, HGS, 3).summary
    assert evaluate.proxysql_backends([], HGS, 3).status is Status.FAILED


def test_proxysql_without_galera_hostgroups_wants_everything_online() -> None:
    assert evaluate.proxysql_backends([entry(0, 3307, "ONLINE")], [], 1).status is Status.PASSED
    out = evaluate.proxysql_backends([entry(0, 3307, "SHUNNED")], [], 1)
    assert out.status is Status.FAILED and "not ONLINE in any serving hostgroup" in out.summary


def hap(scenario: str) -> haproxy.HAProxySnapshot:
    table = haproxy.parse_stat_csv(captured.text(scenario, "haproxy_show_stat.csv"))
    rows = table.rows
    return haproxy.HAProxySnapshot(
        "haproxy", "rt", 0.0, None,
        tuple(r for r in rows if r.kind == "frontend"),
        tuple(r for r in rows if r.kind == "backend"),
        tuple(r for r in rows if r.kind == "server"),
        "runtime", None, {}, "blue", "bk_app_blue", None, None, (),
    )  # fmt: skip


def test_haproxy_healthy_and_app_stopped() -> None:
    ok = evaluate.haproxy_backends(hap("healthy"))
    assert ok.status is Status.PASSED and ok.summary == "2 backends and 6 servers UP"
    bad = evaluate.haproxy_backends(hap("app_stopped"))
    assert bad.status is Status.FAILED
    assert "bk_app_blue/app2 DOWN" in bad.summary
    assert any("app2 DOWN, check L4CON" in e for e in bad.evidence)


def test_haproxy_without_stats() -> None:
    snap = hap("healthy")
    import dataclasses

    none = dataclasses.replace(
        snap, stat_source=None, errors=(EndpointError("rt", "refused", "connection refused"),)
    )
    out = evaluate.haproxy_backends(none)
    assert out.status is Status.FAILED and "connection refused" in out.summary


ROLES = [
    RedisRole("redis1", "127.0.0.1:6379", "slave", "r1"),
    RedisRole("redis2", "127.0.0.1:6380", "master", "r2"),
    RedisRole("redis3", "127.0.0.1:6381", "slave", "r3"),
]
OKQ = "OK 3 usable Sentinels. Quorum and failover authorization can be reached"


def view(
    name: str, addr: str = "127.0.0.1:6380", runid: str | None = "r2", **kw: object
) -> SentinelView:
    args: dict[str, object] = {"flags": ("master",), "quorum_ok": True, "quorum_text": OKQ}
    args.update(kw)
    return SentinelView(name, addr, runid, **args)  # type: ignore[arg-type]


def test_sentinels_agree_on_the_self_reported_master() -> None:
    out = evaluate.sentinel_master(ROLES, [view("s1"), view("s2"), view("s3")], "jaraba-master")
    assert out.status is Status.PASSED and "name redis2 (127.0.0.1:6380)" in out.summary


def test_sentinel_down_disagreeing_or_without_quorum() -> None:
    down = view("s3", error="connection refused")
    out = evaluate.sentinel_master(ROLES, [view("s1"), view("s2"), down], "jaraba-master")
    assert out.status is Status.FAILED and "s3 unreachable" in out.summary
    other = view("s2", "127.0.0.1:6379", "r1")
    out = evaluate.sentinel_master(ROLES, [view("s1"), other], "jaraba-master")
    assert "s2 names 127.0.0.1:6379, not redis2" in out.summary
    noq = view("s1", quorum_ok=False, quorum_text="NOQUORUM 3 usable Sentinels")
    out = evaluate.sentinel_master(ROLES, [noq], "jaraba-master")
    assert "s1: quorum not reachable" in out.summary
    assert any("CKQUORUM FAILED: NOQUORUM" in e for e in out.evidence)
    sdown = view("s1", flags=("master", "s_down"))
    assert "flags the master s_down" in evaluate.sentinel_master(ROLES, [sdown], "m").summary


def test_two_masters_or_none() -> None:
    two = [*ROLES[:2], RedisRole("redis3", "127.0.0.1:6381", "master", "r3")]
    out = evaluate.sentinel_master(two, [view("s1")], "m")
    assert out.status is Status.FAILED and "2 instances report role:master" in out.summary
    none = [RedisRole(r.name, r.address, "slave", r.run_id) for r in ROLES]
    assert "no Redis instance" in evaluate.sentinel_master(none, [view("s1")], "m").summary


def test_sentinel_without_run_id_matches_by_address() -> None:
    assert evaluate.sentinel_master(ROLES, [view("s1", runid=None)], "m").status is Status.PASSED
    # A tunnelled instance address never equals what Sentinel names: the run id decides.
    tunnelled = [RedisRole("redis2", "127.0.0.1:6379", "master", "r2")]
    out = evaluate.sentinel_master(tunnelled, [view("s1", "10.0.0.12:6379", "r2")], "m")
    assert out.status is Status.PASSED


def target(job: str, instance: str, health: str, err: str = "") -> dict[str, object]:
    return {"labels": {"job": job, "instance": instance}, "health": health, "lastError": err}


def test_prometheus_targets() -> None:
    up = {"status": "success", "data": {"activeTargets": [target("galera", "n1", "up")] * 3}}
    out = evaluate.prometheus_targets(json.dumps(up))
    assert out.status is Status.PASSED and out.evidence == ("3 up: galera 3",)
    down = {
        "data": {
            "activeTargets": [
                target("galera", "127.0.0.1:9104", "down", "connection refused"),
                target("haproxy", "127.0.0.1:8404", "up"),
            ]
        }
    }
    out = evaluate.prometheus_targets(down)
    assert out.status is Status.FAILED and "1 of 2 targets not up" in out.summary
    assert "galera 127.0.0.1:9104: down (connection refused)" in out.evidence
    assert evaluate.prometheus_targets({"data": {"activeTargets": []}}).status is Status.FAILED
    assert evaluate.prometheus_targets({"oops": 1}).status is Status.FAILED
