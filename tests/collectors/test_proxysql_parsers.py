"""ProxySQL admin parsers on real captured output of the lab's stand-in (which mirrors
ProxySQL 2.x tables and sends every column as a string, as ProxySQL does)."""

from __future__ import annotations

import pytest

from jaraba_tui.collectors.proxysql import (
    ProxySQLParseError,
    detect_standin,
    first_value,
    parse_digests,
    parse_galera_hostgroups,
    parse_global,
    parse_monitor_log,
    parse_pool,
    parse_servers,
)
from tests.collectors.captured import load


def test_servers_and_pool_healthy() -> None:
    servers = parse_servers(load("proxysql", "proxysql_runtime_mysql_servers.json"))
    writers = [s for s in servers if s.hostgroup == 10 and s.status == "ONLINE"]
    assert [w.address for w in writers] == ["127.0.0.1:3307"]
    assert {s.status for s in servers} <= {"ONLINE", "SHUNNED"}
    pool = parse_pool(load("proxysql", "proxysql_stats_mysql_connection_pool.json"))
    assert {p.address for p in pool} == {"127.0.0.1:3307", "127.0.0.1:3308", "127.0.0.1:3309"}
    assert all(p.latency_us is not None and p.conn_err == 0 for p in pool)


def test_galera_hostgroups() -> None:
    (g,) = parse_galera_hostgroups(
        load("proxysql", "proxysql_runtime_mysql_galera_hostgroups.json")
    )
    assert (
        g.writer_hostgroup,
        g.backup_writer_hostgroup,
        g.reader_hostgroup,
        g.offline_hostgroup,
    ) == (
        10,
        20,
        30,
        9999,
    )
    assert g.active and g.max_writers == 1 and g.writer_is_also_reader == 2


def test_monitor_logs_healthy_and_with_a_node_down() -> None:
    ok = parse_monitor_log(load("proxysql", "proxysql_ping_log.json"))
    assert len(ok.latest) == 3 and ok.recent_errors == ()
    down = parse_monitor_log(load("proxysql_node_stopped", "proxysql_ping_log.json"))
    latest = {c.address: c for c in down.latest}
    assert latest["127.0.0.1:3309"].error is not None
    assert "Connection refused" in (latest["127.0.0.1:3309"].error or "")
    assert latest["127.0.0.1:3307"].error is None
    assert down.recent_errors and all(e.address == "127.0.0.1:3309" for e in down.recent_errors)
    gl = parse_monitor_log(load("proxysql_node_stopped", "proxysql_galera_log.json"))
    g3 = next(c for c in gl.latest if c.port == 3309)
    assert g3.error and g3.local_state == 0
    assert next(c for c in gl.latest if c.port == 3307).local_state == 4


def test_node_stopped_moves_it_to_the_offline_hostgroup() -> None:
    servers = parse_servers(load("proxysql_node_stopped", "proxysql_runtime_mysql_servers.json"))
    assert [s.hostgroup for s in servers if s.port == 3309] == [9999]


def test_errors_outside_the_window_are_not_recent() -> None:
    rows: list[dict[str, str | None]] = [
        {"hostname": "h", "port": "1", "time_start_us": "1000000000", "ping_error": "old"},
        {
            "hostname": "h",
            "port": "1",
            "time_start_us": str(1000000000 + 120_000_000),
            "ping_error": None,
        },
    ]
    s = parse_monitor_log(rows, window_s=60)
    assert s.recent_errors == () and s.latest[0].error is None


def test_global_counters_and_identity() -> None:
    counters = parse_global(load("proxysql", "proxysql_stats_mysql_global.json"))
    assert counters["ProxySQL_Uptime"] > 0 and "Questions" in counters
    comment = first_value(load("proxysql", "proxysql_version_comment.json"))
    version = first_value(load("proxysql", "proxysql_admin_version.json"))
    assert detect_standin(comment, version)
    assert not detect_standin("(ProxySQL Admin Module)", "2.5.5-10-g195bd70")
    assert parse_digests(load("proxysql", "proxysql_query_digest.json")) == ()


def test_digest_rows() -> None:
    (d,) = parse_digests(
        [
            {
                "hostgroup": "10",
                "schemaname": "drupal",
                "username": "drupal",
                "digest": "0xABC",
                "digest_text": "SELECT ?",
                "count_star": "5",
                "sum_time": "1200",
                "min_time": "100",
                "max_time": "500",
            }
        ]
    )
    assert d.hostgroup == 10 and d.sum_time_us == 1200 and d.count_star == 5


def test_missing_key_columns_are_parse_errors() -> None:
    with pytest.raises(ProxySQLParseError):
        parse_servers([{"hostname": "h"}])
    with pytest.raises(ProxySQLParseError):
        parse_pool([{"hostgroup": "x", "srv_host": "h", "srv_port": "1"}])
    with pytest.raises(ProxySQLParseError):
        parse_servers(["not a row"])  # type: ignore[list-item]
