"""Redis + Sentinel: the master the Sentinels name, every instance's own role and link,
each Sentinel's view and quorum; ops/s and replication lag over time."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static

from jaraba_tui.collectors.redis import RedisSnapshot, ReplicaLink
from jaraba_tui.collectors.sentinel import norm_addr
from jaraba_tui.engine import EngineUpdate
from jaraba_tui.ui.format import Palette, age, num, pct, size
from jaraba_tui.ui.widgets.layers import health_cell, note, state_cell
from jaraba_tui.ui.widgets.pane import LayerPane, RenderCtx, set_text
from jaraba_tui.ui.widgets.sparks import Series, SparkPanel
from jaraba_tui.ui.widgets.table import KeyedTable

INSTANCES = [
    ("name", "Instance"),
    ("addr", "Address"),
    ("health", "Health"),
    ("role", "Role"),
    ("link", "Link"),
    ("lag", "Lag"),
    ("ops", "Ops/s"),
    ("mem", "Memory"),
    ("clients", "Clients"),
    ("uptime", "Uptime"),
]
SENTINELS = [
    ("name", "Sentinel"),
    ("health", "Health"),
    ("master", "Says master"),
    ("flags", "Flags"),
    ("quorum", "Quorum"),
    ("replicas", "Replicas"),
    ("peers", "Peers"),
]


def instance_rows(
    r: RedisSnapshot, update: EngineUpdate, pal: Palette
) -> list[tuple[str, list[str | Text]]]:
    master = norm_addr(r.master) if r.master else None
    lag_by_addr: dict[str, ReplicaLink] = {}
    for i in r.instances:
        if i.info is not None:
            for rep in i.info.replicas:
                lag_by_addr[norm_addr(rep.address)] = rep
    rows: list[tuple[str, list[str | Text]]] = []
    for i in r.instances:
        info = i.info
        is_master = master is not None and norm_addr(i.address) == master
        if info is None:
            why = i.error.kind if i.error else "no answer"
            cells: list[str | Text] = [
                i.name,
                i.address,
                health_cell(update, "redis", pal, i.name, i.address),
                Text(f"DOWN ({why})", style=f"bold {pal.crit}"),
                "-",
                "-",
                "-",
                "-",
                "-",
                "-",
            ]
        else:
            word = info.role or "?"
            role = "MASTER" if is_master else {"slave": "replica"}.get(word, word)
            mine = lag_by_addr.get(norm_addr(i.address))
            lag = "-"
            if info.role == "slave" and mine is not None:
                lag = f"{mine.lag_s}s" if mine.lag_s is not None else "-"
                if mine.lag_bytes is not None:
                    lag += f" {size(mine.lag_bytes)}"
            link: Text | str = "-"
            if info.role == "slave":
                link = state_cell(info.master_link_status, info.master_link_status == "up", pal)
            mem = size(info.used_memory)
            if info.memory_pct is not None:
                mem += f" ({pct(info.memory_pct)})"
            cells = [
                i.name,
                i.address,
                health_cell(update, "redis", pal, i.name, i.address),
                Text(role, style="bold" if is_master else ""),
                link,
                lag,
                num(info.instantaneous_ops_per_sec),
                mem,
                num(info.connected_clients),
                age(info.uptime_s),
            ]
        rows.append((i.name, cells))
    return rows


def sentinel_rows(
    r: RedisSnapshot, update: EngineUpdate, pal: Palette
) -> list[tuple[str, list[str | Text]]]:
    rows: list[tuple[str, list[str | Text]]] = []
    for s in r.sentinels:
        m = s.master
        quorum: Text | str = "-"
        if s.quorum is not None:
            word = {True: "OK", False: "NO", None: "?"}[s.quorum.ok]
            quorum = state_cell(word, s.quorum.ok, pal)
        rows.append(
            (
                s.name,
                [
                    s.name,
                    health_cell(update, "redis", pal, s.name),
                    s.master_addr
                    or Text("unreachable" if not s.reachable else "?", style=pal.crit),
                    ",".join(m.flags) if m else "-",
                    quorum,
                    str(len(s.replicas)),
                    str(len(s.peers)),
                ],
            )
        )
    return rows


class RedisPane(LayerPane):
    layer_key = "redis"

    def compose_body(self) -> ComposeResult:
        yield Static(id="redis-master", classes="info")
        yield KeyedTable(INSTANCES, id="redis-instances")
        yield KeyedTable(SENTINELS, id="redis-sentinels")
        yield SparkPanel(id="redis-sparks", classes="sparks")

    def render_update(self, update: EngineUpdate, ctx: RenderCtx) -> None:
        pal = ctx.palette
        r = update.snapshot.redis
        head = self.query_one("#redis-master", Static)
        if r is None:
            set_text(head, note("Redis not polled", pal))
            return
        line = Text("master ", style="bold")
        line.append(r.master or "UNKNOWN", style=f"bold {pal.ok if r.master else pal.crit}")
        votes = "; ".join(f"{', '.join(who)} → {addr}" for addr, who in r.master_votes.items())
        line.append(f"  ({r.master_source}: {votes or 'no votes'})", style=pal.muted)
        line.append(f"  · {r.master_name}", style=pal.muted)
        set_text(head, line)
        self.query_one("#redis-instances", KeyedTable).set_rows(instance_rows(r, update, pal))
        self.query_one("#redis-sentinels", KeyedTable).set_rows(sentinel_rows(r, update, pal))
        series = [Series(f"{i.name} ops/s", f"redis.{i.name}.ops_per_s") for i in r.instances]
        replicas = sorted({rep.address for i in r.instances if i.info for rep in i.info.replicas})
        series += [
            Series(f"lag {addr}", f"redis.replica.{addr}.lag_bytes", size) for addr in replicas
        ]
        self.query_one("#redis-sparks", SparkPanel).show(series, update.history, pal)
