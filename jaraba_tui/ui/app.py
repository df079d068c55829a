"""The console: header, pane bar, the panes, footer; fed by an UpdateSource in a worker.

Data flows one way: source -> EngineUpdate -> message (LayerPolled, CollectorFailed,
SentinelEventsReceived) -> panes. Keys, footer, help and palette all come from
:mod:`jaraba_tui.ui.commands`. Actions flow the other way (:mod:`jaraba_tui.ui.acting`): a
key or palette entry -> the confirmation modal -> the actions runner -> the audit log, whose
records come back into the timeline like any other engineer's.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import gc
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import events
from textual.app import App, ComposeResult, ScreenStackError
from textual.binding import Binding, BindingType
from textual.command import Provider
from textual.css.query import NoMatches
from textual.widgets import ContentSwitcher, Input
from textual.worker import Worker, WorkerState

from jaraba_tui import gcpause
from jaraba_tui.engine import LAYERS, EngineUpdate, LayerState
from jaraba_tui.model.findings import Severity, worst
from jaraba_tui.ui import messages as msg
from jaraba_tui.ui.acting import ActionDesk
from jaraba_tui.ui.commands import (
    COMMANDS,
    LAYER_COMMANDS,
    PANES,
    Command,
    ConsoleCommands,
    bindings,
)
from jaraba_tui.ui.format import TITLES, Palette
from jaraba_tui.ui.screens import HelpScreen
from jaraba_tui.ui.settings import load_keymap, load_state, save_state
from jaraba_tui.ui.source import SourceFactory, UpdateSource
from jaraba_tui.ui.themes import DEFAULT_THEME, choose_theme, load_themes
from jaraba_tui.ui.widgets.alerts import AlertsPane
from jaraba_tui.ui.widgets.chrome import (
    ConsoleScreen,
    HeaderState,
    KeyFooter,
    NavBar,
    StatusHeader,
)
from jaraba_tui.ui.widgets.galera import GaleraPane
from jaraba_tui.ui.widgets.haproxy import HAProxyPane
from jaraba_tui.ui.widgets.hosts import HostsPane
from jaraba_tui.ui.widgets.overview import OverviewPane
from jaraba_tui.ui.widgets.pane import FilterInput, Pane, PaneSwitcher, RenderCtx, layer_severity
from jaraba_tui.ui.widgets.proxysql import ProxySQLPane
from jaraba_tui.ui.widgets.redis import RedisPane
from jaraba_tui.ui.widgets.table import KeyedTable
from jaraba_tui.ui.widgets.timeline import TimelineEntry, TimelinePane

if TYPE_CHECKING:
    from jaraba_tui.profile import Profile
    from jaraba_tui.ui.ops import ConsoleOps

TIMELINE_MAX = 2000
#: The panes mounted after the first frame (:meth:`JarabaApp._mount_panes`), in order.
LATER_PANES: tuple[Callable[[], Pane], ...] = (
    GaleraPane,
    ProxySQLPane,
    HAProxyPane,
    RedisPane,
    AlertsPane,
    HostsPane,
    TimelinePane,
)
ENGINE_WORKER = "poll-engine"
#: How long quitting waits for the connections to close (seconds).
QUIT_GRACE = 0.2
#: Quitting while an action executes: the second press within this many seconds interrupts it.
QUIT_CONFIRM = 5.0
#: ... and waits this long for the runner's "interrupted" audit record.
ACTION_GRACE = 3.0
#: Seconds between the first drawings of hidden panes (idle time for keys and polls between).
FIRST_DRAW_GAP = 0.05
#: Seconds after the panes' first drawings before the start-up heap is frozen (after the
#: first polls of every layer, whose connections and clients then stay).
HEAP_FREEZE_DELAY = 3.0
#: Cyclic collection, paused by the CLI while the console starts (:mod:`jaraba_tui.gcpause`),
#: is back on by then even if some pane never gets its first data.
GC_PAUSE_AT_MOST = 5.0
#: Once the heap is frozen, the console runs the full collections itself (none start on
#: their own): one is due after FULL_GC_AFTER collections of the middle generation since the
#: last (it follows the allocation rate: a faster poll collects more often) or after
#: FULL_GC_EVERY seconds. A due one runs right after the next key's screen is drawn, or
#: when no key or click came for GC_QUIET seconds (checked every GC_CHECK s); at twice
#: due, at once.
GC_CHECK = 0.5
FULL_GC_AFTER = 20
FULL_GC_EVERY = 60.0
GC_QUIET = 0.6
#: ... "right after": this long after the key's screen is composed, so that the writer thread
#: has put it on the terminal (a collection holds the interpreter lock it needs).
GC_AFTER_KEY = 0.05
#: A console started with ``ops_later`` builds its guarded actions' side (the whole profile,
#: the actions' runner: ~0.2 s of CPU) this long after the first frame that shows every
#: layer's data, or OPS_AT_THE_LATEST seconds after its mount, or at the first key or click
#: before either (:meth:`JarabaApp.attach_ops`).
OPS_AFTER_DATA = 0.5
OPS_AT_THE_LATEST = 3.0
#: The bindings' actions that need the guarded actions' side built (see _needs_ops).
OPS_ACTIONS = frozenset(
    {c.action.removeprefix("app.") for c in (*COMMANDS, *LAYER_COMMANDS) if c.requires_profile}
    | {"command_palette", "help"}  # the help lists the action keys
)
#: The panes after the overview are mounted right after the first frame with every layer's
#: data, or this long after the console's mount, or at once when a key asks for one of them.
PANES_AT_THE_LATEST = 1.5


@dataclass(frozen=True)
class ConsoleInfo:
    """Who the console is looking at (header, badges)."""

    profile: str
    environment: str
    description: str = ""
    read_only: bool = False

    @property
    def production(self) -> bool:
        return self.environment == "production"

    @classmethod
    def from_profile(cls, profile: Profile, *, read_only: bool = False) -> ConsoleInfo:
        return cls(
            profile.name,
            profile.environment,
            profile.description,
            read_only=read_only or profile.read_only,
        )


class JarabaApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "jaraba-ops"
    AUTO_FOCUS = None  # the overview has nothing to type into; keys go to the bindings
    BINDINGS: ClassVar[list[BindingType]] = list(bindings())
    COMMANDS: ClassVar[set[type[Provider] | Callable[[], type[Provider]]]] = {ConsoleCommands}
    # Screen classes: -narrow / -wide by width, -short / -tall / -xtall by height.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (150, "-wide")]  # noqa: RUF012
    VERTICAL_BREAKPOINTS = [(0, "-short"), (34, "-tall"), (50, "-xtall")]  # noqa: RUF012

    def __init__(
        self,
        info: ConsoleInfo,
        source: SourceFactory,
        *,
        theme: str | None = None,
        clock: Callable[[], float] = time.time,
        state_path: Path | None = None,
        keymap_path: Path | None = None,
        theme_dirs: Sequence[Path] | None = None,
        tick: float = 1.0,
        ops: ConsoleOps | None = None,
        audit_interval: float = 2.0,
        profile_keymap: dict[str, str] | None = None,
        ops_later: Callable[[], ConsoleOps] | None = None,
        ops_prepare: Callable[[], object] | None = None,
    ) -> None:
        """``ops_later``: builds ``ops`` when the console first needs them (see
        :meth:`attach_ops`); the console has no guarded action, checklist or audit feed
        until then. ``ops_prepare``: the costly part of ``ops_later`` (validating the whole
        profile), safe to run on another thread first: it runs on one after the first full
        frame, then ``ops_later`` on the loop (see :meth:`_prepare_ops`)."""
        super().__init__()
        self.info = info
        self.read_only = info.read_only or bool(ops and ops.read_only)
        self.ops = ops
        self._ops_later = ops_later if ops is None else None
        self._ops_scheduled = False
        self._ops_prepare = ops_prepare if self._ops_later is not None else None
        self._ops_preparing = False
        self._audit_interval = audit_interval
        self._feed_started = False  # on_mount started the desk's audit feed
        self._source_factory = source
        self.source: UpdateSource | None = None
        self.clock = clock
        self.state_path = state_path
        self.keymap_path = keymap_path
        self._tick = tick
        self.latest: EngineUpdate | None = None
        self.timeline: deque[TimelineEntry] = deque(maxlen=TIMELINE_MAX)
        self.paused = False
        self.stopped: str | None = None
        self.notices: list[str] = []
        self.palette = Palette()
        self.current_pane = PANES[0]
        self.desk = ActionDesk(self, audit_interval)
        self._draw_pending = False
        self._first_draw_pending = False
        self._timeline_changed = False
        self._timeline_copy: list[TimelineEntry] | None = None
        self._nav_key_cache: dict[str, str] | None = None
        self._pane_list: list[Pane] | None = None
        self._severities: tuple[object, dict[str, Severity]] = (None, {})
        self._quit_asked = float("-inf")
        self._later_mounted = False  # the panes after the overview (_mount_panes)
        self._mounting_later = False  # ... asked for
        self._goto_asked: str | None = None  # a pane asked for before they were
        self._heap_frozen = False  # the freeze is done or scheduled
        self._froze_heap = False  # this app froze the heap (and unfreezes it)
        self._gc_threshold: tuple[int, int, int] | None = None  # CPython's, while ours runs
        self._last_full_gc = time.monotonic()
        self._last_input = float("-inf")
        self._gc_after_key = False

        from jaraba_tui.ui.themes import theme_dirs as default_dirs

        found = load_themes(theme_dirs if theme_dirs is not None else default_dirs())
        self.notices += found.problems
        for t in found.themes.values():
            self.register_theme(t)
        self.console_themes = dict(found.themes)
        remembered = load_state(state_path).get("theme")
        chosen, notice = choose_theme(
            self.available_themes, theme, remembered if isinstance(remembered, str) else None
        )
        if theme is None and remembered is None and DEFAULT_THEME not in found.themes:
            notice = f"theme {DEFAULT_THEME} could not be loaded; using {chosen}"
        if notice:
            self.notices.append(notice)
        self.theme = chosen
        ids = [c.id for c in COMMANDS if c.key is not None]
        self.user_keymap, problems = load_keymap(keymap_path, ids)
        self.notices += problems
        for binding_id, keys in (profile_keymap or {}).items():  # the profile wins
            if binding_id in ids and keys.strip():
                self.user_keymap[binding_id] = keys.strip()
            else:
                self.notices.append(
                    f"profile keymap: unknown binding id {binding_id!r} or empty keys (see ?)"
                )

    # -- layout ------------------------------------------------------------------------------
    def get_default_screen(self) -> ConsoleScreen:
        return ConsoleScreen(id="_default")

    def compose(self) -> ComposeResult:
        yield StatusHeader()
        yield NavBar(PANES, self._nav_keys())
        with PaneSwitcher(initial="overview", id="panes"):
            yield OverviewPane()  # the others right after the first frame: _mount_panes
        yield KeyFooter()

    def on_mount(self) -> None:
        if self.user_keymap:
            self.set_keymap(self.user_keymap)
        self._nav_key_cache = None
        if self.info.production:
            self.screen.add_class("-production")
        self.palette = Palette.from_variables(self.theme_variables)
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        for notice in self.notices:
            self.notify(notice, title="jaraba-ops", severity="warning", timeout=10)
        self._redraw_all()
        self.set_interval(self._tick, self._on_tick)
        self._start_source()
        self._feed_started = True
        self.desk.start_feed()
        self.set_timer(PANES_AT_THE_LATEST, self._mount_panes_soon)
        self.set_timer(GC_PAUSE_AT_MOST, gcpause.resume)  # else _freeze_heap resumes it
        if self._ops_later is not None:
            self.set_timer(OPS_AT_THE_LATEST, self._prepare_ops)

    def _prepare_ops(self) -> None:
        """Validate the profile for the guarded actions on a thread (~0.2 s of CPU that had
        held the loop: a key pressed then waited for it), then attach them on the loop. The
        thread shares the interpreter lock, in slices: keys keep being handled meanwhile.
        A key that needs the actions before it is done waits for the thread's result."""
        if self._ops_later is None or self._ops_preparing:
            return  # attached already, or the thread will
        prepare = self._ops_prepare
        if prepare is None:
            self.attach_ops()
            return
        self._ops_preparing = True
        loop = asyncio.get_running_loop()
        # attach_ops runs in the app's context (its active app, as a handler would): the
        # timers it starts (the audit feed) need it; a callback from the thread has none
        ctx = contextvars.copy_context()

        def run() -> None:
            with contextlib.suppress(Exception):  # attach_ops reports it, on the loop
                prepare()
            with contextlib.suppress(RuntimeError):  # the loop has closed: quitting
                loop.call_soon_threadsafe(self.attach_ops, context=ctx)

        threading.Thread(target=run, name="jaraba-ops-prepare", daemon=True).start()

    def attach_ops(self) -> None:
        """Build the guarded actions' side now if it was left for later (``ops_later``):
        after the first frame with every layer's data, or at the first key or click, so
        that the key finds the actions, checklist and palette entries it asks for."""
        later, self._ops_later = self._ops_later, None
        if later is None or self._exit:
            return
        try:
            ops = later()
        except Exception as exc:  # e.g. the profile's environment changed since the start
            from jaraba_tui.secrets import scrub

            self.notify(
                scrub(f"guarded actions unavailable: {exc}"),
                title="jaraba-ops",
                severity="error",
                timeout=15,
            )
            return
        self.ops = ops
        self.read_only = self.info.read_only or ops.read_only
        self.desk = ActionDesk(self, self._audit_interval)
        if self._feed_started:  # else on_mount starts it
            self.desk.start_feed()
            self.desk.targets_changed()
            self.refresh_bindings()

    def _mount_panes_soon(self) -> None:
        if not self._mounting_later:
            self._mounting_later = True
            self.call_later(self._mount_panes)

    async def _mount_panes(self) -> None:
        """The panes the first screen does not show, mounted after the first frame with
        every layer's data (issue 6, start-up: composing and styling their ~60 widgets had
        delayed the first frame by ~0.1 s of CPU, and then the first data's); at once when
        a key asks for one of them, which is applied once they are there."""
        if self._closing_down():
            return
        panes = [make() for make in LATER_PANES]
        for pane in panes:
            pane.display = False  # what the ContentSwitcher does for its hidden children
        await self.query_one(ContentSwitcher).mount(*panes)
        self._pane_list = None
        self._later_mounted = True
        if self._closing_down():
            return
        ctx = self.render_ctx()
        shown = self._timeline_list()
        for pane in panes:  # as _redraw_all: the newest update, drawn when shown
            if isinstance(pane, TimelinePane):
                pane.entries = shown
                pane.feed(None, ctx)
            else:
                pane.feed(self.latest, ctx)
        self._schedule_first_draws()
        asked, self._goto_asked = self._goto_asked, None
        if asked is not None:
            self.action_goto(asked)

    def _start_source(self) -> None:
        self.stopped = None
        self.source = self._source_factory(self._emit)
        self.run_worker(self.source.run(), name=ENGINE_WORKER, group="engine", exit_on_error=False)

    # -- the engine's updates ----------------------------------------------------------------
    def _emit(self, update: EngineUpdate) -> None:
        self.post_message(msg.message_for(update))

    def on_layer_polled(self, message: msg.LayerPolled) -> None:
        self._apply(message.update)

    def on_collector_failed(self, message: msg.CollectorFailed) -> None:
        self._apply(message.update)

    def on_sentinel_events_received(self, message: msg.SentinelEventsReceived) -> None:
        self._apply(message.update)

    def _closing_down(self) -> bool:
        """The app is exiting or its widgets are gone: a poll result still queued (e.g. when
        a pilot test fails inside ``run_test``) must not draw (``query_one`` would raise)."""
        if self._exit or self._closing or self._closed:
            return True
        try:
            self.query_one(StatusHeader)
        except NoMatches:
            return True
        return False

    def _apply(self, update: EngineUpdate) -> None:
        """Keep the update and its events; draw once the queued updates are all in (when
        polls arrive faster than the screen is drawn, only the newest is drawn: every update
        carries the whole stack, and no event is dropped)."""
        self.latest = update
        source = "sentinel" if update.layer == "sentinel" else "event"
        entries = [TimelineEntry.from_event(e, source) for e in update.events]
        if entries:
            self.timeline.extend(entries)
            self._timeline_changed = True
        if not self._draw_pending:
            self._draw_pending = True
            self.call_later(self._draw_updates)

    def _draw_updates(self) -> None:
        self._draw_pending = False
        if self._closing_down():
            return
        ctx = self.render_ctx()
        self._draw_chrome(ctx)
        changed, self._timeline_changed = self._timeline_changed, False
        for pane in self._panes():
            if isinstance(pane, TimelinePane):
                if changed:
                    pane.entries = self._timeline_list()
                    pane.feed(None, ctx)
            elif isinstance(pane, OverviewPane):
                if changed:
                    pane.entries = self._timeline_list()
                pane.feed(self.latest, ctx)  # each card redraws only when its layer changed
            else:
                pane.feed(self.latest, ctx)  # a pane redraws only when its layer changed
        if self.desk.targets_changed():
            self.refresh_bindings()  # the footer's action keys follow what applies now
        self._schedule_first_draws()
        ops_wait = self._ops_later is not None and not self._ops_scheduled
        if (ops_wait or not self._mounting_later) and self._every_layer_shown():
            if ops_wait:
                self._ops_scheduled = True
                self.set_timer(OPS_AFTER_DATA, self._prepare_ops)
            if not self._mounting_later:
                self.call_after_refresh(self._mount_panes_soon)

    def _every_layer_shown(self) -> bool:
        """The first frame with every layer's data is (being) drawn."""
        return self.latest is not None and all(layer in self.latest.states for layer in LAYERS)

    def _schedule_first_draws(self) -> None:
        if not self._first_draw_pending and any(p.needs_first_draw for p in self._panes()):
            self._first_draw_pending = True
            self.set_timer(FIRST_DRAW_GAP, self._first_draw_one)

    def _first_draw_one(self) -> None:
        """Draw one hidden pane that never drew its data, then the next one a moment later:
        a pane's first drawing (its tables' rows: 1000 HAProxy servers, 300 alerts) happens
        in idle time after the first data, not on the key that first shows it. Later polls
        reach a hidden pane lazily, as before (:meth:`Pane.before_show`)."""
        self._first_draw_pending = False
        if self._closing_down():
            return
        pane = next((p for p in self._panes() if p.needs_first_draw), None)
        if pane is not None:
            pane.redraw()
            self._schedule_first_draws()
        if not self._first_draw_pending and not self._heap_frozen and self._later_mounted:
            self._heap_frozen = True
            self.set_timer(HEAP_FREEZE_DELAY, self._freeze_heap)

    def _freeze_heap(self) -> None:
        """Every pane has drawn its first data: leave what start-up built (modules, widgets,
        styles: ~125k objects) out of later collections. A full collection walked them all:
        100 ms of CPU (0.2-0.35 s at load 4) in the middle of whatever key came then; now
        ~25-60 ms. No collection first (one took 0.3 s here; what start-up left as cyclic
        garbage stays, once). Undone when the app unmounts; left alone when something else
        in the process froze first."""
        gcpause.resume()  # paused by the CLI while the console started
        if gc.get_freeze_count() or self._closing_down():
            return
        gc.freeze()
        self._froze_heap = True
        # Full collections then walk what was made since (~70k objects with 1000 HAProxy
        # rows and 300 alerts: 30-80 ms of CPU, 150-500 ms at load 6), and CPython starts
        # them where objects are made, i.e. mostly in the middle of a key's pane switch
        # (large setup: 6-8 a minute, in 2-3 of 40 key presses). They run here instead, in
        # a quiet moment (:meth:`_collect_when_quiet`).
        threshold = gc.get_threshold()
        self._gc_threshold = (threshold[0], threshold[1], threshold[2])
        gc.set_threshold(threshold[0], threshold[1], 1_000_000)
        self._last_full_gc = time.monotonic()
        self.set_interval(GC_CHECK, self._collect_when_quiet)

    def _gc_due(self) -> float:
        """How due the next full collection is: 1.0 due, 2.0 overdue."""
        since = (time.monotonic() - self._last_full_gc) / FULL_GC_EVERY
        return max(gc.get_count()[2] / FULL_GC_AFTER, since)

    def _collect_when_quiet(self) -> None:
        due = self._gc_due()
        if due >= 2.0 or (due >= 1.0 and time.monotonic() - self._last_input >= GC_QUIET):
            self._collect()

    def _collect_soon(self) -> None:
        self.set_timer(GC_AFTER_KEY, self._collect_after_key)

    def _collect_after_key(self) -> None:
        if self._gc_after_key:  # not done by the timer meanwhile
            self._collect()

    def _collect(self) -> None:
        self._gc_after_key = False
        gc.collect()
        self._last_full_gc = time.monotonic()

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key | events.MouseDown):
            self._last_input = time.monotonic()
            if self._ops_later is not None and self._needs_ops(event):
                self.attach_ops()  # before the key is handled: it needs them
            if self._gc_threshold is not None and not self._gc_after_key and self._gc_due() >= 1:
                # after this key's screen is drawn: the user is reading it
                self._gc_after_key = True
                self.call_after_refresh(self._collect_soon)
        await super().on_event(event)

    def _needs_ops(self, event: events.Event) -> bool:
        """``event`` is a click, or a key bound to what needs the guarded actions' side (an
        action, the checklist, the palette and the help that list them); other keys (panes,
        cursor, filter, quit) are handled at once while it is still being prepared."""
        if not isinstance(event, events.Key):
            return True
        active = self.screen.active_bindings.get(event.key)
        # no binding: maybe an action's key (they are bound once the actions' side is there)
        return active is None or active.binding.action.removeprefix("app.") in OPS_ACTIONS

    def _panes(self) -> list[Pane]:
        """The panes (composed once: a DOM query at each poll and tick walked every widget)."""
        if self._pane_list is None:
            found = list(self.query(Pane))
            if not found:
                return found  # not composed yet (or gone)
            self._pane_list = found
        return self._pane_list

    def _timeline_list(self) -> list[TimelineEntry]:
        """One list per change of the timeline, shared by the panes that show it."""
        copy, now = self._timeline_copy, self.timeline
        same = (
            copy is not None
            and len(copy) == len(now)
            and (not now or (copy[-1] is now[-1] and copy[0] is now[0]))
        )
        if copy is None or not same:
            copy = self._timeline_copy = list(now)
        return copy

    def add_timeline_entries(self, entries: Iterable[TimelineEntry]) -> None:
        """The extension point for other sources of the timeline (the audit log's
        actions): entries appear in the timeline and the overview, ordered by time."""
        self.timeline.extend(entries)
        ctx = self.render_ctx()
        shown = self._timeline_list()
        for pane in self._panes():
            if isinstance(pane, TimelinePane | OverviewPane):
                pane.set_entries(shown, ctx)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one handler that turns a failed worker into pane state."""
        if event.state is not WorkerState.ERROR:
            return
        error = event.worker.error
        reason = f"{type(error).__name__}: {error}" if error else "unknown error"
        if event.worker.name == ENGINE_WORKER:
            self.post_message(msg.PollingStopped(reason))
        else:
            self.notify(f"{event.worker.name} failed: {reason}", severity="error")

    def on_polling_stopped(self, message: msg.PollingStopped) -> None:
        self.stopped = message.error
        self.notify(
            f"polling stopped: {message.error} — press r to restart",
            severity="error",
            timeout=15,
        )
        self._console_entry(Severity.CRIT, f"polling stopped: {message.error}")
        self._redraw_all()

    # -- drawing -----------------------------------------------------------------------------
    def render_ctx(self) -> RenderCtx:
        return RenderCtx(self.palette, self.clock(), self.read_only, self.stopped)

    def _layer_severities(self) -> dict[str, Severity]:
        """Each layer's severity for the bar (once per update: the chrome is drawn at every
        tick and key, and 300 alerts' findings took milliseconds to sort by layer)."""
        if self.latest is None:
            return {}
        u = self.latest
        if self._severities[0] is u:
            return self._severities[1]
        out = {
            layer: layer_severity(u.findings, layer, u.states.get(layer, LayerState()))
            for layer in LAYERS
            if layer in u.states
        }
        out["overview"] = max(out.values(), key=lambda s: s.rank, default=Severity.OK)
        self._severities = (u, out)
        return out

    def _draw_chrome(self, ctx: RenderCtx) -> None:
        try:
            header, nav = self.query_one(StatusHeader), self.query_one(NavBar)
        except NoMatches:
            return  # the console is closing: its screen, and the chrome, are gone
        sev = self._layer_severities()
        u = self.latest
        standin = bool(u and u.snapshot.proxysql and u.snapshot.proxysql.is_standin)
        header.show(
            HeaderState(
                profile=self.info.profile,
                environment=self.info.environment,
                description=self.info.description,
                production=self.info.production,
                read_only=self.read_only,
                paused=self.paused,
                standin=standin,
                overall=worst(u.findings) if u and u.findings else None,
                now=ctx.now,
                stopped=self.stopped is not None,
                lock=self.desk.lock_badge,
            ),
            self.palette,
        )
        nav.show(self.current_pane, sev, self.palette, self._nav_keys())

    def _redraw_all(self) -> None:
        ctx = self.render_ctx()
        self._draw_chrome(ctx)
        shown = self._timeline_list()
        for pane in self._panes():
            if isinstance(pane, TimelinePane | OverviewPane):
                pane.entries = shown
                pane.feed(self.latest if isinstance(pane, OverviewPane) else None, ctx)
            else:
                pane.feed(self.latest, ctx)

    def _on_tick(self) -> None:
        if not self.screen_stack:
            return  # a tick while the console closes (its timers stop after its screens)
        ctx = self.render_ctx()
        self._draw_chrome(ctx)
        for pane in self._panes():
            pane.retime(ctx)

    def _theme_changed(self, _theme: object) -> None:
        self.palette = Palette.from_variables(self.theme_variables)
        save_state(self.state_path, theme=self.theme)
        self._redraw_all()

    def _console_entry(self, sev: Severity, text: str) -> None:
        self.add_timeline_entries(
            [TimelineEntry(self.clock(), sev, "console", f"console: {text}", "console")]
        )

    # -- keys --------------------------------------------------------------------------------
    def key_for(self, cmd: Command) -> str:
        """The key(s) a command has now (after the user's key map), for display."""
        keys = self.user_keymap.get(cmd.id, cmd.key)
        if not keys:
            return ""
        shown = [self.get_key_display(Binding(k.strip(), cmd.action)) for k in keys.split(",") if k]
        return ", ".join(shown)

    def _nav_keys(self) -> dict[str, str]:
        if self._nav_key_cache is None:  # the key map is set once, at mount
            out = {}
            for pane in PANES:
                cmd = next(c for c in COMMANDS if c.id == f"goto-{pane}")
                out[pane] = self.key_for(cmd).split(", ")[0]
            self._nav_key_cache = out
        return self._nav_key_cache

    def current(self) -> Pane:
        return self.query_one(f"#{self.current_pane}", Pane)

    def action_goto(self, pane: str) -> None:
        if pane not in PANES:
            return
        if not self._later_mounted and pane != PANES[0]:
            self._goto_asked = pane  # applied by _mount_panes, in a moment
            self._mount_panes_soon()
            return
        self.current_pane = pane
        self.current().before_show(self.render_ctx())  # drawn before shown: one frame
        self.query_one(ContentSwitcher).current = pane
        self.current().focus_main()
        self._draw_chrome(self.render_ctx())

    def action_cycle(self, step: int) -> None:
        i = PANES.index(self.current_pane)
        self.action_goto(PANES[(i + step) % len(PANES)])

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def action_filter(self) -> None:
        pane = self.current()
        if pane.tables():
            pane.open_filter()
        else:
            self.notify("nothing to filter here", timeout=3)

    def action_clear_filter(self) -> None:
        pane = self.current()
        bar = pane.query(FilterInput)
        if bar and (bar.first().display or bar.first().value):
            pane.close_filter()

    def action_refresh_now(self, layer: str | None = None) -> None:
        if self.stopped is not None:
            self._start_source()
            self.notify("polling restarted", timeout=3)
            self._redraw_all()
            return
        if self.source is not None:
            self.post_message(msg.RefreshRequested(layer))
            self.source.refresh_now(layer)
        what = TITLES.get(layer or "", "every layer")
        self.notify(f"refreshing {what}…", timeout=2)

    def action_toggle_pause(self) -> None:
        if self.source is None:
            return
        self.paused = not self.paused
        if self.paused:
            self.source.pause()
            self.post_message(msg.PollingPaused())
            self._console_entry(Severity.OK, "polling paused (p resumes)")
        else:
            self.source.resume()
            self.post_message(msg.PollingResumed())
            self._console_entry(Severity.OK, "polling resumed")
        self._draw_chrome(self.render_ctx())

    def action_report(self) -> None:
        """Write the incident report (jaraba_tui/ui/report_key.py)."""
        from jaraba_tui.ui.report_key import write_console_report

        write_console_report(self)

    def action_pick_theme(self) -> None:
        self.search_themes()

    def set_console_theme(self, name: str) -> None:
        self.theme = name

    # -- guarded actions, the checklist, the audit feed (jaraba_tui/ui/acting.py) -------------
    @property
    def can_act(self) -> bool:
        return self.desk.can_act

    def action_targets(self, action: str) -> tuple[str, ...]:
        return self.desk.targets(action)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "filter":
            # `/` is a priority key: handled when it arrives, so the keys queued behind it
            # (typed while the screen was busy) reach the filter bar, not the table and then
            # the console's own keys (`/equeue` quit the console). In a text field or over
            # a dialog it stays theirs.
            return not isinstance(self.focused, Input) and len(self.screen_stack) == 1
        return self.desk.check(action, parameters)

    def action_guarded(self, action: str) -> None:
        self.desk.key_pressed(action)

    def start_action(
        self, action: str, target: str, params: dict[str, object] | None = None
    ) -> None:
        self.desk.start(action, target, params)

    def action_checklist(self) -> None:
        self.desk.open_checklist()

    def poll_audit(self) -> None:
        self.desk.poll_audit()

    def redraw_chrome(self) -> None:
        self._draw_chrome(self.render_ctx())

    def on_key(self, event: events.Key) -> None:
        """Read-only: an action's key says it is refused (nothing is bound to run)."""
        refused = self.desk.refused_key(event.key)
        if refused is not None:
            event.stop()
            self.desk.say_refused(refused)

    def refresh_bindings(self) -> None:
        """As Textual's, and nothing once the last screen is gone: a table's RowHighlighted or
        an audit poll handled while the console closes must not fail its exit."""
        with contextlib.suppress(ScreenStackError):
            super().refresh_bindings()

    def on_keyed_table_row_highlighted(self, event: KeyedTable.RowHighlighted) -> None:
        if self.can_act:
            self.refresh_bindings()  # the action keys follow the highlighted row

    def pause_layer(self, layer: str) -> None:
        """Hold one layer's polls (a confirmation modal shows its state)."""
        if self.source is not None:
            self.source.pause_layer(layer)

    def resume_layer(self, layer: str) -> None:
        if self.source is not None:
            self.source.resume_layer(layer)

    async def action_quit(self) -> None:
        """Quit at once: nothing waits for the transports here (a read may hang in a
        thread); :meth:`on_unmount` closes them within ``QUIT_GRACE``.

        While an action executes (ctrl+c reaches here through its modal), the first press
        only warns; a second one within ``QUIT_CONFIRM`` seconds interrupts it and waits (at
        most ``ACTION_GRACE``) for the runner to write its "interrupted" audit record."""
        running = self._running_action()
        if running is not None:
            now = time.monotonic()
            if now - self._quit_asked > QUIT_CONFIRM:
                self._quit_asked = now
                self.notify(
                    "An action is running. Press ctrl+c again to interrupt it (the audit log "
                    "records it as interrupted) and quit.",
                    severity="warning",
                    timeout=QUIT_CONFIRM,
                )
                return
            running.cancel()
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(running.wait(), ACTION_GRACE)
        self.exit(0)

    def _running_action(self) -> Worker[None] | None:
        if "jaraba_tui.ui.action_screen" not in sys.modules:
            return None  # never imported: no action has opened, none can be running
        from jaraba_tui.ui.action_screen import ActionScreen

        for screen in self.screen_stack:
            if isinstance(screen, ActionScreen) and screen.phase == "running":
                for worker in screen.workers:
                    if worker.name == "action-execute" and not worker.is_finished:
                        return worker
        return None

    async def close_source(self) -> None:
        source, self.source = self.source, None
        if source is not None:
            await source.aclose()

    async def on_unmount(self) -> None:
        """Stop polling and close the connections, bounded: what is still closing after
        ``QUIT_GRACE`` is left to the process's exit (the blocking reads run in daemon
        threads). The audit log is written by the action runner as each record happens,
        so nothing of it waits here."""

        async def close_all() -> None:
            await self.close_source()
            if self.ops is not None:
                await self.ops.aclose()

        with contextlib.suppress(Exception):
            await asyncio.wait_for(close_all(), QUIT_GRACE)
        if self._froze_heap:
            if self._gc_threshold is not None:
                gc.set_threshold(*self._gc_threshold)
            gc.unfreeze()


#: Every command the registry knows, for tests and docs.
ALL_COMMANDS: tuple[Command, ...] = (*COMMANDS, *LAYER_COMMANDS)
