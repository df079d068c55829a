"""ProxySQL's Monitor module, for Galera: ping, connect and Galera health checks.

Every ``mysql-monitor_ping_interval`` each backend is pinged (``monitor.mysql_server_ping_log``),
every ``mysql-monitor_connect_interval`` a fresh connection is timed
(``monitor.mysql_server_connect_log``) and every ``mysql-monitor_galera_healthcheck_interval``
the same query as ProxySQL 2.x runs against each node (``monitor.mysql_server_galera_log``).
After each Galera round the runtime servers are recomputed with
:func:`lab.proxysql_standin.hostgroups.compute_runtime_servers`. Intervals and credentials are
re-read from the runtime global variables every round, so ``LOAD MYSQL VARIABLES TO RUNTIME``
takes effect at the next round, as in ProxySQL. Blocking pymysql calls run in a thread pool
with connect, read and write timeouts.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pymysql

from lab.proxysql_standin.hostgroups import (
    NodeHealth,
    NodeKey,
    ServerRow,
    compute_runtime_servers,
)
from lab.proxysql_standin.stats import Stats
from lab.proxysql_standin.store import AdminStore

log = logging.getLogger(__name__)

#: ProxySQL 2.x's Galera check for servers that are not MySQL 5.7/8.0 (MariaDB among them).
GALERA_QUERY = (
    "SELECT (SELECT VARIABLE_VALUE FROM INFORMATION_SCHEMA.GLOBAL_STATUS WHERE "
    "VARIABLE_NAME='WSREP_LOCAL_STATE') wsrep_local_state, @@read_only read_only, "
    "(SELECT VARIABLE_VALUE FROM INFORMATION_SCHEMA.GLOBAL_STATUS WHERE "
    "VARIABLE_NAME='WSREP_LOCAL_RECV_QUEUE') wsrep_local_recv_queue , "
    "@@wsrep_desync wsrep_desync, @@wsrep_reject_queries wsrep_reject_queries, "
    "@@wsrep_sst_donor_rejects_queries wsrep_sst_donor_rejects_queries, "
    "(SELECT VARIABLE_VALUE FROM INFORMATION_SCHEMA.GLOBAL_STATUS WHERE "
    "VARIABLE_NAME='WSREP_CLUSTER_STATUS') wsrep_cluster_status"
)

MAX_LOG_ROWS = 5000  # per monitor table, on top of mysql-monitor_history


def _off(value: Any) -> bool:
    return str(value).upper() in ("NO", "OFF", "0")


def parse_galera_row(row: tuple[Any, ...]) -> NodeHealth:
    """Interpret the Galera check's 7 columns exactly as ProxySQL's monitor does."""
    if len(row) != 7:
        return NodeHealth(error="Incorrect number of fields, please report a bug")
    state, read_only, recv_queue, desync, reject, donor_rejects, cluster_status = row
    return NodeHealth(
        wsrep_local_state=int(str(state)) if state is not None else 0,
        read_only=not (read_only is not None and _off(read_only)),
        wsrep_local_recv_queue=int(str(recv_queue)) if recv_queue is not None else 0,
        wsrep_desync=not (desync is not None and _off(desync)),
        wsrep_reject_queries=not (reject is not None and str(reject).upper() == "NONE"),
        wsrep_sst_donor_rejects_queries=not (donor_rejects is not None and _off(donor_rejects)),
        primary_partition=cluster_status is not None and str(cluster_status) == "Primary",
    )


@dataclass
class Credentials:
    user: str
    password: str


def _now_us() -> int:
    return time.time_ns() // 1000


def _is_timeout(exc: BaseException) -> bool:
    return "timed out" in str(exc).lower() or isinstance(exc, TimeoutError)


def _error_text(exc: BaseException) -> str:
    args: tuple[Any, ...] = getattr(exc, "args", ())
    if len(args) >= 2:
        return f"{args[1]}"
    return str(exc) or type(exc).__name__


class GaleraMonitor:
    """Runs the three checks and converges the runtime servers after each Galera round."""

    def __init__(
        self,
        store: AdminStore,
        stats: Stats,
        pool: ThreadPoolExecutor,
        on_servers_changed: Callable[[], None] | None = None,
    ) -> None:
        self.store = store
        self.stats = stats
        self.pool = pool
        self.on_servers_changed = on_servers_changed or (lambda: None)
        self.health: dict[NodeKey, NodeHealth] = {}
        self.timeouts: dict[NodeKey, int] = {}
        self._ping_conns: dict[NodeKey, pymysql.connections.Connection[Any]] = {}
        self._check_conns: dict[NodeKey, pymysql.connections.Connection[Any]] = {}

    # -- scheduling ------------------------------------------------------------------------

    async def run(self) -> None:
        await asyncio.gather(
            self._every("mysql-monitor_galera_healthcheck_interval", 2000, self.galera_round),
            self._every("mysql-monitor_ping_interval", 2000, self.ping_round),
            self._every("mysql-monitor_connect_interval", 60000, self.connect_round),
        )

    async def _every(self, variable: str, default: int, round_: Callable[[], Any]) -> None:
        while True:
            started = time.monotonic()
            if self.store.variable("mysql-monitor_enabled", "true").lower() in ("true", "1"):
                try:
                    await round_()
                except Exception:  # a failing round must not stop the monitor
                    log.exception("monitor round %s failed", variable)
            interval = max(self.store.int_variable(variable, default), 100) / 1000
            await asyncio.sleep(max(interval - (time.monotonic() - started), 0.05))

    def nodes(self) -> list[NodeKey]:
        seen: dict[NodeKey, None] = {}
        for row in (*self.store.servers_config, *self.store.servers):
            seen.setdefault(row.node, None)
        return list(seen)

    def credentials(self) -> Credentials:
        return Credentials(
            self.store.variable("mysql-monitor_username", "monitor"),
            self.store.variable("mysql-monitor_password", ""),
        )

    def _timeout(self, variable: str, default: int) -> float:
        return max(self.store.int_variable(variable, default), 100) / 1000

    async def _in_thread(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.pool, fn, *args)

    # -- rounds ----------------------------------------------------------------------------

    async def galera_round(self) -> None:
        nodes = self.nodes()
        creds = self.credentials()
        timeout = self._timeout("mysql-monitor_galera_healthcheck_timeout", 1000)
        results = await asyncio.gather(
            *(self._in_thread(self._galera_check, node, creds, timeout) for node in nodes)
        )
        max_timeouts = self.store.int_variable(
            "mysql-monitor_galera_healthcheck_max_timeout_count", 3
        )
        log_rows = []
        for node, (start_us, elapsed_us, health, timed_out) in zip(nodes, results, strict=True):
            log_rows.append(_galera_log_row(node, start_us, elapsed_us, health))
            self.stats.bump(
                "MySQL_Monitor_galera_check_ERR"
                if health.error
                else "MySQL_Monitor_galera_check_OK"
            )
            if timed_out:
                self.timeouts[node] = self.timeouts.get(node, 0) + 1
                if self.timeouts[node] < max_timeouts and node in self.health:
                    continue  # ProxySQL waits for N missed checks before acting on timeouts
                log.error(
                    "Server %s:%d missed %d Galera checks. Assuming offline",
                    node[0],
                    node[1],
                    self.timeouts[node],
                )
            else:
                self.timeouts[node] = 0
            self.health[node] = health
        self._insert_log("mysql_server_galera_log", log_rows)
        self.converge()

    def converge(self) -> None:
        """Recompute runtime_mysql_servers from the last health of every node."""
        store = self.store
        if not any(g.active == 1 for g in store.galera):
            return
        managed = {
            row.node
            for row in store.servers_config
            if any(row.hostgroup_id in g.hostgroups for g in store.galera if g.active == 1)
        }
        if any(node not in self.health for node in managed):
            return  # a node loaded since the last round: wait for its first check
        new = compute_runtime_servers(
            store.servers_config, store.galera, self.health, store.servers
        )
        if new != store.servers:
            _log_changes(store.servers, new, self.health)
            store.set_runtime_servers(new)
            self.stats.bump("Servers_table_version")
            self.on_servers_changed()

    async def ping_round(self) -> None:
        nodes = self.nodes()
        creds = self.credentials()
        timeout = self._timeout("mysql-monitor_ping_timeout", 1000)
        results = await asyncio.gather(
            *(self._in_thread(self._ping, node, creds, timeout) for node in nodes)
        )
        rows = []
        for node, (start_us, elapsed_us, error) in zip(nodes, results, strict=True):
            rows.append((node[0], node[1], start_us, 0 if error else elapsed_us, error))
            if error is None:
                self.stats.latency_us[node] = elapsed_us
                self.stats.bump("MySQL_Monitor_ping_check_OK")
            else:
                self.stats.bump("MySQL_Monitor_ping_check_ERR")
        self._insert_log("mysql_server_ping_log", rows)

    async def connect_round(self) -> None:
        nodes = self.nodes()
        creds = self.credentials()
        timeout = self._timeout("mysql-monitor_connect_timeout", 1000)
        results = await asyncio.gather(
            *(self._in_thread(self._connect_check, node, creds, timeout) for node in nodes)
        )
        rows = []
        for node, (start_us, elapsed_us, error) in zip(nodes, results, strict=True):
            rows.append((node[0], node[1], start_us, 0 if error else elapsed_us, error))
            self.stats.bump(
                "MySQL_Monitor_connect_check_ERR" if error else "MySQL_Monitor_connect_check_OK"
            )
        self._insert_log("mysql_server_connect_log", rows)

    def _insert_log(self, table: str, rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        marks = ", ".join("?" for _ in rows[0])
        db = self.store.db
        db.executemany(f"INSERT OR REPLACE INTO monitor.{table} VALUES ({marks})", rows)  # noqa: S608
        history_us = self.store.int_variable("mysql-monitor_history", 600000) * 1000
        db.execute(
            f"DELETE FROM monitor.{table} WHERE time_start_us < ?",  # noqa: S608
            (_now_us() - history_us,),
        )
        db.execute(
            f"DELETE FROM monitor.{table} WHERE time_start_us NOT IN (SELECT time_start_us "  # noqa: S608
            f"FROM monitor.{table} ORDER BY time_start_us DESC LIMIT {MAX_LOG_ROWS})"
        )

    # -- blocking checks (thread pool) -------------------------------------------------------

    @staticmethod
    def _connect(node: NodeKey, creds: Credentials, timeout: float) -> Any:
        return pymysql.connect(
            host=node[0],
            port=node[1],
            user=creds.user,
            password=creds.password,
            connect_timeout=timeout,
            read_timeout=timeout,
            write_timeout=timeout,
            autocommit=True,
        )

    def _connect_check(
        self, node: NodeKey, creds: Credentials, timeout: float
    ) -> tuple[int, int, str | None]:
        start_us = _now_us()
        t0 = time.perf_counter_ns()
        try:
            conn = self._connect(node, creds, timeout)
        except Exception as exc:
            return start_us, 0, _error_text(exc)
        elapsed = (time.perf_counter_ns() - t0) // 1000
        conn.close()
        return start_us, elapsed, None

    def _ping(
        self, node: NodeKey, creds: Credentials, timeout: float
    ) -> tuple[int, int, str | None]:
        start_us = _now_us()
        try:
            conn = self._ping_conns.get(node)
            if conn is None:
                conn = self._ping_conns[node] = self._connect(node, creds, timeout)
            t0 = time.perf_counter_ns()
            conn.ping(reconnect=False)
            return start_us, (time.perf_counter_ns() - t0) // 1000, None
        except Exception as exc:
            self._drop(self._ping_conns, node)
            return start_us, 0, _error_text(exc)

    def _galera_check(
        self, node: NodeKey, creds: Credentials, timeout: float
    ) -> tuple[int, int, NodeHealth, bool]:
        start_us = _now_us()
        t0 = time.perf_counter_ns()
        try:
            conn = self._check_conns.get(node)
            if conn is None:
                conn = self._check_conns[node] = self._connect(node, creds, timeout)
            with conn.cursor() as cursor:
                cursor.execute(GALERA_QUERY)
                row = cursor.fetchone()
            elapsed = (time.perf_counter_ns() - t0) // 1000
            if row is None:
                return start_us, elapsed, NodeHealth(error="Incorrect number of rows"), False
            return start_us, elapsed, parse_galera_row(tuple(row)), False
        except Exception as exc:
            self._drop(self._check_conns, node)
            return start_us, 0, NodeHealth(error=_error_text(exc)), _is_timeout(exc)

    @staticmethod
    def _drop(conns: dict[NodeKey, Any], node: NodeKey) -> None:
        conn = conns.pop(node, None)
        if conn is not None:
            try:
                conn.close()
            except Exception:  # already broken
                log.debug("closing a broken monitor connection failed", exc_info=True)

    def close(self) -> None:
        for conns in (self._ping_conns, self._check_conns):
            for node in list(conns):
                self._drop(conns, node)


def _yes(flag: bool) -> str:
    return "YES" if flag else "NO"


def _galera_log_row(
    node: NodeKey, start_us: int, elapsed_us: int, h: NodeHealth
) -> tuple[Any, ...]:
    if h.error is not None:
        return (node[0], node[1], start_us, 0, "NO", "YES", 0, 0, "NO", "NO", "NO", "NO", h.error)
    return (
        node[0],
        node[1],
        start_us,
        elapsed_us,
        _yes(h.primary_partition),
        _yes(h.read_only),
        h.wsrep_local_recv_queue,
        h.wsrep_local_state,
        _yes(h.wsrep_desync),
        _yes(h.wsrep_reject_queries),
        _yes(h.wsrep_sst_donor_rejects_queries),
        "NO",
        None,
    )


def _log_changes(
    old: list[ServerRow], new: list[ServerRow], health: dict[NodeKey, NodeHealth]
) -> None:
    before = {(r.hostgroup_id, r.hostname, r.port): r.status for r in old}
    after = {(r.hostgroup_id, r.hostname, r.port): r.status for r in new}
    for key in sorted(set(before) | set(after)):
        if before.get(key) == after.get(key):
            continue
        hostgroup, host, port = key
        reason = health.get((host, port))
        why = reason.offline_reason() if reason else None
        log.warning(
            "Galera: %s:%d hostgroup %d %s -> %s%s",
            host,
            port,
            hostgroup,
            before.get(key, "absent"),
            after.get(key, "absent"),
            f" ({why})" if why else "",
        )
