"""The timeline: every detected change with its time, newest first.

Entries come from the engine's events and the console itself; the audit log's actions
(this console's and other engineers' on the same shared file) arrive through the same door,
:meth:`JarabaApp.add_timeline_entries`, as ``TimelineEntry(source="action", ...)``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static

from jaraba_tui.engine import EngineUpdate
from jaraba_tui.model.events import Event
from jaraba_tui.model.findings import Severity
from jaraba_tui.ui.format import Palette, clock_time, sev_text, strip_component
from jaraba_tui.ui.widgets.pane import Pane, RenderCtx
from jaraba_tui.ui.widgets.table import KeyedTable

COLUMNS = [
    ("time", "Time"),
    ("sev", "Severity"),
    ("component", "Component"),
    ("what", "What happened"),
    ("source", "Source"),
]


@dataclass(frozen=True)
class TimelineEntry:
    """One line of the timeline. ``source``: "event" (the engine's diff), "sentinel"
    (pushed), "console" (pause, theme...), "action" (the audit log's started/finished)."""

    at: float
    severity: Severity
    component: str
    message: str
    source: str = "event"
    target: str = ""
    who: str = ""  # who acted, for action and lock entries (the incident report's column)

    @classmethod
    def from_event(cls, ev: Event, source: str = "event") -> TimelineEntry:
        return cls(ev.timestamp, ev.severity, ev.component, ev.message, source, ev.target)

    @property
    def key(self) -> str:
        return f"{self.at:.6f}|{self.source}|{self.component}|{self.target}|{self.message}"


def entry_row(e: TimelineEntry, pal: Palette) -> list[str | Text]:
    return [
        clock_time(e.at),
        sev_text(e.severity, pal, short=True),
        e.component,
        strip_component(e.message, e.component),
        e.source,
    ]


def newest_first(entries: Iterable[TimelineEntry]) -> list[TimelineEntry]:
    """By time, newest first; entries of the same time in reverse arrival order."""
    ordered = sorted(enumerate(entries), key=lambda ie: (ie[1].at, ie[0]), reverse=True)
    return [e for _, e in ordered]


class TimelinePane(Pane):
    def __init__(self) -> None:
        super().__init__(id="timeline")
        self.entries: Sequence[TimelineEntry] = ()

    def compose_content(self) -> ComposeResult:
        yield Static(id="timeline-status", classes="pane-status")
        yield KeyedTable(COLUMNS, id="timeline-table", classes="fill")
        yield Static(id="timeline-detail", classes="info")

    def set_entries(self, entries: Sequence[TimelineEntry], ctx: RenderCtx) -> None:
        self.entries = entries
        self.feed(None, ctx)

    def draw_key(self, update: EngineUpdate | None, ctx: RenderCtx) -> object:
        return (self.entries, ctx.palette)  # the app gives a new list on each change

    def draw(self, update: EngineUpdate | None, ctx: RenderCtx) -> None:
        pal = ctx.palette
        entries = newest_first(self.entries)
        table = self.query_one("#timeline-table", KeyedTable)
        table.set_rows([(e.key, entry_row(e, pal)) for e in entries])
        status = Text("Timeline", style="bold")
        what = f"{len(entries)} changes seen since the console started"
        if any(e.source == "action" for e in entries):
            what = f"{len(entries)} entries: changes since the console started, audited actions"
        status.append(
            f" · {what}, newest first"
            + (f" · filter: {table.filter_text}" if table.filter_text else ""),
            style=pal.muted,
        )
        if not entries:
            status.append("\nnothing has changed yet: events appear here as polls see them")
        self.query_one("#timeline-status", Static).update(status)
        self._draw_detail()

    def _draw_detail(self) -> None:
        """The highlighted entry in full (long sentences do not fit a table cell)."""
        table = self.query_one("#timeline-table", KeyedTable)
        detail = self.query_one("#timeline-detail", Static)
        if not table.row_count or self.ctx is None:
            detail.update("")
            return
        key = table.cursor_key()
        entry = next((e for e in self.entries if e.key == key), None)
        if entry is None:
            detail.update("")
            return
        line = Text.assemble(
            (clock_time(entry.at), "bold"), " ", sev_text(entry.severity, self.ctx.palette), " "
        )
        line.append(entry.message)
        line.append(f"  ({entry.source})", style=self.ctx.palette.muted)
        detail.update(line)

    def on_keyed_table_row_highlighted(self, event: KeyedTable.RowHighlighted) -> None:
        self._draw_detail()
