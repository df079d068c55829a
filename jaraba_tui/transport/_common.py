"""Shared pieces of the transports: timeouts, addresses, error wording, daemon workers."""

from __future__ import annotations

import asyncio
import errno
import queue
import re
import socket
import threading
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, TypeVar

from jaraba_tui.secrets import scrub
from jaraba_tui.transport.base import TransportError

T = TypeVar("T")

#: Resolves the (host, port) to connect to: the endpoint itself, or the local end of an SSH
#: tunnel (opened lazily, re-opened after the SSH connection dropped).
AddressProvider = Callable[[], Awaitable[tuple[str, int]]]


@dataclass(frozen=True)
class Timeouts:
    """Seconds. ``connect`` bounds establishing a connection, ``read`` every wait for data."""

    connect: float = 3.0
    read: float = 5.0

    @property
    def total(self) -> float:
        """An outer bound for one call: connect + read + a second of slack."""
        return self.connect + self.read + 1.0


_PROGRAM = re.compile(r"^[A-Za-z0-9_./+][A-Za-z0-9_./+-]{0,254}$")


def validate_argv(argv: Sequence[str]) -> list[str]:
    """``argv`` as a list, checked: strings without NUL, argv[0] a plain program name or path.

    A bad argv is a programming error (profiles validate theirs): ``ValueError``.
    """
    if isinstance(argv, str | bytes):
        raise ValueError("argv must be a list of arguments, never one command string")
    args = list(argv)
    if not args:
        raise ValueError("argv is empty")
    for arg in args:
        if not isinstance(arg, str) or "\x00" in arg:
            raise ValueError("every argument must be a string without NUL")
    if not _PROGRAM.match(args[0]):
        raise ValueError(f"argv[0] must be a program name or path, got {args[0]!r}")
    return args


def static_address(host: str, port: int) -> AddressProvider:
    async def provide() -> tuple[str, int]:
        return host, port

    return provide


def error(message: str, *, kind: str, endpoint: str) -> TransportError:
    """A TransportError whose message is scrubbed of every known secret."""
    return TransportError(
        scrub(f"{endpoint}: {message}" if endpoint else message), kind=kind, endpoint=endpoint
    )


def os_error_kind(exc: BaseException) -> tuple[str, str]:
    """(kind, short reason) for a socket-level failure."""
    if isinstance(exc, TimeoutError | socket.timeout | asyncio.TimeoutError):
        return "timeout", "timed out"
    if isinstance(exc, socket.gaierror):
        return "unreachable", "host name does not resolve"
    if isinstance(exc, ConnectionRefusedError):
        return "refused", "connection refused"
    if isinstance(exc, OSError):
        code = exc.errno
        if code == errno.ECONNREFUSED:
            return "refused", "connection refused"
        if code in (errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EHOSTDOWN):
            return "unreachable", "host unreachable"
        if code == errno.ENOENT:
            return "refused", "no such socket"
        if code in (errno.EACCES, errno.EPERM):
            return "auth", "permission denied"
        if code in (errno.ECONNRESET, errno.EPIPE):
            return "protocol", "connection reset by peer"
        if code == errno.ETIMEDOUT:
            return "timeout", "timed out"
        return "other", exc.strerror or type(exc).__name__
    return "other", type(exc).__name__


class DaemonWorker:
    """One daemon thread running blocking calls in order (e.g. one pymysql connection).

    Unlike ``ThreadPoolExecutor`` (whose threads are joined at interpreter exit), a thread
    blocked in a socket read here never keeps the process from exiting.
    """

    def __init__(self, name: str) -> None:
        self._name = name
        self._queue: queue.SimpleQueue[tuple[Callable[[], Any], Future[Any]] | None] = (
            queue.SimpleQueue()
        )
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._closed = False

    def _loop(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            fn, fut = item
            if not fut.set_running_or_notify_cancel():
                continue
            try:
                fut.set_result(fn())
            except BaseException as exc:  # delivered to the awaiting coroutine
                fut.set_exception(exc)

    async def run(self, fn: Callable[[], T]) -> T:
        with self._lock:
            if self._closed:
                raise RuntimeError("worker closed")
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name=self._name, daemon=True)
                self._thread.start()
        fut: Future[T] = Future()
        self._queue.put((fn, fut))
        return await asyncio.wrap_future(fut)

    def submit_nowait(self, fn: Callable[[], Any]) -> None:
        """Queue ``fn`` (e.g. a close) without waiting for it."""
        if self._thread is not None and self._thread.is_alive():
            self._queue.put((fn, Future()))

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._queue.put(None)
