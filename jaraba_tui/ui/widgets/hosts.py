"""Hosts: load per CPU, memory, swap and the fullest filesystems of every SSH host."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult

from jaraba_tui.engine import EngineUpdate
from jaraba_tui.ui.format import num, pct, size
from jaraba_tui.ui.widgets.layers import health_cell
from jaraba_tui.ui.widgets.pane import LayerPane, RenderCtx
from jaraba_tui.ui.widgets.sparks import Series, SparkPanel
from jaraba_tui.ui.widgets.table import KeyedTable

HOSTS = [
    ("host", "Host"),
    ("health", "Health"),
    ("load", "Load 1/5/15"),
    ("cpus", "CPUs"),
    ("mem", "Memory"),
    ("swap", "Swap"),
    ("disk", "Fullest disk"),
]
DISKS = [("fs", "Host:mount"), ("used", "Used"), ("size", "Size"), ("free", "Free")]


class HostsPane(LayerPane):
    layer_key = "hosts"

    def compose_body(self) -> ComposeResult:
        yield KeyedTable(HOSTS, id="hosts-table")
        yield KeyedTable(DISKS, id="hosts-disks")
        yield SparkPanel(id="hosts-sparks", classes="sparks")

    def render_update(self, update: EngineUpdate, ctx: RenderCtx) -> None:
        pal = ctx.palette
        rows: list[tuple[str, list[str | Text]]] = []
        disks: list[tuple[str, list[str | Text]]] = []
        series: list[Series] = []
        for h in update.snapshot.hosts:
            if not h.reachable:
                err = h.errors[0].sentence() if h.errors else "no answer"
                rows.append(
                    (
                        h.name,
                        [
                            h.name,
                            health_cell(update, "hosts", pal, h.name),
                            Text(f"unreachable: {err}", style=pal.crit),
                            "-",
                            "-",
                            "-",
                            "-",
                        ],
                    )
                )
                continue
            fullest = max(h.disks, key=lambda d: d.used_pct, default=None)
            rows.append(
                (
                    h.name,
                    [
                        h.name,
                        health_cell(update, "hosts", pal, h.name),
                        f"{h.load.load1:.2f} {h.load.load5:.2f} {h.load.load15:.2f}"
                        if h.load
                        else "-",
                        num(h.cpus),
                        pct(h.memory.used_pct) if h.memory else "-",
                        pct(h.memory.swap_used_pct) if h.memory and h.memory.swap_total_kb else "-",
                        f"{fullest.mount} {pct(fullest.used_pct)}" if fullest else "-",
                    ],
                )
            )
            for d in h.disks:
                disks.append(
                    (
                        f"{h.name}:{d.mount}",
                        [
                            f"{h.name}:{d.mount}",
                            pct(d.used_pct),
                            size(d.total_kb * 1024),
                            size(d.available_kb * 1024),
                        ],
                    )
                )
            series.append(Series(f"{h.name} load1", f"host.{h.name}.load1", lambda v: f"{v:.2f}"))
            series.append(Series(f"{h.name} memory", f"host.{h.name}.memory_pct", pct))
        self.query_one("#hosts-table", KeyedTable).set_rows(rows)
        self.query_one("#hosts-disks", KeyedTable).set_rows(disks)
        self.query_one("#hosts-sparks", SparkPanel).show(series, update.history, pal)
