"""The replay's :class:`~jaraba_tui.ui.source.UpdateSource`: a recording played by a
:class:`~jaraba_tui.record.player.ReplayPlayer` in replay time (no textual here).

Every ``tick`` seconds of real time the player moves ``tick`` x speed; the frames that fell
due go to ``emit`` (updates) and ``on_audit`` (the actions' audit records). ``on_tick`` lets
the console redraw its replay status line. Polling controls have no effect: nothing is
polled in a replay (``refresh_now`` is refused, ``pause``/``resume`` pause the replay).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from typing import Any

from jaraba_tui.engine import LAYERS
from jaraba_tui.record.player import ReplayPlayer
from jaraba_tui.record.reader import Frame
from jaraba_tui.ui.source import Emit

OnAudit = Callable[[list[dict[str, Any]]], None]


class ReplaySource:
    def __init__(
        self,
        player: ReplayPlayer,
        emit: Emit,
        *,
        on_audit: OnAudit | None = None,
        on_tick: Callable[[], None] | None = None,
        tick: float = 0.1,
        layers: Sequence[str] = LAYERS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.player = player
        self.emit = emit
        self.on_audit = on_audit
        self.on_tick = on_tick
        self.tick = tick
        self.layers = tuple(layers)
        self._monotonic = monotonic
        self._closed = asyncio.Event()
        self.refused_refreshes = 0

    async def run(self) -> None:
        last = self._monotonic()
        while not self._closed.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closed.wait(), self.tick)
            now = self._monotonic()
            self.deliver(self.player.advance(now - last))
            last = now
            if self.on_tick is not None:
                self.on_tick()

    def deliver(self, frames: Sequence[Frame]) -> None:
        records: list[dict[str, Any]] = []
        for frame in frames:
            if frame.update is not None:
                self.emit(frame.update)
            elif frame.record is not None:
                records.append(frame.record)
        if records and self.on_audit is not None:
            self.on_audit(records)

    def step(self) -> None:
        self.deliver(self.player.step())

    def refresh_now(self, layer: str | None = None) -> None:
        self.refused_refreshes += 1  # nothing to poll in a replay

    def pause(self) -> None:
        self.player.paused = True

    def resume(self) -> None:
        self.player.paused = False

    def pause_layer(self, layer: str) -> None:
        return None

    def resume_layer(self, layer: str) -> None:
        return None

    async def aclose(self) -> None:
        self._closed.set()
