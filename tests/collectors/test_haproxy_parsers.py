"""HAProxy parsers on real captured output (healthy, blue2 stopped, stats over HTTP)."""

from __future__ import annotations

import pytest

from jaraba_tui.collectors.haproxy import (
    HAProxyParseError,
    parse_info,
    parse_map,
    parse_stat_csv,
    server_state,
)
from tests.collectors.captured import text


def test_show_info() -> None:
    info = parse_info(text("healthy", "haproxy_show_info.txt"))
    assert info.version is not None and info.version.startswith("2.6")
    assert info.pid is not None and info.pid > 0
    assert info.uptime_sec is not None and info.max_conn == 4096
    assert info.stopping is False


@pytest.mark.parametrize("name", ["haproxy_show_stat.csv", "haproxy_stats_http.csv"])
def test_show_stat_healthy_six_servers_up(name: str) -> None:
    table = parse_stat_csv(text("healthy", name))
    assert table.problems == ()
    servers = [r for r in table.rows if r.kind == "server"]
    backends = [r for r in table.rows if r.kind == "backend"]
    frontends = [r for r in table.rows if r.kind == "frontend"]
    assert len(servers) == 6 and all(s.state == "UP" for s in servers)
    assert {b.proxy for b in backends} == {"bk_app_blue", "bk_app_green"}
    assert {f.proxy for f in frontends} == {"fe_jaraba", "fe_stats"}
    s = servers[0]
    assert s.check_status == "L7OK" and s.weight == 1 and s.lastchg is not None
    assert s.addr is not None and s.addr.startswith("127.0.0.1:")
    assert {r.key for r in servers} >= {"bk_app_blue/app2", "bk_app_green/app3"}


def test_show_stat_with_blue2_down() -> None:
    table = parse_stat_csv(text("app_stopped", "haproxy_show_stat.csv"))
    by_key = {r.key: r for r in table.rows}
    down = by_key["bk_app_blue/app2"]
    assert down.state == "DOWN" and not down.usable
    assert down.check_status == "L4CON"
    assert down.chkfail is not None and down.chkfail >= 1
    assert by_key["bk_app_blue/app1"].usable
    assert by_key["bk_app_blue/BACKEND"].state == "UP"  # 2 of 3 still UP


def test_map() -> None:
    m = parse_map(text("healthy", "haproxy_show_map.txt"))
    assert m == {"live": "blue", "canary": "none", "canary_pct": "0"}
    with pytest.raises(HAProxyParseError):
        parse_map("Unknown map identifier. Please use #<id> or <file>.\n")


def test_truncated_csv_keeps_complete_rows_and_reports_the_rest() -> None:
    full = text("healthy", "haproxy_show_stat.csv")
    cut = full[: len(full) // 2]
    table = parse_stat_csv(cut)
    assert table.problems, "a cut row must be reported"
    assert "truncated" in table.problems[0]
    complete = parse_stat_csv(full).rows
    assert table.rows and table.rows == complete[: len(table.rows)]  # the cut row is not kept


def test_unknown_columns_and_reordering_are_tolerated() -> None:
    csv = (
        "# svname,pxname,status,new_column_from_haproxy_3,type,weight,\n"
        "app9,bk_x,MAINT (via bk_y/app9),42,2,0,\n"
        "BACKEND,bk_x,DOWN,,1,0,\n"
    )
    table = parse_stat_csv(csv)
    (srv, bk) = table.rows
    assert srv.key == "bk_x/app9" and srv.state == "MAINT" and srv.kind == "server"
    assert bk.kind == "backend" and bk.state == "DOWN"


def test_not_csv_is_a_parse_error() -> None:
    with pytest.raises(HAProxyParseError):
        parse_stat_csv("Permission denied\n")
    with pytest.raises(HAProxyParseError):
        parse_info("")


@pytest.mark.parametrize(
    ("raw", "state"),
    [
        ("UP", "UP"),
        ("UP 1/2", "UP"),
        ("DOWN 1/2", "DOWN"),
        ("no check", "NO CHECK"),
        ("MAINT (resolution)", "MAINT"),
        ("DRAIN", "DRAIN"),
        ("", "UNKNOWN"),
    ],
)
def test_server_state(raw: str, state: str) -> None:
    assert server_state(raw) == state
