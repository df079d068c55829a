"""Where the console's EngineUpdates come from: the live :class:`PollEngine`, or a script.

The app takes a *factory*: given the callback that turns updates into messages, it returns
an :class:`UpdateSource`. ``engine_source(profile)`` polls for real, on its own thread and
event loop (:class:`ThreadedEngineSource`); ``scripted(updates)`` plays recorded updates
(pilot and snapshot tests, and ``replay``) on the UI's loop. ``jaraba-ops`` itself runs the
engine in a child process (:mod:`jaraba_tui.ui.process_source`); the thread is its fallback
(``JARABA_ENGINE=thread``, no fork possible, polling restarted) and what tests and the
benchmarks' harness wrap.

Why a thread: the collectors' awaits and the merge run on the engine's loop, so drawing a
large pane never delays a poll, and a poll's CPU never sits between a key and its screen
update for longer than a GIL switch. The engine's transports (asyncssh connections, redis
and httpx clients, bound to the loop they were first used on) are the engine's own and
only ever used on its loop; the UI's action ops have their own transports on the UI loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from jaraba_tui.engine import LAYERS, EngineUpdate

if TYPE_CHECKING:
    from jaraba_tui.profile import Profile

Emit = Callable[[EngineUpdate], None]

log = logging.getLogger(__name__)


class UpdateSource(Protocol):
    layers: tuple[str, ...]

    async def run(self) -> None:
        """Produce updates until :meth:`aclose` (runs in the app's async worker)."""

    def refresh_now(self, layer: str | None = None) -> None: ...

    def pause(self) -> None: ...

    def resume(self) -> None: ...

    def pause_layer(self, layer: str) -> None: ...

    def resume_layer(self, layer: str) -> None: ...

    async def aclose(self) -> None: ...


SourceFactory = Callable[[Emit], UpdateSource]


class StartedSource(UpdateSource, Protocol):
    """A source already polling before the console exists; :meth:`attach` names the
    console's ``emit`` (the early engine thread, the forked engine process)."""

    def attach(self, emit: Emit) -> None: ...


def started_first(source: StartedSource, later: SourceFactory) -> SourceFactory:
    """The console's factory: its first call (the mount) gets ``source``, attached; a later
    call (polling restarted after it stopped) gets a new one from ``later``."""
    used = False

    def factory(emit: Emit) -> UpdateSource:
        nonlocal used
        if used:
            return later(emit)
        used = True
        source.attach(emit)
        return source

    return factory


def engine_source(profile: Profile) -> SourceFactory:
    """The live engine on the profile's own transports (closed with the engine), polling
    on its own thread (:class:`ThreadedEngineSource`)."""

    def build_engine(emit: Emit) -> UpdateSource:
        # here, not at import: the engine and the transports are not needed for the first frame
        from jaraba_tui.engine.poll import PollEngine
        from jaraba_tui.transport.factory import Transports

        return PollEngine(profile, Transports(profile), emit, close_transports=True)

    return threaded(build_engine)


def threaded(inner: SourceFactory, *, stop_timeout: float = 1.5) -> SourceFactory:
    """``inner`` run on its own thread and event loop (see :class:`ThreadedEngineSource`)."""

    def build(emit: Emit) -> UpdateSource:
        return ThreadedEngineSource(inner, emit, stop_timeout=stop_timeout)

    return build


class EngineThreadStopped(RuntimeError):
    """The engine's thread ended without being asked to (its loop died)."""


class ThreadedEngineSource:
    """Runs an :class:`UpdateSource` (the :class:`PollEngine`) on a daemon thread with its
    own asyncio loop; the UI's loop only receives finished updates.

    - :meth:`run` (the app's worker, on the UI loop) starts the thread and waits until the
      engine ends: after :meth:`aclose` it returns; if the engine fails, it raises the
      engine's exception (the app shows "polling stopped", as for an in-loop engine).
    - Updates are handed to ``emit`` on the UI loop (``call_soon_threadsafe``): the engine
      never waits for the UI, and ``emit`` (and what wraps it, e.g. ``--record``) runs on
      the UI's thread as before.
    - The controls (:meth:`refresh_now`, :meth:`pause`, ...) are queued into the engine's
      loop (``call_soon_threadsafe``); calls before the loop runs are queued until it does.
    - :meth:`aclose` asks the engine to stop and waits at most ``stop_timeout`` seconds; a
      thread still closing (a read blocked in a hung endpoint) is a daemon and does not
      hold the process.

    ``inner`` is built here, on the caller's thread (its ``layers`` are known at once), and
    must not touch an event loop before its ``run()``.
    """

    def __init__(self, inner: SourceFactory, emit: Emit, *, stop_timeout: float = 1.5) -> None:
        self._emit_ui = emit
        self.stop_timeout = stop_timeout
        self.engine: UpdateSource = inner(self._from_engine)
        self.layers = self.engine.layers
        self.thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending: list[tuple[Callable[..., Any], tuple[Any, ...]]] = []
        self._ui_loop: asyncio.AbstractEventLoop | None = None
        self._done: asyncio.Future[None] | None = None
        self._stop: asyncio.Event | None = None  # on the engine's loop
        self._closing = False

    # -- the UI side ---------------------------------------------------------------------------
    async def run(self) -> None:
        if self.thread is not None:
            raise RuntimeError("ThreadedEngineSource.run() called twice")
        self._ui_loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = self._ui_loop.create_future()
        self._done = done
        self.thread = threading.Thread(target=self._thread_main, name="poll-engine", daemon=True)
        self.thread.start()
        try:
            await asyncio.shield(done)
        except asyncio.CancelledError:
            self._request_stop()
            raise

    async def aclose(self) -> None:
        self._request_stop()
        done = self._done
        if done is None:
            return
        with contextlib.suppress(Exception, asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.shield(done), self.stop_timeout)
        if done.done() and not done.cancelled():
            done.exception()  # retrieved: a failure after close is not news

    def refresh_now(self, layer: str | None = None) -> None:
        self._call(self.engine.refresh_now, layer)

    def pause(self) -> None:
        self._call(self.engine.pause)

    def resume(self) -> None:
        self._call(self.engine.resume)

    def pause_layer(self, layer: str) -> None:
        self._call(self.engine.pause_layer, layer)

    def resume_layer(self, layer: str) -> None:
        self._call(self.engine.resume_layer, layer)

    def _request_stop(self) -> None:
        self._closing = True
        self._call(self._set_stop)

    def _call(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn(*args)`` on the engine's loop (queued until it runs; dropped once it
        has ended)."""
        with self._lock:
            loop = self._loop
            if loop is None:
                self._pending.append((fn, args))
                return
        with contextlib.suppress(RuntimeError):  # the engine's loop is closed: nothing to do
            loop.call_soon_threadsafe(fn, *args)

    def _deliver(self, update: EngineUpdate) -> None:
        """On the UI loop."""
        if not self._closing:
            self._emit_ui(update)

    def _finished(self, error: BaseException | None) -> None:
        """On the UI loop: the engine's main ended."""
        done = self._done
        if done is None or done.done():
            return
        if error is None:
            done.set_result(None)
        else:
            done.set_exception(error)

    # -- the engine's thread -------------------------------------------------------------------
    def _from_engine(self, update: EngineUpdate) -> None:
        ui = self._ui_loop
        if ui is None or self._closing:
            return
        with contextlib.suppress(RuntimeError):  # the UI's loop is closed: the app has gone
            ui.call_soon_threadsafe(self._deliver, update)

    def _set_stop(self) -> None:
        if self._stop is not None:
            self._stop.set()

    def _thread_main(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        error: BaseException | None = None
        try:
            loop.run_until_complete(self._main(loop))
        except BaseException as exc:  # handed to the UI: "polling stopped"
            error = exc if isinstance(exc, Exception) else EngineThreadStopped(repr(exc))
            if not self._closing:
                log.error("poll engine stopped: %s: %s", type(exc).__name__, exc)
        ui = self._ui_loop
        if ui is not None:
            with contextlib.suppress(RuntimeError):
                ui.call_soon_threadsafe(self._finished, error)
        self._shutdown(loop)

    async def _main(self, loop: asyncio.AbstractEventLoop) -> None:
        self._stop = asyncio.Event()
        with self._lock:
            self._loop = loop
            pending, self._pending = self._pending, []
        for fn, args in pending:
            fn(*args)
        runner = asyncio.create_task(self.engine.run(), name="engine")
        stopper = asyncio.create_task(self._stop.wait(), name="engine stop")
        await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
        stopper.cancel()
        if runner.done():
            runner.result()  # the engine's own failure (or its end)
            return
        with contextlib.suppress(Exception):
            await self.engine.aclose()  # bounded by the engine (transports' close timeout)
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await asyncio.wait_for(runner, 1.0)

    def _shutdown(self, loop: asyncio.AbstractEventLoop) -> None:
        """Cancel what is left on the engine's loop (bounded) and close it."""
        try:
            left = [t for t in asyncio.all_tasks(loop) if not t.done()]
            for task in left:
                task.cancel()
            if left:
                loop.run_until_complete(asyncio.wait(left, timeout=1.0))
            loop.run_until_complete(loop.shutdown_asyncgens())
        except Exception:  # closing is best effort: the process may be leaving
            log.debug("engine loop shutdown", exc_info=True)
        finally:
            loop.close()


class ScriptedSource:
    """Plays a fixed list of updates: all at start (``autoplay``), or one per :meth:`step`.

    Records what the console asked of it (``refreshes``, ``paused``) for tests.
    """

    def __init__(
        self,
        updates: Sequence[EngineUpdate],
        emit: Emit,
        *,
        autoplay: bool = True,
        layers: Sequence[str] = LAYERS,
    ) -> None:
        self.updates = list(updates)
        self.emit = emit
        self.autoplay = autoplay
        self.layers = tuple(layers)
        self.position = 0
        self.refreshes: list[str | None] = []
        self.paused = False
        self.paused_layers: set[str] = set()
        self.closed = asyncio.Event()

    async def run(self) -> None:
        if self.autoplay:
            while self.step():
                pass
        await self.closed.wait()

    def step(self, count: int = 1) -> bool:
        """Emit the next ``count`` updates; False when the script is over."""
        for _ in range(count):
            if self.position >= len(self.updates):
                return False
            self.emit(self.updates[self.position])
            self.position += 1
        return True

    def play(self, update: EngineUpdate) -> None:
        """Emit an extra update now (tests of stale marking, Sentinel pushes...)."""
        self.emit(update)

    def refresh_now(self, layer: str | None = None) -> None:
        self.refreshes.append(layer)

    def pause(self) -> None:
        self.paused = True

    def resume(self) -> None:
        self.paused = False

    def pause_layer(self, layer: str) -> None:
        self.paused_layers.add(layer)

    def resume_layer(self, layer: str) -> None:
        self.paused_layers.discard(layer)

    async def aclose(self) -> None:
        self.closed.set()


def scripted(
    updates: Sequence[EngineUpdate],
    *,
    autoplay: bool = True,
    sink: list[ScriptedSource] | None = None,
) -> SourceFactory:
    """A factory for :class:`ScriptedSource`; ``sink`` receives the instance (tests)."""

    def build(emit: Emit) -> UpdateSource:
        src = ScriptedSource(updates, emit, autoplay=autoplay)
        if sink is not None:
            sink.append(src)
        return src

    return build
