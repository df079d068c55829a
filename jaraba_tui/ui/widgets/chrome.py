"""The always-visible chrome: the status header (profile, environment, PRODUCTION, badges,
overall state, clock) and the pane bar (keys, names, per-layer symbols)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import ClassVar

from rich.text import Text
from textual import events
from textual.app import App
from textual.reactive import Reactive
from textual.screen import Screen
from textual.widget import Widget

from jaraba_tui.model.findings import Severity
from jaraba_tui.ui.format import Palette, clock_time, sev_text


class ConsoleScreen(Screen[None]):
    """The console's screen (the panes, the header, the bar, the footer).

    A focus change does not repaint the whole screen: Textual's ``Screen.focused`` asks
    for a repaint of every widget on it, and the focus moves at every pane switch (to the
    new pane's table). The widgets that gain or lose the focus repaint themselves (and
    their styles follow ``:focus`` / ``:focus-within``); the full repaint was a second
    compositor pass over all 40 lines on each key (large setup: ~2-4 ms of the ~35 ms of
    CPU of a switch, and the screen's own lines drawn again)."""

    focused: Reactive[Widget | None] = Reactive(None, repaint=False)


NAV = {
    "overview": "Overview",
    "galera": "Galera",
    "proxysql": "ProxySQL",
    "haproxy": "HAProxy",
    "redis": "Redis",
    "alerts": "Alerts",
    "hosts": "Hosts",
    "timeline": "Timeline",
}
SHORT = {
    "overview": "Ovw",
    "galera": "Gal",
    "proxysql": "PSQL",
    "haproxy": "HAP",
    "redis": "Redis",
    "alerts": "Alrt",
    "hosts": "Host",
    "timeline": "Time",
}


@dataclass(frozen=True)
class HeaderState:
    profile: str
    environment: str
    description: str = ""
    production: bool = False
    read_only: bool = False
    paused: bool = False
    standin: bool = False
    overall: Severity | None = None
    now: float = 0.0
    stopped: bool = False
    #: Who holds the stack's action lock: "alice: blue/green switch green, since 03:12".
    lock: str | None = None


class StatusHeader(Widget):
    """One line. In production the whole line is the warning colour and says PRODUCTION."""

    DEFAULT_CSS = """
    StatusHeader { height: 1; }
    """

    def __init__(self) -> None:
        super().__init__(id="status-header")
        self.state: HeaderState | None = None
        self.palette = Palette()

    def show(self, state: HeaderState, palette: Palette) -> None:
        state = replace(state, now=float(int(state.now)))  # the clock shows whole seconds
        if state == self.state and palette == self.palette:
            return
        self.state, self.palette = state, palette
        self.set_class(state.production, "-production")
        self.refresh()

    def render(self) -> Text:
        st = self.state
        if st is None:
            return Text("jaraba-ops")
        pal = self.palette
        width = self.size.width or 80
        badges = self._badges(st, pal)
        right = Text()
        if st.overall is not None:
            right.append("stack ")
            sev = sev_text(st.overall, pal)
            if st.production:  # on the warning-coloured banner: words in the banner's ink
                sev = Text(sev.plain, style="bold reverse")
            right.append(sev)
        right.append(f"  {clock_time(st.now)} ")
        # most to least verbose: the profile, PRODUCTION and the badges always stay
        for verbose in (2, 1, 0):
            left = self._left(st, pal, verbose)
            room = width - left.cell_len - badges.cell_len - right.cell_len - 1
            if room >= 0:
                break
        out = Text.assemble(left, " ", badges)
        out.append(" " * max(0, room))
        out.append(right)
        out.truncate(width, overflow="ellipsis")
        return out

    @staticmethod
    def _left(st: HeaderState, pal: Palette, verbose: int) -> Text:
        left = Text()
        if st.production:
            left.append(" ▲ PRODUCTION ▲ ", style="bold reverse")
            left.append(" ")
        if verbose >= 1:
            left.append("jaraba-ops ", style="bold")
        left.append(st.profile, style="bold")
        if verbose >= 1 or not st.production:
            left.append(f" ({st.environment})")
        if verbose >= 2 and st.description:
            left.append(f" · {st.description}", style=None if st.production else pal.muted)
        return left

    @staticmethod
    def _badges(st: HeaderState, pal: Palette) -> Text:
        badges = Text()
        if st.read_only:
            badges.append(" READ-ONLY ", style=f"bold reverse {pal.primary}")
            badges.append(" ")
        if st.paused:
            badges.append(" PAUSED ", style=f"bold reverse {pal.warn}")
            badges.append(" ")
        if st.stopped:
            badges.append(" POLLING STOPPED ", style=f"bold reverse {pal.crit}")
            badges.append(" ")
        if st.lock:
            ink = pal.crit if st.production else pal.warn  # visible on the warning banner
            badges.append(f" LOCK {st.lock} ", style=f"bold reverse {ink}")
            badges.append(" ")
        return badges


class NavBar(Widget):
    """``1 Overview  2 Galera✓ ...``: where you are, where the keys go, what is not OK."""

    DEFAULT_CSS = """
    NavBar { height: 1; }
    """

    def __init__(self, panes: Sequence[str], keys: Mapping[str, str]) -> None:
        super().__init__(id="nav")
        self.panes = list(panes)
        self.keys = dict(keys)
        self.current = self.panes[0]
        self.severities: dict[str, Severity] = {}
        self.palette = Palette()

    def show(
        self,
        current: str,
        severities: Mapping[str, Severity],
        palette: Palette,
        keys: Mapping[str, str] | None = None,
    ) -> None:
        new_keys = dict(keys) if keys is not None else self.keys
        if (current, dict(severities), palette, new_keys) == (
            self.current,
            self.severities,
            self.palette,
            self.keys,
        ):
            return
        self.current = current
        self.severities = dict(severities)
        self.palette = palette
        self.keys = new_keys
        self.refresh()

    def _build(self, names: Mapping[str, str], gap: str) -> Text:
        pal = self.palette
        out = Text()
        for pane in self.panes:
            if out:
                out.append(gap)
            key = self.keys.get(pane, "")
            label = Text()
            label.append(key, style=f"bold {pal.accent}")
            # the slot between key and name: the layer's symbol when it is not OK
            sev = self.severities.get(pane)
            if sev is not None and sev is not Severity.OK:
                label.append(sev.symbol, style=f"bold {pal.severity(sev)}")
            elif key:
                label.append(" ")
            label.append(names[pane])
            if pane == self.current:
                label.stylize("reverse bold")
            out.append(label)
        return out

    def render(self) -> Text:
        width = self.size.width or 80
        full = self._build(NAV, "  ")
        if full.cell_len <= width:
            return full
        tight = self._build(NAV, " ")
        if tight.cell_len <= width:
            return tight
        short = self._build(SHORT, " ")
        short.truncate(width, overflow="ellipsis")
        return short


@dataclass(frozen=True)
class FooterItem:
    key: str  # what simulate_key presses (a click)
    display: str  # what the footer shows: "?", "^p"
    description: str
    enabled: bool = True


def footer_items(app: App[object], screen: Screen[object]) -> tuple[FooterItem, ...]:
    """The shown bindings of the screen's chain, one per action (the first key), in the order
    Textual's Footer shows them."""
    seen: set[str] = set()
    out: list[FooterItem] = []
    for _node, binding, enabled, _tooltip in screen.active_bindings.values():
        if not binding.show or binding.action in seen:
            continue
        seen.add(binding.action)
        display = app.get_key_display(binding)
        out.append(FooterItem(binding.key, display, binding.description, enabled))
    return tuple(out)


class KeyFooter(Widget):
    """The footer's keys in one line of text (what Textual's compact Footer shows, without
    a widget per key: that Footer recomposes on every focus and binding change, which cost
    more than the panes). Redrawn only when the keys change; a click presses the key."""

    ALLOW_SELECT = False
    COMPONENT_CLASSES: ClassVar[set[str]] = {"key-footer--key", "key-footer--description"}
    DEFAULT_CSS = """
    KeyFooter {
        dock: bottom;
        height: 1;
        color: $footer-foreground;
        background: $footer-background;
        text-wrap: nowrap;
        text-overflow: clip;
        .key-footer--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        .key-footer--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
    }
    """

    def __init__(self) -> None:
        super().__init__(id="key-footer")
        self.items: tuple[FooterItem, ...] = ()
        self._spans: list[tuple[int, int, str]] = []

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self.call_after_refresh(self.update_keys)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen[object]) -> None:
        if self.is_attached and screen is self.screen:
            self.update_keys()

    def update_keys(self) -> None:
        items = footer_items(self.app, self.screen)
        if items != self.items:
            self.items = items
            self.refresh()

    def render(self) -> Text:
        key_style = self.get_component_rich_style("key-footer--key")
        desc_style = self.get_component_rich_style("key-footer--description")
        out = Text(no_wrap=True, overflow="crop")
        self._spans = []
        for item in self.items:
            start = out.cell_len
            out.append(item.display, style=key_style)
            if item.description:
                out.append(" " + item.description, style=desc_style)
            if not item.enabled:
                out.stylize("dim", start)
            self._spans.append((start, out.cell_len, item.key))
            out.append(" ")
        return out

    def on_click(self, event: events.Click) -> None:
        for start, end, key in self._spans:
            if start <= event.x < end:
                item = next(i for i in self.items if i.key == key)
                if item.enabled:
                    self.app.simulate_key(key)
                else:
                    self.app.bell()
                return
