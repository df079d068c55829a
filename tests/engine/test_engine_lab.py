"""PollEngine against the lab's real servers: every layer polls on its own, the Sentinel
subscriptions hold, and closing is prompt."""

from __future__ import annotations

import asyncio

import pytest

from jaraba_tui.engine import LAYERS, EngineUpdate, PollEngine
from jaraba_tui.profile import load_profile
from jaraba_tui.transport.factory import Transports
from tests.engine.fakes import until
from tests.labutil import require_lab

pytestmark = pytest.mark.lab


async def test_every_layer_of_the_lab_polls_on_its_own() -> None:
    # not the Galera or Redis ports: other engineers' faults stop those, and a stopped
    # node is what the engine must cope with, not a reason to skip
    require_lab(6032, 8404, 26379, 9090, 9093, 2222)
    profile = load_profile("local")
    updates: list[EngineUpdate] = []
    engine = PollEngine(profile, Transports(profile), updates.append, close_transports=True)
    assert set(engine.layers) == set(LAYERS)
    task = asyncio.create_task(engine.run())
    try:
        # a first answer from every layer (fresh or stale: someone may be injecting faults)
        await until(lambda: {u.layer for u in updates} >= set(LAYERS), limit=90)
        # the 2-second layers come round again while the 15-second hosts layer waits
        await until(lambda: sum(1 for u in updates if u.layer == "redis") >= 3, limit=60)
        assert engine.stats["redis"].polls > engine.stats["hosts"].polls
        assert all(s.polls >= 1 for s in engine.stats.values())
        assert engine.listener_errors == {}
        last = updates[-1]
        assert last.snapshot.profile == "local" and last.findings
        assert len(last.history) > 0
    finally:
        loop = asyncio.get_running_loop()
        started = loop.time()
        await engine.aclose()
        await task
        assert loop.time() - started < 5.0
