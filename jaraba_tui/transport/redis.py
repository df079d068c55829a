"""Redis and Sentinel with redis.asyncio: socket connect/read timeouts, no hidden retries,
and :meth:`AsyncRedisClient.subscribe` for Sentinel's event channels (with reconnects)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import redis.asyncio as aioredis
from redis import exceptions as rexc
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from jaraba_tui.profile.errors import ProfileError
from jaraba_tui.secrets import Secret
from jaraba_tui.transport._common import AddressProvider, Timeouts, error, os_error_kind
from jaraba_tui.transport.base import TransportError

_T = TypeVar("_T")

#: Channel of the synthetic message :meth:`AsyncRedisClient.subscribe` yields after it had
#: to reconnect: events may have been missed, poll everything now.
RESUBSCRIBED = "jaraba:resubscribed"

#: Sentinel's event channels worth a push update.
SENTINEL_EVENTS = (
    "+switch-master",
    "+sdown",
    "-sdown",
    "+odown",
    "-odown",
    "+failover-state-select-slave",
    "+failover-end",
    "+failover-end-for-timeout",
    "+reboot",
    "+slave",
    "+convert-to-slave",
    "-failover-abort-not-elected",
)


def _as_sent(response: Any, **options: Any) -> Any:
    return response


@dataclass(frozen=True)
class PubSubMessage:
    channel: str
    data: str
    pattern: str | None = None


class AsyncRedisClient:
    """:class:`~jaraba_tui.transport.base.RedisClient` for a Redis or a Sentinel.

    ``command`` returns redis-py's decoded reply (``INFO`` as a dict, strings as ``str``).
    """

    def __init__(
        self,
        endpoint: str,
        address: AddressProvider,
        *,
        password: Secret | None,
        timeouts: Timeouts,
        username: str | None = None,
    ) -> None:
        self.endpoint = endpoint
        self._address = address
        self._password = password
        self._username = username
        self._timeouts = timeouts
        self._client: aioredis.Redis | None = None
        self._client_addr: tuple[str, int] | None = None
        self._closed = False
        self._lock = asyncio.Lock()

    async def _resolve(self) -> tuple[tuple[str, int], str | None]:
        if self._closed:
            raise error("client is closed", kind="other", endpoint=self.endpoint)
        addr = await self._address()
        try:
            password = await self._password.areveal() if self._password is not None else None
        except ProfileError as exc:
            raise error(str(exc), kind="auth", endpoint=self.endpoint) from None
        return addr, password

    async def _get(self) -> aioredis.Redis:
        async with self._lock:  # concurrent first calls build one client, not two
            addr, password = await self._resolve()
            if self._client is not None and self._client_addr == addr:
                return self._client
            await self._reset()
            self._client = self._build(addr, password)
            self._client_addr = addr
            return self._client

    def _build(self, addr: tuple[str, int], password: str | None) -> aioredis.Redis:
        client = aioredis.Redis(
            host=addr[0],
            port=addr[1],
            password=password,
            username=self._username,
            socket_connect_timeout=self._timeouts.connect,
            socket_timeout=self._timeouts.read,
            decode_responses=True,
            retry=Retry(NoBackoff(), 0),
        )
        # INFO's text as the server sent it: the collectors parse the few fields they use
        # (redis-py's own parse types every one of ~400 fields: ~0.5 ms more per INFO).
        client.set_response_callback("INFO", _as_sent)
        return client

    async def command(self, *args: str) -> Any:
        if not args:
            raise ValueError("command() needs at least the command name")
        return await self._round_trip(lambda client: client.execute_command(*args))

    async def pipeline(self, *commands: tuple[str, ...]) -> list[Any]:
        """Several commands in one round trip (no MULTI): per command, its decoded reply or
        the :class:`TransportError` its error reply makes (as :meth:`command` would raise
        it). A failure of the connection itself raises, for all of them."""
        if not commands or not all(commands):
            raise ValueError("pipeline() needs commands, each with at least its name")

        async def send(client: Any) -> list[Any]:
            pipe = client.pipeline(transaction=False)
            for args in commands:
                pipe.execute_command(*args)
            replies: list[Any] = await pipe.execute(raise_on_error=False)
            return replies

        replies = await self._round_trip(send)
        return [
            translate(r, self.endpoint) if isinstance(r, rexc.RedisError) else r for r in replies
        ]

    async def _round_trip(self, call: Callable[[Any], Awaitable[_T]]) -> _T:
        """``call(client)`` bounded by the total timeout; a timeout or a lost connection
        drops the client (the next call reconnects); errors become TransportErrors."""
        client = await self._get()
        try:
            async with asyncio.timeout(self._timeouts.total):
                return await call(client)
        except TimeoutError:
            await self._reset()
            raise error(
                f"no answer within {self._timeouts.total:g}s",
                kind="timeout",
                endpoint=self.endpoint,
            ) from None
        except (rexc.RedisError, OSError) as exc:
            if isinstance(exc, rexc.ConnectionError | rexc.TimeoutError | OSError):
                await self._reset()
            raise translate(exc, self.endpoint) from None

    async def _reset(self) -> None:
        client, self._client, self._client_addr = self._client, None, None
        if client is not None:
            with contextlib.suppress(Exception):
                await client.aclose()

    async def subscribe(
        self, channels: Sequence[str], *, ping_interval: float = 10.0
    ) -> AsyncIterator[PubSubMessage]:
        """Messages published on ``channels`` (entries with ``*``/``?`` are patterns), for
        as long as the caller iterates. Reconnects with backoff when the link drops or goes
        silent (a PING unanswered within the read timeout); after a reconnect it first yields
        a :data:`RESUBSCRIBED` message."""
        plain = [c for c in channels if not any(ch in c for ch in "*?[")]
        patterns = [c for c in channels if c not in plain]
        if not channels:
            raise ValueError("subscribe() needs at least one channel")
        backoff, first = 0.5, True
        while not self._closed:
            client: aioredis.Redis | None = None
            pubsub: Any = None
            try:
                client = self._build(*await self._resolve())  # its own connection
                pubsub = client.pubsub()
                async with asyncio.timeout(self._timeouts.total):
                    if plain:
                        await pubsub.subscribe(*plain)
                    if patterns:
                        await pubsub.psubscribe(*patterns)
                if not first:
                    yield PubSubMessage(RESUBSCRIBED, "")
                first, backoff = False, 0.5
                async for message in self._pump(pubsub, ping_interval):
                    yield message
            except (TransportError, rexc.RedisError, OSError) as exc:
                failure = exc if isinstance(exc, TransportError) else translate(exc, self.endpoint)
                if failure.kind in ("auth", "hostkey"):
                    raise failure from None  # will not heal by retrying
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
            finally:
                for closable in (pubsub, client):
                    if closable is not None:
                        with contextlib.suppress(Exception):
                            await closable.aclose()

    async def _pump(self, pubsub: Any, ping_interval: float) -> AsyncIterator[PubSubMessage]:
        last_heard = time.monotonic()
        pinged_at: float | None = None
        while not self._closed:
            message = await pubsub.get_message(timeout=min(1.0, ping_interval))
            now = time.monotonic()
            if message is not None:
                last_heard, pinged_at = now, None
                kind = message.get("type")
                if kind in ("message", "pmessage"):
                    yield PubSubMessage(
                        channel=str(message["channel"]),
                        data=str(message["data"]),
                        pattern=str(message["pattern"]) if message.get("pattern") else None,
                    )
                continue
            if pinged_at is not None and now - pinged_at > self._timeouts.read:
                raise error(
                    "subscription went silent (no PONG)", kind="timeout", endpoint=self.endpoint
                )
            if pinged_at is None and now - last_heard > ping_interval:
                await pubsub.ping()
                pinged_at = now

    async def close(self) -> None:
        self._closed = True
        await self._reset()


def translate(exc: BaseException, endpoint: str) -> TransportError:
    text = str(exc)
    low = text.lower()
    if isinstance(exc, rexc.AuthenticationError) or any(
        w in low for w in ("noauth", "wrongpass", "invalid password", "invalid username")
    ):
        return error("authentication failed (password/ACL)", kind="auth", endpoint=endpoint)
    if isinstance(exc, rexc.TimeoutError):
        return error("timed out", kind="timeout", endpoint=endpoint)
    if isinstance(exc, rexc.ConnectionError):
        cause = exc.__cause__ or exc.__context__
        if isinstance(cause, OSError):
            kind, why = os_error_kind(cause)
            return error(why, kind=kind, endpoint=endpoint)
        if "refused" in low:
            return error("connection refused", kind="refused", endpoint=endpoint)
        if "timeout" in low or "timed out" in low:
            return error("timed out", kind="timeout", endpoint=endpoint)
        if "name or service" in low or "resolve" in low:
            return error("host name does not resolve", kind="unreachable", endpoint=endpoint)
        return error(f"connection failed: {text[:200]}", kind="protocol", endpoint=endpoint)
    if isinstance(exc, rexc.ResponseError):
        return error(f"error reply: {text[:200]}", kind="other", endpoint=endpoint)
    if isinstance(exc, OSError):
        kind, why = os_error_kind(exc)
        return error(why, kind=kind, endpoint=endpoint)
    return error(f"{type(exc).__name__}: {text[:200]}", kind="protocol", endpoint=endpoint)
