"""MySQL-protocol client (Galera nodes, ProxySQL admin): pymysql off the event loop.

One connection per endpoint, owned by one daemon thread (pymysql connections are not
thread-safe; a daemon thread blocked in a read never delays interpreter exit). Every call is
bounded by pymysql's connect/read/write timeouts and, around them, by an asyncio deadline.
Statements that reset server counters (``FLUSH STATUS``, ProxySQL's ``*_reset`` tables) are
refused: other tools read those counters too.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import ssl
import sys
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pymysql
import pymysql.cursors
from pymysql import err as myerr

from jaraba_tui.profile.errors import ProfileError
from jaraba_tui.secrets import Secret
from jaraba_tui.transport._common import (
    AddressProvider,
    DaemonWorker,
    Timeouts,
    error,
    os_error_kind,
)
from jaraba_tui.transport.base import Row, TransportError

_RESETS_COUNTERS = re.compile(
    r"\bFLUSH\b[\s\w,]*\b(STATUS|\w+_STATISTICS|QUERY_RESPONSE_TIME)\b|\b\w+_reset\b",
    re.IGNORECASE,
)
_STALE_CODES = {2006, 2013, 2055}  # gone away / lost connection: retry once on a reused one


_preferred_lock = threading.Lock()
_preferred: ssl.SSLContext | None = None


def preferred_tls_context() -> ssl.SSLContext:
    """The TLS context of pymysql's "preferred" mode (no ``ssl_*`` option given: TLS when
    the server offers it, no certificate check), built once per process.

    pymysql builds it per connection with ``ssl.create_default_context()``, which loads the
    system's CA store (~30 ms of CPU per connection, issue 6) only for pymysql to turn
    verification off (``CERT_NONE``, no hostname check): the CAs are never consulted. Same
    settings here, without loading them."""
    global _preferred
    with _preferred_lock:
        if _preferred is None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            context.verify_flags &= ~ssl.VERIFY_X509_STRICT
            keylog = os.environ.get("SSLKEYLOGFILE")
            if keylog and not sys.flags.ignore_environment:  # as create_default_context
                context.keylog_filename = keylog
            _preferred = context
        return _preferred


if TYPE_CHECKING:
    _PyMySqlConnection = pymysql.connections.Connection[Any]
else:  # not subscriptable at run time
    _PyMySqlConnection = pymysql.connections.Connection


class _Connection(_PyMySqlConnection):
    """pymysql's connection, its "preferred" TLS context shared (:func:`preferred_tls_context`)."""

    def _create_ssl_ctx(self, sslp: Any) -> ssl.SSLContext:
        if isinstance(sslp, dict) and not sslp:
            return preferred_tls_context()
        built: ssl.SSLContext = super()._create_ssl_ctx(sslp)  # type: ignore[misc]
        return built


def resets_counters(sql: str) -> bool:
    """True for statements that reset status counters (refused by :class:`PyMySqlClient`)."""
    return bool(_RESETS_COUNTERS.search(sql))


class PyMySqlClient:
    """:class:`~jaraba_tui.transport.base.SqlClient` over pymysql."""

    def __init__(
        self,
        endpoint: str,
        address: AddressProvider,
        *,
        user: str | Secret,
        password: Secret | None,
        timeouts: Timeouts,
        database: str | None = None,
    ) -> None:
        self.endpoint = endpoint
        self._address = address
        self._user = user
        self._password = password
        self._timeouts = timeouts
        self._database = database
        self._conn: pymysql.connections.Connection[Any] | None = None
        self._conn_addr: tuple[str, int] | None = None
        self._worker = DaemonWorker(f"sql {endpoint}")
        self._closed = False

    # -- public API ---------------------------------------------------------------------------
    async def query(self, sql: str, args: Sequence[Any] | None = None) -> list[Row]:
        result = await self._call(sql, args, fetch=True)
        assert isinstance(result, list)
        return result

    async def query_many(self, statements: Sequence[str]) -> list[list[Row] | TransportError]:
        """Several statements, one after another on the connection's thread in one hand-off
        (issue 6: the event loop is not waited for between them, nor is a thread woken per
        statement): per statement, its rows or the TransportError :meth:`query` would have
        raised. After a failure that drops the connection, the rest are not run (the list
        is shorter). Bounded by :meth:`query`'s deadline per statement."""
        self._check_sendable(*statements)
        host, port = await self._address()
        user, password = await self._credentials()

        def run_all() -> list[list[Row] | TransportError]:
            out: list[list[Row] | TransportError] = []
            for sql in statements:
                try:
                    rows = self._run_sync(host, port, user, password, sql, None, True)
                except TransportError as exc:
                    out.append(exc)
                    if self._conn is None:  # the connection is gone: nothing more to ask
                        break
                    continue
                assert isinstance(rows, list)
                out.append(rows)
            return out

        deadline = self._timeouts.total * max(1, len(statements))
        try:
            async with asyncio.timeout(deadline):
                return await self._worker.run(run_all)
        except TimeoutError:
            raise error(
                f"no answer within {deadline:g}s", kind="timeout", endpoint=self.endpoint
            ) from None

    async def execute(self, sql: str, args: Sequence[Any] | None = None) -> int:
        result = await self._call(sql, args, fetch=False)
        assert isinstance(result, int)
        return result

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(TimeoutError, RuntimeError):
            await asyncio.wait_for(self._worker.run(self._drop), timeout=1.0)
        self._worker.close()

    # -- internals ----------------------------------------------------------------------------
    def _check_sendable(self, *statements: str) -> None:
        """Refuse before anything is sent: a closed client, or a statement that resets the
        server's counters (the console only reads them)."""
        if self._closed:
            raise error("client is closed", kind="other", endpoint=self.endpoint)
        if any(resets_counters(sql) for sql in statements):
            raise error(
                "refused a statement that resets server counters (FLUSH STATUS, *_reset)",
                kind="other",
                endpoint=self.endpoint,
            )

    async def _call(self, sql: str, args: Sequence[Any] | None, *, fetch: bool) -> list[Row] | int:
        self._check_sendable(sql)
        host, port = await self._address()
        user, password = await self._credentials()
        try:
            async with asyncio.timeout(self._timeouts.total):
                return await self._worker.run(
                    lambda: self._run_sync(host, port, user, password, sql, args, fetch)
                )
        except TimeoutError:
            # The thread is still blocked; its own socket timeout ends it and drops the link.
            raise error(
                f"no answer within {self._timeouts.total:g}s",
                kind="timeout",
                endpoint=self.endpoint,
            ) from None

    async def _credentials(self) -> tuple[str, str]:
        try:
            user = await self._user.areveal() if isinstance(self._user, Secret) else self._user
            password = await self._password.areveal() if self._password is not None else ""
        except ProfileError as exc:
            raise error(str(exc), kind="auth", endpoint=self.endpoint) from None
        return user, password

    def _connect_sync(self, host: str, port: int, user: str, password: str) -> None:
        if self._conn is not None and self._conn_addr != (host, port):
            self._drop()
        if self._conn is None:
            self._conn = _Connection(
                host=host,
                port=port,
                user=user,
                password=password,
                database=self._database,
                connect_timeout=self._timeouts.connect,
                read_timeout=self._timeouts.read,
                write_timeout=self._timeouts.read,
                autocommit=True,
                charset="utf8mb4",
                cursorclass=pymysql.cursors.DictCursor,
                local_infile=False,
            )
            self._conn_addr = (host, port)

    def _run_sync(
        self,
        host: str,
        port: int,
        user: str,
        password: str,
        sql: str,
        args: Sequence[Any] | None,
        fetch: bool,
    ) -> list[Row] | int:
        for attempt in (1, 2):
            reused = self._conn is not None
            try:
                self._connect_sync(host, port, user, password)
                assert self._conn is not None
                with self._conn.cursor() as cur:
                    count = cur.execute(sql, args)
                    if not fetch:
                        return int(count)
                    # DictCursor's rows are new dicts already, this cursor's own: no copy
                    return list(cur.fetchall())
            except Exception as exc:
                code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else 0
                connection_level = not isinstance(exc, myerr.MySQLError) or code >= 2000
                if connection_level or isinstance(exc, myerr.InterfaceError):
                    self._drop()
                timed_out = "timed out" in str(exc)
                if fetch and reused and attempt == 1 and code in _STALE_CODES and not timed_out:
                    continue  # the server closed an idle connection: one fresh try
                raise self._translate(exc) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _translate(self, exc: Exception) -> TransportError:
        ep = self.endpoint
        if isinstance(exc, myerr.MySQLError):
            code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else 0
            text = str(exc.args[1]) if len(exc.args) > 1 else type(exc).__name__
            original = getattr(exc, "original_exception", None)
            if code == 2003 and isinstance(original, BaseException):
                kind, why = os_error_kind(original)
                return error(f"cannot connect: {why}", kind=kind, endpoint=ep)
            if code in (2013, 2003) and "timed out" in text:
                return error(
                    f"timed out waiting for the server (read timeout {self._timeouts.read:g}s)",
                    kind="timeout",
                    endpoint=ep,
                )
            if code in (1045, 1044, 1227, 1698):
                return error(f"access denied ({code}): {text}", kind="auth", endpoint=ep)
            if code in _STALE_CODES:
                return error(f"lost the connection ({code})", kind="protocol", endpoint=ep)
            if code >= 2000 or isinstance(exc, myerr.InterfaceError):
                return error(f"client error ({code}): {text}", kind="protocol", endpoint=ep)
            return error(f"server error ({code}): {text}", kind="other", endpoint=ep)
        if isinstance(exc, OSError):
            kind, why = os_error_kind(exc)
            return error(why, kind=kind, endpoint=ep)
        return error(
            f"unexpected answer ({type(exc).__name__}): not a MySQL server?",
            kind="protocol",
            endpoint=ep,
        )

    def _drop(self) -> None:
        conn, self._conn, self._conn_addr = self._conn, None, None
        if conn is not None:
            try:
                conn.close()
            except Exception:
                with contextlib.suppress(Exception):
                    conn._force_close()  # type: ignore[attr-defined]
