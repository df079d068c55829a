"""The live engine started at process start (EarlyEngineSource, issue 6 start-up): it polls
before any event loop of the console exists, hands what it polled to the console in order
when the console's worker runs, then behaves as the threaded source (controls, close, a
failure before or after the console attached becomes "polling stopped").

The engine is the real PollEngine with its per-layer collector replaced (its own test hook,
as in tests/engine and tests/ui/test_threaded_source.py); the console on the lab with this
source is covered by tests/ui/test_console_lab.py and the tmux tests."""

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
from jaraba_tui.ui.early import EarlyEngineSource, early_engine_source
from jaraba_tui.ui.source import Emit, ThreadedEngineSource, UpdateSource

BOUND = 20.0


def _profile() -> Profile:
    return profile_from_mapping(
        {
            "name": "early",
            "environment": "lab",
            "redis": {"instances": [{"name": "r1", "host": "127.0.0.1", "port": 1}]},
        }
    )


class Probe:
    def __init__(self) -> None:
        self.polls: list[float] = []
        self.threads: set[int] = set()

    async def collect(self, layer: str) -> StackSnapshot:
        self.threads.add(threading.get_ident())
        self.polls.append(time.time())
        return StackSnapshot(collected_at=time.time())


def _factory(probe: Probe, interval: float = 0.05) -> Callable[[Emit], UpdateSource]:
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


def _wait(cond: Callable[[], bool]) -> None:
    deadline = time.monotonic() + BOUND
    while not cond():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)


async def _until(cond: Callable[[], bool]) -> None:
    deadline = time.monotonic() + BOUND
    while not cond():
        assert time.monotonic() < deadline, "condition not reached"
        await asyncio.sleep(0.01)


def test_polls_before_the_console_and_hands_over_in_order() -> None:
    probe = Probe()
    src = EarlyEngineSource(_factory(probe))
    src.start()  # no event loop on this thread
    _wait(lambda: len(probe.polls) >= 3)
    assert threading.get_ident() not in probe.threads

    seen: list[tuple[int, EngineUpdate]] = []
    before = len(probe.polls)  # polled before the console: at least these are handed over
    attached = time.time()
    src.attach(lambda u: seen.append((threading.get_ident(), u)))

    async def console() -> None:
        runner = asyncio.create_task(src.run())
        await _until(lambda: len(seen) >= before + 2)
        await src.aclose()
        await asyncio.wait_for(runner, BOUND)

    asyncio.run(console())
    ui = threading.get_ident()
    assert {t for t, _ in seen} == {ui}  # delivered on the console's loop, early ones too
    stamps = [u.snapshot.collected_at for _, u in seen]
    assert stamps == sorted(stamps)  # the early updates first, then the live ones, in order
    assert sum(1 for s in stamps if s <= attached) >= before  # none of the early ones lost
    assert src.thread is not None
    src.thread.join(BOUND)
    assert not src.thread.is_alive()


def test_stop_without_a_console_ends_the_thread() -> None:
    probe = Probe()
    src = EarlyEngineSource(_factory(probe))
    src.start()
    _wait(lambda: bool(probe.polls))
    src.stop()
    assert src.thread is not None
    src.thread.join(BOUND)
    assert not src.thread.is_alive()


class Failing:
    def __init__(self, emit: Emit) -> None:
        self.layers: tuple[str, ...] = ("redis",)

    async def run(self) -> None:
        raise RuntimeError("engine loop died early")

    def refresh_now(self, layer: str | None = None) -> None: ...
    def pause(self) -> None: ...
    def resume(self) -> None: ...
    def pause_layer(self, layer: str) -> None: ...
    def resume_layer(self, layer: str) -> None: ...
    async def aclose(self) -> None: ...


async def test_a_failure_before_the_console_attached_is_polling_stopped(tmp_path: Path) -> None:
    src = EarlyEngineSource(Failing)
    src.start()
    assert src.thread is not None
    src.thread.join(BOUND)  # ended before any console loop existed
    assert not src.thread.is_alive()
    app = JarabaApp(
        ConsoleInfo.from_profile(_profile()),
        lambda emit: (src.attach(emit), src)[1],
        state_path=tmp_path / "ui.json",
        theme_dirs=[themes_dir()],
    )
    async with app.run_test(size=(100, 30)) as pilot:
        for _ in range(500):
            await pilot.pause(0.02)
            if app.stopped is not None:
                break
        assert app.stopped is not None and "engine loop died early" in app.stopped
        await pilot.press("q")
    assert app.return_code == 0


def test_the_console_factory_gives_the_running_source_once() -> None:
    factory, src = early_engine_source(_profile())
    try:
        assert src.thread is not None and src.thread.is_alive()  # polling already
        assert isinstance(src.engine, PollEngine)
        first = factory(lambda u: None)
        assert first is src
        again = factory(lambda u: None)  # polling restarted later: a new engine
        assert again is not src and isinstance(again, ThreadedEngineSource)
        assert again.thread is None
    finally:
        src.stop()
        assert src.thread is not None
        src.thread.join(BOUND)
    assert not src.thread.is_alive()
