"""Fakes for the engine: a scripted per-layer collector, a yielding sleep, a counter clock,
recorded snapshots, and a scripted Sentinel pub/sub source."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

from jaraba_tui.model.snapshot import StackSnapshot

RECORDED = Path(__file__).resolve().parents[1] / "fixtures" / "recorded"
HANG = object()


def recorded(name: str) -> list[StackSnapshot]:
    data = json.loads((RECORDED / f"{name}.json").read_text())
    return [StackSnapshot.from_dict(d) for d in data]


class Clock:
    """Wall clock that advances one second per reading (timestamps, not timing)."""

    def __init__(self, start: float = 1_767_225_600.0, step: float = 1.0) -> None:
        self.now = start
        self.step = step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


class Sleeps:
    """Records every requested delay per caller and yields instead of sleeping."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        await asyncio.sleep(0.001)


class FakeCollector:
    """``script[layer]`` is a list of results (StackSnapshot, exception, or HANG), used in
    order; the last one repeats. Tracks calls and concurrency per layer."""

    def __init__(self, script: dict[str, list[Any]], default: StackSnapshot) -> None:
        self.script = script
        self.default = default
        self.calls: dict[str, int] = defaultdict(int)
        self.running: dict[str, int] = defaultdict(int)
        self.max_running: dict[str, int] = defaultdict(int)
        self.release = asyncio.Event()

    async def __call__(self, layer: str) -> StackSnapshot:
        self.calls[layer] += 1
        self.running[layer] += 1
        self.max_running[layer] = max(self.max_running[layer], self.running[layer])
        try:
            queue = self.script.get(layer) or [self.default]
            result = queue.pop(0) if len(queue) > 1 else queue[0]
            if result is HANG:
                await self.release.wait()
                result = self.default
            await asyncio.sleep(0)
            if isinstance(result, BaseException):
                raise result
            assert isinstance(result, StackSnapshot)
            return result
        finally:
            self.running[layer] -= 1


class FakePubSub:
    """A Sentinel pub/sub source yielding scripted ``(channel, data)`` pairs, then idling."""

    def __init__(self, messages: Sequence[tuple[str, str]]) -> None:
        self.messages = list(messages)
        self.go = asyncio.Event()

    async def subscribe(self, channels: Sequence[str]) -> AsyncIterator[Any]:
        await self.go.wait()
        for msg in self.messages:
            yield msg
        await asyncio.Event().wait()


async def until(predicate: Callable[[], bool], *, limit: float = 10.0) -> None:
    """Yield to the loop until ``predicate()`` holds; fail after ``limit`` seconds (a bound
    against hangs, not a timing assertion)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.002)
