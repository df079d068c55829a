"""Replay time: a clock over a :class:`~jaraba_tui.record.reader.Recording` with pause,
step, seek and speed. Pure (no I/O, no tasks): the console's ReplaySource drives it.

``position`` is the index of the next frame to deliver; every frame before it has been
delivered (its time is <= ``now``). The sparklines' history is rebuilt from the delivered
frames on a seek, so it never holds the future.
"""

from __future__ import annotations

import bisect
import re
import time
from dataclasses import replace

from jaraba_tui.engine import EngineUpdate
from jaraba_tui.engine.merge import data_stamp
from jaraba_tui.model.history import History
from jaraba_tui.model.snapshot import StackSnapshot
from jaraba_tui.record.reader import Frame, Recording

SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0)


class ReplayPlayer:
    def __init__(self, recording: Recording, *, speed: float = 1.0, paused: bool = False) -> None:
        self.recording = recording
        self.frames = recording.frames
        self._times = [f.t for f in self.frames]
        self.start = recording.start
        self.end = recording.end
        self.now = self.start
        self.position = 0
        self.speed = speed
        self.paused = paused
        self.history = History()

    # -- where we are -------------------------------------------------------------------------
    @property
    def ended(self) -> bool:
        return self.position >= len(self.frames)

    @property
    def elapsed(self) -> float:
        return self.now - self.start

    @property
    def duration(self) -> float:
        return self.end - self.start

    def clock(self) -> float:
        """The replay's wall clock (ages and "since" on screen are relative to it)."""
        return self.now

    def delivered(self) -> list[Frame]:
        return self.frames[: self.position]

    def latest_update(self) -> EngineUpdate | None:
        for frame in reversed(self.frames[: self.position]):
            if frame.update is not None:
                return replace(frame.update, history=self.history)
        return None

    # -- moving -------------------------------------------------------------------------------
    def _deliver(self, upto: int) -> list[Frame]:
        out: list[Frame] = []
        for frame in self.frames[self.position : upto]:
            if frame.update is not None:
                if frame.fresh:
                    _record(self.history, frame.update)
                frame = replace(frame, update=replace(frame.update, history=self.history))
            out.append(frame)
        self.position = max(self.position, upto)
        return out

    def advance(self, real_seconds: float) -> list[Frame]:
        """Move replay time by ``real_seconds`` x speed (nothing while paused); the frames
        that fell due."""
        if self.paused or self.ended:
            return []
        self.now = min(self.now + max(0.0, real_seconds) * self.speed, self.end)
        return self._deliver(bisect.bisect_right(self._times, self.now))

    def step(self) -> list[Frame]:
        """Deliver up to and including the next update (audit records on the way too)."""
        i = self.position
        while i < len(self.frames) and self.frames[i].update is None:
            i += 1
        upto = min(i + 1, len(self.frames))
        if upto <= self.position:
            return []
        self.now = max(self.now, self.frames[upto - 1].t)
        return self._deliver(upto)

    def seek(self, t: float) -> None:
        """Jump to replay time ``t`` (clamped to the recording): everything up to it is
        delivered, nothing after. The caller redraws from :meth:`delivered`."""
        t = min(max(t, self.start), self.end)
        upto = bisect.bisect_right(self._times, t)
        if upto < self.position:  # backwards: rebuild the history from the start
            self.history = History()
            self.position = 0
        self.now = t
        self._deliver(upto)

    def toggle_pause(self) -> bool:
        self.paused = not self.paused
        return self.paused

    def faster(self) -> float:
        bigger = [s for s in SPEEDS if s > self.speed]
        self.speed = bigger[0] if bigger else self.speed
        return self.speed

    def slower(self) -> float:
        smaller = [s for s in SPEEDS if s < self.speed]
        self.speed = smaller[-1] if smaller else self.speed
        return self.speed

    # -- reading "where to" -------------------------------------------------------------------
    def parse_time(self, text: str) -> float:
        """A seek target: ``HH:MM[:SS]`` (the recording's local clock), ``+30s``/``-2m``
        (from now), ``T+90``/``T+5m`` (from the start), ``50%``. ValueError if unreadable."""
        s = text.strip().lower()
        if not s:
            raise ValueError("empty time")
        m = re.fullmatch(r"(\d{1,3}(?:\.\d+)?)%", s)
        if m:
            return self.start + self.duration * min(100.0, float(m.group(1))) / 100.0
        m = re.fullmatch(r"(t)?([+-])(\d+(?:\.\d+)?)([smh]?)", s)
        if m:
            unit = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0}[m.group(4)]
            delta = float(m.group(3)) * unit * (1 if m.group(2) == "+" else -1)
            return (self.start if m.group(1) else self.now) + delta
        m = re.fullmatch(r"(\d{1,2}):(\d{2})(?::(\d{2}))?", s)
        if m:
            hh, mm, ss = int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)
            if hh > 23 or mm > 59 or ss > 59:
                raise ValueError(f"no such time of day: {text}")
            return self._clock_time(hh, mm, ss)
        raise ValueError(f"unreadable time {text!r}: use HH:MM[:SS], +30s, -2m, T+5m or 50%")

    def _clock_time(self, hh: int, mm: int, ss: int) -> float:
        """The instant with that local clock time nearest to the recording (it may span
        midnight)."""
        base = time.localtime(self.start)
        candidates = []
        for day in (-1, 0, 1):
            t = time.mktime((base.tm_year, base.tm_mon, base.tm_mday + day, hh, mm, ss, 0, 0, -1))
            candidates.append(t)
        mid = (self.start + self.end) / 2
        return min(candidates, key=lambda t: abs(t - mid))


def _record(history: History, update: EngineUpdate) -> None:
    """As the live merger does for a good poll: the layer's series into the history."""
    data = getattr(update.snapshot, update.layer)
    history.record(StackSnapshot(collected_at=data_stamp(data, update.at), **{update.layer: data}))
