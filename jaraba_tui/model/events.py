"""Timeline events: what changed between two consecutive snapshots, in one sentence each.

``diff(prev, cur)`` is pure. The first poll (``prev`` None) has no events: a console that
just started did not see anything *happen*. A layer must be present in both snapshots for
its events to be computed, and an unreadable source (Prometheus down) does not make its
alerts "resolve".
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

from jaraba_tui.collectors.alerts import AlertsSnapshot, PromAlert
from jaraba_tui.collectors.common import Serialisable, is_fatal
from jaraba_tui.collectors.galera import GaleraNodeSnapshot, GaleraSnapshot
from jaraba_tui.collectors.haproxy import HAProxySnapshot
from jaraba_tui.collectors.proxysql import ProxySQLSnapshot
from jaraba_tui.collectors.redis import RedisSnapshot
from jaraba_tui.model.findings import Severity
from jaraba_tui.model.health._util import why
from jaraba_tui.model.health.alerts import SEVERITY_OF_LABEL
from jaraba_tui.model.snapshot import StackSnapshot


class EventKind(enum.Enum):
    NODE_LEFT = "node_left"
    NODE_JOINED = "node_joined"
    STATE_CHANGED = "state_changed"
    FAILOVER = "failover"
    SERVER_DOWN = "server_down"
    SERVER_UP = "server_up"
    COLOUR_SWITCHED = "colour_switched"
    ALERT_FIRED = "alert_fired"
    ALERT_RESOLVED = "alert_resolved"
    ENDPOINT_FAILED = "endpoint_failed"
    ENDPOINT_RECOVERED = "endpoint_recovered"


@dataclass(frozen=True)
class Event(Serialisable):
    timestamp: float
    component: str
    target: str
    kind: EventKind
    message: str
    severity: Severity = Severity.OK


class _Out:
    def __init__(self, ts: float) -> None:
        self.ts = ts
        self.events: list[Event] = []

    def add(self, component: str, target: str, kind: EventKind, msg: str, sev: Severity) -> None:
        self.events.append(Event(self.ts, component, target, kind, f"{component}: {msg}", sev))


def diff(prev: StackSnapshot | None, cur: StackSnapshot) -> list[Event]:
    if prev is None:
        return []
    out = _Out(cur.collected_at)
    # A layer whose data is the very same object (the engine merges one layer per poll and
    # keeps the others) has nothing to compare: skip it (1000 HAProxy servers, 300 alerts).
    if prev.galera is not None and cur.galera is not None and prev.galera is not cur.galera:
        _galera(prev.galera, cur.galera, out)
    p_sql, c_sql = prev.proxysql, cur.proxysql
    if p_sql is not None and c_sql is not None and p_sql is not c_sql:
        _proxysql(p_sql, c_sql, out)
    p_hap, c_hap = prev.haproxy, cur.haproxy
    if p_hap is not None and c_hap is not None and p_hap is not c_hap:
        _haproxy(p_hap, c_hap, out)
    if prev.redis is not None and cur.redis is not None and prev.redis is not cur.redis:
        _redis(prev.redis, cur.redis, out)
    if prev.alerts is not None and cur.alerts is not None and prev.alerts is not cur.alerts:
        _alerts(prev.alerts, cur.alerts, out)
    _endpoints(_endpoint_errors(prev), _endpoint_errors(cur), out)
    return out.events


# -- endpoints -------------------------------------------------------------------------------


def _endpoint_errors(s: StackSnapshot) -> dict[tuple[str, str], str | None]:
    """(component, target) -> why it failed, or None when it answered."""
    eps: dict[tuple[str, str], str | None] = {}
    # The layer itself: present = answered; a LayerFailure (below) = its collector failed.
    for layer in ("galera", "proxysql", "haproxy", "redis", "alerts"):
        if getattr(s, layer) is not None:
            eps[(layer, layer)] = None
    if s.galera is not None:
        for n in s.galera.nodes:
            eps[("galera", n.name)] = why(n.sql_error) if n.sql_error and not n.wsrep else None
    if s.proxysql is not None:
        err = next((e for e in s.proxysql.errors if is_fatal(e)), None)
        eps[("proxysql", s.proxysql.name)] = why(err) if err else None
    if s.haproxy is not None:
        err = next((e for e in s.haproxy.errors if is_fatal(e)), None)
        eps[("haproxy", s.haproxy.name)] = why(err) if err else None
    if s.redis is not None:
        for i in s.redis.instances:
            eps[("redis", i.name)] = why(i.error) if i.error and i.info is None else None
        for sn in s.redis.sentinels:
            err = next((e for e in sn.errors if is_fatal(e)), None)
            eps[("redis", sn.name)] = why(err) if err else None
    if s.alerts is not None:
        p, a = s.alerts.prometheus, s.alerts.alertmanager
        if p is not None:
            eps[("alerts", p.name)] = why(p.error) if p.error else None
        if a is not None:
            err = next((e for e in a.errors if is_fatal(e)), None)
            eps[("alerts", a.name)] = why(err) if err else None
    for h in s.hosts:
        eps[("host", h.name)] = why(h.errors[0]) if not h.reachable and h.errors else None
    for f in s.failures:
        comp = "host" if f.layer.startswith("hosts:") else f.layer
        eps[(comp, f.layer.split(":", 1)[-1])] = f.message
    return eps


def _endpoints(
    before: Mapping[tuple[str, str], str | None],
    after: Mapping[tuple[str, str], str | None],
    out: _Out,
) -> None:
    for key in sorted(set(before) & set(after)):
        comp, target = key
        b, a = before[key], after[key]
        if b is None and a is not None:
            out.add(
                comp,
                target,
                EventKind.ENDPOINT_FAILED,
                f"{target} stopped answering: {a}",
                Severity.WARN,
            )
        elif b is not None and a is None:
            out.add(
                comp, target, EventKind.ENDPOINT_RECOVERED, f"{target} answers again", Severity.OK
            )


# -- galera ----------------------------------------------------------------------------------


def _member(n: GaleraNodeSnapshot | None) -> bool:
    return n is not None and n.wsrep is not None and n.wsrep.in_primary


def _galera(prev: GaleraSnapshot, cur: GaleraSnapshot, out: _Out) -> None:
    size_b, size_a = prev.primary_size, cur.primary_size
    sizes = f" (size {size_b} → {size_a})" if size_b != size_a else ""
    for n in cur.nodes:
        p = prev.node(n.name)
        if p is None:
            continue
        if _member(p) and not _member(n):
            if n.wsrep is None:
                reason = why(n.sql_error) if n.sql_error else "no answer"
            else:
                reason = f"now {n.wsrep.cluster_status}, {n.wsrep.local_state_comment}"
            out.add(
                "galera",
                n.name,
                EventKind.NODE_LEFT,
                f"{n.name} left the cluster: {reason}{sizes}",
                Severity.CRIT,
            )
        elif not _member(p) and _member(n):
            out.add(
                "galera",
                n.name,
                EventKind.NODE_JOINED,
                f"{n.name} joined the cluster{sizes}",
                Severity.OK,
            )
        elif p.wsrep is not None and n.wsrep is not None:
            sb, sa = p.wsrep.local_state_comment, n.wsrep.local_state_comment
            if sb != sa:
                sev = Severity.OK if sa == "Synced" else Severity.WARN
                out.add("galera", n.name, EventKind.STATE_CHANGED, f"{n.name} {sb} → {sa}", sev)


# -- proxysql --------------------------------------------------------------------------------


def _in_service(s: ProxySQLSnapshot) -> dict[str, str]:
    """address -> "in service" / description of where it sits otherwise."""
    offline = {g.offline_hostgroup for g in s.galera_hostgroups if g.active}
    out: dict[str, list[str]] = {}
    for srv in s.servers:
        out.setdefault(srv.address, []).append(
            "in service"
            if srv.status == "ONLINE" and srv.hostgroup not in offline
            else f"{srv.status} in hg {srv.hostgroup}"
        )
    return {a: "in service" if "in service" in v else ", ".join(v) for a, v in out.items()}


def _writers(s: ProxySQLSnapshot) -> dict[int, str]:
    w: dict[int, str] = {}
    for g in s.galera_hostgroups:
        online = sorted(
            x.address
            for x in s.servers
            if x.hostgroup == g.writer_hostgroup and x.status == "ONLINE"
        )
        w[g.writer_hostgroup] = ", ".join(online) or "none"
    return w


def _proxysql(prev: ProxySQLSnapshot, cur: ProxySQLSnapshot, out: _Out) -> None:
    if not prev.servers or not cur.servers:
        return  # unreadable on one side: endpoint events say so
    b, a = _in_service(prev), _in_service(cur)
    for addr in sorted(set(b) & set(a)):
        if b[addr] == "in service" and a[addr] != "in service":
            out.add(
                "proxysql",
                addr,
                EventKind.SERVER_DOWN,
                f"backend {addr} taken out of service ({a[addr]})",
                Severity.WARN,
            )
        elif b[addr] != "in service" and a[addr] == "in service":
            out.add(
                "proxysql",
                addr,
                EventKind.SERVER_UP,
                f"backend {addr} back in service",
                Severity.OK,
            )
    wb, wa = _writers(prev), _writers(cur)
    for hg in sorted(set(wb) & set(wa)):
        if wb[hg] != wa[hg]:
            sev = Severity.CRIT if wa[hg] == "none" else Severity.WARN
            out.add(
                "proxysql",
                f"hg{hg}",
                EventKind.STATE_CHANGED,
                f"writer of hostgroup {hg} changed: {wb[hg]} → {wa[hg]}",
                sev,
            )


# -- haproxy ---------------------------------------------------------------------------------


def _haproxy(prev: HAProxySnapshot, cur: HAProxySnapshot, out: _Out) -> None:
    if prev.has_stats and cur.has_stats:
        before = {s.key: s.state for s in prev.servers}
        for s in cur.servers:
            b = before.get(s.key)
            if b is None or b == s.state:
                continue
            if s.usable and b not in ("UP", "NO CHECK"):
                out.add(
                    "haproxy",
                    s.key,
                    EventKind.SERVER_UP,
                    f"{s.key} is UP again (was {b})",
                    Severity.OK,
                )
            elif b in ("UP", "NO CHECK") and not s.usable:
                check = f", check {s.check_status}" if s.check_status else ""
                out.add(
                    "haproxy",
                    s.key,
                    EventKind.SERVER_DOWN,
                    f"{s.key} went {s.state} (was {b}{check})",
                    Severity.WARN,
                )
            else:
                out.add(
                    "haproxy",
                    s.key,
                    EventKind.STATE_CHANGED,
                    f"{s.key} {b} → {s.state}",
                    Severity.WARN,
                )
    cb, ca = prev.live_colour, cur.live_colour
    if cb is not None and ca is not None and cb != ca:
        out.add(
            "haproxy",
            cur.name,
            EventKind.COLOUR_SWITCHED,
            f"live colour switched {cb} → {ca}",
            Severity.WARN,
        )


# -- redis -----------------------------------------------------------------------------------


def _redis(prev: RedisSnapshot, cur: RedisSnapshot, out: _Out) -> None:
    mb, ma = prev.master, cur.master
    if mb is not None and ma is not None and mb != ma:
        out.add(
            "redis",
            cur.master_name,
            EventKind.FAILOVER,
            f"failover of {cur.master_name}: master {mb} → {ma} (per the Sentinels)",
            Severity.WARN,
        )
    before = {i.name: i.info for i in prev.instances}
    for i in cur.instances:
        b = before.get(i.name)
        if b is None or i.info is None:
            continue
        if b.role != i.info.role:
            out.add(
                "redis",
                i.name,
                EventKind.STATE_CHANGED,
                f"{i.name} ({i.address}) role {b.role} → {i.info.role}",
                Severity.WARN,
            )
        elif i.info.role == "slave" and b.master_link_status != i.info.master_link_status:
            sev = Severity.OK if i.info.master_link_status == "up" else Severity.WARN
            out.add(
                "redis",
                i.name,
                EventKind.STATE_CHANGED,
                f"{i.name} replication link {b.master_link_status} → {i.info.master_link_status}",
                sev,
            )
    odown_b = any(s.master is not None and s.master.o_down for s in prev.sentinels)
    odown_a = any(s.master is not None and s.master.o_down for s in cur.sentinels)
    if odown_a and not odown_b:
        out.add(
            "redis",
            cur.master_name,
            EventKind.STATE_CHANGED,
            f"Sentinels agree master {mb} is down (o_down)",
            Severity.CRIT,
        )


# -- alerts ----------------------------------------------------------------------------------


def _alert_key(a: PromAlert) -> str:
    return a.name + "{" + ",".join(f"{k}={v}" for k, v in sorted(a.labels.items())) + "}"


def _alerts(prev: AlertsSnapshot, cur: AlertsSnapshot, out: _Out) -> None:
    p, c = prev.prometheus, cur.prometheus
    if p is None or c is None or p.error is not None or c.error is not None:
        return
    before = {_alert_key(a): a for a in p.firing}
    after = {_alert_key(a): a for a in c.firing}
    for key in sorted(set(after) - set(before)):
        a = after[key]
        sev = SEVERITY_OF_LABEL.get((a.severity or "").lower(), Severity.WARN)
        summary = f" — {a.summary}" if a.summary else ""
        out.add(
            "alerts",
            a.name,
            EventKind.ALERT_FIRED,
            f"{a.name} ({a.severity or 'no severity'}) fired{summary}",
            sev,
        )
    for key in sorted(set(before) - set(after)):
        a = before[key]
        out.add("alerts", a.name, EventKind.ALERT_RESOLVED, f"{a.name} resolved", Severity.OK)
