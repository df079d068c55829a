"""Backend connection pool for the traffic port, with ProxySQL's connection-pool counters.

Connections are pooled per (hostgroup, server, user, session state) and multiplexed between
client sessions between statements, as ProxySQL does. A server is picked among the ONLINE
servers of the hostgroup by weight; ``weight=0`` servers and servers at ``max_connections`` are
skipped. When no server is usable the request waits up to ``mysql-connect_timeout_server_max`` and
then fails with ProxySQL's error 9001. A connection released while its server is no longer
ONLINE in that hostgroup (OFFLINE_SOFT, SHUNNED, moved away) is closed instead of pooled, so a
drained server loses its connections as its clients finish, like ProxySQL's OFFLINE_SOFT.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pymysql

from lab.proxysql_standin.hostgroups import ONLINE, ServerRow
from lab.proxysql_standin.stats import PoolKey, Stats
from lab.proxysql_standin.store import AdminStore

log = logging.getLogger(__name__)

#: pymysql's converters without the decoders (int keys): result values stay str / bytes.
ENCODERS_ONLY: dict[Any, Any] = {
    k: v for k, v in pymysql.converters.conversions.items() if not isinstance(k, int)
}

SessionState = tuple[str, ...]  # session SET statements replayed on every new connection


class BackendError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class SessionStateError(BackendError):
    """The server accepted the connection but refused the session's SET statements."""


@dataclass(eq=False)
class Backend:
    conn: Any  # pymysql Connection
    key: PoolKey
    user: str
    state: SessionState
    schema: str | None
    autocommit: bool = True
    last_used: float = field(default_factory=time.monotonic)

    @property
    def hostgroup(self) -> int:
        return self.key[0]


class BackendPool:
    def __init__(self, store: AdminStore, stats: Stats, threads: ThreadPoolExecutor) -> None:
        self.store = store
        self.stats = stats
        self.threads = threads
        self.free: dict[tuple[PoolKey, str, SessionState], list[Backend]] = {}
        self.rng = random.Random()  # noqa: S311 - load balancing, not security

    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.threads, fn, *args)

    def _candidates(self, hostgroup: int, exclude: set[PoolKey]) -> list[ServerRow]:
        out = []
        for row in self.store.servers:
            key = (row.hostgroup_id, row.hostname, row.port)
            if row.hostgroup_id != hostgroup or row.status != ONLINE or row.weight <= 0:
                continue
            if key in exclude:
                continue
            pool = self.stats.pool_for(key)
            if pool.conn_used + pool.conn_free >= row.max_connections:
                continue
            out.append(row)
        return out

    def _pick(self, rows: list[ServerRow]) -> ServerRow:
        total = sum(r.weight for r in rows)
        point = self.rng.uniform(0, total)
        for row in rows:
            point -= row.weight
            if point <= 0:
                return row
        return rows[-1]

    async def acquire(
        self, hostgroup: int, user: str, password: str, state: SessionState, schema: str | None
    ) -> Backend:
        timeout_ms = self.store.int_variable("mysql-connect_timeout_server_max", 10000)
        deadline = time.monotonic() + timeout_ms / 1000
        failed: set[PoolKey] = set()
        while True:
            rows = self._candidates(hostgroup, failed)
            if rows:
                row = self._pick(rows)
                key = (row.hostgroup_id, row.hostname, row.port)
                backend = self._take_free(key, user, state)
                if backend is None:
                    pool = self.stats.pool_for(key)
                    try:
                        conn = await self.run(self._open, row, user, password, state, schema)
                    except SessionStateError:
                        pool.conn_ok += 1
                        raise
                    except BackendError as exc:
                        pool.conn_err += 1
                        log.warning("connection to %s:%d failed: %s", key[1], key[2], exc)
                        if exc.code < 2000:  # the server answered (access denied...): no retry
                            raise
                        failed.add(key)
                        continue
                    pool.conn_ok += 1
                    self.stats.server_connected += 1
                    self.stats.bump("Server_Connections_created")
                    backend = Backend(conn=conn, key=key, user=user, state=state, schema=schema)
                else:
                    self.stats.bump("ConnPool_get_conn_immediate")
                if backend.schema != schema and schema:
                    try:
                        await self.run(backend.conn.select_db, schema)
                        backend.schema = schema
                    except pymysql.MySQLError as exc:
                        self.release(backend, reusable=True)
                        raise _as_backend_error(exc) from exc
                self.stats.pool_for(key).used(+1)
                self.stats.bump("ConnPool_get_conn_success")
                return backend
            if time.monotonic() >= deadline:
                self.stats.bump("ConnPool_get_conn_failure")
                self.stats.bump("max_connect_timeouts")
                raise BackendError(
                    9001,
                    f"Max connect timeout reached while reaching hostgroup {hostgroup} "
                    f"after {timeout_ms}ms",
                )
            failed.clear()
            await asyncio.sleep(0.1)

    def _take_free(self, key: PoolKey, user: str, state: SessionState) -> Backend | None:
        free = self.free.get((key, user, state))
        if not free:
            return None
        backend = free.pop()
        self.stats.pool_for(key).conn_free -= 1
        return backend

    def _open(
        self, row: ServerRow, user: str, password: str, state: SessionState, schema: str | None
    ) -> Any:
        """Open a pymysql connection (runs in a worker thread, touches no shared state)."""
        timeout = self.store.int_variable("mysql-connect_timeout_server", 3000) / 1000
        query_timeout = min(
            self.store.int_variable("mysql-default_query_timeout", 36000000), 3600000
        )
        try:
            conn = pymysql.connect(
                host=row.hostname,
                port=row.port,
                user=user,
                password=password,
                database=schema or None,
                charset="utf8mb4",
                autocommit=True,
                connect_timeout=max(timeout, 0.1),
                read_timeout=query_timeout / 1000,
                write_timeout=query_timeout / 1000,
                conv=ENCODERS_ONLY,  # no decoders: values stay as the server sent them
            )
        except pymysql.MySQLError as exc:
            raise _as_backend_error(exc) from exc
        try:
            with conn.cursor() as cursor:
                for statement in state:
                    cursor.execute(statement)
        except pymysql.MySQLError as exc:
            _quiet_close(conn)
            error = _as_backend_error(exc)
            raise SessionStateError(error.code, error.message) from exc
        return conn

    def is_online(self, key: PoolKey) -> bool:
        return any(
            (r.hostgroup_id, r.hostname, r.port) == key and r.status == ONLINE
            for r in self.store.servers
        )

    def release(self, backend: Backend, *, reusable: bool) -> None:
        """Give a connection back: pooled if healthy and its server still ONLINE, else closed."""
        pool = self.stats.pool_for(backend.key)
        pool.used(-1)
        if reusable and backend.autocommit and self.is_online(backend.key):
            backend.last_used = time.monotonic()
            self.free.setdefault((backend.key, backend.user, backend.state), []).append(backend)
            pool.conn_free += 1
        else:
            self.discard(backend)

    def discard(self, backend: Backend) -> None:
        self.stats.server_connected = max(self.stats.server_connected - 1, 0)
        conn = backend.conn
        self.threads.submit(_quiet_close, conn)

    def prune(self) -> None:
        """Drop free connections of servers that are no longer ONLINE (ProxySQL does too)."""
        for pool_key, backends in list(self.free.items()):
            if self.is_online(pool_key[0]):
                continue
            for backend in backends:
                self.stats.pool_for(backend.key).conn_free -= 1
                self.discard(backend)
            del self.free[pool_key]

    def close(self) -> None:
        for backends in self.free.values():
            for backend in backends:
                _quiet_close(backend.conn)
        self.free.clear()


def _quiet_close(conn: Any) -> None:
    try:
        conn.close()
    except Exception:  # already gone
        log.debug("closing a backend connection failed", exc_info=True)


def _as_backend_error(exc: BaseException) -> BackendError:
    args: tuple[Any, ...] = getattr(exc, "args", ())
    if len(args) >= 2 and isinstance(args[0], int):
        return BackendError(args[0], str(args[1]))
    return BackendError(2013, str(exc) or type(exc).__name__)
