"""The live engine on its own thread and loop (ThreadedEngineSource): updates reach the UI's
loop (never the engine's thread), the controls reach the engine's loop, close is bounded even
when the engine's loop is blocked, and an engine failure becomes "polling stopped".

The engine here is the real PollEngine with its per-layer collector replaced (its own test
hook, as in tests/engine), so no lab is needed; the console on the lab with this source is
covered by tests/ui/test_console_lab.py."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from pathlib import Path

from jaraba_tui.engine import EngineUpdate, PollEngine
from jaraba_tui.model.snapshot import StackSnapshot
from jaraba_tui.profile import Profile, profile_from_mapping
from jaraba_tui.resources import themes_dir
from jaraba_tui.ui.app import ConsoleInfo, JarabaApp
from jaraba_tui.ui.source import (
    Emit,
    ThreadedEngineSource,
    UpdateSource,
    engine_source,
    threaded,
)

#: Generous bound for "does not hang" (the machine is shared and loaded; figures are bench's).
BOUND = 20.0


def _profile() -> Profile:
    return profile_from_mapping(
        {
            "name": "threaded",
            "environment": "lab",
            "redis": {"instances": [{"name": "r1", "host": "127.0.0.1", "port": 1}]},
        }
    )


class Probe:
    """Counts the engine's collects and the threads they ran on."""

    def __init__(self, *, block: threading.Event | None = None) -> None:
        self.threads: set[int] = set()
        self.polls: list[str] = []
        self.block = block

    async def collect(self, layer: str) -> StackSnapshot:
        self.threads.add(threading.get_ident())
        self.polls.append(layer)
        if self.block is not None:
            self.block.wait(60)  # blocks the engine's whole loop (a misbehaving collector)
        return StackSnapshot(collected_at=time.time())


def _engine_factory(probe: Probe, interval: float = 0.05) -> Callable[[Emit], UpdateSource]:
    def build(emit: Emit) -> UpdateSource:
        return PollEngine(
            _profile(),
            None,
            emit,
            collect=probe.collect,
            layers=["redis"],
            intervals={"redis": interval},
        )

    return build


async def _until(cond: Callable[[], bool], bound: float = BOUND) -> None:
    deadline = time.monotonic() + bound
    while not cond():
        assert time.monotonic() < deadline, "condition not reached"
        await asyncio.sleep(0.01)


async def test_updates_arrive_on_the_ui_loop_and_polls_run_on_the_engine_thread() -> None:
    probe = Probe()
    seen: list[tuple[int, EngineUpdate]] = []
    src = threaded(_engine_factory(probe))(lambda u: seen.append((threading.get_ident(), u)))
    assert isinstance(src, ThreadedEngineSource)
    assert src.layers == ("redis",)
    runner = asyncio.create_task(src.run())
    await _until(lambda: len(seen) >= 3)
    ui = threading.get_ident()
    assert {t for t, _ in seen} == {ui}
    assert probe.threads and ui not in probe.threads
    assert src.thread is not None and src.thread.ident in probe.threads
    assert all(u.layer == "redis" for _, u in seen)
    await src.aclose()
    await asyncio.wait_for(runner, BOUND)
    assert src.thread is not None
    src.thread.join(BOUND)
    assert not src.thread.is_alive()
    count = len(seen)
    await asyncio.sleep(0.2)
    assert len(seen) == count  # nothing after close


async def test_controls_reach_the_engine_loop_including_before_it_runs() -> None:
    probe = Probe()
    seen: list[EngineUpdate] = []
    src = threaded(_engine_factory(probe, interval=0.05))(seen.append)
    src.pause()  # before the thread exists: queued, applied first
    runner = asyncio.create_task(src.run())
    await asyncio.sleep(0.5)
    assert probe.polls == []  # paused from the start
    src.refresh_now("redis")  # a forced poll while paused
    await _until(lambda: len(seen) == 1)
    await asyncio.sleep(0.3)
    assert len(probe.polls) == 1
    src.resume()
    await _until(lambda: len(probe.polls) >= 4)
    src.pause_layer("redis")
    await asyncio.sleep(0.2)  # a poll in flight may still end
    held = len(probe.polls)
    await asyncio.sleep(0.4)
    assert len(probe.polls) == held
    src.resume_layer("redis")
    await _until(lambda: len(probe.polls) > held)
    await src.aclose()
    await asyncio.wait_for(runner, BOUND)


async def test_close_is_bounded_when_the_engine_loop_is_blocked() -> None:
    release = threading.Event()
    probe = Probe(block=release)
    src = ThreadedEngineSource(_engine_factory(probe), lambda u: None, stop_timeout=0.5)
    runner = asyncio.create_task(src.run())
    await _until(lambda: bool(probe.polls))  # the engine's loop is now stuck in a collect
    started = time.monotonic()
    await src.aclose()
    assert time.monotonic() - started < BOUND  # the blocked loop holds 60 s
    assert src.thread is not None and src.thread.is_alive() and src.thread.daemon
    runner.cancel()
    release.set()
    src.thread.join(BOUND)
    assert not src.thread.is_alive()


class Failing:
    """An update source whose run fails (the engine's loop dying)."""

    def __init__(self, emit: Emit) -> None:
        self.emit = emit
        self.layers: tuple[str, ...] = ("redis",)

    async def run(self) -> None:
        await asyncio.sleep(0.05)
        raise RuntimeError("engine loop died")

    def refresh_now(self, layer: str | None = None) -> None: ...
    def pause(self) -> None: ...
    def resume(self) -> None: ...
    def pause_layer(self, layer: str) -> None: ...
    def resume_layer(self, layer: str) -> None: ...
    async def aclose(self) -> None: ...


async def test_an_engine_failure_is_polling_stopped_in_the_console(tmp_path: Path) -> None:
    app = JarabaApp(
        ConsoleInfo.from_profile(_profile()),
        threaded(Failing),
        state_path=tmp_path / "ui.json",
        theme_dirs=[themes_dir()],
    )
    async with app.run_test(size=(100, 30)) as pilot:
        for _ in range(500):
            await pilot.pause(0.02)
            if app.stopped is not None:
                break
        assert app.stopped is not None and "engine loop died" in app.stopped
        assert isinstance(app.source, ThreadedEngineSource)
        await pilot.press("q")
    assert app.return_code == 0


def test_the_console_source_is_threaded() -> None:
    src = engine_source(_profile())(lambda u: None)
    assert isinstance(src, ThreadedEngineSource)
    assert isinstance(src.engine, PollEngine)
    assert src.thread is None  # nothing runs before the app's worker starts it
