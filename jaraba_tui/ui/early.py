"""The live engine started at process start, before the console's first frame (issue 6).

``jaraba-ops`` spends most of its first second importing and building the UI (textual, the
panes, the stylesheet) on one interpreter. Started after the first frame, the first polls
waited for all of it before they even connected; started here, the engine's thread opens
its connections and runs its first polls while the main thread builds the UI, so the
network's waits (TCP/MySQL/SSH handshakes, the remote shells' start) overlap that work.

:class:`EarlyEngineSource` is the console's :class:`~jaraba_tui.ui.source.ThreadedEngineSource`
with its thread started by :meth:`start` (no event loop needed on the caller's side):
updates produced before the console's loop runs are kept in order and handed to the console
when its worker calls :meth:`run`. No textual here (it is imported before textual is).
"""

from __future__ import annotations

import asyncio
import threading
from typing import TYPE_CHECKING

from jaraba_tui.engine import EngineUpdate
from jaraba_tui.ui.source import (
    Emit,
    EngineThreadStopped,
    SourceFactory,
    ThreadedEngineSource,
    UpdateSource,
    engine_source,
    started_first,
)

if TYPE_CHECKING:
    from jaraba_tui.profile import Profile


def _no_console(update: EngineUpdate) -> None:
    raise RuntimeError("EarlyEngineSource: update delivered before a console attached")


class EarlyEngineSource(ThreadedEngineSource):
    """A :class:`ThreadedEngineSource` whose thread may start before the console's loop
    exists (:meth:`start`); :meth:`attach` names the console's ``emit`` and :meth:`run`
    (the console's worker) hands over what was polled meanwhile, then carries on as the
    threaded source does (controls, close, an engine failure ending :meth:`run`)."""

    def __init__(self, inner: SourceFactory, *, stop_timeout: float = 1.5) -> None:
        self._early_lock = threading.Lock()
        self._early: list[EngineUpdate] = []
        self._early_ended = False
        self._early_error: BaseException | None = None
        super().__init__(inner, _no_console, stop_timeout=stop_timeout)

    def start(self) -> None:
        """Start polling now, on the engine's own thread."""
        if self.thread is not None:
            raise RuntimeError("EarlyEngineSource.start() called twice")
        self.thread = threading.Thread(target=self._thread_main, name="poll-engine", daemon=True)
        self.thread.start()

    def attach(self, emit: Emit) -> None:
        self._emit_ui = emit

    def stop(self) -> None:
        """Stop the engine without a console (the console never started)."""
        self._request_stop()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        with self._early_lock:
            self._done = done
            self._ui_loop = loop
            early, self._early = self._early, []
            ended, error = self._early_ended, self._early_error
        for update in early:  # in order, before anything the engine sends from now on
            self._deliver(update)
        if self.thread is None:
            self.start()
        if ended:  # the engine ended before the console ran: its failure is the console's
            self._finished(
                None
                if error is None
                else error
                if isinstance(error, Exception)
                else EngineThreadStopped(repr(error))
            )
        try:
            await asyncio.shield(done)
        except asyncio.CancelledError:
            self._request_stop()
            raise

    # -- the engine's thread ---------------------------------------------------------------
    def _from_engine(self, update: EngineUpdate) -> None:
        with self._early_lock:
            if self._ui_loop is None:
                if not self._closing:
                    self._early.append(update)
                return
        super()._from_engine(update)

    async def _main(self, loop: asyncio.AbstractEventLoop) -> None:
        error: BaseException | None = None
        try:
            await super()._main(loop)
        except BaseException as exc:
            error = exc
            raise
        finally:
            with self._early_lock:
                self._early_ended = True
                self._early_error = error


def early_engine_source(profile: Profile) -> tuple[SourceFactory, EarlyEngineSource]:
    """Start the live engine now; returns the console's source factory and the source.

    The factory's first call (the console's mount) gets the running source; a later call
    (polling restarted after it stopped) gets a new engine, as :func:`engine_source` does."""
    from jaraba_tui.engine.poll import PollEngine
    from jaraba_tui.transport.factory import Transports

    def build_engine(emit: Emit) -> UpdateSource:
        return PollEngine(profile, Transports(profile), emit, close_transports=True)

    source = EarlyEngineSource(build_engine)
    source.start()
    return started_first(source, engine_source(profile)), source
