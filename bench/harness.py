"""The real console (JarabaApp + the real PollEngine on a profile, on its own thread as in the
console: ``threaded``) with measurements, for the benchmarks that need to see inside: run it
in a real terminal (tmux), it writes JSON lines.

    python bench/harness.py --profile PATH --stats OUT.jsonl [--every 2]

Nothing in the product changes: this wraps from outside.
- each layer's collect (the engine's per-layer poll) is timed: ``collect`` [layer, start, s];
- each update's handling (the app's ``_apply``, and ``_draw_updates``: panes fed) is timed:
  ``apply``, and the time
  the update waited since the engine emitted it (engine thread -> UI loop -> message queue):
  ``queue``;
- each screen update (Textual's compositor refresh and the write to the terminal,
  ``Screen._on_timer_update``) is timed: ``frame`` [start, s, current pane];
- pane switches (``action_goto``: ``goto``), a pane's lazy redraw when shown (``show``) and
  every widget recompose (the Footer's, when bindings change: ``recompose``) are timed;
- every ``--every`` seconds one line: RSS, peak RSS, fds, sockets, threads, asyncio tasks,
  the engine's own tasks, polls per layer, timeline length, CPU seconds; and the timings
  since the previous line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import fd_counts, status_kb
from textual.screen import Screen
from textual.widget import Widget

from jaraba_tui.engine import EngineUpdate, PollEngine
from jaraba_tui.profile import load_profile
from jaraba_tui.transport.factory import Transports
from jaraba_tui.ui.app import ConsoleInfo, JarabaApp
from jaraba_tui.ui.source import Emit, UpdateSource, threaded
from jaraba_tui.ui.widgets.pane import Pane

T: dict[str, list[Any]] = {
    "collect": [],
    "apply": [],
    "queue": [],
    "frame": [],
    "recompose": [],
    "show": [],
    "goto": [],
}
CURRENT = {"pane": "overview"}

_orig_timer_update = Screen._on_timer_update


def _timed_timer_update(self: Screen[Any]) -> None:
    t0 = time.perf_counter()
    w0 = time.time()
    _orig_timer_update(self)
    T["frame"].append([round(w0, 4), time.perf_counter() - t0, CURRENT["pane"]])


Screen._on_timer_update = _timed_timer_update  # type: ignore[method-assign]

_orig_recompose = Widget.recompose


async def _timed_recompose(self: Widget) -> None:
    t0 = time.perf_counter()
    w0 = time.time()
    await _orig_recompose(self)
    T["recompose"].append([round(w0, 4), time.perf_counter() - t0, type(self).__name__])


Widget.recompose = _timed_recompose  # type: ignore[method-assign]

_orig_on_show = Pane.on_show


def _timed_on_show(self: Pane) -> None:
    t0 = time.perf_counter()
    w0 = time.time()
    _orig_on_show(self)
    T["show"].append([round(w0, 4), time.perf_counter() - t0, self.id])


Pane.on_show = _timed_on_show  # type: ignore[method-assign]


class BenchApp(JarabaApp):
    # Textual resolves CSS_PATH next to the subclass's module: point at the product's own.
    CSS_PATH = str(Path(sys.modules[JarabaApp.__module__].__file__ or "").parent / "app.tcss")
    engine: PollEngine | None = None
    sampler: Any = None
    every: float = 2.0

    def on_mount(self) -> None:
        # no super().on_mount(): Textual calls every class's handler in the MRO itself (an
        # explicit call mounted the app twice: two engines polling, twice the updates)
        self._emitted: dict[int, float] = {}
        if self.sampler is not None:
            self.set_interval(self.every, self.sampler)

    def _emit(self, update: EngineUpdate) -> None:
        self._emitted.setdefault(id(update), time.perf_counter())  # stamped by the engine
        super()._emit(update)

    def _apply(self, update: EngineUpdate) -> None:
        t0 = time.perf_counter()
        emitted = self._emitted.pop(id(update), None)
        super()._apply(update)
        dt = time.perf_counter() - t0
        T["apply"].append([round(time.time(), 4), dt, update.layer, CURRENT["pane"]])
        if emitted is not None:
            T["queue"].append([update.layer, t0 - emitted])

    def _draw_updates(self) -> None:
        # the panes are fed here, after the queued updates are in (``_apply`` only keeps
        # the update and schedules this): without it "render" missed the drawing itself
        t0 = time.perf_counter()
        w0 = time.time()
        super()._draw_updates()
        layer = self.latest.layer if self.latest is not None else "-"
        T["apply"].append([round(w0, 4), time.perf_counter() - t0, layer, CURRENT["pane"]])

    def action_goto(self, pane: str) -> None:
        t0 = time.perf_counter()
        w0 = time.time()
        super().action_goto(pane)
        CURRENT["pane"] = self.current_pane
        T["goto"].append([round(w0, 4), time.perf_counter() - t0, pane])


def _tasks() -> int | None:
    try:
        return len(asyncio.all_tasks())
    except RuntimeError:  # after the app's loop ended
        return None


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--profile", required=True)
    ap.add_argument("--stats", required=True)
    ap.add_argument("--every", type=float, default=2.0)
    args = ap.parse_args()
    profile = load_profile(args.profile)
    out = open(args.stats, "a", buffering=1)  # noqa: SIM115 - closed at exit
    app: BenchApp

    def build_engine(emit: Emit) -> UpdateSource:
        def stamped(update: EngineUpdate) -> None:  # on the engine's thread
            app._emitted[id(update)] = time.perf_counter()
            emit(update)

        eng = PollEngine(profile, Transports(profile), stamped, close_transports=True)
        inner = eng._collect

        async def timed(layer: str) -> Any:
            w0 = time.time()
            t0 = time.perf_counter()
            try:
                return await inner(layer)
            finally:
                T["collect"].append([layer, round(w0, 4), time.perf_counter() - t0])

        eng._collect = timed
        app.engine = eng
        return eng

    build = threaded(build_engine)

    app = BenchApp(ConsoleInfo.from_profile(profile), build)
    started = time.time()

    def sample() -> None:
        eng = app.engine
        line: dict[str, Any] = {
            "t": round(time.time() - started, 3),
            "wall": round(time.time(), 3),
            "cpu_s": round(time.process_time(), 3),
            **status_kb(os.getpid()),
            **fd_counts(os.getpid()),
            "asyncio_tasks": _tasks(),
            "engine_tasks": len(eng._tasks) if eng else None,
            "polls": {k: s.polls for k, s in eng.stats.items()} if eng else {},
            "failures": {k: s.failures for k, s in eng.stats.items()} if eng else {},
            "timeline": len(app.timeline),
            "pane": CURRENT["pane"],
        }
        for key in list(T):
            line[key], T[key] = T[key], []  # swapped, not cleared: the engine's thread appends
        out.write(json.dumps(line) + "\n")

    app.sampler = sample
    app.every = args.every
    code = app.run()
    sample()
    out.write(json.dumps({"exit": code, "t": round(time.time() - started, 3)}) + "\n")
    out.close()
    return code if isinstance(code, int) else 0


if __name__ == "__main__":
    sys.exit(main())
