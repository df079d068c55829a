"""The interfaces collectors and actions talk through.

Every implementation bounds every call by a connect AND a read timeout and raises
:class:`TransportError` (never a library exception, never a message holding a secret).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable


class TransportError(Exception):
    """A network call failed. ``str(exc)`` is one secret-free sentence for a human.

    ``kind`` is a stable word for programs: "timeout", "refused", "auth", "unreachable",
    "protocol", "hostkey", "other".
    """

    def __init__(self, message: str, *, kind: str = "other", endpoint: str = "") -> None:
        super().__init__(message)
        self.kind = kind
        self.endpoint = endpoint


Row = Mapping[str, Any]


class SqlClient(Protocol):
    """A MySQL-protocol endpoint (a Galera node, the ProxySQL admin)."""

    endpoint: str

    async def query(self, sql: str, args: Sequence[Any] | None = None) -> list[Row]:
        """Run one statement; rows as dicts keyed by column name."""
        ...

    async def execute(self, sql: str, args: Sequence[Any] | None = None) -> int:
        """Run one statement that returns no rows; the affected row count."""
        ...

    async def close(self) -> None: ...


class RedisClient(Protocol):
    """A Redis or Sentinel endpoint."""

    endpoint: str

    async def command(self, *args: str) -> Any:
        """Run one command (e.g. ``"INFO", "replication"``); the decoded reply."""
        ...

    async def close(self) -> None: ...


@dataclass(frozen=True)
class HttpResponse:
    status: int
    text: str

    def json(self) -> Any:
        import json

        return json.loads(self.text)


class HttpClient(Protocol):
    endpoint: str

    async def get(self, path: str, params: Mapping[str, str] | None = None) -> HttpResponse: ...

    async def post(self, path: str, json_body: Any) -> HttpResponse: ...

    async def delete(self, path: str) -> HttpResponse: ...

    async def close(self) -> None: ...


@dataclass(frozen=True)
class CommandResult:
    exit_status: int
    stdout: str
    stderr: str


class Shell(Protocol):
    """Runs programs on one host (over SSH, or locally for the lab's own host)."""

    host: str

    async def run(self, argv: Sequence[str], *, timeout: float | None = None) -> CommandResult:
        """Run ``argv`` (quoted for the remote shell by the implementation, never joined raw)."""
        ...

    async def read_file(self, path: str, *, max_bytes: int = 1_000_000) -> str: ...


@runtime_checkable
class ProbeShell(Protocol):
    """A :class:`Shell` with a cheaper way to run short read-only probes (SSH: a long-lived
    shell on the host instead of a new session per command)."""

    async def probe(
        self, argv: Sequence[str], *, timeout: float | None = None
    ) -> CommandResult: ...


class HAProxyRuntime(Protocol):
    """HAProxy's runtime API (a unix socket, a TCP socket, or a unix socket over SSH)."""

    endpoint: str

    async def command(self, line: str) -> str:
        """Send one runtime API command; its whole answer."""
        ...
