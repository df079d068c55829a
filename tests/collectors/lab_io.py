"""Test-only adapters implementing the transport protocols against the lab's real servers.

They exist so collector tests and fixture captures can do real I/O before (and independently
of) the production transports in ``jaraba_tui/transport/``. Each bounds every call by a
connect and a read timeout and raises :class:`TransportError`, like the real ones must.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

import httpx
import pymysql
import pymysql.cursors
import redis.asyncio as aredis
from redis import exceptions as redis_exc

from jaraba_tui.transport.base import CommandResult, HttpResponse, Row, TransportError


class LabSql:
    """pymysql in a worker thread, one connection, one statement at a time."""

    def __init__(
        self, host: str, port: int, user: str, password: str, *, timeout: float = 3.0
    ) -> None:
        self.endpoint = f"{host}:{port}"
        self._args: dict[str, Any] = {
            "host": host,
            "port": port,
            "user": user,
            "password": password,
            "connect_timeout": timeout,
            "read_timeout": timeout,
            "write_timeout": timeout,
            "cursorclass": pymysql.cursors.DictCursor,
            "autocommit": True,
        }
        self._conn: pymysql.connections.Connection[Any] | None = None
        self._lock = asyncio.Lock()

    def _run(self, sql: str, args: Sequence[Any] | None, fetch: bool) -> Any:
        try:
            if self._conn is None:
                self._conn = pymysql.connect(**self._args)
            with self._conn.cursor() as cur:
                n = cur.execute(sql, args)
                return list(cur.fetchall()) if fetch else n
        except pymysql.err.OperationalError as exc:
            self._drop()
            code = exc.args[0] if exc.args else 0
            kind = {2003: "refused", 1045: "auth", 2013: "timeout"}.get(code, "other")
            msg = {
                "refused": "connection refused",
                "auth": "access denied",
                "timeout": "lost connection (read timeout)",
            }.get(kind, f"MySQL error {code}")
            raise TransportError(msg, kind=kind, endpoint=self.endpoint) from None
        except pymysql.err.MySQLError as exc:
            code = exc.args[0] if exc.args else 0
            text = exc.args[1] if len(exc.args) > 1 else ""
            raise TransportError(
                f"MySQL error {code}: {text}", kind="protocol", endpoint=self.endpoint
            ) from None
        except OSError as exc:
            self._drop()
            raise TransportError(str(exc), kind="unreachable", endpoint=self.endpoint) from None

    def _drop(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
        self._conn = None

    async def query(self, sql: str, args: Sequence[Any] | None = None) -> list[Row]:
        async with self._lock:
            rows: list[Row] = await asyncio.to_thread(self._run, sql, args, True)
            return rows

    async def execute(self, sql: str, args: Sequence[Any] | None = None) -> int:
        async with self._lock:
            n: int = await asyncio.to_thread(self._run, sql, args, False)
            return n

    async def close(self) -> None:
        async with self._lock:
            await asyncio.to_thread(self._drop)


class LabRedis:
    """redis.asyncio with response callbacks cleared: replies arrive as the server sent them."""

    def __init__(self, host: str, port: int, password: str | None, *, timeout: float = 3.0) -> None:
        self.endpoint = f"{host}:{port}"
        self._r = aredis.Redis(
            host=host,
            port=port,
            password=password,
            decode_responses=True,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
        )
        self._r.response_callbacks.clear()

    async def command(self, *args: str) -> Any:
        try:
            return await self._r.execute_command(*args)  # type: ignore[no-untyped-call]
        except redis_exc.AuthenticationError:
            raise TransportError(
                "authentication failed", kind="auth", endpoint=self.endpoint
            ) from None
        except redis_exc.TimeoutError:
            raise TransportError("timed out", kind="timeout", endpoint=self.endpoint) from None
        except redis_exc.ConnectionError:
            raise TransportError(
                "connection refused", kind="refused", endpoint=self.endpoint
            ) from None
        except redis_exc.ResponseError as exc:
            raise TransportError(str(exc), kind="protocol", endpoint=self.endpoint) from None

    async def subscribe(self, channels: Sequence[str]) -> AsyncIterator[tuple[str, str]]:
        pubsub = self._r.pubsub()
        await pubsub.subscribe(*channels)
        try:
            async for msg in pubsub.listen():
                if msg.get("type") == "message":
                    yield str(msg["channel"]), str(msg["data"])
        finally:
            await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def close(self) -> None:
        await self._r.aclose()


class LabHttp:
    def __init__(
        self, base_url: str, *, auth: tuple[str, str] | None = None, timeout: float = 3.0
    ) -> None:
        self.endpoint = base_url
        self._base = base_url.rstrip("/")
        self._c = httpx.AsyncClient(auth=auth, timeout=timeout)

    async def _req(self, method: str, path: str, **kw: Any) -> HttpResponse:
        try:
            # As the production HttpClient: the path is appended to the base as written
            # ("/api/v1/alerts", or ";csv" after ".../stats").
            url = self._base + path if not path or path[0] in "/;?#" else f"{self._base}/{path}"
            r = await self._c.request(method, url, **kw)
        except httpx.TimeoutException:
            raise TransportError("timed out", kind="timeout", endpoint=self.endpoint) from None
        except httpx.ConnectError:
            raise TransportError(
                "connection refused", kind="refused", endpoint=self.endpoint
            ) from None
        except httpx.HTTPError as exc:
            raise TransportError(str(exc), kind="other", endpoint=self.endpoint) from None
        return HttpResponse(status=r.status_code, text=r.text)

    async def get(self, path: str, params: Mapping[str, str] | None = None) -> HttpResponse:
        return await self._req("GET", path, params=params)

    async def post(self, path: str, json_body: Any) -> HttpResponse:
        return await self._req("POST", path, json=json_body)

    async def delete(self, path: str) -> HttpResponse:
        return await self._req("DELETE", path)

    async def close(self) -> None:
        await self._c.aclose()


class LabHAProxy:
    """HAProxy's runtime API on a unix socket (or TCP): one connection per command."""

    def __init__(
        self, path: str | None = None, *, tcp: tuple[str, int] | None = None, timeout: float = 3.0
    ) -> None:
        self._path = path
        self._tcp = tcp
        self._timeout = timeout
        if path is not None:
            self.endpoint = path
        elif tcp is not None:
            self.endpoint = f"{tcp[0]}:{tcp[1]}"
        else:
            raise ValueError("LabHAProxy needs a socket path or a TCP address")

    async def command(self, line: str) -> str:
        try:
            async with asyncio.timeout(self._timeout):
                if self._path is not None:
                    reader, writer = await asyncio.open_unix_connection(self._path)
                else:
                    assert self._tcp is not None
                    reader, writer = await asyncio.open_connection(*self._tcp)
                writer.write(line.encode() + b"\n")
                await writer.drain()
                data = await reader.read()
                writer.close()
                with contextlib.suppress(OSError):
                    await writer.wait_closed()
        except TimeoutError:
            raise TransportError("timed out", kind="timeout", endpoint=self.endpoint) from None
        except (ConnectionRefusedError, FileNotFoundError):
            raise TransportError(
                "connection refused", kind="refused", endpoint=self.endpoint
            ) from None
        except OSError as exc:
            raise TransportError(str(exc), kind="unreachable", endpoint=self.endpoint) from None
        return data.decode(errors="replace")


class LocalShell:
    """Runs argv on this host (no shell), bounded by a timeout."""

    def __init__(self, host: str = "localhost", *, timeout: float = 5.0) -> None:
        self.host = host
        self._timeout = timeout

    async def run(self, argv: Sequence[str], *, timeout: float | None = None) -> CommandResult:
        exe = shutil.which(argv[0])
        if exe is None:
            return CommandResult(127, "", f"{argv[0]}: command not found")
        proc = await asyncio.create_subprocess_exec(
            exe,
            *argv[1:],
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={**os.environ, "LC_ALL": "C"},
        )
        try:
            async with asyncio.timeout(timeout or self._timeout):
                out, err = await proc.communicate()
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise TransportError(
                f"{argv[0]} timed out", kind="timeout", endpoint=self.host
            ) from None
        return CommandResult(proc.returncode or 0, out.decode(errors="replace"), err.decode())

    async def read_file(self, path: str, *, max_bytes: int = 1_000_000) -> str:
        return await asyncio.to_thread(self._read, path, max_bytes)

    def _read(self, path: str, max_bytes: int) -> str:
        try:
            with open(path, "rb") as fh:
                return fh.read(max_bytes).decode(errors="replace")
        except FileNotFoundError:
            raise TransportError(
                f"{path}: no such file", kind="other", endpoint=self.host
            ) from None
        except OSError as exc:
            raise TransportError(
                f"{path}: {exc.strerror}", kind="other", endpoint=self.host
            ) from None
