"""HAProxy runtime API client: a local unix socket, a TCP socket (optionally tunnelled), or a
unix socket on a remote host opened over SSH (asyncssh direct-streamlocal: no socat needed).

One command per connection (HAProxy's non-interactive mode: it answers and closes).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from jaraba_tui.transport._common import AddressProvider, Timeouts, error, os_error_kind
from jaraba_tui.transport.base import TransportError
from jaraba_tui.transport.ssh import SshPool

MAX_ANSWER_BYTES = 32 * 1024 * 1024

#: Opens one stream: (reader with ``async read(n)``, writer with ``write``/``close``).
Opener = Callable[[], Awaitable[tuple[Any, Any]]]


def check_command(line: str) -> str:
    """The command as sent. Newlines/NUL would start another command, and HAProxy splits a
    line on ``;``: all refused, so a hostile value cannot smuggle a second command."""
    if not line.strip():
        raise ValueError("empty runtime API command")
    if any(c in line for c in "\n\r\x00;"):
        raise ValueError("a runtime API command cannot contain ';', newlines or NUL")
    return line.strip()


class HAProxyRuntimeClient:
    """:class:`~jaraba_tui.transport.base.HAProxyRuntime`."""

    def __init__(self, endpoint: str, opener: Opener, *, timeouts: Timeouts) -> None:
        self.endpoint = endpoint
        self._open = opener
        self._timeouts = timeouts

    @classmethod
    def unix(
        cls, path: str, *, timeouts: Timeouts, endpoint: str | None = None
    ) -> HAProxyRuntimeClient:
        async def opener() -> tuple[Any, Any]:
            return await asyncio.open_unix_connection(path)

        return cls(endpoint or f"unix:{path}", opener, timeouts=timeouts)

    @classmethod
    def tcp(
        cls, endpoint: str, address: AddressProvider, *, timeouts: Timeouts
    ) -> HAProxyRuntimeClient:
        async def opener() -> tuple[Any, Any]:
            host, port = await address()
            return await asyncio.open_connection(host, port)

        return cls(endpoint, opener, timeouts=timeouts)

    @classmethod
    def over_ssh(
        cls,
        pool: SshPool,
        ssh_host: str,
        path: str,
        *,
        timeouts: Timeouts,
        endpoint: str | None = None,
    ) -> HAProxyRuntimeClient:
        async def opener() -> tuple[Any, Any]:
            return await pool.open_unix(ssh_host, path)

        return cls(endpoint or f"ssh {ssh_host}:{path}", opener, timeouts=timeouts)

    async def command(self, line: str) -> str:
        text = check_command(line)
        ep = self.endpoint
        try:
            async with asyncio.timeout(self._timeouts.connect):
                reader, writer = await self._open()
        except TransportError:
            raise
        except TimeoutError:
            raise error("timed out connecting", kind="timeout", endpoint=ep) from None
        except OSError as exc:
            kind, why = os_error_kind(exc)
            raise error(why, kind=kind, endpoint=ep) from None
        try:
            writer.write(text.encode() + b"\n")
            chunks: list[bytes] = []
            size = 0
            async with asyncio.timeout(self._timeouts.total):
                while True:
                    chunk = await asyncio.wait_for(reader.read(65536), self._timeouts.read)
                    if not chunk:
                        break
                    chunks.append(bytes(chunk))
                    size += len(chunk)
                    if size > MAX_ANSWER_BYTES:
                        raise error("answer too large", kind="protocol", endpoint=ep)
        except TimeoutError:
            raise error(
                f"no complete answer within the read timeout ({self._timeouts.read:g}s)",
                kind="timeout",
                endpoint=ep,
            ) from None
        except TransportError:
            raise
        except OSError as exc:
            kind, why = os_error_kind(exc)
            raise error(why, kind=kind, endpoint=ep) from None
        except Exception as exc:  # asyncssh stream errors (connection lost, ...)
            raise error(f"stream failed: {exc}", kind="protocol", endpoint=ep) from None
        finally:
            with contextlib.suppress(Exception):  # a half-dead stream: nothing more to do
                writer.close()
        return b"".join(chunks).decode("utf-8", "replace")
