"""PollEngine and StackMerger with fake collectors: no network, no wall-clock assertions."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest

from jaraba_tui.collectors.stack import StackTargets
from jaraba_tui.engine import (
    LAYERS,
    EngineUpdate,
    PollEngine,
    StackMerger,
    layer_intervals,
    layer_problem,
    layer_targets,
    replay_updates,
    sentinel_event,
)
from jaraba_tui.model.events import EventKind
from jaraba_tui.model.findings import Severity
from jaraba_tui.profile import load_profile
from jaraba_tui.transport.base import TransportError
from tests.engine.fakes import (
    HANG,
    Clock,
    FakeCollector,
    FakePubSub,
    Sleeps,
    recorded,
    until,
)

PROFILE = load_profile("local")


@pytest.fixture(scope="module")
def healthy() -> list[Any]:
    return recorded("healthy")


@pytest.fixture(scope="module")
def degraded() -> list[Any]:
    return recorded("degraded")


def make_engine(
    collector: FakeCollector, **kw: Any
) -> tuple[PollEngine, list[EngineUpdate], Sleeps]:
    updates: list[EngineUpdate] = []
    sleeps = Sleeps()
    kw.setdefault("clock", Clock())
    engine = PollEngine(PROFILE, None, updates.append, collect=collector, sleep=sleeps, **kw)
    return engine, updates, sleeps


async def run_until(engine: PollEngine, predicate: Any) -> None:
    task = asyncio.create_task(engine.run())
    try:
        await until(predicate)
    finally:
        await engine.aclose()
        await task


# -- pure helpers ----------------------------------------------------------------------------


def test_intervals_come_from_the_profile_per_layer() -> None:
    iv = layer_intervals(PROFILE.poll)
    assert iv["galera"] == PROFILE.poll.galera
    assert iv["redis"] == min(PROFILE.poll.redis, PROFILE.poll.sentinel)
    assert iv["alerts"] == min(PROFILE.poll.prometheus, PROFILE.poll.alertmanager)
    assert iv["hosts"] == PROFILE.poll.hosts
    assert set(iv) == set(LAYERS)


def test_layer_targets_subsets_and_skips_unconfigured_layers() -> None:
    t = StackTargets(galera=(object(),), master_name="m", profile="p")  # type: ignore[arg-type]
    sub = layer_targets(t, "galera")
    assert sub is not None and sub.galera == t.galera and sub.profile == "p"
    assert sub.redis == () and sub.proxysql is None
    assert layer_targets(t, "redis") is None


def test_sentinel_events_map_to_timeline_events_and_chatter_is_dropped() -> None:
    from jaraba_tui.collectors.sentinel_events import parse_sentinel_event

    ev = parse_sentinel_event(
        "+switch-master", "jaraba-master 127.0.0.1 6379 127.0.0.1 6380", sentinel="s1"
    )
    out = sentinel_event(ev)
    assert out is not None and out.kind is EventKind.FAILOVER
    assert "127.0.0.1:6380" in out.message
    assert sentinel_event(parse_sentinel_event("+new-epoch", "7", sentinel="s1")) is None


# -- the merge -------------------------------------------------------------------------------


def test_a_failed_poll_keeps_the_last_data_for_display_and_marks_it_stale(
    healthy: list[Any],
) -> None:
    clock = Clock()
    merger = StackMerger(clock=clock)
    good = merger.merge("proxysql", healthy[0])
    assert not good.state("proxysql").stale
    assert good.snapshot.proxysql is not None
    last_ok = good.state("proxysql").last_ok_at

    down = merger.merge("proxysql", TransportError("connection refused", kind="refused"))
    st = down.state("proxysql")
    assert st.stale and "connection refused" in (st.error or "")
    assert st.last_ok_at == last_ok and st.stale_since is not None
    assert down.snapshot.proxysql == healthy[0].proxysql  # shown: the last good data
    assert merger.current.proxysql is None  # seen: nothing
    assert any(f.code == "stack.collector" for f in down.findings)
    assert any(e.kind is EventKind.ENDPOINT_FAILED for e in down.events)

    again = merger.merge("proxysql", TransportError("refused", kind="refused"))
    assert again.state("proxysql").stale_since == st.stale_since  # still the first failure

    back = merger.merge("proxysql", healthy[1])
    assert not back.state("proxysql").stale
    assert any(e.kind is EventKind.ENDPOINT_RECOVERED for e in back.events)


def test_an_unreachable_layer_is_stale_but_health_says_what_the_poll_saw(
    healthy: list[Any],
) -> None:
    merger = StackMerger(clock=Clock())
    merger.merge("proxysql", healthy[0])
    p = healthy[1].proxysql
    from jaraba_tui.collectors.common import EndpointError

    dead = dataclasses.replace(
        p,
        servers=(),
        pool=(),
        galera_hostgroups=(),
        errors=(EndpointError(p.endpoint, "refused", "connection refused", "version"),),
    )
    assert layer_problem("proxysql", dead) is not None
    up = merger.merge("proxysql", dataclasses.replace(healthy[1], proxysql=dead))
    assert up.state("proxysql").stale
    assert up.snapshot.proxysql == healthy[0].proxysql
    crit = [f for f in up.findings if f.component == "proxysql"]
    assert crit[0].severity is Severity.CRIT and "unreachable" in crit[0].message


def test_history_only_records_the_polled_layer(healthy: list[Any]) -> None:
    merger = StackMerger(clock=Clock())
    merger.merge("haproxy", healthy[0])
    merger.merge("haproxy", healthy[1])
    before = merger.history.points("haproxy.fe_jaraba.req_per_s")
    for snap in healthy[2:]:
        merger.merge("redis", snap)  # other layers polling must not add haproxy samples
    assert merger.history.points("haproxy.fe_jaraba.req_per_s") == before
    assert len(merger.history.values("redis.redis1.ops_per_s")) >= 3


def test_replayed_degraded_run_has_the_failover_and_the_node_leaving(
    degraded: list[Any],
) -> None:
    updates = replay_updates(degraded)
    kinds = {e.kind for u in updates for e in u.events}
    assert EventKind.FAILOVER in kinds and EventKind.NODE_LEFT in kinds
    worst = updates[-1].findings[0]
    assert worst.severity is Severity.CRIT


# -- the scheduler ---------------------------------------------------------------------------


async def test_every_layer_polls_on_its_own_interval(healthy: list[Any]) -> None:
    collector = FakeCollector({}, healthy[0])
    engine, updates, _ = make_engine(collector)
    await run_until(engine, lambda: all(collector.calls[x] >= 3 for x in LAYERS))
    for layer in LAYERS:
        # re-armed with the layer's own interval after each (fast, good) poll
        assert set(engine.stats[layer].delays) == {engine.intervals[layer]}
    assert {u.layer for u in updates} == set(LAYERS)


async def test_a_layer_never_overlaps_itself_and_drops_refreshes_in_flight(
    healthy: list[Any],
) -> None:
    collector = FakeCollector({"galera": [HANG]}, healthy[0])
    engine, _, _ = make_engine(collector, layers=["galera", "redis"])
    task = asyncio.create_task(engine.run())
    try:
        await until(lambda: engine.stats["galera"].in_flight)
        for _ in range(5):
            engine.refresh_now("galera")
            await asyncio.sleep(0)
        # a hung Galera never held Redis back
        await until(lambda: collector.calls["redis"] >= 5)
        assert collector.calls["galera"] == 1
        assert engine.stats["galera"].skipped == 5
    finally:
        collector.release.set()
        await engine.aclose()
        await task
    assert collector.max_running["galera"] == 1
    assert collector.max_running["redis"] == 1


async def test_a_hung_poll_is_cut_at_the_deadline_and_the_layer_goes_stale(
    healthy: list[Any],
) -> None:
    collector = FakeCollector({"galera": [healthy[0], HANG]}, healthy[0])
    engine, updates, _ = make_engine(collector, layers=["galera"], poll_deadline=0.05)
    await run_until(engine, lambda: any(u.state("galera").stale for u in updates))
    stale = next(u for u in updates if u.state("galera").stale)
    assert stale.snapshot.galera == healthy[0].galera
    assert "timeout" in (stale.state("galera").error or "") or "deadline" in (
        stale.state("galera").error or ""
    )


async def test_failures_back_off_and_one_success_resets(healthy: list[Any]) -> None:
    err = TransportError("connection refused", kind="refused")
    collector = FakeCollector({"redis": [err, err, err, err, err, err, healthy[0]]}, healthy[0])
    engine, updates, _ = make_engine(collector, layers=["redis"])
    await run_until(engine, lambda: collector.calls["redis"] >= 8)
    delays = engine.stats["redis"].delays
    interval = engine.intervals["redis"]
    assert delays[0] == interval * 2
    assert delays[1] == interval * 4
    assert max(delays) <= max(interval, min(engine.max_backoff, interval * 8))
    assert delays[6] == interval  # after the first good poll
    assert updates[0].state("redis").stale and not updates[6].state("redis").stale


async def test_pause_stops_polls_refresh_still_polls_once_resume_restarts(
    healthy: list[Any],
) -> None:
    collector = FakeCollector({}, healthy[0])
    engine, _, _ = make_engine(collector, layers=["redis", "haproxy"])
    task = asyncio.create_task(engine.run())
    try:
        await until(lambda: collector.calls["redis"] >= 2)
        engine.pause()
        await until(lambda: not any(s.in_flight for s in engine.stats.values()))
        await asyncio.sleep(0.05)
        held = dict(collector.calls)
        await asyncio.sleep(0.1)
        assert dict(collector.calls) == held
        engine.refresh_now("redis")
        await until(lambda: collector.calls["redis"] == held["redis"] + 1)
        await asyncio.sleep(0.05)
        assert collector.calls["haproxy"] == held["haproxy"]
        engine.resume()
        await until(lambda: collector.calls["haproxy"] >= held["haproxy"] + 2)
    finally:
        await engine.aclose()
        await task


async def test_pause_layer_holds_only_that_layer(healthy: list[Any]) -> None:
    collector = FakeCollector({}, healthy[0])
    engine, _, _ = make_engine(collector, layers=["redis", "haproxy"])
    task = asyncio.create_task(engine.run())
    try:
        await until(lambda: collector.calls["redis"] >= 1)
        engine.pause_layer("redis")
        await asyncio.sleep(0.05)
        held = collector.calls["redis"]
        start = collector.calls["haproxy"]
        await until(lambda: collector.calls["haproxy"] >= start + 3)
        assert collector.calls["redis"] == held
        engine.resume_layer("redis")
        await until(lambda: collector.calls["redis"] > held)
    finally:
        await engine.aclose()
        await task


async def test_switch_master_pushes_an_event_and_polls_redis_at_once(
    healthy: list[Any],
) -> None:
    source = FakePubSub(
        [
            ("+new-epoch", "8"),
            ("+switch-master", "jaraba-master 127.0.0.1 6379 127.0.0.1 6380"),
        ]
    )
    duplicate = FakePubSub([("+switch-master", "jaraba-master 127.0.0.1 6379 127.0.0.1 6380")])
    collector = FakeCollector({}, healthy[0])
    engine, updates, sleeps = make_engine(
        collector,
        layers=["redis"],
        event_sources={"s1": source, "s2": duplicate},
        intervals={"redis": 3600.0},
    )

    async def slow_sleep(delay: float) -> None:  # the interval never elapses in this test
        sleeps.delays.append(delay)
        await asyncio.Event().wait()

    engine._sleep = slow_sleep
    task = asyncio.create_task(engine.run())
    try:
        await until(lambda: collector.calls["redis"] == 1)
        source.go.set()
        await until(lambda: collector.calls["redis"] == 2)  # pushed, not timed
        duplicate.go.set()
        await asyncio.sleep(0.05)
    finally:
        await engine.aclose()
        await task
    pushed = [u for u in updates if u.layer == "sentinel"]
    assert len(pushed) == 1  # +new-epoch is chatter, the second +switch-master a duplicate
    assert pushed[0].events[0].kind is EventKind.FAILOVER


async def test_a_broken_listener_does_not_stop_the_polls(healthy: list[Any]) -> None:
    collector = FakeCollector({}, healthy[0])
    calls = []

    def boom(update: EngineUpdate) -> None:
        calls.append(update)
        raise RuntimeError("listener bug")

    engine = PollEngine(
        PROFILE, None, boom, collect=collector, sleep=Sleeps(), layers=["redis"], clock=Clock()
    )
    await run_until(engine, lambda: len(calls) >= 3)


async def test_aclose_is_bounded_and_closes_owned_transports(healthy: list[Any]) -> None:
    class Transports:
        closed = False

        async def aclose(self) -> None:
            await asyncio.sleep(3600)  # a transport that never finishes closing

    tr = Transports()
    collector = FakeCollector({"galera": [HANG]}, healthy[0])
    engine = PollEngine(
        PROFILE,
        tr,  # type: ignore[arg-type]
        lambda u: None,
        collect=collector,
        sleep=Sleeps(),
        layers=["galera"],
        close_transports=True,
    )
    task = asyncio.create_task(engine.run())
    await until(lambda: engine.stats["galera"].in_flight)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await engine.aclose(timeout=0.2)
    await task
    assert loop.time() - started < 5.0  # bound against a hang; the close waits 0.2 s
