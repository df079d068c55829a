"""``jaraba-ops replay FILE`` and ``demo``: the same console (:class:`JarabaApp`) on a
recording, read-only, with replay controls and a status line.

Keys: ``space`` (or ``p``) pause/play, ``n`` step one update, ``,``/``.`` back/forward 10 s,
``<``/``>`` back/forward 1 min, ``g`` seek to a time (``HH:MM:SS``, ``+30s``, ``-2m``,
``T+5m``, ``50%``), ``-``/``+`` speed. No action can run: the console has no profile to act
on (``ops`` is None), so no action key, palette entry or checklist is offered, and the
desk refuses any that would be started.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from jaraba_tui.engine import EngineUpdate
from jaraba_tui.model.findings import Severity
from jaraba_tui.record.player import ReplayPlayer
from jaraba_tui.record.reader import Recording
from jaraba_tui.ui.app import ConsoleInfo, JarabaApp
from jaraba_tui.ui.audit_feed import action_panes, entry_for, who_of
from jaraba_tui.ui.commands import short_name
from jaraba_tui.ui.format import clock_time
from jaraba_tui.ui.replay_source import ReplaySource
from jaraba_tui.ui.source import Emit, UpdateSource
from jaraba_tui.ui.widgets.timeline import TimelineEntry

KEYS_HELP = "space pause · n step · ,/. ±10s · </> ±1m · g seek · -/+ speed"


def span(seconds: float) -> str:
    """``4:05`` / ``1:02:03``."""
    s = max(0, math.floor(seconds))
    h, rest = divmod(s, 3600)
    m, sec = divmod(rest, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


def speed_text(speed: float) -> str:
    return f"x{speed:g}"


class ReplayBar(Static):
    """The replay's status line: state, replay time, position, speed, and the keys. In
    the layout's flow under the panes (the footer is docked below it)."""

    DEFAULT_CSS = """
    ReplayBar {
        height: 1;
        background: $boost;
        color: $text;
        padding: 0 1;
    }
    """


class SeekScreen(ModalScreen[str | None]):
    """Asks where to seek to."""

    DEFAULT_CSS = """
    SeekScreen { align: center middle; }
    SeekScreen > Vertical {
        width: 64; height: auto; border: round $accent; padding: 0 1; background: $surface;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, now: str, window: str) -> None:
        super().__init__()
        self._now = now
        self._window = window

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"Seek to (now {self._now}; recording {self._window})")
            yield Label("HH:MM[:SS] · +30s, -2m (from now) · T+5m (from start) · 50%")
            yield Input(placeholder="e.g. 01:57:30 or 50%", id="seek-input")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ReplayApp(JarabaApp):
    """The console on a recording. ``demo`` labels it as the shipped demo."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *JarabaApp.BINDINGS,
        Binding("space", "replay_pause", "pause / play", id="replay-pause", show=False),
        Binding("n", "replay_step", "step one update (pauses)", id="replay-step", show=False),
        Binding("comma", "replay_seek(-10)", "back 10 s", id="replay-back", show=False),
        Binding("full_stop", "replay_seek(10)", "forward 10 s", id="replay-forward", show=False),
        Binding(
            "less_than_sign", "replay_seek(-60)", "back 1 min", id="replay-back-1m", show=False
        ),
        Binding(
            "greater_than_sign",
            "replay_seek(60)",
            "forward 1 min",
            id="replay-forward-1m",
            show=False,
        ),
        Binding("g", "replay_goto", "seek to a time (asks)", id="replay-goto", show=False),
        Binding("minus", "replay_slower", "slower", id="replay-slower", show=False),
        Binding("plus,equals_sign", "replay_faster", "faster", id="replay-faster", show=False),
    ]

    def __init__(
        self,
        recording: Recording,
        *,
        speed: float = 1.0,
        paused: bool = False,
        demo: bool = False,
        theme: str | None = None,
        state_path: Path | None = None,
        keymap_path: Path | None = None,
        theme_dirs: Sequence[Path] | None = None,
        tick: float = 1.0,
        source_tick: float = 0.1,
        start_at: float | None = None,
    ) -> None:
        player = ReplayPlayer(recording, speed=speed, paused=paused)
        description = recording.description
        info = ConsoleInfo(recording.profile, recording.environment, description, read_only=True)
        super().__init__(
            info,
            self._make_source,
            theme=theme,
            clock=player.clock,
            state_path=state_path,
            keymap_path=keymap_path,
            theme_dirs=theme_dirs,
            tick=tick,
            ops=None,
        )
        self.recording = recording
        self.player = player
        self.demo = demo
        self.replay_source: ReplaySource | None = None
        self._source_tick = source_tick
        self._start_at = start_at
        self._bar_text = ""
        self._pane_of = action_panes()
        self._open_runs: dict[str, dict[str, Any]] = {}
        if recording.damage:
            self.notices.append(f"{recording.path.name}: {recording.damage}; replayed up to there")

    # -- the source ---------------------------------------------------------------------------
    def _make_source(self, emit: Emit) -> UpdateSource:
        # Updates are applied at once, not posted: a seek then never races with updates
        # still queued from before it.
        src = ReplaySource(
            self.player,
            self._apply_replayed,
            on_audit=self._replayed_audit,
            on_tick=self._update_bar,
            tick=self._source_tick,
        )
        self.replay_source = src
        return src

    def compose(self) -> ComposeResult:
        yield from super().compose()
        yield ReplayBar(id="replay-bar")

    def on_mount(self) -> None:
        if self._start_at is not None:
            self.call_after_refresh(self._seek_to, self._start_at)
        self._update_bar()

    def _apply_replayed(self, update: EngineUpdate) -> None:
        self._apply(update)

    def _replayed_audit(self, records: list[dict[str, Any]]) -> None:
        entries = []
        for record in records:
            entry = entry_for(record, self._pane_of)
            if entry is not None:
                entries.append(entry)
            self._track_lock(record)
        if entries:
            self.add_timeline_entries(entries)
        self._lock_changed()

    def _track_lock(self, record: dict[str, Any]) -> None:
        run = str(record.get("run_id", ""))
        if record.get("event") == "started":
            self._open_runs[run] = record
        elif record.get("event") == "finished":
            self._open_runs.pop(run, None)

    def _lock_changed(self) -> None:
        badge = None
        if self._open_runs:
            rec = list(self._open_runs.values())[-1]
            since = clock_time(float(rec.get("ts", 0.0)))[:5]
            badge = (
                f"{who_of(rec)}: {short_name(str(rec.get('action', '?')))} "
                f"{rec.get('target', '?')}, since {since}"
            )
        if badge != self.desk.lock_badge:
            self.desk.lock_badge = badge
            self.redraw_chrome()

    # -- the status line ----------------------------------------------------------------------
    def bar_text(self) -> str:
        p = self.player
        state = "❚❚ PAUSED" if p.paused else "▶ PLAYING"
        if p.ended and not p.paused:
            state = "■ END"
        label = "DEMO" if self.demo else "REPLAY"
        updates = sum(1 for f in p.frames[: p.position] if f.update is not None)
        total = sum(1 for f in p.frames if f.update is not None)
        return (
            f"{label} {state} {speed_text(p.speed)}  {clock_time(p.now)}  "
            f"{span(p.elapsed)}/{span(p.duration)}  update {updates}/{total}  │ {KEYS_HELP}"
        )

    def _update_bar(self) -> None:
        text = self.bar_text()
        if text != self._bar_text:
            self._bar_text = text
            for bar in self.query(ReplayBar):
                bar.update(text)

    # -- replay controls ----------------------------------------------------------------------
    def action_toggle_pause(self) -> None:
        self.action_replay_pause()

    def action_replay_pause(self) -> None:
        if self.player.ended and not self.player.paused:
            self._seek_to(self.player.start)  # at the end: play again from the start
            self.player.paused = False
        else:
            self.player.toggle_pause()
        self._update_bar()

    def action_replay_step(self) -> None:
        self.player.paused = True
        if self.replay_source is not None:
            self.replay_source.step()
        self._update_bar()

    def action_replay_seek(self, seconds: float) -> None:
        self._seek_to(self.player.now + float(seconds))

    def action_replay_faster(self) -> None:
        self.player.faster()
        self._update_bar()

    def action_replay_slower(self) -> None:
        self.player.slower()
        self._update_bar()

    def action_replay_goto(self) -> None:
        p = self.player
        window = f"{clock_time(p.start)}–{clock_time(p.end)}"
        self.push_screen(SeekScreen(clock_time(p.now), window), self._goto_answer)

    def _goto_answer(self, answer: str | None) -> None:
        if not answer:
            return
        try:
            target = self.player.parse_time(answer)
        except ValueError as exc:
            self.notify(str(exc), severity="warning", timeout=5)
            return
        self._seek_to(target)

    def _seek_to(self, t: float) -> None:
        """Jump: the screen shows exactly what the console showed at that time."""
        p = self.player
        p.seek(t)
        self.timeline.clear()
        self._open_runs.clear()
        for frame in p.delivered():
            if frame.update is not None:
                source = "sentinel" if frame.update.layer == "sentinel" else "event"
                self.timeline.extend(
                    TimelineEntry.from_event(e, source) for e in frame.update.events
                )
            elif frame.record is not None:
                entry = entry_for(frame.record, self._pane_of)
                if entry is not None:
                    self.timeline.append(entry)
                self._track_lock(frame.record)
        self.latest = p.latest_update()
        self._redraw_all()
        self._lock_changed()
        self._update_bar()

    def action_refresh_now(self, layer: str | None = None) -> None:
        self.notify("a replay polls nothing (it shows what was recorded)", timeout=3)

    def _console_entry(self, sev: Severity, text: str) -> None:
        return None  # the replay's timeline is the recording's


def run_replay(
    recording: Recording,
    *,
    speed: float = 1.0,
    paused: bool = False,
    demo: bool = False,
    theme: str | None = None,
    start_at: float | None = None,
) -> int:
    from jaraba_tui.ui.settings import keymap_file, state_file

    app = ReplayApp(
        recording,
        speed=speed,
        paused=paused,
        demo=demo,
        theme=theme,
        state_path=state_file(),
        keymap_path=keymap_file(),
        start_at=start_at,
    )
    code = app.run()
    return code if isinstance(code, int) else 0
