"""The real console with measurements, run the way ``jaraba-ops`` runs it, for the benchmarks
that need to see inside (scale, soak): run it in a real terminal (tmux); it writes JSON lines.

    python bench/harness.py --profile PATH --stats OUT.jsonl [--every 2] [--engine process]
                            [--cprofile DIR]

The console is the product's: ``jaraba_tui.ui.run`` (the source, the action ops, the saved
state and keymap, the app), with :class:`BenchApp` (a JarabaApp that times itself) in place
of JarabaApp. Engine (``--engine``, default ``$JARABA_BENCH_ENGINE`` else ``process``):

- ``process`` (the product's default): the poll engine is forked into its own process by the
  product's own :func:`jaraba_tui.engine.process.fork_engine`, right after the profile is
  loaded and before textual is imported (as ``jaraba_tui/cli.py``'s ``_fork_engine``), and
  handed to ``ui.run``, which reads it through
  :func:`jaraba_tui.ui.process_source.process_engine_source`. The harness exits with an
  error if the engine cannot be forked (no silent fall-back to the thread).
- ``thread`` (``JARABA_ENGINE=thread``, the product's fall-back): ``ui.run`` starts the
  engine on a thread of the console (:func:`jaraba_tui.ui.early.early_engine_source`).

Nothing in the product changes: the harness wraps from outside. The engine is instrumented
by wrapping :class:`~jaraba_tui.engine.poll.PollEngine` (its ``__init__``, ``_emit`` and
``run``); in ``process`` mode that is done in the child only, by an ``os.register_at_fork``
hook armed around the fork (the console never imports the engine's modules it would not
import anyway). The engine side writes, per poll:

- ``collect`` [layer, start wall, s]: the layer's collect (the engine's per-layer poll);
- ``poll`` [layer, at, start wall, poll s, emit wall, emitted wall]: the same poll joined
  with the update it produced (``at``: the update's own stamp, the key shared with the
  console's records); emit = the engine calls its ``on_update`` (merged: the collect's end +
  the merge and health rules), emitted = it returned (process: pickled and written to the
  pipe, which the console may already be reading; thread: queued to the UI loop).

The console side writes, per update (``ui``): [layer, at, read wall (process: the pipe became
readable and the console's loop got to it; thread: delivered on the UI loop), emit wall
(decoded, handed to the app), apply wall (the app's message handler), drawn wall (the panes
fed: end of ``_draw_updates``), shown wall, framed]. shown = the end of the first screen
update after the draw (Textual's compositor refresh, ``Screen._on_timer_update``, with
something to paint; its output then goes to the terminal from Textual's writer thread). A
draw that called ``Widget.refresh`` anywhere (or left the screen dirty) waits for that
screen update; one that did not (the update changed no visible widget) is shown when drawn
(framed false).
Also timed: ``decode`` (process: the console's read, unpickle and rebuild of the update,
``ProcessEngineSource._readable``), ``apply`` (the app's ``_apply`` and ``_draw_updates``),
``frame`` [start, s, pane, painted], ``goto``, ``show``, ``recompose``; ``relayout``
[wall, widget class, caller chain]: each ``Widget.refresh(layout=True)``.

Lines: the console writes ``--stats`` (every ``--every`` s: its own RSS, peak RSS, PSS,
fds, sockets, threads, asyncio tasks, CPU seconds, timeline length, and in ``engine`` the
engine child's RSS, peak RSS, threads, fds, sockets, CPU read from /proc/PID; then the
timings since the previous line). In ``process`` mode the child writes its own lines to
``OUT.engine.jsonl`` (:func:`harnessdata.engine_stats`): its RSS/PSS/fds from its /proc, its
loop's asyncio tasks (at the line, and the floor and peak of counts every 0.25 s since the
last line), the engine's own tasks, polls and failures per layer, its CPU, and the
``collect``/``poll`` timings. The child's sampler is a loop timer, not a task (it adds
no asyncio task); the child's line file adds one fd. In ``thread`` mode the engine's
figures are in the console's lines (as before).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import cpu_seconds, fd_counts, status_kb
from harnessdata import engine_stats

from jaraba_tui.profile import load_profile

if TYPE_CHECKING:  # not imported before the fork: the product forks before the model
    from jaraba_tui.engine import EngineUpdate

ENGINE_ENV = "JARABA_BENCH_ENGINE"
ENGINES = ("process", "thread")

T: dict[str, list[Any]] = {
    "collect": [],
    "poll": [],
    "ui": [],
    "decode": [],
    "apply": [],
    "frame": [],
    "recompose": [],
    "show": [],
    "goto": [],
    "relayout": [],
    "trace": [],
}
CURRENT = {"pane": "overview"}
#: The PollEngine instances built in this process (the engine's own figures).
ENGINES_BUILT: list[Any] = []
#: layer -> (collect start wall, collect s) of the poll whose update is being emitted.
_PENDING: dict[str, tuple[float, float]] = {}


def _swap(keys: list[str]) -> dict[str, list[Any]]:
    """The timings since the last call (swapped, not cleared: the engine's thread appends)."""
    out: dict[str, list[Any]] = {}
    for key in keys:
        out[key], T[key] = T[key], []
    return out


def pss_kb(pid: int) -> int | None:
    """Proportional set size (shared pages split between the processes that map them)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _tasks() -> int | None:
    try:
        return len(asyncio.all_tasks())
    except RuntimeError:  # no running loop (after the app's loop ended)
        return None


# -- the engine's side (this process's PollEngine, or the forked child's) -------------------


def instrument_engine(child_log: Path | None = None, every: float = 2.0) -> None:
    """Wrap :class:`PollEngine` (class attributes: every engine built from now on). With
    ``child_log`` (in the forked child) a loop timer writes the engine's lines there."""
    from jaraba_tui.engine.poll import PollEngine

    orig_init = PollEngine.__init__
    orig_emit = PollEngine._emit
    orig_run = PollEngine.run

    def __init__(self: PollEngine, *args: Any, **kwargs: Any) -> None:
        orig_init(self, *args, **kwargs)
        inner = self._collect

        async def timed(layer: str) -> Any:
            w0 = time.time()
            t0 = time.perf_counter()
            try:
                return await inner(layer)
            finally:
                dt = time.perf_counter() - t0
                T["collect"].append([layer, round(w0, 4), dt])
                _PENDING[layer] = (w0, dt)

        self._collect = timed
        ENGINES_BUILT.append(self)

    def _emit(self: PollEngine, update: EngineUpdate) -> None:
        # merge ran right after the collect, with no await between: the pending poll is this
        # update's (a Sentinel push has no poll pending for its layer, unless one is: never
        # between a collect's end and its emit)
        polled = _PENDING.pop(update.layer, None)
        w0 = time.time()
        orig_emit(self, update)
        if polled is not None:
            T["poll"].append(
                [update.layer, update.at, round(polled[0], 4), polled[1], w0, time.time()]
            )

    async def run(self: PollEngine) -> None:
        sampler = _ChildSampler(self, child_log, every) if child_log is not None else None
        try:
            await orig_run(self)
        finally:
            if sampler is not None:
                sampler.stop()

    PollEngine.__init__ = __init__  # type: ignore[method-assign]
    PollEngine._emit = _emit  # type: ignore[method-assign]
    PollEngine.run = run  # type: ignore[method-assign]


class _ChildSampler:
    """The engine child's lines, from a loop timer (no task: the task counts stay the
    engine's own). Between lines the loop's tasks are also counted every ``COUNT_EVERY`` s:
    a line's ``asyncio_tasks_min`` is the floor of its window (the polls in flight make a
    single count swing by +-10; a leaked task lifts the floor)."""

    COUNT_EVERY = 0.25

    def __init__(self, engine: Any, path: Path, every: float) -> None:
        self.engine = engine
        self.every = every
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self.started = time.time()
        self.loop = asyncio.get_running_loop()
        self.counts: list[int] = []
        self.handle = self.loop.call_later(every, self.tick)
        self.counter = self.loop.call_later(self.COUNT_EVERY, self.count)

    def count(self) -> None:
        self.counts.append(len(asyncio.all_tasks(self.loop)))
        self.counter = self.loop.call_later(self.COUNT_EVERY, self.count)

    def tick(self, last: bool = False) -> None:
        eng = self.engine
        pid = os.getpid()
        tasks = len(asyncio.all_tasks(self.loop))
        counts, self.counts = [*self.counts, tasks], []
        line: dict[str, Any] = {
            "proc": "engine",
            "pid": pid,
            "t": round(time.time() - self.started, 3),
            "wall": round(time.time(), 3),
            "cpu_s": round(time.process_time(), 3),
            **status_kb(pid),
            "Pss": pss_kb(pid),
            **fd_counts(pid),
            "asyncio_tasks": tasks,
            "asyncio_tasks_min": min(counts),
            "asyncio_tasks_max": max(counts),
            "engine_tasks": len(eng._tasks),
            "polls": {k: s.polls for k, s in eng.stats.items()},
            "failures": {k: s.failures for k, s in eng.stats.items()},
            "last": last,
            **_swap(["collect", "poll"]),
        }
        with contextlib.suppress(OSError):
            os.write(self.fd, (json.dumps(line) + "\n").encode())
        if not last:
            self.handle = self.loop.call_later(self.every, self.tick)

    def stop(self) -> None:
        self.handle.cancel()
        self.counter.cancel()
        self.tick(last=True)
        with contextlib.suppress(OSError):
            os.close(self.fd)


_FORK_ARMED: dict[str, Any] = {}


def _after_fork_in_child() -> None:
    """``os.register_at_fork`` hook: instrument the engine in the child forked by
    :func:`fork_engine` (armed around that call only). Nothing may reach the terminal."""
    args = _FORK_ARMED.get("args")
    if args is None:
        return
    _FORK_ARMED.clear()
    with contextlib.suppress(Exception):
        for key in T:
            T[key] = []
        instrument_engine(args[0], args[1])


def fork_product_engine(profile: Any, child_log: Path, every: float) -> Any:
    """The product's engine process (``jaraba_tui/cli.py`` ``_fork_engine``), instrumented."""
    from jaraba_tui.engine.process import can_fork, fork_engine

    why = can_fork()
    if why is not None:
        raise SystemExit(f"harness: cannot fork the engine ({why}); use --engine thread")
    os.register_at_fork(after_in_child=_after_fork_in_child)
    _FORK_ARMED["args"] = (child_log, every)
    try:
        return fork_engine(profile)
    finally:
        _FORK_ARMED.clear()


# -- the console's side ----------------------------------------------------------------------

#: ``--trace``: the console's main thread, span by span (:func:`span`).
TRACING = [False]


def span(kind: str, start: float, cpu0: float, detail: object = None) -> None:
    """One ``trace`` record (``--trace``): [start, end (monotonic: the clock of Textual's
    events and of the benchmark's key presses), thread CPU s, kind, detail]."""
    if TRACING[0]:
        T["trace"].append(
            [round(start, 5), round(time.monotonic(), 5), time.thread_time() - cpu0, kind, detail]
        )


def run_delay() -> float:
    """This thread's time waiting for a core so far (s; /proc schedstat), 0 where unknown."""
    try:
        with open("/proc/thread-self/schedstat", "rb") as f:
            return int(f.read().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0


def install_tracing() -> None:
    """``--trace``: what the console's main thread does, with its own CPU: key events (from
    their creation by the input thread: [created, dispatched, ...]), the panes' redraws,
    garbage collections, and (in :func:`install_ui_timers`' wrappers) frames, applies,
    decodes and pane switches. For benchmark 3's keys: where a key's time goes."""
    import gc
    import threading

    from textual import events
    from textual.app import App

    from jaraba_tui.ui.widgets.pane import Pane

    TRACING[0] = True
    main = threading.main_thread()
    gc_start: list[tuple[float, float]] = []

    def on_gc(phase: str, info: dict[str, Any]) -> None:
        if threading.current_thread() is not main:
            return
        if phase == "start":
            gc_start[:] = [(time.monotonic(), time.thread_time())]
        elif gc_start:
            start, cpu0 = gc_start.pop()
            span("gc", start, cpu0, info.get("generation"))

    gc.callbacks.append(on_gc)

    orig_redraw = Pane.redraw

    def traced_redraw(self: Pane, *, force: bool = False) -> None:
        start, cpu0 = time.monotonic(), time.thread_time()
        orig_redraw(self, force=force)
        span("redraw", start, cpu0, [self.id, bool(self.display)])

    Pane.redraw = traced_redraw  # type: ignore[method-assign]

    orig_on_event = App.on_event

    async def traced_on_event(self: App[Any], event: events.Event) -> None:
        if not isinstance(event, events.Key):
            await orig_on_event(self, event)
            return
        start, cpu0 = time.monotonic(), time.thread_time()
        T["trace"].append([round(event.time, 5), round(start, 5), 0.0, "key-made", event.key])
        await orig_on_event(self, event)
        span("key", start, cpu0, event.key)

    App.on_event = traced_on_event  # type: ignore[method-assign]


def install_ui_timers() -> type:
    """Wrap textual's screen update, recompose and the panes' lazy show; return BenchApp.
    Imported here, after the fork (as the product imports textual after forking)."""
    from textual.screen import Screen
    from textual.widget import Widget

    from jaraba_tui.ui.app import JarabaApp
    from jaraba_tui.ui.process_source import ProcessEngineSource
    from jaraba_tui.ui.widgets.pane import Pane

    orig_timer_update = Screen._on_timer_update

    def timed_timer_update(self: Screen[Any]) -> None:
        painted = bool(
            self._dirty_widgets
            or self._layout_required
            or self._repaint_required
            or self._scroll_required
        )
        t0 = time.perf_counter()
        w0 = time.time()
        m0, c0 = time.monotonic(), time.thread_time()
        q0 = run_delay() if TRACING[0] else 0.0
        orig_timer_update(self)
        T["frame"].append([round(w0, 4), time.perf_counter() - t0, CURRENT["pane"], painted])
        if painted and TRACING[0]:  # and how long it waited for a core meanwhile (ms)
            span("frame", m0, c0, [CURRENT["pane"], round((run_delay() - q0) * 1000, 2)])
        app = self.app
        if painted and isinstance(app, BenchApp):
            app.frame_done(time.time())

    Screen._on_timer_update = timed_timer_update  # type: ignore[method-assign]

    orig_recompose = Widget.recompose

    async def timed_recompose(self: Widget) -> None:
        t0 = time.perf_counter()
        w0 = time.time()
        await orig_recompose(self)
        T["recompose"].append([round(w0, 4), time.perf_counter() - t0, type(self).__name__])

    Widget.recompose = timed_recompose  # type: ignore[method-assign]

    orig_refresh = Widget.refresh

    def counted_refresh(self: Widget, *args: Any, **kwargs: Any) -> Any:
        REFRESHES[0] += 1  # a widget asked to be repainted: the next screen update paints it
        if kwargs.get("layout"):  # who asks for a new layout (a screen update that reflows)
            f = sys._getframe(1)
            chain = []
            while f is not None and len(chain) < 3:
                chain.append(f"{Path(f.f_code.co_filename).stem}.{f.f_code.co_name}")
                f = f.f_back
            T["relayout"].append([round(time.time(), 4), type(self).__name__, " < ".join(chain)])
        return orig_refresh(self, *args, **kwargs)

    Widget.refresh = counted_refresh  # type: ignore[method-assign]

    orig_on_show = Pane.on_show

    def timed_on_show(self: Pane) -> None:
        t0 = time.perf_counter()
        w0 = time.time()
        orig_on_show(self)
        T["show"].append([round(w0, 4), time.perf_counter() - t0, self.id])

    Pane.on_show = timed_on_show  # type: ignore[method-assign]

    orig_readable = ProcessEngineSource._readable

    def timed_readable(self: ProcessEngineSource) -> None:
        w0 = time.time()
        t0 = time.perf_counter()
        m0, c0 = time.monotonic(), time.thread_time()
        READ["wall"] = w0
        try:
            orig_readable(self)
        finally:
            READ["wall"] = None
            T["decode"].append([round(w0, 4), time.perf_counter() - t0])
            span("decode", m0, c0)

    ProcessEngineSource._readable = timed_readable  # type: ignore[method-assign]

    class BenchApp(JarabaApp):
        # Textual resolves CSS_PATH next to the subclass's module: point at the product's own
        CSS_PATH = str(Path(sys.modules[JarabaApp.__module__].__file__ or "").parent / "app.tcss")
        sampler: Callable[[], None] | None = None
        every: float = 2.0

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            APP.append(self)
            # per update (layer, at): [read, emit, apply, drawn] walls, until shown
            self._track: dict[tuple[str, float], list[Any]] = {}
            self._applied: list[tuple[str, float]] = []
            self._drawn: list[tuple[tuple[str, float], float]] = []
            self._await_frame: list[tuple[str, float]] = []

        def on_mount(self) -> None:
            # no super().on_mount(): Textual calls every class's handler in the MRO itself (an
            # explicit call mounted the app twice: two engines polling, twice the updates)
            if self.sampler is not None:
                self.set_interval(self.every, self.sampler)

        def _emit(self, update: EngineUpdate) -> None:
            now = time.time()
            read = READ["wall"]
            self._track[(update.layer, update.at)] = [read if read is not None else now, now]
            super()._emit(update)

        def _apply(self, update: EngineUpdate) -> None:
            t0 = time.perf_counter()
            w0 = time.time()
            m0, c0 = time.monotonic(), time.thread_time()
            super()._apply(update)
            span("apply", m0, c0, update.layer)
            dt = time.perf_counter() - t0
            T["apply"].append([round(w0, 4), dt, update.layer, CURRENT["pane"]])
            key = (update.layer, update.at)
            track = self._track.get(key)
            if track is not None:
                track.append(w0)
                self._applied.append(key)

        def _draw_updates(self) -> None:
            # the panes are fed here, after the queued updates are in (``_apply`` only keeps
            # the update and schedules this): without it "render" missed the drawing itself
            t0 = time.perf_counter()
            w0 = time.time()
            m0, c0 = time.monotonic(), time.thread_time()
            refreshes = REFRESHES[0]
            super()._draw_updates()
            span("draw", m0, c0)
            layer = self.latest.layer if self.latest is not None else "-"
            T["apply"].append([round(w0, 4), time.perf_counter() - t0, layer, CURRENT["pane"]])
            drawn = time.time()
            keys, self._applied = self._applied, []
            if keys:
                self._drawn += [(k, drawn) for k in keys]
                # after what the draw itself queued: did anything ask to be repainted?
                self.call_later(self._after_draw, refreshes)

        def _after_draw(self, refreshes: int) -> None:
            drawn, self._drawn = self._drawn, []
            screen = self.screen
            dirty = REFRESHES[0] != refreshes or bool(
                screen._dirty_widgets
                or screen._layout_required
                or screen._repaint_required
                or screen._scroll_required
            )
            for key, at in drawn:
                if dirty:
                    self._track[key].append(at)
                    self._await_frame.append(key)
                else:
                    self._shown(key, at, at, framed=False)

        def frame_done(self, end: float) -> None:
            for key, at in self._drawn:  # the frame came before _after_draw ran
                self._track[key].append(at)
                self._await_frame.append(key)
            self._drawn = []
            keys, self._await_frame = self._await_frame, []
            for key in keys:
                self._shown(key, None, end, framed=True)

        def _shown(
            self, key: tuple[str, float], drawn: float | None, end: float, *, framed: bool
        ) -> None:
            track = self._track.pop(key, None)
            if track is None:
                return
            if drawn is not None:
                track.append(drawn)
            # [layer, at, read, emit, apply, drawn, shown, framed]
            walls = [round(x, 4) for x in track[:4]]
            T["ui"].append([key[0], key[1], *walls, round(end, 4), framed])

        def action_goto(self, pane: str) -> None:
            PROFILER.switch(pane)  # the switch itself is in the new pane's profile
            t0 = time.perf_counter()
            w0 = time.time()
            m0, c0 = time.monotonic(), time.thread_time()
            super().action_goto(pane)
            span("goto", m0, c0, pane)
            CURRENT["pane"] = self.current_pane
            T["goto"].append([round(w0, 4), time.perf_counter() - t0, pane])

    globals()["BenchApp"] = BenchApp
    return BenchApp


class _PaneProfiler:
    """``--cprofile DIR``: cProfile of the console's main thread with its own CPU clock
    (``time.thread_time``: load on the machine does not inflate it), one file per pane shown
    (``DIR/<pane>.prof``, appended to when a pane is shown again; ``DIR/<pane>.json``: the
    CPU seconds and wall seconds it covers)."""

    def __init__(self) -> None:
        self.dir: Path | None = None
        self.prof: Any = None
        self.pane = "overview"
        self.cpu0 = 0.0
        self.wall0 = 0.0
        self.totals: dict[str, list[float]] = {}

    def start(self, directory: Path) -> None:
        # the stdlib's cProfile imports ``profile``: not bench/profile.py, first on sys.path
        here = Path(__file__).resolve().parent
        saved = sys.path[:]
        sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != here]
        try:
            import cProfile
            import pstats  # noqa: F401 - imported here for the same reason
        finally:
            sys.path[:] = saved
        directory.mkdir(parents=True, exist_ok=True)
        self.dir = directory
        self.prof = cProfile.Profile(time.thread_time)
        self.cpu0, self.wall0 = time.thread_time(), time.time()
        self.prof.enable()

    def switch(self, pane: str) -> None:
        if self.prof is None or self.dir is None:
            return
        import cProfile
        import pstats

        self.prof.disable()
        cpu, wall = time.thread_time() - self.cpu0, time.time() - self.wall0
        tot = self.totals.setdefault(self.pane, [0.0, 0.0])
        tot[0] += cpu
        tot[1] += wall
        path = self.dir / f"{self.pane}.prof"
        stats = pstats.Stats(self.prof)
        if path.exists():
            stats.add(str(path))
        stats.dump_stats(str(path))
        (self.dir / f"{self.pane}.json").write_text(
            json.dumps({"thread_cpu_s": round(tot[0], 3), "wall_s": round(tot[1], 3)})
        )
        self.pane = pane
        self.prof = cProfile.Profile(time.thread_time)
        self.cpu0, self.wall0 = time.thread_time(), time.time()
        self.prof.enable()

    def stop(self) -> None:
        if self.prof is not None:
            self.switch(self.pane)
            self.prof.disable()
            self.prof = None


PROFILER = _PaneProfiler()
READ: dict[str, float | None] = {"wall": None}
#: The console's app, once built (by jaraba_tui.ui.run).
APP: list[Any] = []
#: Widget.refresh calls so far (the console's thread only).
REFRESHES = [0]
BenchApp: Any = None  # set by install_ui_timers


def _proc_figures(pid: int) -> dict[str, Any]:
    """The engine child's /proc figures, read from the console's side (not its PSS: reading
    smaps_rollup costs ~2 ms of the console's CPU; the child's own lines have it)."""
    try:
        return {
            **status_kb(pid),
            **fd_counts(pid),
            "cpu_s": round(cpu_seconds(pid, children=False), 3),
        }
    except (OSError, IndexError, ValueError):
        return {"gone": True}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--profile", required=True)
    ap.add_argument("--stats", required=True)
    ap.add_argument("--every", type=float, default=2.0)
    ap.add_argument(
        "--cprofile",
        metavar="DIR",
        help="cProfile the console's main thread (its CPU clock), one file per pane shown",
    )
    ap.add_argument(
        "--trace",
        action="store_true",
        help="record the console's main thread span by span (keys, frames, redraws, gc)",
    )
    ap.add_argument(
        "--engine", choices=ENGINES, default=os.environ.get(ENGINE_ENV, "process") or "process"
    )
    args = ap.parse_args()
    if args.engine not in ENGINES:
        ap.error(f"--engine / ${ENGINE_ENV}: one of {', '.join(ENGINES)}")
    profile = load_profile(args.profile)
    stats = Path(args.stats)
    child_pid: int | None = None
    proc = None
    # as jaraba-ops (jaraba_tui/cli.py cmd_console): the engine forked right after the
    # profile is loaded, before textual; then the product's own jaraba_tui.ui.run, which
    # builds the source, the ops and the app (BenchApp in place of JarabaApp)
    if args.engine == "process":
        proc = fork_product_engine(profile, engine_stats(stats), args.every)
        child_pid = proc.pid
    else:
        instrument_engine()  # ui.run starts the engine's thread (JARABA_ENGINE=thread)

    out = open(stats, "a", buffering=1)  # noqa: SIM115 - closed at exit
    code: Any = None
    try:
        import jaraba_tui.ui.app as app_module
        from jaraba_tui.ui import run

        app_cls = install_ui_timers()
        if args.trace:
            install_tracing()
        app_module.JarabaApp = app_cls  # type: ignore[misc] # what ui.run builds
        started = time.time()

        def sample() -> None:
            pid = os.getpid()
            app = APP[0] if APP else None
            line: dict[str, Any] = {
                "proc": "console",
                "engine_mode": args.engine,
                "t": round(time.time() - started, 3),
                "wall": round(time.time(), 3),
                "cpu_s": round(time.process_time(), 3),
                **status_kb(pid),
                "Pss": pss_kb(pid),
                **fd_counts(pid),
                "asyncio_tasks": _tasks(),
                "timeline": len(app.timeline) if app is not None else None,
                "ops": app is not None and app.ops is not None,  # built as the product's
                "pane": CURRENT["pane"],
            }
            if child_pid is not None:
                line["engine_pid"] = child_pid
                line["engine"] = _proc_figures(child_pid)
            else:  # the engine's own figures, in this process
                eng = ENGINES_BUILT[-1] if ENGINES_BUILT else None
                line["engine_tasks"] = len(eng._tasks) if eng else None
                line["polls"] = {k: s.polls for k, s in eng.stats.items()} if eng else {}
                line["failures"] = {k: s.failures for k, s in eng.stats.items()} if eng else {}
            line.update(_swap(list(T)))
            out.write(json.dumps(line) + "\n")

        app_cls.sampler = staticmethod(sample)
        app_cls.every = args.every
        if args.cprofile:
            PROFILER.start(Path(args.cprofile))
        code = run(profile, engine=proc)
        PROFILER.stop()
        sample()
        out.write(json.dumps({"exit": code, "t": round(time.time() - started, 3)}) + "\n")
    finally:
        if child_pid is not None:
            from jaraba_tui.engine.process import kill_engine

            kill_engine(child_pid)  # a no-op once the console has closed (and reaped) it
        out.close()
    # as the product (jaraba_tui/cli.py _exit_at_once): no interpreter teardown
    os._exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
