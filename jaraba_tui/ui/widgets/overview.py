"""The overview: one card per layer (state, headline, worst findings first, staleness), the
live blue/green colour, and the newest events. Cards reflow: 2 columns on a laptop
terminal, 3 on a wide one; they grow taller when the terminal does."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Grid, Vertical
from textual.widget import Widget

from jaraba_tui.engine import LAYERS, EngineUpdate, LayerState
from jaraba_tui.model.findings import Severity
from jaraba_tui.ui.format import (
    COMPONENT,
    TITLES,
    Palette,
    age,
    ellipsize,
    layer_findings,
    sev_symbol,
    sev_text,
    strip_component,
)
from jaraba_tui.ui.summaries import headline
from jaraba_tui.ui.widgets.haproxy import colour_badge
from jaraba_tui.ui.widgets.pane import (
    Pane,
    RenderCtx,
    layer_key,
    layer_severity,
    same_text,
    stale_line,
)
from jaraba_tui.ui.widgets.table import matches
from jaraba_tui.ui.widgets.timeline import TimelineEntry, entry_row, newest_first

SEV_CLASSES = {
    Severity.OK: "-ok",
    Severity.WARN: "-warn",
    Severity.CRIT: "-crit",
    Severity.UNKNOWN: "-unknown",
}
KEYS = {layer: str(i) for i, layer in enumerate(LAYERS, start=2)}


class LayerCard(Widget):
    """One layer in a few lines. Click (or its number key) opens the layer's pane."""

    def __init__(self, layer: str) -> None:
        super().__init__(id=f"card-{layer}", classes="card")
        self.layer_key = layer
        self.update: EngineUpdate | None = None
        self.ctx: RenderCtx | None = None
        self.border_title = f"{KEYS[layer]} {TITLES[layer]}"
        self._drawn: object = None  # layer_key() of what the card shows
        self._title: Text | None = None
        self._subtitle: Text | None = None
        self._shown: Text | None = None  # the body the last render() returned

    def show(self, update: EngineUpdate | None, ctx: RenderCtx) -> None:
        """Draw the layer's state; nothing happens when the layer's data, state, findings
        and the console's look are what the card shows already."""
        self.update, self.ctx = update, ctx
        key = layer_key(update, self.layer_key, ctx)
        if key == self._drawn:
            return
        self._drawn = key
        state = update.state(self.layer_key) if update else None
        if update is None or state is None:
            sev = Severity.UNKNOWN
        else:
            sev = layer_severity(update.findings, self.layer_key, state)
        for s, cls in SEV_CLASSES.items():
            self.set_class(s is sev, cls)
        self.set_class(bool(state and state.stale) or ctx.stopped is not None, "-stale")
        title = Text(f"{KEYS[self.layer_key]} ", style="dim")
        title.append(TITLES[self.layer_key], style="bold")
        p = update.snapshot.proxysql if update else None
        if self.layer_key == "proxysql" and p is not None and p.is_standin:
            title.append(" STAND-IN", style=f"bold {ctx.palette.warn}")
        subtitle = sev_text(sev, ctx.palette)
        if self._title is None or not same_text(title, self._title):
            self._title = self.border_title = title  # (setting a border title repaints)
        if self._subtitle is None or not same_text(subtitle, self._subtitle):
            self._subtitle = self.border_subtitle = subtitle
        self._refresh_if_changed()

    def retime(self, ctx: RenderCtx) -> None:
        """The clock ticked: the card's ages ("updated 3s ago", "STALE 12s") move on."""
        self.ctx = ctx
        if self.update is not None:
            self._refresh_if_changed()

    def _refresh_if_changed(self) -> None:
        """Repaint only when the body differs from what the card shows: a poll that changed
        nothing visible (every poll brings new data objects) or a tick that moved no age
        repaints nothing (a repaint of every card every second was most of an idle
        console's CPU)."""
        shown = self._shown
        if shown is not None and same_text(self._body(), shown):
            return
        self.refresh()

    def render(self) -> Text:
        self._shown = self._body()
        return self._shown

    def _body(self) -> Text:
        ctx, update = self.ctx, self.update
        if ctx is None:
            return Text("")
        pal = ctx.palette
        width = max(10, self.size.width)
        room = max(1, self.size.height)
        if update is None:
            stopped = stale_line(self.layer_key, LayerState(), ctx)
            return stopped or Text("waiting for the first poll…", style=pal.muted)
        lines: list[Text] = []
        state = update.state(self.layer_key)
        if self.layer_key == "haproxy" and update.snapshot.haproxy is not None:
            head = colour_badge(update.snapshot.haproxy, pal)
            rest = headline(self.layer_key, update.snapshot).split(" · ", 1)
            head.append(" · " + (rest[1] if len(rest) > 1 else ""))
        else:
            head = Text(headline(self.layer_key, update.snapshot))
        head.truncate(width, overflow="ellipsis")
        lines.append(head)
        stale = stale_line(self.layer_key, state, ctx)
        if stale is not None:
            stale.truncate(width, overflow="ellipsis")
            lines.append(stale)
        found = layer_findings(update.findings, self.layer_key)
        problems = [f for f in found if f.severity is not Severity.OK]
        spare = room - len(lines) - len(problems)  # rows left for wrapping findings
        for f in problems:
            if len(lines) >= room:  # full: the rest is counted below, not drawn
                lines.append(Text(""))
                continue
            line = sev_symbol(f.severity, pal)
            message = strip_component(f.message, COMPONENT[self.layer_key])
            line.append(" " + message, style=pal.severity(f.severity))
            if spare <= 0 or (line.cell_len <= width and "\n" not in line.plain):  # one row
                line.truncate(width, overflow="ellipsis")
                lines.append(line)
                continue
            # wrap onto the rows nobody else needs; cut the rest with an ellipsis
            wrapped = list(line.wrap(self.app.console, width))
            take = 1 + min(max(0, spare), len(wrapped) - 1)
            spare -= take - 1
            shown = wrapped[:take]
            if take == 1:
                line.truncate(width, overflow="ellipsis")
                shown = [line]
            elif len(wrapped) > take:
                shown[-1].truncate(width - 1)
                shown[-1].append("…", style=pal.severity(f.severity))
            lines.extend(shown)
        if not problems and stale is None and state.last_ok_at:
            lines.append(
                Text(
                    f"✓ no problems · updated {age(ctx.now - state.last_ok_at)} ago",
                    style=pal.muted,
                )
            )
        if len(lines) > room:
            hidden = len(lines) - room + 1
            lines = lines[: room - 1]
            lines.append(Text(f"+{hidden} more — press {KEYS[self.layer_key]}", style=pal.muted))
        return Text("\n").join(lines)

    def on_click(self, event: events.Click) -> None:
        event.stop()
        self.run_worker(self.app.run_action(f"app.goto('{self.layer_key}')"))


class EventList(Widget):
    """The newest timeline entries, one line each, cut to the width with an ellipsis;
    filterable like a table."""

    def __init__(self) -> None:
        super().__init__(id="overview-events-list")
        self.entries: list[TimelineEntry] = []
        self.entries_in: Sequence[TimelineEntry] | None = None  # as given to show()
        self.palette: Palette | None = None
        self.terms: list[str] = []

    def show(self, entries: Sequence[TimelineEntry], palette: Palette) -> None:
        self.entries_in = entries
        self.entries, self.palette = newest_first(entries), palette
        self.refresh()

    def set_filter(self, text: str) -> None:
        self.terms = text.lower().split()
        self.refresh()

    @property
    def filter_text(self) -> str:
        return " ".join(self.terms)

    def shown(self) -> list[TimelineEntry]:
        return [e for e in self.entries if matches([Text(_line(e))], self.terms)]

    def render(self) -> Text:
        pal = self.palette or Palette()
        width = max(20, self.size.width)
        out = Text()
        for e in self.shown()[: max(1, self.size.height)]:
            if out:
                out.append("\n")
            cells = entry_row(e, pal)
            sev = _plain(cells[1])
            sev.pad_right(max(0, 7 - sev.cell_len))
            line = Text.assemble(cells[0], "  ", sev, "  ")
            what = f"{e.component}: {_plain(cells[3]).plain}"
            line.append(ellipsize(what, width - line.cell_len))
            out.append(line)
        if not out:
            what = "no change matches the filter" if self.terms else "no changes seen yet"
            out = Text(what, style=pal.muted)
        return out


def _line(e: TimelineEntry) -> str:
    return f"{e.severity.label} {e.component} {e.message}"


class OverviewPane(Pane):
    def __init__(self, layers: Sequence[str] = LAYERS) -> None:
        super().__init__(id="overview")
        self.layer_keys = tuple(layers)
        self.entries: Sequence[TimelineEntry] = ()

    def compose_content(self) -> ComposeResult:
        with Grid(id="cards"):
            for layer in self.layer_keys:
                yield LayerCard(layer)
        with Vertical(id="overview-events") as box:
            box.border_title = "Newest events · 8 for the timeline"
            yield EventList()

    def set_entries(self, entries: Sequence[TimelineEntry], ctx: RenderCtx) -> None:
        self.entries = entries
        self.feed(None, ctx)

    def draw_age(self, ctx: RenderCtx) -> None:
        for card in self.query(LayerCard):
            card.retime(ctx)

    def draw(self, update: EngineUpdate | None, ctx: RenderCtx) -> None:
        for card in self.query(LayerCard):
            card.show(update, ctx)
        events = self.query_one(EventList)
        if events.entries_in is not self.entries or events.palette != ctx.palette:
            events.show(self.entries, ctx.palette)
        box = self.query_one("#overview-events", Vertical)
        subtitle = f"filter: {events.filter_text} ({len(events.shown())})" if events.terms else ""
        if (box.border_subtitle or "") != subtitle:  # setting it repaints the whole box
            box.border_subtitle = subtitle


def _plain(cell: str | Text) -> Text:
    return cell if isinstance(cell, Text) else Text(cell)
