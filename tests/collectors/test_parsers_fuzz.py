"""Hypothesis: every parser, fed garbage or mangled real output, returns a result or raises
a ParseError subclass; never any other exception."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jaraba_tui.collectors import alerts, galera, haproxy, hosts, proxysql, redis, sentinel
from jaraba_tui.collectors.common import ParseError, opt_bool, opt_float, opt_int, parse_timestamp
from jaraba_tui.collectors.sentinel_events import parse_sentinel_event
from tests.collectors.captured import load, text

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda kids: (
        st.lists(kids, max_size=5) | st.dictionaries(st.text(max_size=10), kids, max_size=5)
    ),
    max_leaves=20,
)


def mangled(sample: str) -> st.SearchStrategy[str]:
    """Real output, cut, spliced with junk, or with a slice deleted."""

    @st.composite
    def build(draw: st.DrawFn) -> str:
        n = len(sample)
        a = draw(st.integers(0, n))
        b = draw(st.integers(a, n))
        junk = draw(st.text(max_size=30))
        how = draw(st.sampled_from(["cut", "splice", "delete", "dup"]))
        if how == "cut":
            return sample[:a]
        if how == "splice":
            return sample[:a] + junk + sample[b:]
        if how == "delete":
            return sample[:a] + sample[b:]
        return sample[:b] + sample[a:]

    return build()


def survives(fn: Callable[[], Any]) -> None:
    with contextlib.suppress(ParseError):
        fn()


def _text_strategy(scenario: str, name: str) -> st.SearchStrategy[str]:
    return st.text() | mangled(text(scenario, name))


@FUZZ
@given(_text_strategy("healthy", "haproxy_show_stat.csv"))
def test_haproxy_stat(s: str) -> None:
    survives(lambda: haproxy.parse_stat_csv(s))
    haproxy.server_state(s)


@FUZZ
@given(_text_strategy("healthy", "haproxy_show_info.txt"))
def test_haproxy_info(s: str) -> None:
    survives(lambda: haproxy.parse_info(s))


@FUZZ
@given(_text_strategy("healthy", "haproxy_show_map.txt"))
def test_haproxy_map(s: str) -> None:
    survives(lambda: haproxy.parse_map(s))


@FUZZ
@given(_text_strategy("galera_stopped", "galera_node3_grastate.dat"))
def test_grastate(s: str) -> None:
    survives(lambda: galera.parse_grastate(s))
    survives(lambda: galera.parse_pgrep(s))
    galera.parse_log_tail(s)
    galera.parse_repl_latency(s)


WSREP_NAMES = [r["Variable_name"] for r in load("healthy", "galera_node1_wsrep_status.json")]
rows_strategy = st.lists(
    st.dictionaries(
        st.sampled_from(["Variable_name", "Value", "VARIABLE_VALUE", "junk"]),
        st.sampled_from(WSREP_NAMES)
        | st.text(max_size=15)
        | st.integers()
        | st.none()
        | st.binary(max_size=8),
        max_size=3,
    )
    | json_values,
    max_size=30,
)


@FUZZ
@given(rows_strategy)
def test_wsrep_rows(rows: list[Any]) -> None:
    survives(lambda: galera.parse_wsrep_status(rows))


@FUZZ
@given(
    st.lists(st.integers(-5, 10**7), max_size=4),
    st.dictionaries(st.integers(-5, 10**7), st.none() | st.text(max_size=20)),
    st.none() | st.text(max_size=20),
)
def test_decide_process(pids: list[int], cwds: dict[int, str | None], datadir: str | None) -> None:
    galera.decide_process(pids, cwds, datadir)


@FUZZ
@given(
    _text_strategy("healthy", "host_df.txt")
    | _text_strategy("healthy", "host_meminfo.txt")
    | _text_strategy("healthy", "host_loadavg.txt")
)
def test_host_parsers(s: str) -> None:
    survives(lambda: hosts.parse_df(s))
    survives(lambda: hosts.parse_meminfo(s))
    survives(lambda: hosts.parse_loadavg(s))
    hosts.parse_nproc(s)


@FUZZ
@given(_text_strategy("healthy", "redis_6379_info_all.txt") | json_values)
def test_redis_info(reply: Any) -> None:
    survives(lambda: redis.parse_info(reply))


sentinel_replies = json_values | st.just(load("healthy", "sentinel_26379_replicas.json")).map(
    lambda recs: [dict(list(r.items())[: len(r) // 2]) for r in recs]
)


@FUZZ
@given(sentinel_replies)
def test_sentinel_replies(reply: Any) -> None:
    survives(lambda: sentinel.parse_sentinel_masters(reply))
    survives(lambda: sentinel.parse_sentinel_replicas(reply))
    survives(lambda: sentinel.parse_sentinel_peers(reply))
    survives(lambda: sentinel.parse_master_addr(reply))
    survives(lambda: sentinel.parse_ckquorum(reply))


@FUZZ
@given(
    st.text(max_size=30),
    st.text() | mangled("slave 127.0.0.1:6380 127.0.0.1 6380 @ jaraba-master 127.0.0.1 6379 x"),
)
def test_sentinel_events(channel: str, data: str) -> None:
    survives(lambda: parse_sentinel_event(channel, data))


SQL_COLUMNS = [
    "hostgroup_id",
    "hostname",
    "port",
    "status",
    "weight",
    "hostgroup",
    "srv_host",
    "srv_port",
    "ConnUsed",
    "ConnERR",
    "Latency_us",
    "writer_hostgroup",
    "active",
    "time_start_us",
    "ping_error",
    "error",
    "Variable_Name",
    "Variable_Value",
    "sum_time",
    "digest_text",
]
sql_rows = st.lists(
    st.dictionaries(
        st.sampled_from(SQL_COLUMNS) | st.text(max_size=8),
        st.none()
        | st.text(max_size=12)
        | st.integers()
        | st.sampled_from(["10", "3306", "ONLINE"]),
        max_size=8,
    )
    | json_values,
    max_size=10,
)


@FUZZ
@given(sql_rows)
def test_proxysql_parsers(rows: list[Any]) -> None:
    survives(lambda: proxysql.parse_servers(rows))
    survives(lambda: proxysql.parse_pool(rows))
    survives(lambda: proxysql.parse_galera_hostgroups(rows))
    survives(lambda: proxysql.parse_monitor_log(rows))
    survives(lambda: proxysql.parse_global(rows))
    survives(lambda: proxysql.parse_digests(rows))
    survives(lambda: proxysql.first_value(rows))


@FUZZ
@given(
    _text_strategy("alerts", "prometheus_alerts.json")
    | _text_strategy("alerts", "alertmanager_alerts.json")
    | _text_strategy("alerts", "alertmanager_silences.json")
    | json_values.map(json.dumps)
    | json_values
)
def test_alert_parsers(body: Any) -> None:
    survives(lambda: alerts.parse_prometheus_alerts(body))
    survives(lambda: alerts.parse_am_alerts(body))
    survives(lambda: alerts.parse_silences(body))


@FUZZ
@given(json_values | st.binary(max_size=10))
def test_coercions(v: Any) -> None:
    opt_int(v)
    opt_float(v)
    opt_bool(v)
    parse_timestamp(v)


def test_unicode_digits_are_parse_errors_not_crashes() -> None:
    """Found by this file's fuzzing: '²'.isdigit() is True but int('²') raises."""
    for fn, arg in (
        (
            hosts.parse_df,
            "Filesystem 1024-blocks Used Available Capacity Mounted on\n/d ² 1 1 1% /\n",
        ),
        (hosts.parse_meminfo, "MemTotal: ² kB\n"),
        (galera.parse_pgrep, "12\n²\n"),
    ):
        survives(lambda fn=fn, arg=arg: fn(arg))  # type: ignore[misc]
    assert hosts.parse_nproc("²") is None
