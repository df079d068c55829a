"""What every pane shares: a status line (state, headline, freshness, stale banner), the
layer's findings, a filter bar for its tables, and lazy rendering (hidden panes keep the
newest update and draw it when shown)."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar, Protocol, runtime_checkable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import ContentSwitcher, Input, Static

from jaraba_tui.engine import EngineUpdate, LayerState
from jaraba_tui.model.findings import Finding, Severity, worst
from jaraba_tui.ui.format import (
    COMPONENT,
    TITLES,
    Palette,
    age,
    clock_time,
    layer_findings,
    sev_text,
    strip_component,
)
from jaraba_tui.ui.summaries import headline

#: Findings listed in a pane's findings box (a scrolled box of 5-8 lines): every layout pass
#: wraps all of its text to know its height, 300 alerts' findings took ~0.4 s of a switch.
FINDINGS_MAX = 40
#: A hidden pane whose last drawing took at least this much CPU (seconds: 1000 HAProxy rows,
#: 300 alerts) draws a new update IDLE_DRAW_DELAY s after it came, not on the key that
#: shows it; cheaper panes stay lazy (drawn when shown, nothing spent while hidden).
IDLE_DRAW_COST = 0.006
IDLE_DRAW_DELAY = 0.15


@runtime_checkable
class Filterable(Protocol):
    def set_filter(self, text: str) -> None: ...


@dataclass(frozen=True)
class RenderCtx:
    """What a pane needs besides the update: colours, the time, the console's mode."""

    palette: Palette
    now: float
    read_only: bool = False
    stopped: str | None = None  # the engine's worker died: why


def stale_line(layer: str, state: LayerState, ctx: RenderCtx) -> Text | None:
    """``⚠ STALE 12s: why — showing data from 12:03:04`` (None when fresh); 12s is the age
    of the data on screen."""
    if ctx.stopped is not None:
        return Text(f"⚠ STALE — polling stopped: {ctx.stopped}", style=f"bold {ctx.palette.warn}")
    if not state.stale:
        return None
    # the age of what is on screen: since the layer last answered (else since it failed)
    since = state.last_ok_at or state.stale_since or ctx.now
    shown = (
        f" — showing data from {clock_time(state.last_ok_at)}"
        if state.last_ok_at
        else " — no data yet"
    )
    return Text(
        f"⚠ STALE {age(ctx.now - since)}: {state.error}{shown}", style=f"bold {ctx.palette.warn}"
    )


def layer_key(update: EngineUpdate | None, layer: str, ctx: RenderCtx) -> object:
    """What a layer's drawing depends on: its data (the merge keeps the same object while the
    layer is not polled), state, findings and failure, and the console's colours and mode."""
    look = (ctx.palette, ctx.read_only, ctx.stopped)
    if update is None:
        return (None, look)
    snap = update.snapshot
    found = tuple(layer_findings(update.findings, layer))
    return (getattr(snap, layer), update.state(layer), found, snap.failure(layer), look)


def same_text(a: Text, b: Text) -> bool:
    """Same characters, spans and base style (Text equality leaves the base style out)."""
    return a == b and a.style == b.style


def hidden_pane(widget: Widget) -> Pane | None:
    """The hidden pane that holds ``widget`` (None: its pane is on screen, or no pane)."""
    node = widget.parent
    while isinstance(node, Widget):
        if isinstance(node, Pane):
            return None if node.display else node
        node = node.parent
    return None


def request_layout(widget: Widget) -> None:
    """``widget.refresh(layout=True)``, or, in a hidden pane, when the pane is shown (a
    layout pass reflows the whole screen, for a widget that is not on it)."""
    hidden = hidden_pane(widget)
    if hidden is None:
        widget.refresh(layout=True)
    else:
        hidden.lay_out_when_shown(widget)


def set_text(widget: Static, content: Text | str) -> None:
    """``Static.update`` only when the text changed, and with a layout pass (the costly part
    of a redraw: it reflows the whole screen) only when the widget's height changes: the
    number of lines it takes in its width, wrapped (its width is its container's). A widget of a
    hidden pane is never laid out while hidden: its pane lays it out when shown
    (:meth:`Pane.before_show`)."""
    text = Text(content) if isinstance(content, str) else content
    old = getattr(widget, "_jaraba_text", None)
    if isinstance(old, Text) and same_text(old, text):
        return
    widget._jaraba_text = text  # type: ignore[attr-defined]
    hidden = hidden_pane(widget)
    if hidden is not None:
        hidden.lay_out_when_shown(widget)
        widget.update(text, layout=False)
        return
    room = widget.content_region.width
    if room <= 0 or not isinstance(old, Text):  # not laid out yet
        widget.update(text)
        return
    # the heights as Textual's layout computes them (the new one is kept for the layout)
    before = widget.get_content_height(widget.size, widget.size, room)
    widget.update(text, layout=False)
    if widget.get_content_height(widget.size, widget.size, room) != before:
        widget.refresh(layout=True)


#: (findings tuple, layer -> its worst severity, UNKNOWN for none): the bar, the overview
#: cards and the panes' status lines ask for every layer's severity at each update, tick
#: and key; the findings of an update are one tuple (300 alerts' and 100 servers' among them).
_worst_by_layer: tuple[object, dict[str, Severity]] = ((), {})


def _layer_worst(findings: Iterable[Finding], layer: str) -> Severity:
    global _worst_by_layer
    if not isinstance(findings, tuple):  # a list may change in place: not kept
        found = layer_findings(list(findings), layer)
        return worst(found) if found else Severity.UNKNOWN
    if _worst_by_layer[0] is not findings:
        _worst_by_layer = (findings, {})
    memo = _worst_by_layer[1]
    sev = memo.get(layer)
    if sev is None:
        found = layer_findings(findings, layer)
        sev = memo[layer] = worst(found) if found else Severity.UNKNOWN
    return sev


def layer_severity(findings: Iterable[Finding], layer: str, state: LayerState) -> Severity:
    sev = _layer_worst(findings, layer)
    if state.stale and sev.rank < Severity.UNKNOWN.rank:
        return Severity.UNKNOWN
    return sev


class FilterInput(Input):
    """The filter bar: hidden and disabled (so never focused by Tab) until ``/``."""

    BINDINGS: ClassVar = [
        Binding("escape", "close", "Clear filter", show=False, id="filter-close"),
    ]

    def on_mount(self) -> None:
        self.disabled = True

    def action_close(self) -> None:
        pane = next((a for a in self.ancestors if isinstance(a, Pane)), None)
        if pane is not None:
            pane.close_filter()


class Pane(Vertical):
    """A pane of the console: lazy redraw (a hidden pane keeps the newest update and draws
    it when shown) and a filter bar for its tables."""

    DEFAULT_CSS = """
    Pane { height: 1fr; }
    """

    def __init__(self, *, id: str) -> None:
        super().__init__(id=id, classes="pane")
        self.update: EngineUpdate | None = None
        self.ctx: RenderCtx | None = None
        self._dirty = False
        self._drawn: object = None  # the draw_key of what is on screen
        self._drew_update = False  # an update has been drawn (not only "waiting")
        self._draw_cost = 0.0  # CPU seconds of the last drawing
        self._idle_draw = False  # a drawing while hidden is scheduled
        self._relayout: set[Widget] = set()  # changed while hidden: laid out when shown

    def compose(self) -> ComposeResult:
        yield from self.compose_content()
        yield FilterInput(placeholder="filter rows: words, !word to exclude", classes="filter")

    def compose_content(self) -> ComposeResult:
        yield from ()

    def feed(self, update: EngineUpdate | None, ctx: RenderCtx) -> None:
        if update is not None:
            self.update = update
        self.ctx, self._dirty = ctx, True
        if self.display:
            self.redraw()
        elif self._draw_cost >= IDLE_DRAW_COST and not self._idle_draw:
            self._idle_draw = True
            self.set_timer(IDLE_DRAW_DELAY, self._draw_hidden)

    def _draw_hidden(self) -> None:
        """A costly pane draws its newest update while hidden (between polls and keys), so
        that the key that shows it only shows it (:attr:`IDLE_DRAW_COST`)."""
        self._idle_draw = False
        if self._dirty and not self.display and self.is_mounted:
            self.redraw()

    def retime(self, ctx: RenderCtx) -> None:
        """The clock ticked: redraw what shows an age."""
        self.ctx = ctx
        if self.display:
            self.draw_age(ctx)

    def draw_age(self, ctx: RenderCtx) -> None:
        """Redraw what shows an age (the status line's "updated 3s ago")."""

    @property
    def needs_first_draw(self) -> bool:
        """Hidden, holding an update, never drawn one: its first drawing (a large table's
        rows) is best done in idle time, not when a key asks for the pane."""
        return not self.display and self.update is not None and not self._drew_update

    def before_show(self, ctx: RenderCtx) -> None:
        """About to be shown: draw the newest update and the ages now, while hidden, so that
        the first frame after the switch is the final one (drawing on Show costs a second
        layout pass and frame after the first: the time to a key's screen doubles)."""
        self.ctx = ctx
        if self._dirty:
            self.redraw()
        self.draw_age(ctx)
        self._lay_out_changed()

    def on_show(self) -> None:
        if self._dirty:
            self.redraw()
        self._lay_out_changed()

    def lay_out_when_shown(self, widget: Widget) -> None:
        """``widget`` (of this hidden pane) changed size: laid out with the pane's showing."""
        self._relayout.add(widget)

    def _lay_out_changed(self) -> None:
        """Lay out what changed while the pane was hidden (:func:`set_text`): requested
        with the pane's own showing, it costs no layout pass of its own."""
        if self._relayout:
            for widget in self._relayout:
                widget.refresh(layout=True)
            self._relayout.clear()

    def draw_key(self, update: EngineUpdate | None, ctx: RenderCtx) -> object:
        """What the pane's drawing depends on (compared with the last drawing's: equal means
        nothing to redraw); None: always redraw. The clock is not in it (:meth:`retime`)."""
        return None

    def redraw(self, *, force: bool = False) -> None:
        if self.ctx is None:
            return
        self._dirty = False
        key = self.draw_key(self.update, self.ctx)
        if not force and key is not None and key == self._drawn:
            return
        self._drawn = key
        started = time.thread_time()
        self.draw(self.update, self.ctx)
        self._draw_cost = time.thread_time() - started
        self._drew_update = self._drew_update or self.update is not None

    def draw(self, update: EngineUpdate | None, ctx: RenderCtx) -> None:
        raise NotImplementedError

    # -- filtering ---------------------------------------------------------------------------
    def tables(self) -> list[Widget]:
        """What the filter bar filters: the pane's tables and lists with ``set_filter``."""
        return [w for w in self.query("*") if isinstance(w, Filterable)]

    def open_filter(self) -> None:
        bar = self.query_one(FilterInput)
        bar.disabled = False
        bar.display = True
        # focused now, not by focus()'s call_later: keys typed right after `/` (a fast
        # typist, a paste) are already queued and would reach the table's bindings first
        # (`/green` refreshed and wrote an incident report)
        self.screen.set_focus(bar)

    def close_filter(self) -> None:
        bar = self.query_one(FilterInput)
        bar.value = ""
        bar.display = False
        bar.disabled = True
        self.focus_main()

    def focus_main(self) -> None:
        tables = [t for t in self.tables() if t.can_focus]
        if tables:
            tables[0].focus()
        else:
            self.app.set_focus(None)

    def on_input_changed(self, event: Input.Changed) -> None:
        if isinstance(event.input, FilterInput):
            for table in self.tables():
                if isinstance(table, Filterable):
                    table.set_filter(event.value)
            if self.ctx is not None:
                self.redraw(force=True)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if isinstance(event.input, FilterInput):
            if not event.value.strip():
                self.close_filter()
            else:
                self.focus_main()


class PaneSwitcher(ContentSwitcher):
    """The panes' switcher. Switching repaints nothing of its own: its lines are blank
    under the pane shown (Textual's ``current`` asks for a repaint of the switcher, so
    its 37 lines were drawn again at every key; the panes' display toggle lays them out
    and paints them)."""

    current: reactive[str | None] = reactive(None, init=False, repaint=False)


class LayerPane(Pane):
    """Base of the layer panes. Subclasses set ``layer`` and implement
    :meth:`compose_body` and :meth:`render_update`."""

    layer_key: ClassVar[str] = ""

    def __init__(self) -> None:
        super().__init__(id=self.layer_key)

    def compose_content(self) -> ComposeResult:
        yield Static(id=f"{self.layer_key}-status", classes="pane-status")
        yield Static(id=f"{self.layer_key}-findings", classes="pane-findings")
        yield from self.compose_body()

    def compose_body(self) -> ComposeResult:
        yield from ()

    def selected_target(self, kind: str) -> str | None:
        """The action target of that kind on the highlighted row (None: no such row here).
        Panes whose rows are action targets (servers, backends, nodes, alerts) override it."""
        return None

    def draw_age(self, ctx: RenderCtx) -> None:
        if self.update is not None and not self._dirty:
            self._draw_status(self.update, ctx)

    def draw_key(self, update: EngineUpdate | None, ctx: RenderCtx) -> object:
        return layer_key(update, self.layer_key, ctx)

    def draw(self, update: EngineUpdate | None, ctx: RenderCtx) -> None:
        if update is None:
            waiting = Text(f"{TITLES[self.layer_key]} · waiting for the first poll…")
            stopped = stale_line(self.layer_key, LayerState(), ctx)
            if stopped is not None:
                waiting.append("\n")
                waiting.append(stopped)
            set_text(self.query_one(f"#{self.layer_key}-status", Static), waiting)
            return
        self._draw_status(update, ctx)
        self._draw_findings(update, ctx)
        self.render_update(update, ctx)

    def render_update(self, update: EngineUpdate, ctx: RenderCtx) -> None:
        raise NotImplementedError

    def badge(self, update: EngineUpdate, ctx: RenderCtx) -> Text | None:
        """A label after the pane's title (ProxySQL: STAND-IN)."""
        return None

    def _draw_status(self, update: EngineUpdate, ctx: RenderCtx) -> None:
        state = update.state(self.layer_key)
        sev = layer_severity(update.findings, self.layer_key, state)
        line = Text.assemble(sev_text(sev, ctx.palette), " ", (TITLES[self.layer_key], "bold"))
        badge = self.badge(update, ctx)
        if badge is not None:
            line.append(" ")
            line.append(badge)
        line.append(f" · {headline(self.layer_key, update.snapshot)}")
        if state.last_ok_at and not state.stale:
            line.append(
                f" · updated {age(ctx.now - state.last_ok_at)} ago", style=ctx.palette.muted
            )
        stale = stale_line(self.layer_key, state, ctx)
        if stale is not None:
            line.append("\n")
            line.append(stale)
        set_text(self.query_one(f"#{self.layer_key}-status", Static), line)
        self.set_class(stale is not None, "-stale")

    def _draw_findings(self, update: EngineUpdate, ctx: RenderCtx) -> None:
        found = layer_findings(update.findings, self.layer_key)
        problems = [f for f in found if f.severity is not Severity.OK]
        text = Text()
        shown = problems or found
        for f in shown[:FINDINGS_MAX]:
            if text:
                text.append("\n")
            text.append(sev_text(f.severity, ctx.palette, short=True))
            text.append(" " + strip_component(f.message, COMPONENT[self.layer_key]))
        if len(shown) > FINDINGS_MAX:
            more = f"\n… and {len(shown) - FINDINGS_MAX} more findings (the table lists them all)"
            text.append(more, style=ctx.palette.muted)
        if not text:
            text = Text("no findings yet", style=ctx.palette.muted)
        set_text(self.query_one(f"#{self.layer_key}-findings", Static), text)
