"""Hypothesis over EVERY parser: whatever a server (or a file, or a user) sends, a parser
returns a value or raises its package's documented parse error (collectors: ParseError and
subclasses; actions/verify: ValueError subclasses), never KeyError, IndexError, TypeError,
UnicodeDecodeError...

``PARSERS`` maps each parser to a strategy of its arguments and the errors it may raise.
``test_every_parser_is_fuzzed`` introspects the modules: a new ``parse_*`` function (or one
of the other readers named in ``READERS``) without an entry here fails the suite.
tests/collectors/test_parsers_fuzz.py fuzzes the collectors harder on mangled captures;
this file is the exhaustive list.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import json
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import jaraba_tui.collectors
from jaraba_tui.actions.types import ParamSpec
from jaraba_tui.collectors.common import ParseError
from jaraba_tui.verify.grants import GrantParseError
from tests.collectors.captured import CAPTURED

FUZZ = settings(
    max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None
)

#: Modules outside collectors/ that hold parsers of server output, files or user input.
EXTRA_MODULES = [
    "jaraba_tui.actions.galera_choice",
    "jaraba_tui.actions.bluegreen_util",
    "jaraba_tui.actions.types",
    "jaraba_tui.verify.grants",
    "jaraba_tui.transport.haproxy",
    "jaraba_tui.transport.sql",
]
#: Functions named parse* that are not parsers.
NOT_PARSERS = {"collectors.common.parsed"}  # runs a parser, turns its failure into a finding
#: Readers that do not start with parse_ but turn foreign data into ours.
READERS = {
    "status_map",
    "info_map",
    "records",
    "split_probe",
    "first_value",
    "norm_addr",
    "server_state",
    "decide_process",
    "detect_standin",
    "grant_lines",
    "check_command",
    "resets_counters",
    "opt_int",
    "opt_float",
    "opt_bool",
    "text",
}


def modules() -> list[ModuleType]:
    found = [
        importlib.import_module(f"jaraba_tui.collectors.{m.name}")
        for m in pkgutil.iter_modules(jaraba_tui.collectors.__path__)
    ]
    return found + [importlib.import_module(name) for name in EXTRA_MODULES]


def discovered() -> set[str]:
    names: set[str] = set()
    for mod in modules():
        for name, fn in inspect.getmembers(mod, inspect.isfunction):
            if fn.__module__ != mod.__name__:
                continue
            if name.lstrip("_").startswith("parse") or name in READERS:
                names.add(f"{mod.__name__.removeprefix('jaraba_tui.')}.{name}")
    return names


# -- strategies --------------------------------------------------------------------------------
def sample(path: str) -> str:
    return (CAPTURED / path).read_text()


def mangled(*paths: str) -> st.SearchStrategy[str]:
    samples = [sample(p) for p in paths]

    @st.composite
    def build(draw: st.DrawFn) -> str:
        s = draw(st.sampled_from(samples))
        a = draw(st.integers(0, len(s)))
        b = draw(st.integers(a, len(s)))
        junk = draw(st.text(max_size=30))
        how = draw(st.sampled_from(["cut", "splice", "delete", "dup", "whole"]))
        return {
            "cut": s[:a],
            "splice": s[:a] + junk + s[b:],
            "delete": s[:a] + s[b:],
            "dup": s[:b] + s[a:],
            "whole": s,
        }[how]

    return build()


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=20)
    | st.binary(max_size=12),
    lambda kids: (
        st.lists(kids, max_size=5)
        | st.tuples(kids, kids)
        | st.dictionaries(st.text(max_size=10) | st.binary(max_size=6), kids, max_size=5)
    ),
    max_leaves=20,
)
json_plain = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda kids: (
        st.lists(kids, max_size=5) | st.dictionaries(st.text(max_size=10), kids, max_size=5)
    ),
    max_leaves=20,
)
texts = st.text() | st.binary(max_size=40).map(lambda b: b.decode("latin-1"))


def json_of(*paths: str) -> st.SearchStrategy[Any]:
    """Real replies, with records truncated or values swapped for garbage."""
    replies = [json.loads(sample(p)) for p in paths]

    def damage(reply: Any, cut: int, junk: Any) -> Any:
        if isinstance(reply, list):
            return [damage(r, cut, junk) for r in reply[: cut + 1]]
        if isinstance(reply, dict):
            items = list(reply.items())
            kept = dict(items[: max(0, len(items) - cut)])
            if items and cut % 2:
                kept[items[cut % len(items)][0]] = junk
            return kept
        return reply

    return st.builds(damage, st.sampled_from(replies), st.integers(0, 8), json_values)


SQL_COLS = [
    "hostgroup_id",
    "hostname",
    "port",
    "status",
    "weight",
    "hostgroup",
    "srv_host",
    "srv_port",
    "ConnUsed",
    "ConnFree",
    "ConnOK",
    "ConnERR",
    "Queries",
    "Latency_us",
    "writer_hostgroup",
    "backup_writer_hostgroup",
    "reader_hostgroup",
    "offline_hostgroup",
    "active",
    "max_writers",
    "time_start_us",
    "ping_success_time_us",
    "ping_error",
    "error",
    "Variable_Name",
    "Variable_Value",
    "Variable_name",
    "Value",
    "count_star",
    "sum_time",
    "digest_text",
    "Grants for root@%",
]
sql_rows = st.lists(
    st.dictionaries(
        st.sampled_from(SQL_COLS) | st.text(max_size=8),
        st.none()
        | st.text(max_size=12)
        | st.integers()
        | st.binary(max_size=8)
        | st.sampled_from(["10", "3306", "ONLINE", "OFFLINE_SOFT", "wsrep_cluster_size", "3"]),
        max_size=8,
    )
    | json_values,
    max_size=8,
)
sql_captures = json_of(
    "proxysql/proxysql_runtime_mysql_servers.json",
    "proxysql/proxysql_stats_mysql_connection_pool.json",
    "proxysql/proxysql_runtime_mysql_galera_hostgroups.json",
    "proxysql/proxysql_galera_log.json",
    "proxysql/proxysql_ping_log.json",
    "proxysql/proxysql_stats_mysql_global.json",
    "proxysql/proxysql_query_digest.json",
    "healthy/galera_node1_wsrep_status.json",
)
rows = sql_rows | sql_captures
sentinel_replies = (
    json_values
    | json_of(
        "healthy/sentinel_26379_masters.json",
        "healthy/sentinel_26379_replicas.json",
        "healthy/sentinel_26379_sentinels.json",
        "healthy/sentinel_26379_get_master_addr.json",
    )
    | mangled("healthy/sentinel_26379_ckquorum.json")
)
alert_bodies = (
    mangled(
        "alerts/prometheus_alerts.json",
        "alerts/alertmanager_alerts.json",
        "alerts/alertmanager_silences.json",
    )
    | json_plain.map(json.dumps)
    | json_values
    | json_of(
        "alerts/prometheus_alerts.json",
        "alerts/alertmanager_alerts.json",
        "alerts/alertmanager_silences.json",
    )
)
host_texts = texts | mangled(
    "healthy/host_df.txt",
    "healthy/host_meminfo.txt",
    "healthy/host_loadavg.txt",
    "healthy/host_nproc.txt",
    "healthy/galera_node1_df.txt",
)


@dataclass(frozen=True)
class Case:
    args: st.SearchStrategy[tuple[Any, ...]]
    errors: tuple[type[BaseException], ...] = (ParseError,)


def one(s: st.SearchStrategy[Any]) -> st.SearchStrategy[tuple[Any, ...]]:
    return s.map(lambda v: (v,))


PARSERS: dict[str, Case] = {
    # collectors.alerts
    "collectors.alerts.parse_prometheus_alerts": Case(one(alert_bodies)),
    "collectors.alerts.parse_am_alerts": Case(one(alert_bodies)),
    "collectors.alerts.parse_silences": Case(one(alert_bodies)),
    # collectors.common
    "collectors.common.split_probe": Case(
        one(texts | texts.map(lambda t: "@@process\n" + t + "\n@@rc " + t[:3]))
    ),
    "collectors.common.parse_timestamp": Case(one(json_values | texts)),
    "collectors.common.opt_int": Case(one(json_values | texts)),
    "collectors.common.opt_float": Case(one(json_values | texts)),
    "collectors.common.opt_bool": Case(one(json_values | texts)),
    "collectors.common.text": Case(one(json_values)),
    # collectors.galera
    "collectors.galera.status_map": Case(one(rows)),
    "collectors.galera.parse_wsrep_status": Case(one(rows)),
    "collectors.galera.parse_repl_latency": Case(one(texts | st.just("0.1/0.2/0.3/x/5"))),
    "collectors.galera.parse_grastate": Case(
        one(texts | mangled("healthy/galera_node1_grastate.dat"))
    ),
    "collectors.galera.parse_pgrep": Case(one(texts | mangled("healthy/galera_pgrep.txt"))),
    "collectors.galera.parse_log_tail": Case(
        st.tuples(texts | mangled("healthy/galera_node1_error_log_tail.txt"), st.integers(0, 600))
    ),
    "collectors.galera.parse_probe_process": Case(
        st.tuples(texts | st.just("12 /var/lib/mysql\n13"), st.none() | texts)
    ),
    "collectors.galera.decide_process": Case(
        st.tuples(
            st.lists(st.integers(-5, 10**7), max_size=4).map(tuple),
            st.dictionaries(st.integers(-5, 10**7), st.none() | texts, max_size=4),
            st.none() | texts,
        )
    ),
    # collectors.haproxy
    "collectors.haproxy.parse_info": Case(one(texts | mangled("healthy/haproxy_show_info.txt"))),
    "collectors.haproxy.parse_stat_csv": Case(
        one(
            texts
            | mangled("healthy/haproxy_show_stat.csv", "healthy/haproxy_stats_http.csv")
            | mangled("healthy/haproxy_show_stat.csv").map(
                lambda s: s.replace("svname", "svname,unknown_col", 1)
            )
        )
    ),
    "collectors.haproxy.parse_map": Case(one(texts | mangled("healthy/haproxy_show_map.txt"))),
    "collectors.haproxy.server_state": Case(one(texts)),
    # collectors.hosts
    "collectors.hosts.parse_loadavg": Case(one(host_texts)),
    "collectors.hosts.parse_meminfo": Case(one(host_texts)),
    "collectors.hosts.parse_df": Case(one(host_texts)),
    "collectors.hosts.parse_nproc": Case(one(host_texts)),
    # collectors.proxysql
    "collectors.proxysql.parse_servers": Case(one(rows)),
    "collectors.proxysql.parse_pool": Case(one(rows)),
    "collectors.proxysql.parse_galera_hostgroups": Case(one(rows)),
    "collectors.proxysql.parse_monitor_log": Case(one(rows)),
    "collectors.proxysql.parse_monitor_rows": Case(one(rows)),
    "collectors.proxysql.parse_global": Case(one(rows)),
    "collectors.proxysql.parse_digests": Case(one(rows)),
    "collectors.proxysql.first_value": Case(one(rows)),
    "collectors.proxysql.detect_standin": Case(st.tuples(st.none() | texts, st.none() | texts)),
    # collectors.redis
    "collectors.redis.info_map": Case(
        one(json_values | texts | mangled("healthy/redis_6379_info_all.txt"))
    ),
    "collectors.redis.parse_info": Case(
        one(
            json_values
            | mangled("healthy/redis_6379_info_all.txt", "healthy/redis_6380_info_all.txt")
            | mangled("healthy/redis_6380_info_all.txt").map(str.encode)
        )
    ),
    # collectors.sentinel
    "collectors.sentinel.norm_addr": Case(one(texts)),
    "collectors.sentinel.records": Case(one(sentinel_replies)),
    "collectors.sentinel.parse_sentinel_masters": Case(one(sentinel_replies)),
    "collectors.sentinel.parse_sentinel_replicas": Case(one(sentinel_replies)),
    "collectors.sentinel.parse_sentinel_peers": Case(one(sentinel_replies)),
    "collectors.sentinel.parse_master_addr": Case(one(sentinel_replies)),
    "collectors.sentinel.parse_ckquorum": Case(one(sentinel_replies)),
    # collectors.sentinel_events
    "collectors.sentinel_events.parse_sentinel_event": Case(
        st.tuples(
            st.sampled_from(["+switch-master", "+sdown", "+odown", "-sdown", "+slave"]) | texts,
            texts
            | st.just("slave 127.0.0.1:6380 127.0.0.1 6380 @ jaraba-master 127.0.0.1 6379")
            | st.text(alphabet="0123456789 .:@abcmasterl", max_size=60),
        )
    ),
    # actions
    "actions.galera_choice.parse_recovered": Case(
        one(
            texts
            | st.just("Recovered position: 1b6b7ad8-0000-11ef-9f56-aa22bb33cc44:٣٤")
            | st.just("--wsrep_start_position=1b6b7ad8-0000-11ef-9f56-aa22bb33cc44:-1")
        ),
        (),
    ),
    "actions.bluegreen_util.parse_map_file": Case(
        one(texts | mangled("healthy/haproxy_show_map.txt")), ()
    ),
    "actions.types.parse_duration": Case(
        one(texts | st.from_regex(r"\A[0-9٣²]{1,4}[smhd ]{0,2}\Z")), (ValueError,)
    ),
    "actions.types.parse_steps": Case(
        one(texts | st.from_regex(r"\A[0-9,٣² -]{0,12}\Z")), (ValueError,)
    ),
    "actions.types.parse_params": Case(
        st.tuples(
            st.lists(
                st.builds(
                    lambda n, k, r, d: ParamSpec(n, k, "help", d, r),
                    st.sampled_from(["comment", "duration", "steps", "count", "force"]),
                    st.sampled_from(["str", "int", "bool", "duration", "percent-steps"]),
                    st.booleans(),
                    st.none() | texts,
                ),
                max_size=4,
                unique_by=lambda s: s.name,
            ),
            st.dictionaries(
                st.sampled_from(["comment", "duration", "steps", "count", "force", "x"]),
                json_values | texts,
                max_size=4,
            ),
        ),
        (ValueError,),
    ),
    # verify
    "verify.grants.parse_grant": Case(
        one(
            texts
            | st.just("GRANT USAGE ON *.* TO `monitor`@`%` IDENTIFIED BY PASSWORD '*AB'")
            | st.from_regex(r"\AGRANT [A-Z ,()`]{0,30} ON [*.a-z`]{0,10} TO [`a-z@%']{0,12}\Z")
        ),
        (GrantParseError,),
    ),
    "verify.grants.grant_lines": Case(one(rows), (GrantParseError,)),
    "verify.grants.parse_grants": Case(one(rows), (GrantParseError,)),
    # transport (check_command's refusal is a plain ValueError, documented)
    "transport.haproxy.check_command": Case(one(texts), (ValueError,)),
    "transport.sql.resets_counters": Case(one(texts), ()),
}


def resolve(qualname: str) -> Callable[..., Any]:
    mod, _, name = qualname.rpartition(".")
    fn: Callable[..., Any] = getattr(importlib.import_module(f"jaraba_tui.{mod}"), name)
    return fn


def test_every_parser_is_fuzzed() -> None:
    missing = sorted(discovered() - set(PARSERS) - NOT_PARSERS)
    assert not missing, f"parsers without a fuzz case in PARSERS: {missing}"
    stale = sorted(set(PARSERS) - discovered())
    assert not stale, f"PARSERS names functions that no longer exist: {stale}"


@pytest.mark.parametrize("qualname", sorted(PARSERS))
@FUZZ
@given(data=st.data())
def test_parser_survives_garbage(qualname: str, data: st.DataObject) -> None:
    case = PARSERS[qualname]
    fn = resolve(qualname)
    args = data.draw(case.args)
    with contextlib.suppress(case.errors):
        fn(*args)
