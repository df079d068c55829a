"""AsyncRedisClient against the lab's real Redis (password) and Sentinels (no password)."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest

from jaraba_tui.collectors.redis import parse_info
from jaraba_tui.secrets import Secret
from jaraba_tui.transport._common import Timeouts, static_address
from jaraba_tui.transport.base import TransportError
from jaraba_tui.transport.redis import RESUBSCRIBED, AsyncRedisClient, PubSubMessage
from tests.labutil import require_lab

pytestmark = pytest.mark.lab


@pytest.fixture(autouse=True)
def _redis_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JARABA_TEST_REDIS_PW", "redis_dev")
    monkeypatch.setenv("JARABA_TEST_REDIS_BAD_PW", "not-the-Password-9")


def redis(
    port: int, timeouts: Timeouts, env: str | None = "JARABA_TEST_REDIS_PW"
) -> AsyncRedisClient:
    return AsyncRedisClient(
        f"redis test 127.0.0.1:{port}",
        static_address("127.0.0.1", port),
        password=Secret(env=env) if env else None,
        timeouts=timeouts,
    )


async def test_redis_with_password(timeouts: Timeouts) -> None:
    require_lab(6379)
    client = redis(6379, timeouts)
    try:
        assert await client.command("PING") is True
        info = await client.command("INFO", "replication")
        # the text as the server sent it (the collectors parse it): not redis-py's mapping
        assert isinstance(info, str) and "# Replication" in info
        assert parse_info(info).role in ("master", "slave")
    finally:
        await client.close()


async def test_sentinel_without_password(timeouts: Timeouts) -> None:
    require_lab(26379)
    sentinel = redis(26379, timeouts, env=None)
    try:
        addr = await sentinel.command("SENTINEL", "get-master-addr-by-name", "jaraba-master")
        assert addr[0] == "127.0.0.1" and int(addr[1]) in (6379, 6380, 6381)
    finally:
        await sentinel.close()


async def test_pipeline_answers_each_command_like_command(timeouts: Timeouts) -> None:
    require_lab(26379)
    sentinel = redis(26379, timeouts, env=None)
    try:
        m = "jaraba-master"
        addr, bad, pong = await sentinel.pipeline(
            ("SENTINEL", "GET-MASTER-ADDR-BY-NAME", m), ("SENTINEL", "NO-SUCH-THING"), ("PING",)
        )
        assert addr == await sentinel.command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", m)
        with pytest.raises(TransportError) as one:
            await sentinel.command("SENTINEL", "NO-SUCH-THING")
        assert isinstance(bad, TransportError) and (bad.kind, str(bad)) == (
            one.value.kind,
            str(one.value),
        )
        assert pong is True
    finally:
        await sentinel.close()


async def test_pipeline_refused_and_tarpit_raise(closed_port: int, tarpit: int) -> None:
    short = Timeouts(connect=1.0, read=1.0)
    for port, kind in ((closed_port, "refused"), (tarpit, "timeout")):
        client = redis(port, short)
        start = time.monotonic()
        with pytest.raises(TransportError) as info:
            await client.pipeline(("PING",), ("PING",))
        await client.close()
        assert info.value.kind == kind
        assert time.monotonic() - start < short.connect + short.read + 1.5


@pytest.mark.parametrize("env", ["JARABA_TEST_REDIS_BAD_PW", None])
async def test_bad_or_missing_password_is_auth(env: str | None, timeouts: Timeouts) -> None:
    require_lab(6379)
    client = redis(6379, timeouts, env=env)
    with pytest.raises(TransportError) as info:
        await client.command("INFO", "replication")
    await client.close()
    assert info.value.kind == "auth"
    assert "not-the-Password-9" not in str(info.value)


async def test_refused(closed_port: int, timeouts: Timeouts) -> None:
    client = redis(closed_port, timeouts)
    with pytest.raises(TransportError) as info:
        await client.command("PING")
    await client.close()
    assert info.value.kind == "refused"


async def test_tarpit_is_bounded(tarpit: int) -> None:
    short = Timeouts(connect=1.0, read=1.0)
    client = redis(tarpit, short)
    start = time.monotonic()
    with pytest.raises(TransportError) as info:
        await client.command("PING")
    await client.close()
    assert info.value.kind == "timeout"
    assert time.monotonic() - start < short.connect + short.read + 1.0


async def test_subscribe_yields_messages_and_survives_a_dropped_connection(
    timeouts: Timeouts,
) -> None:
    require_lab(6379)
    channel = f"jaraba-ops-test-{uuid.uuid4().hex[:8]}"
    publisher, subscriber = redis(6379, timeouts), redis(6379, timeouts)
    stream = subscriber.subscribe([channel], ping_interval=1.0)
    received: list[PubSubMessage] = []

    async def publish_until_received(payload: str) -> None:
        for _ in range(50):
            await publisher.command("PUBLISH", channel, payload)
            await asyncio.sleep(0.1)
            if any(m.data == payload for m in received):
                return

    async def consume() -> None:
        async for message in stream:
            received.append(message)
            if message.data == "second":
                return

    consumer = asyncio.create_task(consume())
    try:
        await asyncio.wait_for(publish_until_received("first"), 10)
        assert received[0] == PubSubMessage(channel=channel, data="first")
        # Drop the subscriber's connection server-side; the iterator reconnects.
        await publisher.command("CLIENT", "KILL", "TYPE", "pubsub")
        await asyncio.wait_for(publish_until_received("second"), 15)
        await asyncio.wait_for(consumer, 5)
    finally:
        consumer.cancel()
        await stream.aclose()  # type: ignore[attr-defined]
        await publisher.close()
        await subscriber.close()
    channels = [m.channel for m in received]
    assert RESUBSCRIBED in channels
    assert channels.index(RESUBSCRIBED) < len(channels) - 1


async def test_sentinel_pattern_subscription_connects(timeouts: Timeouts) -> None:
    require_lab(26379)
    sentinel = redis(26379, timeouts, env=None)
    stream = sentinel.subscribe(["*"], ping_interval=0.5)

    async def first() -> PubSubMessage:
        return await stream.__anext__()  # type: ignore[attr-defined,no-any-return]

    # Nothing may be published in 2 s (no failover), but subscribing and pinging must work.
    try:
        await asyncio.wait_for(first(), 2.0)
    except TimeoutError:
        pass
    finally:
        await stream.aclose()  # type: ignore[attr-defined]
        await sentinel.close()
