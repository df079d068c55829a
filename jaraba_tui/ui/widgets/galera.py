"""Galera: every node's own view, flow control and queues, grastate.dat and the error log."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from jaraba_tui.collectors.galera import GaleraNodeSnapshot
from jaraba_tui.engine import EngineUpdate
from jaraba_tui.ui.format import Palette, num, pct
from jaraba_tui.ui.widgets.layers import health_cell, note, state_cell
from jaraba_tui.ui.widgets.pane import LayerPane, RenderCtx, set_text
from jaraba_tui.ui.widgets.sparks import Series, SparkPanel
from jaraba_tui.ui.widgets.table import KeyedTable

COLUMNS = [
    ("node", "Node"),
    ("health", "Health"),
    ("state", "State"),
    ("status", "Cluster"),
    ("size", "Size"),
    ("recv", "RecvQ"),
    ("send", "SendQ"),
    ("fc", "FC"),
    ("seqno", "seqno"),
    ("safe", "Boot"),
    ("proc", "mariadbd"),
    ("disk", "Disk"),
]


def _node_row(n: GaleraNodeSnapshot, update: EngineUpdate, pal: Palette) -> list[str | Text]:
    ws = n.wsrep
    fc_series = update.history.latest(f"galera.{n.name}.flow_paused")
    fc = fc_series if fc_series is not None else (ws.flow_control_paused if ws else None)
    gs = n.grastate
    proc = n.process
    proc_cell = (
        state_cell("running" if proc.running else "stopped", proc.running, pal)
        if proc is not None and proc.running is not None
        else state_cell("?" if proc is not None else None, None, pal)
    )
    if ws is None:
        why = n.sql_error.kind if n.sql_error else "no answer"
        return [
            n.name,
            health_cell(update, "galera", pal, n.name),
            Text(f"DOWN ({why})", style=f"bold {pal.crit}"),
            "-",
            "-",
            "-",
            "-",
            "-",
            str(gs.seqno) if gs else "-",
            _safe(gs.safe_to_bootstrap if gs else None, pal),
            proc_cell,
            pct(n.disk.used_pct) if n.disk else "-",
        ]
    return [
        n.name,
        health_cell(update, "galera", pal, n.name),
        state_cell(ws.local_state_comment, ws.synced, pal),
        state_cell(ws.cluster_status, ws.in_primary, pal),
        num(ws.cluster_size),
        num(ws.local_recv_queue),
        num(ws.local_send_queue),
        "-" if fc is None else f"{fc * 100:.1f}%",
        str(gs.seqno) if gs else "-",
        _safe(gs.safe_to_bootstrap if gs else None, pal),
        proc_cell,
        pct(n.disk.used_pct) if n.disk else "-",
    ]


def _safe(value: bool | None, pal: Palette) -> Text:
    if value is None:
        return Text("-", style=pal.muted)
    return Text("safe" if value else "no", style=f"bold {pal.ok}" if value else pal.muted)


def node_detail(n: GaleraNodeSnapshot, pal: Palette) -> Text:
    """The highlighted node: endpoint, process, grastate.dat (what a bootstrap needs)."""
    out = Text()
    out.append(f"{n.name}", style="bold")
    out.append(f"  {n.endpoint}" + (f" on {n.host}" if n.host else ""), style=pal.muted)
    if n.process is not None:
        out.append(f"\nprocess: {n.process.detail}")
    if n.sql_error is not None:
        out.append(f"\nSQL: {n.sql_error.message}", style=pal.crit)
    gs = n.grastate
    if gs is not None:
        safe = {True: "1", False: "0", None: "?"}[gs.safe_to_bootstrap]
        out.append(f"\ngrastate.dat: uuid {gs.uuid}  seqno {gs.seqno}  safe_to_bootstrap {safe}")
    else:
        out.append("\ngrastate.dat: not read", style=pal.muted)
    for err in n.shell_errors:
        out.append(f"\nhost check: {err.sentence()}", style=pal.warn)
    return out


def error_log(n: GaleraNodeSnapshot, pal: Palette) -> Text:
    """The node's error-log tail, [ERROR] and [Warning] lines coloured and worded."""
    tail = n.error_log_tail
    if not tail:
        return note(f"{n.name}: no error log read", pal)
    out = Text()
    for line in tail:
        if out:
            out.append("\n")
        style = pal.crit if "[ERROR]" in line else (pal.warn if "[Warning]" in line else "")
        out.append(line, style=style)
    return out


class GaleraPane(LayerPane):
    layer_key = "galera"

    def __init__(self) -> None:
        super().__init__()
        self._shown_log: Text | None = None

    def selected_target(self, kind: str) -> str | None:
        if kind != "galera-node":
            return None
        return self.query_one("#galera-nodes", KeyedTable).cursor_key()

    def compose_body(self) -> ComposeResult:
        yield KeyedTable(COLUMNS, id="galera-nodes")
        yield Static(id="galera-detail", classes="info")
        with VerticalScroll(id="galera-log-box", classes="detail") as box:
            box.border_title = "error log of the highlighted node (newest at the bottom)"
            yield Static(id="galera-log")
        yield SparkPanel(id="galera-sparks", classes="sparks")

    def render_update(self, update: EngineUpdate, ctx: RenderCtx) -> None:
        g = update.snapshot.galera
        table = self.query_one("#galera-nodes", KeyedTable)
        if g is None:
            table.set_rows([])
            set_text(
                self.query_one("#galera-detail", Static), note("Galera not polled", ctx.palette)
            )
            return
        table.set_rows([(n.name, _node_row(n, update, ctx.palette)) for n in g.nodes])
        series: list[Series] = []
        for n in g.nodes:
            series.append(Series(f"{n.name} recv queue", f"galera.{n.name}.recv_queue"))
        for n in g.nodes:
            series.append(
                Series(
                    f"{n.name} flow control",
                    f"galera.{n.name}.flow_paused",
                    lambda v: f"{v * 100:.1f}%",
                )
            )
        for n in g.nodes:
            series.append(
                Series(
                    f"{n.name} commits/s", f"galera.{n.name}.commits_per_s", lambda v: f"{v:.1f}"
                )
            )
        self.query_one("#galera-sparks", SparkPanel).show(series, update.history, ctx.palette)
        self._draw_detail()

    def _draw_detail(self) -> None:
        if self.update is None or self.ctx is None or self.update.snapshot.galera is None:
            return
        table = self.query_one("#galera-nodes", KeyedTable)
        nodes = self.update.snapshot.galera.nodes
        name = table.cursor_key()
        node = next((n for n in nodes if n.name == name), nodes[0] if nodes else None)
        detail = self.query_one("#galera-detail", Static)
        log = self.query_one("#galera-log", Static)
        if node is None:
            set_text(detail, note("no nodes", self.ctx.palette))
            set_text(log, "")
            return
        set_text(detail, node_detail(node, self.ctx.palette))
        text = error_log(node, self.ctx.palette)
        if text != self._shown_log:
            self._shown_log = text
            set_text(log, text)
            # anchored: it stays at the newest line through the re-layouts that follow (a
            # one-off scroll_end raced the wrap of the new text), until the user scrolls up
            self.query_one("#galera-log-box", VerticalScroll).anchor()

    def on_keyed_table_row_highlighted(self, event: KeyedTable.RowHighlighted) -> None:
        self._draw_detail()
