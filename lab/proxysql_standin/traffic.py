"""The MySQL traffic port: application sessions forwarded to the backends.

Each statement is routed by the runtime query rules (the lab's: ``SELECT ... FOR UPDATE`` to the
writer hostgroup, other ``SELECT`` to the readers, everything else to the user's
``default_hostgroup``, the writer) and run on a pooled backend connection. Like ProxySQL with
``transaction_persistent=1`` a session stays on one backend connection while the backend reports
an open transaction, and it keeps a connection per hostgroup once it used something that
disables multiplexing (user variables, ``GET_LOCK``, ``LAST_INSERT_ID()``, temporary tables...).
``SET`` statements other than the character set are replayed on every new backend connection.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field
from typing import Any

import pymysql
from mysql_mimic import ResultSet
from mysql_mimic.session import BaseSession

from lab.proxysql_standin import VERSION_COMMENT
from lab.proxysql_standin.backends import Backend, BackendError, BackendPool
from lab.proxysql_standin.protocol import (
    cleartext_digest,
    close_if_unauthenticated,
    hashed_digest,
    install_ok_override,
    mysql_error,
    passthrough_column,
    require_login,
    session_variables,
    set_status,
    string_columns,
)
from lab.proxysql_standin.routing import Router
from lab.proxysql_standin.stats import Stats
from lab.proxysql_standin.store import AdminStore, is_hashed

log = logging.getLogger(__name__)

_VERSION_COMMENT = re.compile(r"^SELECT\s+@@version_comment(\s+LIMIT\s+1)?$", re.IGNORECASE)
_CHARSET = re.compile(
    r"^SET\s+(?:NAMES|CHARACTER\s+SET|CHARSET)\b|^SET\s+(?:SESSION\s+|@@SESSION\.|@@)?"
    r"(?:character_set_\w+|collation_connection)\s*(?:=|:=)",
    re.IGNORECASE,
)
_AUTOCOMMIT = re.compile(
    r"^SET\s+(?:SESSION\s+|LOCAL\s+|@@SESSION\.|@@LOCAL\.|@@)?autocommit\s*(?:=|:=)\s*'?(\w+)'?$",
    re.IGNORECASE,
)
_USE = re.compile(r"^USE\s+`?([^`\s]+)`?$", re.IGNORECASE)
_SET = re.compile(r"^SET\s", re.IGNORECASE)
_NO_MULTIPLEX = re.compile(
    r"(?<!@)@(?!@)\w|GET_LOCK\s*\(|LOCK\s+TABLES|CREATE\s+TEMPORARY|LAST_INSERT_ID\s*\("
    r"|FOUND_ROWS\s*\(|SQL_CALC_FOUND_ROWS",
    re.IGNORECASE,
)
_LOST = {2006, 2013, 2014, 2055}
SERVER_STATUS_IN_TRANS = 1


@dataclass
class Outcome:
    fields: list[tuple[str, int, int]] | None
    rows: list[tuple[Any, ...]]
    affected: int
    insert_id: int
    server_status: int
    bytes_recv: int


def _execute(conn: Any, sql: str) -> Outcome:
    """Run one statement on a pymysql connection (worker thread)."""
    with conn.cursor() as cursor:
        cursor.execute(sql)
        result = getattr(cursor, "_result", None)
        fields = None
        rows: list[tuple[Any, ...]] = []
        if cursor.description is not None and result is not None:
            fields = [(f.name, int(f.type_code), int(f.charsetnr)) for f in result.fields]
            rows = [tuple(r) for r in cursor.fetchall()]
        size = sum(len(v) for row in rows for v in row if v is not None)
        return Outcome(
            fields=fields,
            rows=rows,
            affected=0 if fields is not None else max(cursor.rowcount, 0),
            insert_id=int(cursor.lastrowid or 0),
            server_status=int(conn.server_status or 0),
            bytes_recv=size,
        )


@dataclass
class TrafficContext:
    store: AdminStore
    stats: Stats
    pool: BackendPool
    server_version: str
    router: Router = field(default_factory=Router)
    sessions: dict[int, TrafficSession] = field(default_factory=dict)

    def digest(self, username: str) -> str | None:
        user = self.store.frontend_user(username)
        if user is None:
            return None
        password = user.get("password") or ""
        if is_hashed(password):
            return hashed_digest(password)
        return cleartext_digest(password)

    def processlist(self) -> list[tuple[Any, ...]]:
        now = time.monotonic()
        rows = []
        for sid, s in self.sessions.items():
            backend = s.txn or s.active
            host, port = s.client
            srv = (backend.key[1], backend.key[2]) if backend else (None, None)
            rows.append(
                (
                    0,
                    sid,
                    s.username,
                    s.database,
                    host,
                    port,
                    backend.hostgroup if backend else None,
                    None,
                    None,
                    srv[0],
                    srv[1],
                    "Query" if s.running else "Sleep",
                    int((now - s.since) * 1000),
                    s.running,
                    0,
                    None,
                )
            )
        return rows


class TrafficSession(BaseSession):  # type: ignore[misc]
    def __init__(self, ctx: TrafficContext) -> None:
        self.ctx = ctx
        self.variables = session_variables(ctx.server_version)
        self.username: str | None = None
        self.database: str | None = None
        self.connection_id = 0
        self.client: tuple[str | None, int | None] = (None, None)
        self.sets: list[str] = []
        self.autocommit = True
        self.txn: Backend | None = None
        self.pinned: dict[int, Backend] = {}
        self.active: Backend | None = None
        self.running: str | None = None
        self.since = time.monotonic()
        self._counters = (0, 0)
        self._connection: Any = None
        self._registered = False

    def _sync_status(self) -> None:
        set_status(self._connection, autocommit=self.autocommit, in_trans=self.txn is not None)

    # -- lifecycle ---------------------------------------------------------------------------

    async def init(self, connection: Any) -> None:
        if close_if_unauthenticated(self, connection):
            self.ctx.stats.bump("Client_Connections_aborted")
            return
        self._registered = True
        self.connection_id = int(getattr(connection, "connection_id", 0) or 0)
        self._connection = connection
        install_ok_override(connection, self._take_counters)
        writer = getattr(getattr(connection, "stream", None), "writer", None)
        peer = writer.get_extra_info("peername") if writer is not None else None
        if isinstance(peer, tuple) and len(peer) >= 2:
            self.client = (str(peer[0]), int(peer[1]))
        stats = self.ctx.stats
        stats.client_connected += 1
        stats.bump("Client_Connections_created")
        user = self.username or ""
        stats.frontend_users[user] = stats.frontend_users.get(user, 0) + 1
        self.ctx.sessions[self.connection_id] = self

    async def close(self) -> None:
        if not self._registered:
            return
        self._drop_backends()
        stats = self.ctx.stats
        stats.client_connected = max(stats.client_connected - 1, 0)
        user = self.username or ""
        stats.frontend_users[user] = max(stats.frontend_users.get(user, 1) - 1, 0)
        self.ctx.sessions.pop(self.connection_id, None)

    async def reset(self) -> None:
        self._drop_backends()
        self.sets.clear()
        self.autocommit = True
        self._sync_status()

    async def use(self, database: str) -> None:
        require_login(self)
        self.database = database

    def _drop_backends(self) -> None:
        held = {id(b): b for b in (self.txn, *self.pinned.values()) if b is not None}
        if self.txn is not None:
            self.ctx.stats.active_transactions = max(self.ctx.stats.active_transactions - 1, 0)
        self.txn = None
        self.pinned.clear()
        for backend in held.values():
            self.ctx.pool.release(backend, reusable=False)

    def _take_counters(self) -> tuple[int, int]:
        counters, self._counters = self._counters, (0, 0)
        return counters

    # -- statements --------------------------------------------------------------------------

    async def handle_query(self, sql: str, attrs: dict[str, str]) -> Any:
        require_login(self)
        stats = self.ctx.stats
        stats.bump("Questions")
        stats.bump("Queries_frontends_bytes_recv", len(sql))
        text = sql.strip().rstrip(";").strip()
        if not text:
            raise mysql_error("Query was empty", 1065)
        if _VERSION_COMMENT.match(text):  # ProxySQL answers this one itself
            return ResultSet(
                rows=[(VERSION_COMMENT,)], columns=string_columns(["@@version_comment"])
            )
        if _CHARSET.match(text):
            return None  # backends always talk utf8mb4 to the stand-in
        if match := _AUTOCOMMIT.match(text):
            stats.bump("Com_autocommit")
            self.autocommit = match.group(1).upper() in ("1", "ON", "TRUE")
            self._sync_status()
            return None
        if match := _USE.match(text):
            self.database = match.group(1)
            return None
        self.running, self.since = text[:200], time.monotonic()
        try:
            return await self._forward(text)
        finally:
            self.running, self.since = None, time.monotonic()
            self._sync_status()

    def _password(self) -> str:
        password = self.ctx.store.user_secrets.get(self.username or "")
        if password is None:
            raise mysql_error(
                f"ProxySQL Error: no cleartext password known for user '{self.username}' "
                "to log in to the backends",
                1045,
            )
        return password

    def _default_hostgroup(self) -> int:
        user = self.ctx.store.frontend_user(self.username or "")
        return int(user["default_hostgroup"]) if user else 0

    async def _acquire(self, hostgroup: int, state: tuple[str, ...]) -> Backend:
        try:
            return await self.ctx.pool.acquire(
                hostgroup, self.username or "", self._password(), state, self.database
            )
        except BackendError as exc:
            self.ctx.stats.bump("generated_error_packets")
            raise mysql_error(exc.message, exc.code) from exc

    async def _forward(self, text: str) -> Any:
        if _SET.match(text):
            return await self._session_set(text)
        if self.txn is not None:
            return await self._run(self.txn, text, retry=False)
        route = self.ctx.router.route(
            self.ctx.store.query_rules, user=self.username or "", schema=self.database, sql=text
        )
        if route.error_msg:
            raise mysql_error(route.error_msg, 1148)
        hostgroup = route.hostgroup if route.hostgroup is not None else self._default_hostgroup()
        backend = self.pinned.get(hostgroup)
        if backend is not None:
            return await self._run(backend, text, retry=False)
        backend = await self._acquire(hostgroup, tuple(self.sets))
        return await self._run(backend, text, retry=True)

    async def _session_set(self, text: str) -> Any:
        """Validate a SET on a backend, then remember it for every future connection."""
        state = (*self.sets, text)
        held = [b for b in (self.txn, *self.pinned.values()) if b is not None]
        if held:
            for backend in {id(b): b for b in held}.values():
                await self._run(backend, text, retry=False)
        else:
            backend = await self._acquire(self._default_hostgroup(), state)
            self.ctx.pool.release(backend, reusable=True)
        self.sets.append(text)
        return None

    def _holds(self, backend: Backend) -> bool:
        return backend is self.txn or any(b is backend for b in self.pinned.values())

    async def _run(self, backend: Backend, text: str, *, retry: bool) -> Any:
        ctx, stats = self.ctx, self.ctx.stats
        self.active = backend
        started = time.perf_counter_ns()
        try:
            if backend.autocommit != self.autocommit:
                await ctx.pool.run(backend.conn.autocommit, self.autocommit)
                backend.autocommit = self.autocommit
            outcome: Outcome = await ctx.pool.run(_execute, backend.conn, text)
        except pymysql.MySQLError as exc:
            self.active = None
            code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else 2013
            message = str(exc.args[1]) if len(exc.args) > 1 else str(exc)
            lost = code in _LOST or isinstance(exc, pymysql.err.InterfaceError)
            if lost:
                held = self._holds(backend)
                self._forget(backend)
                ctx.pool.release(backend, reusable=False)
                if retry and not held:
                    stats.bump("backend_offline_during_query")
                    hostgroup = backend.hostgroup
                    fresh = await self._acquire(hostgroup, tuple(self.sets))
                    return await self._run(fresh, text, retry=False)
            elif not self._holds(backend):
                ctx.pool.release(backend, reusable=True)
            stats.bump("generated_error_packets")
            raise mysql_error(message, code) from exc
        finally:
            self.active = None
        elapsed_ns = time.perf_counter_ns() - started
        self._account(backend, text, outcome, elapsed_ns)
        self._after(backend, text, outcome)
        if outcome.fields is None:
            self._counters = (outcome.affected, outcome.insert_id)
            return None
        columns = [passthrough_column(n, t, c) for n, t, c in outcome.fields]
        return ResultSet(rows=outcome.rows, columns=columns)

    def _forget(self, backend: Backend) -> None:
        if backend is self.txn:
            self.txn = None
            self.ctx.stats.active_transactions = max(self.ctx.stats.active_transactions - 1, 0)
        for hostgroup, pinned in list(self.pinned.items()):
            if pinned is backend:
                del self.pinned[hostgroup]

    def _after(self, backend: Backend, text: str, outcome: Outcome) -> None:
        stats = self.ctx.stats
        in_trans = bool(outcome.server_status & SERVER_STATUS_IN_TRANS)
        if in_trans and self.txn is None:
            self.txn = backend
            stats.active_transactions += 1
        elif not in_trans and self.txn is backend:
            self.txn = None
            stats.active_transactions = max(stats.active_transactions - 1, 0)
        if _NO_MULTIPLEX.search(text):
            self.pinned[backend.hostgroup] = backend
        if not self._holds(backend):
            self.ctx.pool.release(backend, reusable=True)

    def _account(self, backend: Backend, text: str, outcome: Outcome, elapsed_ns: int) -> None:
        stats = self.ctx.stats
        pool = stats.pool_for(backend.key)
        sent = len(text.encode("utf-8"))
        pool.queries += 1
        pool.bytes_data_sent += sent
        pool.bytes_data_recv += outcome.bytes_recv
        stats.bump("Queries_backends_bytes_sent", sent)
        stats.bump("Queries_backends_bytes_recv", outcome.bytes_recv)
        stats.bump("Queries_frontends_bytes_sent", outcome.bytes_recv)
        stats.bump("Backend_query_time_nsec", elapsed_ns)
        upper = text[:8].upper()
        if upper.startswith("COMMIT"):
            stats.bump("Com_commit")
        elif upper.startswith("ROLLBACK"):
            stats.bump("Com_rollback")
        if elapsed_ns // 1_000_000 > self.ctx.store.int_variable("mysql-long_query_time", 1000):
            stats.bump("Slow_queries")
        if self.ctx.store.variable("mysql-query_digests", "true").lower() in ("true", "1"):
            stats.record_query(
                hostgroup=backend.hostgroup,
                schema=self.database or "information_schema",
                user=self.username or "",
                sql=text,
                elapsed_us=elapsed_ns // 1000,
                rows_affected=outcome.affected,
                rows_sent=len(outcome.rows),
            )
