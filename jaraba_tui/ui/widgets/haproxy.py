"""HAProxy: the live blue/green colour, backends and servers, sessions and 5xx rates."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static

from jaraba_tui.collectors.haproxy import HAProxySnapshot, StatRow
from jaraba_tui.engine import EngineUpdate
from jaraba_tui.model.findings import Severity, worst
from jaraba_tui.ui.format import Palette, age, clock_time, num
from jaraba_tui.ui.summaries import haproxy_colour
from jaraba_tui.ui.widgets.layers import (
    CellMemo,
    findings_by_target,
    health_cell,
    note,
    state_cell,
)
from jaraba_tui.ui.widgets.pane import LayerPane, RenderCtx, set_text
from jaraba_tui.ui.widgets.sparks import Series, SparkPanel
from jaraba_tui.ui.widgets.table import KeyedTable

PROXIES = [
    ("proxy", "Frontend/backend"),
    ("role", "Role"),
    ("health", "Health"),
    ("status", "Status"),
    ("up", "Servers up"),
    ("scur", "Sessions"),
    ("rate", "Req/s"),
    ("5xx", "5xx/s"),
    ("total5xx", "5xx total"),
]
SERVERS = [
    ("server", "Server"),
    ("health", "Health"),
    ("state", "State"),
    ("check", "Check"),
    ("scur", "Sessions"),
    ("weight", "Weight"),
    ("addr", "Address"),
    ("changed", "Changed"),
]


def colour_badge(h: HAProxySnapshot, pal: Palette) -> Text:
    """``LIVE ■ BLUE``: the word always, the colour as a bonus."""
    colour = haproxy_colour(h)
    swatch = {"BLUE": pal.blue, "GREEN": pal.green}.get(colour, pal.muted)
    out = Text("LIVE ", style="bold")
    out.append("■ ", style=f"bold {swatch}")
    out.append(colour, style=f"bold {swatch}")
    if h.canary:
        out.append(f"  canary {h.canary} {h.canary_pct}%", style=f"bold {pal.warn}")
    return out


def _role(row: StatRow, h: HAProxySnapshot) -> str:
    if row.kind == "frontend":
        return "frontend"
    if row.proxy == h.live_backend:
        return "LIVE"
    if row.proxy.startswith("bk_app_"):
        return "standby"
    return "backend"


def proxy_rows(
    h: HAProxySnapshot, update: EngineUpdate, pal: Palette
) -> list[tuple[str, list[str | Text]]]:
    rows: list[tuple[str, list[str | Text]]] = []
    for b in (*h.frontends, *h.backends):
        servers = h.servers_of(b.proxy) if b.kind != "frontend" else ()
        up = sum(1 for s in servers if s.usable)
        rate = update.history.latest(f"haproxy.{b.proxy}.req_per_s")
        err_rate = update.history.latest(f"haproxy.{b.proxy}.5xx_per_s")
        role = _role(b, h)
        rows.append(
            (
                f"{'fe' if b.kind == 'frontend' else 'be'}:{b.proxy}",
                [
                    b.proxy,
                    Text(role, style="bold" if role == "LIVE" else ""),
                    health_cell(update, "haproxy", pal, b.proxy),
                    state_cell(b.status, b.status in ("UP", "OPEN"), pal),
                    f"{up}/{len(servers)}" if servers else "-",
                    num(b.scur),
                    "-" if rate is None else f"{rate:.1f}",
                    "-" if err_rate is None else f"{err_rate:.2f}",
                    num(b.hrsp_5xx),
                ],
            )
        )
    return rows


#: Older changes show as an age ("3d ago"): a time of day alone would be ambiguous.
CHANGED_CLOCK_MAX = 20 * 3600.0


def changed_cell(
    s: StatRow,
    collected_at: float,
    shown: dict[str, float] | None = None,
    clocks: dict[int, str] | None = None,
    key: str | None = None,
) -> str:
    """When the server last changed state, as a time of day (``12:03:04``; older than
    ``CHANGED_CLOCK_MAX``: an age). HAProxy gives whole seconds since the change, so the
    time computed at each poll wobbles by a second: ``shown`` keeps the one on screen while
    it stays within 1.5 s. An absolute time does not move every second like "12s ago",
    which made every row of a 1000-server table change at every poll. ``clocks``: times of
    day already formatted (by whole second; many servers changed in the same one);
    ``key``: ``s.key``, when the caller has it."""
    if s.lastchg is None:
        return "-"
    at = collected_at - s.lastchg
    if shown is not None:
        key = s.key if key is None else key
        before = shown.get(key)
        if before is not None and abs(at - before) < 1.5:
            at = before
        shown[key] = at
    if s.lastchg > CHANGED_CLOCK_MAX:
        return f"{age(s.lastchg)} ago"
    if clocks is None or at <= 0:
        return clock_time(at)
    second = int(at)  # what localtime() keeps of it
    text = clocks.get(second)
    if text is None:
        text = clocks[second] = clock_time(at)
    return text


#: A server row's cells and what they were built from (:func:`server_rows`' ``kept``).
KeptRow = tuple[tuple[object, ...], list[str | Text]]


def server_rows(
    h: HAProxySnapshot,
    update: EngineUpdate,
    pal: Palette,
    shown: dict[str, float] | None = None,
    kept: dict[str, KeptRow] | None = None,
    memo: CellMemo | None = None,
) -> list[tuple[str, list[str | Text]]]:
    """One row per server (1000 on the large setup, at every poll: what repeats across rows
    (severity, state and number cells, times of day) is built once per drawing).

    ``kept`` (the pane's, across polls): a server whose row shows what it showed gets the
    same cells list back, which the table recognises without comparing its cells; ``memo``
    (the pane's, for one palette) keeps the shared cells the same objects across polls."""
    rows: list[tuple[str, list[str | Text]]] = []
    memo = CellMemo(pal) if memo is None else memo
    # target_severity(update, "haproxy", key) for each server, with the lookups hoisted
    by_target = findings_by_target(update, "haproxy")
    healthy = Severity.UNKNOWN if update.state("haproxy").stale else Severity.OK
    clocks: dict[int, str] = {}
    nums: dict[int | None, str] = {}
    collected_at = h.collected_at
    for s in h.servers:
        key = f"{s.proxy}/{s.name}"  # s.key
        found = by_target.get(key)
        sev = worst(found) if found else healthy
        changed = changed_cell(s, collected_at, shown, clocks, key)
        status, desc = s.check_status, s.check_desc
        made_of = (sev, s.state, status, desc, s.scur, s.weight, s.addr, changed)
        if kept is not None:
            before = kept.get(key)
            if before is not None and before[0] == made_of:
                rows.append((key, before[1]))
                continue
        check = (f"{status} {desc}" if desc else status) if status else (desc or "-")
        scur = nums.get(s.scur)
        if scur is None:
            scur = nums[s.scur] = num(s.scur)
        weight = nums.get(s.weight)
        if weight is None:
            weight = nums[s.weight] = num(s.weight)
        cells: list[str | Text] = [
            key,
            memo.health(sev),
            memo.state(s.state, s.usable),
            check,
            scur,
            weight,
            s.addr or "-",
            changed,
        ]
        if kept is not None:
            kept[key] = (made_of, cells)
        rows.append((key, cells))
    if shown is not None and len(shown) > 2 * len(h.servers):  # servers long gone
        keep = {s.key for s in h.servers}
        for gone in [k for k in shown if k not in keep]:
            del shown[gone]
    if kept is not None and len(kept) > 2 * len(h.servers):
        keep = {s.key for s in h.servers}
        for gone in [k for k in kept if k not in keep]:
            del kept[gone]
    return rows


class HAProxyPane(LayerPane):
    layer_key = "haproxy"

    def __init__(self) -> None:
        super().__init__()
        self._changed: dict[str, float] = {}  # server -> the change time on screen
        self._kept: dict[str, KeptRow] = {}  # server -> its row's cells (server_rows)
        self._memo: CellMemo | None = None  # the shared cells, for one palette

    def compose_body(self) -> ComposeResult:
        yield Static(id="haproxy-live", classes="info")
        yield KeyedTable(PROXIES, id="haproxy-proxies")
        yield KeyedTable(SERVERS, id="haproxy-servers")
        yield SparkPanel(id="haproxy-sparks", classes="sparks")

    def selected_target(self, kind: str) -> str | None:
        """``backend/server`` of the highlighted server (the actions' target name)."""
        if kind != "haproxy-server":
            return None
        return self.query_one("#haproxy-servers", KeyedTable).cursor_key()

    def render_update(self, update: EngineUpdate, ctx: RenderCtx) -> None:
        pal = ctx.palette
        h = update.snapshot.haproxy
        live = self.query_one("#haproxy-live", Static)
        if h is None:
            set_text(live, note("HAProxy not polled", pal))
            return
        line = colour_badge(h, pal)
        src = f"stats via {h.stat_source}" if h.stat_source else "no stats"
        line.append(f"   {h.endpoint} · {src}", style=pal.muted)
        if h.info is not None and h.info.version:
            line.append(f" · HAProxy {h.info.version}", style=pal.muted)
        if h.map_entries:
            entries = ", ".join(f"{k}={v}" for k, v in sorted(h.map_entries.items()))
            line.append(f"\nmap {h.map_path or ''}: {entries}", style=pal.muted)
        set_text(live, line)
        self.query_one("#haproxy-proxies", KeyedTable).set_rows(proxy_rows(h, update, pal))
        if self._memo is None or self._memo.pal != pal:
            self._memo, self._kept = CellMemo(pal), {}
        servers = server_rows(h, update, pal, self._changed, self._kept, self._memo)
        self.query_one("#haproxy-servers", KeyedTable).set_rows(servers)
        series: list[Series] = []
        for b in (*h.frontends, *h.backends):
            series.append(Series(f"{b.proxy} sessions", f"haproxy.{b.proxy}.sessions"))
        for b in h.backends:
            series.append(
                Series(f"{b.proxy} 5xx/s", f"haproxy.{b.proxy}.5xx_per_s", lambda v: f"{v:.2f}")
            )
        for b in h.frontends:
            series.append(
                Series(f"{b.proxy} req/s", f"haproxy.{b.proxy}.req_per_s", lambda v: f"{v:.1f}")
            )
        self.query_one("#haproxy-sparks", SparkPanel).show(series, update.history, pal)
