"""The lab's ProxySQL stand-in (lab/proxysql_standin).

* Pure tests: Galera hostgroup placement (with hypothesis properties), the cnf reader, the admin
  SQL layer (LOAD/SAVE semantics on a real SQLite store), routing and digests.
* Process tests: the stand-in started with ``python -m lab.proxysql_standin`` on free ports,
  in front of three *scripted* Galera nodes served by this test (mysql-mimic answering the
  monitor's real Galera query), so that node failures and ``wsrep_reject_queries`` can be played
  without touching the shared lab. Clients are the real ones: pymysql, the ``mariadb`` CLI, HTTP.
* ``lab`` tests: the stand-in in front of the lab's real MariaDB Galera nodes (127.0.0.1:3307-9),
  forwarding real traffic. They only read cluster state; they never change a node.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pymysql
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lab.proxysql_standin import STANDIN_VERSION, VERSION_COMMENT
from lab.proxysql_standin.admin_sql import AdminError, AdminExecutor
from lab.proxysql_standin.bootstrap import bootstrap
from lab.proxysql_standin.config import StandinConfig, cnf_rows, cnf_variables, parse_cnf
from lab.proxysql_standin.hostgroups import (
    GaleraHostgroup,
    NodeHealth,
    ServerRow,
    compute_runtime_servers,
    writers_online,
)
from lab.proxysql_standin.monitor import parse_galera_row
from lab.proxysql_standin.routing import Router
from lab.proxysql_standin.stats import Stats, digest_text
from lab.proxysql_standin.store import AdminStore
from tests.labutil import REPO, port_open, require_lab

LAB = GaleraHostgroup(10, 20, 30, 9999, active=1, max_writers=1, writer_is_also_reader=2,
                      max_transactions_behind=100)  # fmt: skip
NODES = [("127.0.0.1", 3307), ("127.0.0.1", 3308), ("127.0.0.1", 3309)]
CONFIG = [ServerRow(10, h, p) for h, p in NODES]
HEALTHY = NodeHealth()


def layout(rows: list[ServerRow]) -> set[tuple[int, int, str]]:
    return {(r.hostgroup_id, r.port, r.status) for r in rows}


# -- hostgroup placement ---------------------------------------------------------------------


def test_three_healthy_nodes_one_writer_two_backup_writers_that_read() -> None:
    rows = compute_runtime_servers(CONFIG, [LAB], dict.fromkeys(NODES, HEALTHY))
    assert layout(rows) == {
        (10, 3307, "ONLINE"),
        (10, 3308, "SHUNNED"),
        (10, 3309, "SHUNNED"),
        (20, 3308, "ONLINE"),
        (20, 3309, "ONLINE"),
        (30, 3308, "ONLINE"),
        (30, 3309, "ONLINE"),
    }


def test_the_current_writer_keeps_the_role_among_equals() -> None:
    previous = [ServerRow(10, "127.0.0.1", 3309)]
    rows = compute_runtime_servers(CONFIG, [LAB], dict.fromkeys(NODES, HEALTHY), previous)
    assert [r.port for r in writers_online(rows, 10)] == [3309]


def test_higher_weight_takes_the_writer_role_from_the_incumbent() -> None:
    config = [*CONFIG[:2], ServerRow(10, "127.0.0.1", 3309, weight=1000)]
    previous = [ServerRow(10, "127.0.0.1", 3307)]
    rows = compute_runtime_servers(config, [LAB], dict.fromkeys(NODES, HEALTHY), previous)
    assert [r.port for r in writers_online(rows, 10)] == [3309]


@pytest.mark.parametrize(
    ("health", "reason"),
    [
        (NodeHealth(error="Can't connect"), "Can't connect"),
        (NodeHealth(primary_partition=False), "primary_partition=NO"),
        (NodeHealth(wsrep_desync=True, wsrep_local_state=2), "wsrep_desync=YES"),
        (NodeHealth(wsrep_local_state=1), "wsrep_local_state=1"),
        (
            NodeHealth(wsrep_local_state=2, wsrep_sst_donor_rejects_queries=True),
            "wsrep_local_state=2",
        ),
        (NodeHealth(wsrep_reject_queries=True), "wsrep_reject_queries=true"),
    ],
)
def test_unhealthy_writer_goes_offline_and_a_backup_takes_over(
    health: NodeHealth, reason: str
) -> None:
    assert health.offline_reason() == reason
    states = {**dict.fromkeys(NODES, HEALTHY), NODES[0]: health}
    rows = compute_runtime_servers(CONFIG, [LAB], states, [ServerRow(10, "127.0.0.1", 3307)])
    assert {(r.hostgroup_id, r.status) for r in rows if r.port == 3307} == {(9999, "ONLINE")}
    assert [r.port for r in writers_online(rows, 10)] == [3308]
    assert (30, 3309, "ONLINE") in layout(rows)


def test_a_donor_that_serves_queries_stays_in_service() -> None:
    donor = NodeHealth(wsrep_local_state=2, wsrep_sst_donor_rejects_queries=False)
    assert donor.offline_reason() is None


def test_readers_lagging_beyond_max_transactions_behind_go_offline() -> None:
    states = {
        NODES[0]: HEALTHY,
        NODES[1]: NodeHealth(read_only=True, wsrep_local_recv_queue=101),
        NODES[2]: NodeHealth(read_only=True, wsrep_local_recv_queue=100),
    }
    assert layout(compute_runtime_servers(CONFIG, [LAB], states)) == {
        (10, 3307, "ONLINE"),
        (9999, 3308, "ONLINE"),
        (30, 3309, "ONLINE"),
    }


def test_writer_is_also_reader_2_uses_the_writer_when_no_one_else_can_read() -> None:
    states = {NODES[0]: HEALTHY, NODES[1]: NodeHealth(error="x"), NODES[2]: NodeHealth(error="x")}
    rows = compute_runtime_servers(CONFIG, [LAB], states)
    assert (30, 3307, "ONLINE") in layout(rows)


@pytest.mark.parametrize(("mode", "readers"), [(0, set()), (1, {3307, 3308, 3309})])
def test_writer_is_also_reader_0_and_1(mode: int, readers: set[int]) -> None:
    cluster = GaleraHostgroup(10, 20, 30, 9999, writer_is_also_reader=mode)
    rows = compute_runtime_servers(CONFIG, [cluster], dict.fromkeys(NODES, HEALTHY))
    assert {r.port for r in rows if r.hostgroup_id == 30} == readers


def test_a_configured_offline_soft_does_not_survive_the_galera_monitor() -> None:
    config = [ServerRow(10, "127.0.0.1", 3307, status="OFFLINE_SOFT"), *CONFIG[1:]]
    rows = compute_runtime_servers(config, [LAB], dict.fromkeys(NODES, HEALTHY))
    assert all(r.status in ("ONLINE", "SHUNNED") for r in rows if r.port == 3307)
    assert (20, 3307, "ONLINE") in layout(rows) or (10, 3307, "ONLINE") in layout(rows)


def test_a_node_parked_in_the_offline_hostgroup_comes_back_when_healthy() -> None:
    config = [*CONFIG[:2], ServerRow(9999, "127.0.0.1", 3309)]
    rows = compute_runtime_servers(config, [LAB], dict.fromkeys(NODES, HEALTHY))
    assert (30, 3309, "ONLINE") in layout(rows)


def test_configured_offline_hard_and_inactive_clusters_are_left_as_configured() -> None:
    config = [ServerRow(10, "127.0.0.1", 3307, status="OFFLINE_HARD"), *CONFIG[1:]]
    rows = compute_runtime_servers(config, [LAB], dict.fromkeys(NODES, HEALTHY))
    assert {(r.hostgroup_id, r.status) for r in rows if r.port == 3307} == {(10, "OFFLINE_HARD")}
    inactive = GaleraHostgroup(10, 20, 30, 9999, active=0)
    assert compute_runtime_servers(CONFIG, [inactive], {}) == CONFIG


def test_servers_outside_galera_hostgroups_pass_through() -> None:
    other = ServerRow(50, "10.0.0.9", 3306, status="OFFLINE_SOFT")
    rows = compute_runtime_servers([*CONFIG, other], [LAB], dict.fromkeys(NODES, HEALTHY))
    assert other in rows


_health = st.builds(
    NodeHealth,
    error=st.sampled_from([None, None, None, "Lost connection"]),
    primary_partition=st.booleans(),
    read_only=st.booleans(),
    wsrep_local_state=st.sampled_from([1, 2, 3, 4, 4, 4]),
    wsrep_desync=st.booleans(),
    wsrep_reject_queries=st.booleans(),
    wsrep_sst_donor_rejects_queries=st.booleans(),
    wsrep_local_recv_queue=st.integers(0, 300),
)
_cluster = st.builds(
    GaleraHostgroup,
    writer_hostgroup=st.just(10),
    backup_writer_hostgroup=st.just(20),
    reader_hostgroup=st.just(30),
    offline_hostgroup=st.just(9999),
    max_writers=st.integers(0, 4),
    writer_is_also_reader=st.integers(0, 2),
    max_transactions_behind=st.integers(0, 200),
)


@st.composite
def _scenarios(
    draw: st.DrawFn,
) -> tuple[list[ServerRow], GaleraHostgroup, dict[Any, NodeHealth], list[ServerRow]]:
    ports = draw(st.lists(st.integers(3300, 3320), min_size=1, max_size=6, unique=True))
    config = [
        ServerRow(
            draw(st.sampled_from([10, 20, 30, 9999])),
            "127.0.0.1",
            port,
            status=draw(st.sampled_from(["ONLINE", "SHUNNED", "OFFLINE_SOFT"])),
            weight=draw(st.integers(0, 3)),
        )
        for port in ports
    ]
    health = {("127.0.0.1", p): draw(_health) for p in ports if draw(st.integers(0, 9))}
    previous = [ServerRow(10, "127.0.0.1", p) for p in ports if draw(st.booleans())]
    return config, draw(_cluster), health, previous


@settings(max_examples=400, deadline=None)
@given(_scenarios())
def test_placement_invariants(
    scenario: tuple[list[ServerRow], GaleraHostgroup, dict[Any, NodeHealth], list[ServerRow]],
) -> None:
    config, cluster, health, previous = scenario
    rows = compute_runtime_servers(config, [cluster], health, previous)
    keys = [(r.hostgroup_id, r.hostname, r.port) for r in rows]
    assert len(keys) == len(set(keys)), "primary key (hostgroup_id, hostname, port) repeated"
    assert len(writers_online(rows, 10)) <= cluster.max_writers
    by_node: dict[int, set[int]] = {}
    for row in rows:
        by_node.setdefault(row.port, set()).add(row.hostgroup_id)
        usable = ("127.0.0.1", row.port) in health and (
            health[("127.0.0.1", row.port)].offline_reason() is None
        )
        if not usable and row.status == "ONLINE":
            assert row.hostgroup_id == 9999, f"unhealthy node ONLINE in hostgroup {row}"
    for port, groups in by_node.items():
        assert groups == {9999} or 9999 not in groups, f"{port} offline and in service"
        if groups != {9999}:
            assert groups & {10, 30}, f"{port} in service but neither writer nor reader"
    assert {r.port for r in rows} == {r.port for r in config}, "a node vanished"
    candidates = [h for h in health.values() if h.offline_reason() is None and not h.read_only]
    if cluster.max_writers > 0 and candidates:
        assert writers_online(rows, 10), "a healthy writable node exists but no writer"


def test_parse_galera_row_reads_mariadb_values_like_proxysql() -> None:
    health = parse_galera_row(("4", 0, "0", 0, "NONE", 0, "Primary"))
    assert health == NodeHealth()
    health = parse_galera_row(("2", "ON", "7", "ON", "ALL", "OFF", "non-Primary"))
    assert health.read_only and health.wsrep_desync and health.wsrep_reject_queries
    assert not health.primary_partition and health.wsrep_local_recv_queue == 7


# -- configuration file ---------------------------------------------------------------------

CNF = """
datadir="/var/lib/proxysql"  # comment
admin_variables = { admin_credentials="admin:admin_dev;radmin:radmin_dev"
                    mysql_ifaces="127.0.0.1:6032" }
mysql_variables = { monitor_galera_healthcheck_interval=2000 monitor_enabled=true }
mysql_servers = (
  { address="127.0.0.1", port=3307, hostgroup=10, max_connections=100 },  /* node1 */
  { address="127.0.0.1", port=3308, hostgroup=10 }
)
mysql_galera_hostgroups = ( { writer_hostgroup=10, backup_writer_hostgroup=20,
  reader_hostgroup=30, offline_hostgroup=9999, active=1, max_writers=1 } )
"""


def test_cnf_reader_understands_proxysql_configuration_files() -> None:
    cnf = parse_cnf(CNF)
    assert cnf_rows(cnf, "mysql_servers")[0] == {
        "hostname": "127.0.0.1",
        "port": 3307,
        "hostgroup_id": 10,
        "max_connections": 100,
    }
    variables = cnf_variables(cnf)
    assert variables["mysql-monitor_enabled"] == "true"
    assert variables["admin-admin_credentials"] == "admin:admin_dev;radmin:radmin_dev"
    assert cnf_rows(cnf, "mysql_galera_hostgroups")[0]["offline_hostgroup"] == 9999


# -- admin SQL on a real store --------------------------------------------------------------


def _config(state: Path, **kw: Any) -> StandinConfig:
    return StandinConfig(
        state_dir=state,
        backends=list(NODES),
        admin_password="admin_dev",
        monitor_password="monitor_dev",
        app_user="drupal",
        app_password="drupal_dev",
        **kw,
    )


@pytest.fixture
def admin(tmp_path: Path) -> Iterator[AdminExecutor]:
    store = AdminStore(tmp_path)
    bootstrap(store, _config(tmp_path))
    yield AdminExecutor(store, Stats())
    store.close()


def q(ex: AdminExecutor, sql: str) -> list[tuple[str | None, ...]]:
    return list(ex.execute(sql).rows)


def test_admin_identifies_the_stand_in_without_breaking_proxysql_queries(
    admin: AdminExecutor,
) -> None:
    assert q(admin, "SELECT @@version_comment LIMIT 1") == [(VERSION_COMMENT,)]
    assert q(admin, "select @@version") == [(STANDIN_VERSION,)]
    version = q(
        admin, "SELECT variable_value FROM global_variables WHERE variable_name='admin-version'"
    )
    assert version == [(STANDIN_VERSION,)] and "jaraba-standin" in STANDIN_VERSION
    assert q(admin, "SELECT 1") == [("1",)]


def test_initial_config_three_nodes_in_writer_hostgroup_loaded_and_saved(
    admin: AdminExecutor,
) -> None:
    expected = [
        ("10", "127.0.0.1", "3307"),
        ("10", "127.0.0.1", "3308"),
        ("10", "127.0.0.1", "3309"),
    ]
    for table in ("mysql_servers", "runtime_mysql_servers", "disk.mysql_servers"):
        assert (
            q(admin, f"SELECT hostgroup_id, hostname, port FROM {table} ORDER BY port") == expected
        )
    assert q(admin, "SELECT * FROM runtime_mysql_galera_hostgroups") == [
        ("10", "20", "30", "9999", "1", "1", "2", "100", "jaraba galera")
    ]


def test_edits_reach_runtime_only_on_load_and_disk_only_on_save(admin: AdminExecutor) -> None:
    admin.execute("UPDATE mysql_servers SET weight=7 WHERE port=3308")
    weight = "SELECT weight FROM {} WHERE port=3308"
    assert q(admin, weight.format("runtime_mysql_servers")) == [("1",)]
    admin.execute("LOAD MYSQL SERVERS TO RUNTIME")
    assert q(admin, weight.format("runtime_mysql_servers")) == [("7",)]
    assert q(admin, weight.format("disk.mysql_servers")) == [("1",)]
    admin.execute("SAVE MYSQL SERVERS TO DISK")
    assert q(admin, weight.format("disk.mysql_servers")) == [("7",)]
    admin.execute("UPDATE mysql_servers SET weight=9")
    admin.execute("LOAD MYSQL SERVERS FROM DISK")
    assert q(admin, weight.format("mysql_servers")) == [("7",)]
    admin.execute("UPDATE mysql_servers SET weight=3")
    admin.execute("SAVE MYSQL SERVERS FROM RUNTIME")
    assert q(admin, weight.format("mysql_servers")) == [("7",)]


@pytest.mark.parametrize(
    "command",
    [
        "LOAD MYSQL SERVERS TO RUN",
        "load mysql servers from memory",
        "LOAD  MYSQL SERVERS TO RUNTIME;",
    ],
)
def test_load_aliases(admin: AdminExecutor, command: str) -> None:
    admin.execute("DELETE FROM mysql_servers WHERE port=3309")
    admin.execute(command)
    assert [r[0] for r in q(admin, "SELECT port FROM runtime_mysql_servers")] == ["3307", "3308"]


def test_variables_set_load_and_save(admin: AdminExecutor) -> None:
    admin.execute("SET mysql-monitor_ping_interval=3000")
    runtime = "SELECT variable_value FROM runtime_global_variables WHERE variable_name='mysql-monitor_ping_interval'"  # noqa: E501
    assert q(admin, runtime) == [("2000",)]
    admin.execute("LOAD MYSQL VARIABLES TO RUNTIME")
    assert q(admin, runtime) == [("3000",)]
    admin.execute("SET admin-refresh_interval='1500'")
    admin.execute("SAVE ADMIN VARIABLES TO DISK")
    disk = "SELECT variable_value FROM disk.global_variables WHERE variable_name=?"
    assert admin.store.query(disk, ("admin-refresh_interval",))[1] == [("1500",)]
    assert admin.store.query(disk, ("mysql-monitor_ping_interval",))[1] == [("2000",)]


def test_users_are_hashed_at_runtime_and_listed_as_frontend_and_backend(
    admin: AdminExecutor,
) -> None:
    rows = q(admin, "SELECT username, password, frontend, backend FROM runtime_mysql_users")
    assert {(r[2], r[3]) for r in rows} == {("1", "0"), ("0", "1")}
    assert all(r[1] is not None and r[1].startswith("*") and "drupal_dev" not in r[1] for r in rows)
    assert admin.store.user_secrets["drupal"] == "drupal_dev"


def test_stats_and_monitor_tables_answer_qualified_and_unqualified(admin: AdminExecutor) -> None:
    pool = q(admin, "SELECT * FROM stats_mysql_connection_pool")
    assert pool == q(admin, "SELECT * FROM stats.stats_mysql_connection_pool") and len(pool) == 3
    columns = admin.execute("SELECT * FROM stats.stats_mysql_connection_pool").columns
    assert columns == ["hostgroup", "srv_host", "srv_port", "status", "ConnUsed", "ConnFree",
                       "ConnOK", "ConnERR", "MaxConnUsed", "Queries", "Queries_GTID_sync",
                       "Bytes_data_sent", "Bytes_data_recv", "Latency_us"]  # fmt: skip
    names = {r[0] for r in q(admin, "SELECT Variable_Name FROM stats_mysql_global")}
    assert {"Questions", "Client_Connections_connected", "ProxySQL_Uptime"} <= names
    q(admin, "SELECT * FROM monitor.mysql_server_ping_log ORDER BY time_start_us DESC LIMIT 10")
    galera_columns = admin.execute("SELECT * FROM monitor.mysql_server_galera_log").columns
    assert galera_columns[4:8] == ["primary_partition", "read_only", "wsrep_local_recv_queue",
                                   "wsrep_local_state"]  # fmt: skip
    assert {"main", "disk", "stats", "monitor"} == {r[1] for r in q(admin, "SHOW DATABASES")}
    assert ("runtime_mysql_galera_hostgroups",) in q(admin, "SHOW TABLES")


def test_errors_are_proxysql_admin_errors_not_crashes(admin: AdminExecutor) -> None:
    for bad in ("SELECT * FROM nosuch", "LOAD MYSQL NOTHING TO RUNTIME", "FROBNICATE"):
        with pytest.raises(AdminError) as err:
            admin.execute(bad)
        assert err.value.code == 1045 and err.value.message.startswith("ProxySQL Admin Error:")
    with pytest.raises(AdminError):
        admin.execute("UPDATE mysql_servers SET status='BROKEN'")  # ProxySQL's CHECK constraint


def test_restart_loads_from_disk_not_from_the_command_line(tmp_path: Path) -> None:
    store = AdminStore(tmp_path)
    bootstrap(store, _config(tmp_path))
    AdminExecutor(store, Stats()).execute("DELETE FROM mysql_servers WHERE port=3309")
    AdminExecutor(store, Stats()).execute("SAVE MYSQL SERVERS TO DISK")
    store.close()
    again = AdminStore(tmp_path)
    bootstrap(again, _config(tmp_path))
    assert {r.port for r in again.servers_config} == {3307, 3308}
    again.close()


def test_routing_and_digests() -> None:
    rules = [
        {
            "rule_id": 1,
            "active": 1,
            "match_digest": "^SELECT.*FOR UPDATE",
            "destination_hostgroup": 10,
            "apply": 1,
        },
        {
            "rule_id": 2,
            "active": 1,
            "match_digest": "^SELECT",
            "destination_hostgroup": 30,
            "apply": 1,
        },
    ]
    router = Router()
    assert router.route(rules, user="u", schema=None, sql="select 1").hostgroup == 30
    assert (
        router.route(rules, user="u", schema=None, sql="SELECT * FROM t FOR UPDATE").hostgroup == 10
    )
    assert router.route(rules, user="u", schema=None, sql="UPDATE t SET a=1").hostgroup is None
    assert digest_text("SELECT * FROM t WHERE id IN (1, 2,3) AND n = 'x'") == (
        "SELECT * FROM t WHERE id IN (?,...) AND n = ?"
    )


# -- the stand-in as a process, in front of scripted Galera nodes ------------------------------

PASSWORDS = {"monitor": "monitor_dev", "drupal": "drupal_dev"}
SECRETS_ENV = {
    "LAB_MONITOR_PASSWORD": "monitor_dev",
    "LAB_PROXYSQL_ADMIN_PASSWORD": "admin_dev",
    "LAB_DRUPAL_PASSWORD": "drupal_dev",
}


@dataclass
class NodeState:
    """What a scripted Galera node answers to ProxySQL's Galera check."""

    wsrep_local_state: str = "4"
    read_only: str = "0"
    wsrep_local_recv_queue: str = "0"
    wsrep_desync: str = "OFF"
    wsrep_reject_queries: str = "NONE"
    wsrep_sst_donor_rejects_queries: str = "OFF"
    wsrep_cluster_status: str = "Primary"
    down: bool = False
    queries: list[str] = field(default_factory=list)


class FakeGalera:
    """Three MySQL-protocol servers (mysql-mimic) that answer like MariaDB Galera nodes would."""

    def __init__(self, count: int = 3) -> None:
        from mysql_mimic import MysqlServer

        from lab.proxysql_standin.protocol import PasswordIdentity, cleartext_digest

        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.states: dict[int, NodeState] = {}
        self.servers: dict[int, Any] = {}

        def lookup(user: str) -> str | None:
            return cleartext_digest(PASSWORDS[user]) if user in PASSWORDS else None

        async def start() -> None:
            for _ in range(count):
                state = NodeState()
                server = MysqlServer(
                    session_factory=lambda s=state: _FakeSession(s, self),
                    identity_provider=PasswordIdentity(lookup),
                )
                await server.start_server(host="127.0.0.1", port=0)
                port = int(server.sockets()[0].getsockname()[1])
                state.queries.append(f"port {port}")
                self.states[port], self.servers[port] = state, server

        asyncio.run_coroutine_threadsafe(start(), self.loop).result(10)

    @property
    def ports(self) -> list[int]:
        return sorted(self.states)

    def close(self) -> None:
        for server in self.servers.values():
            self.loop.call_soon_threadsafe(server.close)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


def _fake_session_class() -> type:
    from mysql_mimic.errors import MysqlError
    from mysql_mimic.session import BaseSession

    from lab.proxysql_standin.protocol import session_variables

    class FakeSession(BaseSession):  # type: ignore[misc]
        def __init__(self, state: NodeState, galera: FakeGalera) -> None:
            self.state = state
            self.variables = session_variables("10.11.6-MariaDB")
            self.username = None
            self.database = None
            self.connection: Any = None

        async def init(self, connection: Any) -> None:
            self.connection = connection

        async def handle_query(self, sql: str, attrs: dict[str, str]) -> Any:
            s = self.state
            if s.down:
                self.connection.stream.writer.close()
                raise MysqlError("Lost connection")
            s.queries.append(sql)
            if "WSREP_LOCAL_STATE" in sql:
                columns = ["wsrep_local_state", "read_only", "wsrep_local_recv_queue",
                           "wsrep_desync", "wsrep_reject_queries",
                           "wsrep_sst_donor_rejects_queries", "wsrep_cluster_status"]  # fmt: skip
                row = (s.wsrep_local_state, s.read_only, s.wsrep_local_recv_queue, s.wsrep_desync,
                       s.wsrep_reject_queries, s.wsrep_sst_donor_rejects_queries,
                       s.wsrep_cluster_status)  # fmt: skip
                return [row], columns
            if re.match(r"(?i)^select @@port", sql.strip()):
                port = self.connection.stream.writer.get_extra_info("sockname")[1]
                return [(port,)], ["@@port"]
            return None

    return FakeSession


def _FakeSession(state: NodeState, galera: FakeGalera) -> Any:
    global _FAKE_CLS
    if _FAKE_CLS is None:
        _FAKE_CLS = _fake_session_class()
    return _FAKE_CLS(state, galera)


_FAKE_CLS: type | None = None


def wait_for(predicate: Callable[[], Any], timeout: float = 10.0, step: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(step)


@dataclass
class Standin:
    proc: subprocess.Popen[bytes]
    log: Path
    admin: int
    mysql: int
    metrics: int

    def admin_rows(self, sql: str) -> list[tuple[Any, ...]]:
        conn = pymysql.connect(
            host="127.0.0.1", port=self.admin, user="admin", password="admin_dev", connect_timeout=5
        )
        try:
            with conn.cursor() as cur:
                cur.execute(sql)
                return list(cur.fetchall())
        finally:
            conn.close()

    def layout(self) -> set[tuple[int, int, str]]:
        rows = self.admin_rows("SELECT hostgroup_id, port, status FROM runtime_mysql_servers")
        return {(int(h), int(p), str(s)) for h, p, s in rows}

    def stop(self) -> float:
        started = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(10)
        return time.monotonic() - started


_LISTENING = re.compile(r"listening admin=[\d.]+:(\d+) mysql=[\d.]+:(\d+) metrics=[\d.]+:(\d+)")


def start_standin(
    state_dir: Path, backends: list[int], interval_ms: int = 200, extra: list[str] | None = None
) -> Standin:
    log = state_dir.parent / f"{state_dir.name}.log"
    argv = [sys.executable, "-m", "lab.proxysql_standin", "--admin-port", "0", "--mysql-port", "0",
            "--metrics-port", "0", "--state-dir", str(state_dir), "--app-user", "drupal",
            "--monitor-interval-ms", str(interval_ms), *(extra or [])]  # fmt: skip
    for port in backends:
        argv += ["--backend", f"127.0.0.1:{port}"]
    env = {**os.environ, **SECRETS_ENV, "PYTHONPATH": str(REPO)}
    offset = log.stat().st_size if log.exists() else 0
    with log.open("ab") as out:
        proc = subprocess.Popen(argv, cwd=REPO, env=env, stdout=out, stderr=out)
    try:
        match = wait_for(lambda: _LISTENING.search(log.read_text()[offset:]), timeout=20)
    except AssertionError:
        proc.kill()
        raise AssertionError(f"stand-in did not start:\n{log.read_text()}") from None
    admin, mysql, metrics = (int(g) for g in match.groups())
    return Standin(proc, log, admin, mysql, metrics)


@pytest.fixture
def galera() -> Iterator[FakeGalera]:
    fake = FakeGalera()
    yield fake
    fake.close()


@pytest.fixture
def standin(tmp_path: Path, galera: FakeGalera) -> Iterator[Standin]:
    proc = start_standin(tmp_path / "state", galera.ports)
    yield proc
    if proc.proc.poll() is None:
        proc.stop()


def converged(galera: FakeGalera, writer: int) -> set[tuple[int, int, str]]:
    others = [p for p in galera.ports if p != writer]
    return {(10, writer, "ONLINE")} | {
        item for p in others for item in ((10, p, "SHUNNED"), (20, p, "ONLINE"), (30, p, "ONLINE"))
    }


def test_cli_help_and_a_missing_secret_is_a_clear_exit_2(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("LAB_PROXYSQL_ADMIN_PASSWORD", None)
    base = [sys.executable, "-m", "lab.proxysql_standin"]
    out = subprocess.run([*base, "--help"], cwd=REPO, env=env, capture_output=True, text=True)
    assert out.returncode == 0 and "--monitor-password-env" in out.stdout
    out = subprocess.run([*base, "--state-dir", str(tmp_path)], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=30)  # fmt: skip
    assert out.returncode == 2
    assert "LAB_PROXYSQL_ADMIN_PASSWORD" in out.stderr and "Traceback" not in out.stderr


def test_admin_answers_pymysql_and_the_mariadb_client(standin: Standin, galera: FakeGalera) -> None:
    wait_for(lambda: standin.layout() == converged(galera, galera.ports[0]))
    assert standin.admin_rows("SELECT @@version_comment LIMIT 1") == [(VERSION_COMMENT,)]
    if shutil.which("mariadb"):
        out = subprocess.run(
            ["mariadb", "-h127.0.0.1", f"-P{standin.admin}", "-uadmin", "-N", "-B", "-e",
             "select hostgroup_id, port, status from runtime_mysql_servers; "
             "select count(*) from stats.stats_mysql_connection_pool"],
            capture_output=True, text=True, timeout=10,
            env={**os.environ, "MYSQL_PWD": "admin_dev"},
        )  # fmt: skip
        assert out.returncode == 0, out.stderr
        assert f"10\t{galera.ports[0]}\tONLINE" in out.stdout
    with pytest.raises(pymysql.err.OperationalError) as err:
        pymysql.connect(host="127.0.0.1", port=standin.admin, user="admin", password="wrong")
    assert err.value.args[0] == 1045


def _raw_login_then_query(port: int) -> bytes:
    """Fail the login on purpose, ignore the error and send a query anyway (raw protocol)."""
    import socket
    import struct

    def read(sock: socket.socket) -> bytes:
        header = sock.recv(4)
        if len(header) < 4:
            return b""
        length = int.from_bytes(header[:3], "little")
        data = b""
        while len(data) < length:
            chunk = sock.recv(length - len(data))
            if not chunk:
                break
            data += chunk
        return data

    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        read(sock)  # handshake
        caps = 0x200 | 0x8000 | 0x80000  # PROTOCOL_41, SECURE_CONNECTION, PLUGIN_AUTH
        body = struct.pack("<IIB", caps, 1 << 24, 45) + b"\0" * 23 + b"admin\0"
        body += bytes([20]) + b"x" * 20 + b"mysql_native_password\0"
        sock.sendall(len(body).to_bytes(3, "little") + b"\x01" + body)
        assert read(sock)[:1] == b"\xff"  # access denied
        query = b"\x03SELECT * FROM runtime_mysql_servers"
        try:
            sock.sendall(len(query).to_bytes(3, "little") + b"\x00" + query)
            return read(sock)
        except OSError:
            return b""


def test_a_failed_login_cannot_send_queries(standin: Standin) -> None:
    answer = _raw_login_then_query(standin.admin)
    assert answer == b"" or answer[:1] == b"\xff", f"served after a failed login: {answer!r}"


def test_monitor_moves_nodes_like_proxysql(standin: Standin, galera: FakeGalera) -> None:
    first, second, third = galera.ports
    wait_for(lambda: standin.layout() == converged(galera, first))
    galera.states[second].wsrep_reject_queries = "ALL"
    wait_for(lambda: (9999, second, "ONLINE") in standin.layout())
    assert {r for r in standin.layout() if r[1] == second} == {(9999, second, "ONLINE")}
    galera.states[second].wsrep_reject_queries = "NONE"
    wait_for(lambda: standin.layout() == converged(galera, first))
    galera.states[first].down = True  # the writer dies: a backup writer takes over
    wait_for(lambda: (9999, first, "ONLINE") in standin.layout(), timeout=15)
    assert [p for h, p, s in standin.layout() if h == 10 and s == "ONLINE"] in ([second], [third])
    log = standin.admin_rows(
        f"SELECT error FROM monitor.mysql_server_galera_log WHERE port={first} "
        "ORDER BY time_start_us DESC LIMIT 1"
    )
    assert log[0][0]
    pings = standin.admin_rows(
        "SELECT * FROM monitor.mysql_server_ping_log ORDER BY time_start_us DESC LIMIT 10"
    )
    assert len(pings) == 10


def test_offline_soft_is_put_back_online_but_reject_queries_sticks(
    standin: Standin, galera: FakeGalera
) -> None:
    first, second, _ = galera.ports
    wait_for(lambda: standin.layout() == converged(galera, first))
    standin.admin_rows(f"UPDATE mysql_servers SET status='OFFLINE_SOFT' WHERE port={second}")
    standin.admin_rows("LOAD MYSQL SERVERS TO RUNTIME")
    wait_for(lambda: (30, second, "ONLINE") in standin.layout(), timeout=5)  # reverted
    assert standin.admin_rows(f"SELECT status FROM mysql_servers WHERE port={second}") == [
        ("OFFLINE_SOFT",)
    ]
    galera.states[second].wsrep_reject_queries = "ALL"  # the drain that sticks
    wait_for(lambda: (9999, second, "ONLINE") in standin.layout())
    time.sleep(1.0)  # five more monitor rounds
    assert {r for r in standin.layout() if r[1] == second} == {(9999, second, "ONLINE")}


def test_traffic_is_routed_counted_and_exported(standin: Standin, galera: FakeGalera) -> None:
    first = galera.ports[0]
    wait_for(lambda: standin.layout() == converged(galera, first))
    conn = pymysql.connect(host="127.0.0.1", port=standin.mysql, user="drupal",
                           password="drupal_dev", autocommit=True)  # fmt: skip
    with conn.cursor() as cur:
        reads = set()
        for _ in range(10):
            cur.execute("SELECT @@port")
            reads.add(int(cur.fetchone()[0]))
        cur.execute("SELECT @@port FOR UPDATE")
        locking = int(cur.fetchone()[0])
    conn.close()
    assert reads <= set(galera.ports[1:]) and reads and locking == first
    pool = standin.admin_rows(
        "SELECT hostgroup, srv_port, Queries, ConnOK FROM stats_mysql_connection_pool"
    )
    queries = {(int(h), int(p)): int(q) for h, p, q, _ in pool}
    assert sum(v for (h, _), v in queries.items() if h == 30) == 10
    assert queries[(10, first)] == 1
    digest = standin.admin_rows("SELECT digest_text, count_star FROM stats_mysql_query_digest")
    assert ("SELECT @@port", "10") in digest
    body = urllib.request.urlopen(f"http://127.0.0.1:{standin.metrics}/metrics", timeout=5).read()
    text = body.decode()
    assert "proxysql_up 1" in text and 'proxysql_standin_info{version="' in text
    assert (
        f'proxysql_connection_pool_status{{hostgroup="10",endpoint="127.0.0.1:{first}"}} 1' in text
    )
    assert "proxysql_mysql_status_questions " in text


def test_sigterm_is_fast_and_the_disk_config_survives_a_restart(
    tmp_path: Path, galera: FakeGalera
) -> None:
    state = tmp_path / "state"
    first = start_standin(state, galera.ports)
    first.admin_rows(f"DELETE FROM mysql_servers WHERE port={galera.ports[2]}")
    first.admin_rows("SAVE MYSQL SERVERS TO DISK")
    assert first.stop() < 3 and first.proc.returncode == 0
    again = start_standin(state, galera.ports)
    try:
        ports = {int(p) for (p,) in again.admin_rows("SELECT port FROM runtime_mysql_servers")}
        assert ports == set(galera.ports[:2])
        assert "loaded from disk" in again.log.read_text()
    finally:
        again.stop()
    assert {p.name for p in state.iterdir()} == {"proxysql.db"}  # nothing else written
    log = first.log.read_text()
    assert not any(secret in log for secret in SECRETS_ENV.values()), "a secret reached the log"


# -- in front of the lab's real Galera cluster -------------------------------------------------


@pytest.mark.lab
def test_against_the_lab_galera_cluster(tmp_path: Path) -> None:
    require_lab(3307, 3308, 3309)
    standin = start_standin(tmp_path / "state", [3307, 3308, 3309], interval_ms=500)
    try:

        def placed() -> bool:
            rows = standin.layout()
            writers = [p for h, p, s in rows if h == 10 and s == "ONLINE"]
            return len(writers) == 1 and any(h == 30 for h, _, _ in rows)

        wait_for(placed, timeout=15)
        states = standin.admin_rows(
            "SELECT DISTINCT port, wsrep_local_state, primary_partition, error "
            "FROM monitor.mysql_server_galera_log"
        )
        assert {(int(p), str(s), pp, e) for p, s, pp, e in states} >= {
            (port, "4", "YES", None) for port in (3307, 3308, 3309)
            if port not in [p for h, p, _ in standin.layout() if h == 9999]
        }  # fmt: skip
        writer = next(p for h, p, s in standin.layout() if h == 10 and s == "ONLINE")
        readers = {p for h, p, s in standin.layout() if h == 30}
        conn = pymysql.connect(host="127.0.0.1", port=standin.mysql, user="drupal",
                               password="drupal_dev", database="drupal")  # fmt: skip
        with conn.cursor() as cur:
            cur.execute("SELECT @@port")
            assert int(cur.fetchone()[0]) in readers
            cur.execute("SELECT @@port FOR UPDATE")
            assert int(cur.fetchone()[0]) == writer
            cur.execute("CREATE TEMPORARY TABLE standin_probe (id INT AUTO_INCREMENT PRIMARY KEY)")
            cur.execute("INSERT INTO standin_probe VALUES (NULL), (NULL)")
            assert cur.rowcount == 2 and cur.lastrowid > 0
        conn.rollback()
        conn.close()
        pool = standin.admin_rows(
            "SELECT hostgroup, srv_port, Queries, ConnOK, Latency_us "
            "FROM stats_mysql_connection_pool"
        )
        assert sum(int(q) for h, _, q, _, _ in pool if int(h) == 10) >= 3
        assert all(int(lat) > 0 for h, _, _, _, lat in pool if int(h) != 9999)
        assert port_open(standin.admin)
    finally:
        assert standin.stop() < 3
