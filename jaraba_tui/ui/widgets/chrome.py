"""The always-visible chrome: the status header (profile, environment, PRODUCTION, badges,
overall state, clock) and the pane bar (keys, names, per-layer symbols)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rich.text import Text
from textual.widget import Widget

from jaraba_tui.model.findings import Severity
from jaraba_tui.ui.format import Palette, clock_time, sev_text

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
        self.current = current
        self.severities = dict(severities)
        self.palette = palette
        if keys is not None:
            self.keys = dict(keys)
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
