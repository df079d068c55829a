"""ProxySQL: backends per hostgroup (runtime servers + connection pool), monitor errors,
query rate and per-backend latency. The lab's stand-in is labelled as such."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static

from jaraba_tui.collectors.proxysql import PoolEntry, ProxyServer, ProxySQLSnapshot
from jaraba_tui.engine import EngineUpdate
from jaraba_tui.ui.format import Palette, ellipsize, num
from jaraba_tui.ui.widgets.layers import health_cell, note, state_cell
from jaraba_tui.ui.widgets.pane import LayerPane, RenderCtx, set_text
from jaraba_tui.ui.widgets.sparks import Series, SparkPanel
from jaraba_tui.ui.widgets.table import KeyedTable

BACKENDS = [
    ("backend", "Backend"),
    ("hg", "HG"),
    ("role", "Role"),
    ("health", "Health"),
    ("status", "Status"),
    ("weight", "Weight"),
    ("used", "Used"),
    ("free", "Free"),
    ("err", "ConnErr"),
    ("queries", "Queries"),
    ("latency", "Ping"),
]
DIGESTS = [("count", "Count"), ("hg", "HG"), ("avg", "Avg ms"), ("query", "Query")]


def standin_badge(pal: Palette) -> Text:
    return Text(" STAND-IN ", style=f"bold reverse {pal.warn}")


def _roles(p: ProxySQLSnapshot) -> dict[int, str]:
    roles: dict[int, str] = {}
    for g in p.galera_hostgroups:
        roles[g.writer_hostgroup] = "writer"
        if g.backup_writer_hostgroup is not None:
            roles[g.backup_writer_hostgroup] = "backup writer"
        if g.reader_hostgroup is not None:
            roles[g.reader_hostgroup] = "reader"
        if g.offline_hostgroup is not None:
            roles[g.offline_hostgroup] = "offline"
    return roles


def backend_rows(
    p: ProxySQLSnapshot, update: EngineUpdate, pal: Palette
) -> list[tuple[str, list[str | Text]]]:
    pool = {(e.hostgroup, e.address): e for e in p.pool}
    roles = _roles(p)
    rows: list[tuple[str, list[str | Text]]] = []
    keys: list[tuple[int, str]] = [(s.hostgroup, s.address) for s in p.servers]
    keys += [k for k in pool if k not in keys]
    servers = {(s.hostgroup, s.address): s for s in p.servers}
    for hg, addr in sorted(keys):
        s: ProxyServer | None = servers.get((hg, addr))
        e: PoolEntry | None = pool.get((hg, addr))
        status = s.status if s else (e.status if e else "?")
        role = roles.get(hg, "")
        good = status == "ONLINE" and role != "offline"
        rows.append(
            (
                f"{hg}:{addr}",
                [
                    addr,
                    str(hg),
                    role,
                    health_cell(update, "proxysql", pal, addr),
                    state_cell(status, good if status in ("ONLINE", "SHUNNED") else False, pal),
                    num(s.weight) if s else "-",
                    num(e.conn_used) if e else "-",
                    num(e.conn_free) if e else "-",
                    num(e.conn_err) if e else "-",
                    num(e.queries) if e else "-",
                    "-" if e is None or e.latency_us is None else f"{e.latency_us / 1000:.1f}ms",
                ],
            )
        )
    return rows


class ProxySQLPane(LayerPane):
    layer_key = "proxysql"

    def badge(self, update: EngineUpdate, ctx: RenderCtx) -> Text | None:
        p = update.snapshot.proxysql
        return standin_badge(ctx.palette) if p is not None and p.is_standin else None

    def selected_target(self, kind: str) -> str | None:
        """``host:port`` of the highlighted backend (rows are keyed ``hostgroup:host:port``)."""
        if kind != "proxysql-backend":
            return None
        key = self.query_one("#proxysql-backends", KeyedTable).cursor_key()
        return key.partition(":")[2] if key else None

    def compose_body(self) -> ComposeResult:
        yield Static(id="proxysql-info", classes="info")
        yield KeyedTable(BACKENDS, id="proxysql-backends")
        yield SparkPanel(id="proxysql-sparks", classes="sparks")
        yield Static(id="proxysql-monitor", classes="info")
        yield KeyedTable(DIGESTS, id="proxysql-digests", classes="secondary")

    def render_update(self, update: EngineUpdate, ctx: RenderCtx) -> None:
        pal = ctx.palette
        p = update.snapshot.proxysql
        info = self.query_one("#proxysql-info", Static)
        if p is None:
            set_text(info, note("ProxySQL not polled", pal))
            return
        line = Text()
        if p.is_standin:
            line.append(standin_badge(pal))
            line.append(" the lab's ProxySQL stand-in, not a real ProxySQL · ", style=pal.warn)
        line.append(f"{p.endpoint} · version {p.version or '?'}")
        if "Client_Connections_connected" in p.counters:
            line.append(f" · {p.counters['Client_Connections_connected']} clients")
        set_text(info, line)
        self.query_one("#proxysql-backends", KeyedTable).set_rows(backend_rows(p, update, pal))

        series = [
            Series("queries/s", "proxysql.questions_per_s", lambda v: f"{v:,.1f}"),
            Series("clients", "proxysql.clients"),
        ]
        seen: set[str] = set()
        for e in p.pool:
            if e.address in seen:
                continue
            seen.add(e.address)
            series.append(
                Series(
                    f"ping {e.address}",
                    f"proxysql.hg{e.hostgroup}.{e.address}.latency_ms",
                    lambda v: f"{v:.1f}ms",
                )
            )
        for e in p.pool:
            series.append(
                Series(
                    f"used hg{e.hostgroup} {e.address}",
                    f"proxysql.hg{e.hostgroup}.{e.address}.conn_used",
                )
            )
        self.query_one("#proxysql-sparks", SparkPanel).show(series, update.history, pal)

        mon = Text()
        for label, summary in (("ping", p.ping), ("Galera check", p.galera_checks)):
            if summary is None:
                continue
            for c in summary.recent_errors[-5:]:
                if mon:
                    mon.append("\n")
                mon.append(f"monitor {label} {c.address}: {c.error}", style=pal.warn)
        if not mon:
            mon = note("monitor: no recent errors", pal)
        set_text(self.query_one("#proxysql-monitor", Static), mon)
        self.query_one("#proxysql-digests", KeyedTable).set_rows(
            [
                (
                    d.digest or f"{i}",
                    [
                        num(d.count_star),
                        "-" if d.hostgroup is None else str(d.hostgroup),
                        "-"
                        if not d.count_star or d.sum_time_us is None
                        else f"{d.sum_time_us / d.count_star / 1000:.2f}",
                        ellipsize(" ".join(d.digest_text.split()), 80),
                    ],
                )
                for i, d in enumerate(p.digests)
            ]
        )
