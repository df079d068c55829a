"""Live counters behind ``stats.stats_mysql_*`` (connection pool, global status, digests)."""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from lab.proxysql_standin.hostgroups import NodeKey, ServerRow

PoolKey = tuple[int, str, int]


@dataclass
class PoolStats:
    conn_used: int = 0
    conn_free: int = 0
    conn_ok: int = 0
    conn_err: int = 0
    max_conn_used: int = 0
    queries: int = 0
    queries_gtid_sync: int = 0
    bytes_data_sent: int = 0
    bytes_data_recv: int = 0

    def used(self, delta: int) -> None:
        self.conn_used = max(self.conn_used + delta, 0)
        self.max_conn_used = max(self.max_conn_used, self.conn_used)


@dataclass
class Digest:
    digest_text: str
    count_star: int = 0
    first_seen: int = 0
    last_seen: int = 0
    sum_time: int = 0
    min_time: int = 0
    max_time: int = 0
    sum_rows_affected: int = 0
    sum_rows_sent: int = 0


DigestKey = tuple[int, str, str, str, str]

_STRING = re.compile(r"(?:_binary|[xXbB])?'(?:[^'\\]|\\.|'')*'|\"(?:[^\"\\]|\\.|\"\")*\"")
_HEX = re.compile(r"\b0x[0-9a-fA-F]+\b")
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?\b")
_IN_LIST = re.compile(r"\(\s*\?(?:\s*,\s*\?)+\s*\)")
_SPACES = re.compile(r"\s+")
_COMMENT = re.compile(r"/\*.*?\*/|--[^\n]*|#[^\n]*", re.DOTALL)


def digest_text(sql: str) -> str:
    """ProxySQL-like query digest: literals become ``?``, lists of them ``(?,...)``."""
    text = _COMMENT.sub(" ", sql)
    text = _STRING.sub("?", text)
    text = _HEX.sub("?", text)
    text = _NUMBER.sub("?", text)
    text = _IN_LIST.sub("(?,...)", text)
    return _SPACES.sub(" ", text).strip().rstrip(";").strip()


def digest_hash(text: str) -> str:
    return "0x" + hashlib.blake2b(text.encode("utf-8"), digest_size=8).hexdigest().upper()


@dataclass
class Stats:
    """Counters the traffic proxy and the monitor update; the admin reads them as tables."""

    started: float = field(default_factory=time.time)
    pool: dict[PoolKey, PoolStats] = field(default_factory=dict)
    latency_us: dict[NodeKey, int] = field(default_factory=dict)
    digests: dict[DigestKey, Digest] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)
    client_connected: int = 0
    server_connected: int = 0
    active_transactions: int = 0
    frontend_users: dict[str, int] = field(default_factory=dict)

    def bump(self, name: str, amount: int = 1) -> None:
        self.counters[name] = self.counters.get(name, 0) + amount

    def pool_for(self, key: PoolKey) -> PoolStats:
        stats = self.pool.get(key)
        if stats is None:
            stats = self.pool[key] = PoolStats()
        return stats

    def record_query(
        self,
        *,
        hostgroup: int,
        schema: str,
        user: str,
        sql: str,
        elapsed_us: int,
        rows_affected: int,
        rows_sent: int,
    ) -> None:
        if not sql.strip():
            return
        text = digest_text(sql)
        key = (hostgroup, schema, user, "", digest_hash(text))
        now = int(time.time())
        entry = self.digests.get(key)
        if entry is None:
            entry = self.digests[key] = Digest(
                digest_text=text[:1000], first_seen=now, min_time=elapsed_us
            )
        entry.count_star += 1
        entry.last_seen = now
        entry.sum_time += elapsed_us
        entry.min_time = min(entry.min_time, elapsed_us)
        entry.max_time = max(entry.max_time, elapsed_us)
        entry.sum_rows_affected += rows_affected
        entry.sum_rows_sent += rows_sent

    # -- rows for the stats tables ------------------------------------------------------------

    def pool_rows(self, servers: Iterable[ServerRow]) -> list[tuple[object, ...]]:
        rows: list[tuple[object, ...]] = []
        for server in servers:
            key = (server.hostgroup_id, server.hostname, server.port)
            s = self.pool.get(key) or PoolStats()
            rows.append(
                (
                    server.hostgroup_id,
                    server.hostname,
                    server.port,
                    server.status,
                    s.conn_used,
                    s.conn_free,
                    s.conn_ok,
                    s.conn_err,
                    s.max_conn_used,
                    s.queries,
                    s.queries_gtid_sync,
                    s.bytes_data_sent,
                    s.bytes_data_recv,
                    self.latency_us.get(server.node, 0),
                )
            )
        return rows

    def reset_pool(self) -> None:
        for s in self.pool.values():
            s.conn_ok = s.conn_err = s.queries = s.queries_gtid_sync = 0
            s.bytes_data_sent = s.bytes_data_recv = 0
            s.max_conn_used = s.conn_used

    def global_rows(self) -> list[tuple[str, str]]:
        c = self.counters.get
        values: dict[str, int] = {
            "ProxySQL_Uptime": int(time.time() - self.started),
            "Active_Transactions": self.active_transactions,
            "Client_Connections_aborted": c("Client_Connections_aborted", 0),
            "Client_Connections_connected": self.client_connected,
            "Client_Connections_created": c("Client_Connections_created", 0),
            "Client_Connections_non_idle": c("Client_Connections_non_idle", 0),
            "Server_Connections_aborted": c("Server_Connections_aborted", 0),
            "Server_Connections_connected": self.server_connected,
            "Server_Connections_created": c("Server_Connections_created", 0),
            "Server_Connections_delayed": 0,
            "Questions": c("Questions", 0),
            "Slow_queries": c("Slow_queries", 0),
            "Com_autocommit": c("Com_autocommit", 0),
            "Com_commit": c("Com_commit", 0),
            "Com_rollback": c("Com_rollback", 0),
            "Queries_backends_bytes_recv": c("Queries_backends_bytes_recv", 0),
            "Queries_backends_bytes_sent": c("Queries_backends_bytes_sent", 0),
            "Queries_frontends_bytes_recv": c("Queries_frontends_bytes_recv", 0),
            "Queries_frontends_bytes_sent": c("Queries_frontends_bytes_sent", 0),
            "Backend_query_time_nsec": c("Backend_query_time_nsec", 0),
            "ConnPool_get_conn_success": c("ConnPool_get_conn_success", 0),
            "ConnPool_get_conn_failure": c("ConnPool_get_conn_failure", 0),
            "ConnPool_get_conn_immediate": c("ConnPool_get_conn_immediate", 0),
            "generated_error_packets": c("generated_error_packets", 0),
            "max_connect_timeouts": c("max_connect_timeouts", 0),
            "backend_offline_during_query": c("backend_offline_during_query", 0),
            "MySQL_Thread_Workers": 4,
            "MySQL_Monitor_Workers": 8,
            "MySQL_Monitor_connect_check_OK": c("MySQL_Monitor_connect_check_OK", 0),
            "MySQL_Monitor_connect_check_ERR": c("MySQL_Monitor_connect_check_ERR", 0),
            "MySQL_Monitor_ping_check_OK": c("MySQL_Monitor_ping_check_OK", 0),
            "MySQL_Monitor_ping_check_ERR": c("MySQL_Monitor_ping_check_ERR", 0),
            "MySQL_Monitor_galera_check_OK": c("MySQL_Monitor_galera_check_OK", 0),
            "MySQL_Monitor_galera_check_ERR": c("MySQL_Monitor_galera_check_ERR", 0),
            "Servers_table_version": c("Servers_table_version", 0),
        }
        return [(name, str(value)) for name, value in values.items()]

    def digest_rows(self) -> list[tuple[object, ...]]:
        return [
            (
                *key[:5],
                d.digest_text,
                d.count_star,
                d.first_seen,
                d.last_seen,
                d.sum_time,
                d.min_time,
                d.max_time,
                d.sum_rows_affected,
                d.sum_rows_sent,
            )
            for key, d in self.digests.items()
        ]

    def user_rows(self, users: Iterable[dict[str, object]]) -> list[tuple[object, ...]]:
        rows: dict[str, tuple[object, ...]] = {}
        for user in users:
            if not user.get("frontend"):
                continue
            name = str(user["username"])
            rows[name] = (name, self.frontend_users.get(name, 0), user.get("max_connections"))
        return list(rows.values())
