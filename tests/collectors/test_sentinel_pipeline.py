"""A Sentinel poll's five questions in one round trip (issue 6): the same snapshot as asking
them one by one, whatever the answers (captured healthy and failover answers, NOQUORUM, an
unknown subcommand, a Sentinel that refuses or hangs)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import pytest

from jaraba_tui.collectors.sentinel import PipelineClient, SentinelTarget, collect_sentinel
from jaraba_tui.transport.base import TransportError
from tests.collectors.fakes import HANG, FakeRedis, refused
from tests.collectors.scenarios import sentinel_fake

M = "jaraba-master"


class FakePipeRedis(FakeRedis):
    """FakeRedis that also pipelines: each command answered as ``command`` would answer
    it, a refused connection raised for the whole round trip."""

    def __init__(self, endpoint: str, script: Mapping[str, Any]) -> None:
        super().__init__(endpoint, script)
        self.pipelines = 0

    async def pipeline(self, *commands: tuple[str, ...]) -> list[Any]:
        self.pipelines += 1
        out: list[Any] = []
        for args in commands:
            try:
                out.append(await self.command(*args))
            except TransportError as exc:
                if exc.kind in ("refused", "timeout"):
                    raise
                out.append(exc)
        return out


CASES: dict[str, tuple[str, Mapping[str, object]]] = {
    "healthy": ("healthy", {}),
    "failover": ("redis_failover/after_failover", {}),
    "noquorum": ("healthy", {f"SENTINEL CKQUORUM {M}": TransportError("NOQUORUM 1 usable")}),
    "old redis": (
        "healthy",
        {
            f"SENTINEL REPLICAS {M}": TransportError("ERR Unknown subcommand", kind="protocol"),
            f"SENTINEL SLAVES {M}": [],
        },
    ),
    "refused": ("healthy", {"*": refused("127.0.0.1:26379")}),
}


@pytest.mark.parametrize("case", sorted(CASES))
async def test_pipelined_poll_equals_the_sequential_one(case: str) -> None:
    scenario, over = CASES[case]
    plain = sentinel_fake(26379, scenario, over)
    if "*" in over:
        plain.script = dict(over)
    piped = FakePipeRedis(plain.endpoint, plain.script)
    assert isinstance(piped, PipelineClient) and not isinstance(plain, PipelineClient)
    one = await collect_sentinel(SentinelTarget("s", plain), M, timeout=5)
    two = await collect_sentinel(SentinelTarget("s", piped), M, timeout=5)
    assert replace(two, elapsed_ms=0) == replace(one, elapsed_ms=0)
    assert piped.pipelines == 1
    # only a fallback (SLAVES after an unknown REPLICAS) is asked outside the round trip
    assert piped.calls[5:] == (["SENTINEL SLAVES jaraba-master"] if case == "old redis" else [])


async def test_a_hung_sentinel_costs_one_timeout_not_five() -> None:
    piped = FakePipeRedis("127.0.0.1:26379", {"*": HANG})
    snap = await collect_sentinel(SentinelTarget("s", piped), M, timeout=0.2)
    assert snap.elapsed_ms < 1000
    assert [(e.step, e.kind) for e in snap.errors] == [("SENTINEL MASTERS", "timeout")]
