"""One-line headlines per layer ("3/3 Synced · size 3"), for the overview and pane headers.

Pure functions of a StackSnapshot: no textual, testable on their own.
"""

from __future__ import annotations

from jaraba_tui.collectors.galera import GaleraSnapshot
from jaraba_tui.collectors.haproxy import HAProxySnapshot
from jaraba_tui.collectors.proxysql import ProxySQLSnapshot
from jaraba_tui.collectors.redis import RedisSnapshot
from jaraba_tui.model.snapshot import StackSnapshot


def plural(n: int, word: str) -> str:
    return f"{n} {word if n == 1 else word + 's'}"


def galera_headline(g: GaleraSnapshot) -> str:
    total = len(g.nodes)
    synced = sum(1 for n in g.nodes if n.wsrep is not None and n.wsrep.synced)
    size = g.primary_size
    down = [n.name for n in g.nodes if n.wsrep is None]
    parts = [f"{synced}/{total} Synced", f"size {size}" if size is not None else "no Primary"]
    if down:
        parts.append(f"{', '.join(down)} down")
    return " · ".join(parts)


def proxysql_writers(p: ProxySQLSnapshot) -> list[str]:
    writer_hgs = {g.writer_hostgroup for g in p.galera_hostgroups if g.active}
    return sorted(
        {s.address for s in p.servers if s.hostgroup in writer_hgs and s.status == "ONLINE"}
    )


def proxysql_headline(p: ProxySQLSnapshot) -> str:
    if not p.servers:
        return "no backend list (admin unreachable?)"
    offline = {g.offline_hostgroup for g in p.galera_hostgroups if g.active}
    addrs = {s.address for s in p.servers}
    serving = {s.address for s in p.servers if s.status == "ONLINE" and s.hostgroup not in offline}
    writers = proxysql_writers(p)
    writer = f"writer {', '.join(writers)}" if writers else "NO WRITER"
    return f"{writer} · {len(serving)}/{len(addrs)} in service"


def haproxy_colour(h: HAProxySnapshot) -> str:
    """``BLUE`` / ``GREEN`` (upper case: the word carries the meaning), or ``?``."""
    return (h.live_colour or "?").upper()


def haproxy_headline(h: HAProxySnapshot) -> str:
    if not h.has_stats:
        return "no stats (runtime API and stats page unreachable)"
    pools = []
    for b in h.backends:
        servers = h.servers_of(b.proxy)
        if not servers:
            continue
        up = sum(1 for s in servers if s.usable)
        name = b.proxy.removeprefix("bk_app_").removeprefix("bk_")
        pools.append(f"{name} {up}/{len(servers)}")
    canary = f" · canary {h.canary} {h.canary_pct}%" if h.canary else ""
    return f"LIVE {haproxy_colour(h)}{canary} · " + " · ".join(pools)


def redis_headline(r: RedisSnapshot) -> str:
    master = r.master or "unknown"
    inst = r.instance(r.master) if r.master else None
    replicas = inst.info.replicas if inst is not None and inst.info is not None else ()
    linked = sum(1 for rep in replicas if rep.state == "online")
    agree = len(r.master_votes.get(r.master, ())) if r.master else 0
    replicas_word = "replica" if linked == 1 else "replicas"
    return (
        f"master {master} · {linked} {replicas_word} · {agree}/{len(r.sentinels)} Sentinels agree"
    )


def headline(layer: str, snap: StackSnapshot) -> str:
    """The layer's one-line state, or a reason it has none."""
    if layer == "galera" and snap.galera is not None:
        return galera_headline(snap.galera)
    if layer == "proxysql" and snap.proxysql is not None:
        return proxysql_headline(snap.proxysql)
    if layer == "haproxy" and snap.haproxy is not None:
        return haproxy_headline(snap.haproxy)
    if layer == "redis" and snap.redis is not None:
        return redis_headline(snap.redis)
    if layer == "alerts" and snap.alerts is not None:
        a = snap.alerts
        firing = len(a.prometheus.firing) if a.prometheus else 0
        pending = len(a.prometheus.pending) if a.prometheus else 0
        silences = (
            sum(1 for s in a.alertmanager.silences if s.state == "active") if a.alertmanager else 0
        )
        return f"{firing} firing · {pending} pending · {plural(silences, 'silence')}"
    if layer == "hosts" and snap.hosts:
        bits = []
        for h in snap.hosts:
            if not h.reachable:
                bits.append(f"{h.name} unreachable")
                continue
            load = f"load {h.load.load1:.1f}" if h.load else "load ?"
            mem = f"mem {h.memory.used_pct:.0f}%" if h.memory else "mem ?"
            disk = max((d.used_pct for d in h.disks), default=None)
            bits.append(f"{h.name} {load} {mem}" + (f" disk {disk:.0f}%" if disk else ""))
        return " · ".join(bits)
    if snap.failure(layer) is not None:
        return "no data yet"
    return "waiting for the first poll…" if snap.collected_at else "waiting…"


def is_standin(snap: StackSnapshot) -> bool:
    return snap.proxysql is not None and snap.proxysql.is_standin
