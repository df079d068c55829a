"""Sentinel pub/sub events: the real stream captured during a failover, and the generator."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest

from jaraba_tui.collectors.sentinel_events import (
    SENTINEL_CHANNELS,
    SentinelEventParseError,
    parse_sentinel_event,
    sentinel_events,
)
from tests.collectors.captured import load

CAPTURED = load("redis_failover", "sentinel_26379_events.json")


def test_every_captured_event_parses() -> None:
    events = [parse_sentinel_event(ch, data, sentinel="s1") for _, ch, data in CAPTURED]
    assert len(events) == len(CAPTURED)
    kinds = [e.kind for e in events]
    assert kinds[0] == "+sdown" and "+switch-master" in kinds


def test_sdown_of_the_master() -> None:
    _, ch, data = CAPTURED[0]
    ev = parse_sentinel_event(ch, data)
    assert ev.instance_type == "master" and ev.instance == "jaraba-master"
    assert ev.address == "127.0.0.1:6379" and ev.master_name == "jaraba-master"
    assert "down" in ev.sentence()


def test_switch_master() -> None:
    _, ch, data = next(e for e in CAPTURED if e[1] == "+switch-master")
    ev = parse_sentinel_event(ch, data, sentinel="sentinel1")
    assert (ev.master_name, ev.old_master, ev.new_master) == (
        "jaraba-master",
        "127.0.0.1:6379",
        "127.0.0.1:6380",
    )
    assert ev.sentence() == (
        "redis: Sentinel sentinel1 switched jaraba-master from 127.0.0.1:6379 to 127.0.0.1:6380"
    )


def test_replica_event_with_master_part_and_trailing_words() -> None:
    _, ch, data = next(e for e in CAPTURED if e[1] == "-role-change")
    ev = parse_sentinel_event(ch, data)
    assert ev.instance_type == "replica" and ev.master_name == "jaraba-master"
    assert (ev.address, ev.master_ip, ev.master_port) == ("127.0.0.1:6380", "127.0.0.1", 6379)
    assert "new reported role is master" in ev.extra


def test_epoch_and_vote() -> None:
    assert parse_sentinel_event("+new-epoch", "7").epoch == 7
    ev = parse_sentinel_event("+vote-for-leader", "abc123 7")
    assert ev.instance == "abc123" and ev.epoch == 7
    assert parse_sentinel_event("+tilt", "#tilt mode entered").extra == "#tilt mode entered"


@pytest.mark.parametrize(
    ("channel", "data"),
    [
        ("+switch-master", "only three words"),
        ("+sdown", "master m 127.0.0.1 notaport"),
        ("+sdown", "slave a 1.2.3.4 6379 @ m"),
        ("+sdown", "master m"),
    ],
)
def test_malformed_events_raise_parse_error(channel: str, data: str) -> None:
    with pytest.raises(SentinelEventParseError):
        parse_sentinel_event(channel, data)


class FakeSource:
    """Replays the captured stream in the shapes real sources produce."""

    def __init__(self, items: list[Any]) -> None:
        self.items = items
        self.subscribed: list[str] = []

    async def subscribe(self, channels: Sequence[str]) -> AsyncIterator[Any]:
        self.subscribed = list(channels)
        for item in self.items:
            yield item


async def test_generator_accepts_tuples_and_redispy_dicts_and_survives_garbage() -> None:
    items: list[Any] = [
        {"type": "subscribe", "channel": "+sdown", "data": 1},  # control message: skipped
        (CAPTURED[0][1], CAPTURED[0][2]),
        {
            "type": "message",
            "pattern": None,
            "channel": b"+switch-master",
            "data": b"m 1.1.1.1 1 2.2.2.2 2",
        },
        ("+sdown", "master m 127.0.0.1 notaport"),  # malformed: becomes "unparsed"
        ("+odown", "master jaraba-master 127.0.0.1 6380 #quorum 2/2"),
    ]
    src = FakeSource(items)
    got = [e async for e in sentinel_events(src, sentinel="s1", clock=lambda: 123.0)]
    assert src.subscribed == list(SENTINEL_CHANNELS)
    assert [e.kind for e in got] == ["+sdown", "+switch-master", "unparsed", "+odown"]
    assert got[1].new_master == "2.2.2.2:2"
    assert got[2].raw.startswith("+sdown") and got[2].extra
    assert got[3].extra == "#quorum 2/2" and got[3].received_at == 123.0


async def test_generator_accepts_message_objects() -> None:
    class Msg:
        def __init__(self, channel: str, data: str) -> None:
            self.channel, self.data = channel, data

    src = FakeSource([Msg("+sdown", "master m 10.0.0.1 6379")])
    got = [e async for e in sentinel_events(src)]
    assert got and got[0].address == "10.0.0.1:6379"
