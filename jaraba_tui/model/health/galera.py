"""Galera rules: membership, component, node state, queues, flow control, host side."""

from __future__ import annotations

from jaraba_tui.collectors.galera import GaleraNodeSnapshot, GaleraSnapshot, WsrepStatus
from jaraba_tui.model.findings import Finding, Severity
from jaraba_tui.model.health._util import why
from jaraba_tui.model.thresholds import Thresholds

C = "galera"

#: State -> severity for a node that is not Synced. Anything else is UNKNOWN.
STATE_SEVERITY = {
    "Synced": Severity.OK,
    "Donor/Desynced": Severity.WARN,
    "Joined": Severity.WARN,
    "Joining": Severity.WARN,
    "Waiting on SST": Severity.WARN,
    "Initialized": Severity.CRIT,
    "Destroyed": Severity.CRIT,
    "Error": Severity.CRIT,
    "Disconnected": Severity.CRIT,
}

STATE_MEANING = {
    "Donor/Desynced": "serving a state transfer to another node",
    "Joined": "catching up with the cluster",
    "Joining": "joining the cluster",
    "Waiting on SST": "waiting for a full state transfer",
    "Initialized": "not part of any Primary component",
}


def _state_severity(state: str) -> Severity | None:
    if state in STATE_SEVERITY:
        return STATE_SEVERITY[state]
    if state.startswith("Joining"):
        return Severity.WARN
    return None


def _absent_reason(n: GaleraNodeSnapshot) -> str:
    """Why a node is not in the Primary component: "node3 not in the cluster: ..." ."""
    if n.wsrep is None:
        err = why(n.sql_error) if n.sql_error else "no answer"
        if n.process is not None and n.process.running is False:
            return f"{n.name} not in the cluster: mariadbd not running ({err})"
        return f"{n.name} not in the cluster: {err}"
    ws = n.wsrep
    if ws.cluster_status != "Primary":
        return f"{n.name} in a {ws.cluster_status or 'unknown'} component"
    return f"{n.name} {ws.local_state_comment or 'in an unknown state'}"


def _flow_fraction(
    cur: WsrepStatus, prev: WsrepStatus | None, dt: float | None
) -> tuple[float | None, str]:
    """The paused fraction over the last poll interval when two polls allow it; otherwise
    the server's own figure (which averages since the last FLUSH STATUS or start)."""
    if (
        prev is not None
        and dt
        and dt > 0
        and cur.flow_control_paused_ns is not None
        and prev.flow_control_paused_ns is not None
        and cur.flow_control_paused_ns >= prev.flow_control_paused_ns
    ):
        frac = (cur.flow_control_paused_ns - prev.flow_control_paused_ns) / (dt * 1e9)
        return min(1.0, frac), "over the last poll"
    return cur.flow_control_paused, "since the status was last flushed"


def galera_findings(
    snap: GaleraSnapshot, th: Thresholds, prev: GaleraSnapshot | None = None
) -> list[Finding]:
    out: list[Finding] = []
    expected = snap.expected_size
    reachable = snap.reachable_nodes

    if not reachable:
        out.append(_all_down(snap))
    else:
        size = snap.primary_size
        absent = [n for n in snap.nodes if n.wsrep is None or not n.wsrep.in_primary]
        missing = "; ".join(_absent_reason(n) for n in absent)
        if size is None:
            out.append(
                Finding(
                    Severity.CRIT,
                    C,
                    "cluster",
                    "galera: no node is in a Primary component — the cluster refuses queries"
                    + (f" ({missing})" if missing else ""),
                    "galera.no_primary",
                )
            )
        elif size < expected:
            tail = f" — {missing}" if missing else ""
            out.append(
                Finding(
                    Severity.CRIT,
                    C,
                    "cluster",
                    f"galera: cluster size {size}/{expected}{tail}",
                    "galera.size",
                )
            )
        elif size > expected:
            out.append(
                Finding(
                    Severity.WARN,
                    C,
                    "cluster",
                    f"galera: cluster size {size} but {expected} expected — an unknown member?",
                    "galera.size",
                )
            )
        uuids = {
            n.wsrep.cluster_state_uuid
            for n in reachable
            if n.wsrep is not None and n.wsrep.in_primary and n.wsrep.cluster_state_uuid
        }
        if len(uuids) > 1:
            out.append(
                Finding(
                    Severity.CRIT,
                    C,
                    "cluster",
                    "galera: Primary nodes report different cluster state UUIDs — split brain",
                    "galera.split",
                )
            )

    dt = None if prev is None else snap.collected_at - prev.collected_at
    for n in snap.nodes:
        p = prev.node(n.name) if prev is not None else None
        out += _node(n, th, p.wsrep if p is not None else None, dt)

    if not any(f.severity is not Severity.OK for f in out):
        states = sorted({n.wsrep.local_state_comment or "?" for n in reachable if n.wsrep})
        conf = {n.wsrep.cluster_conf_id for n in reachable if n.wsrep}
        conf_s = f", conf {conf.pop()}" if len(conf) == 1 else ""
        out.append(
            Finding(
                Severity.OK,
                C,
                "cluster",
                f"galera: {len(reachable)}/{len(snap.nodes)} nodes {'/'.join(states)} "
                f"in one Primary component, size {snap.primary_size}{conf_s}",
                "galera.ok",
            )
        )
    return out


def _all_down(snap: GaleraSnapshot) -> Finding:
    reasons = "; ".join(_absent_reason(n) for n in snap.nodes)
    states = [(n.name, n.grastate) for n in snap.nodes if n.grastate is not None]
    advice = ""
    safe = [name for name, g in states if g is not None and g.safe_to_bootstrap]
    if safe:
        advice = f" — {safe[0]} has safe_to_bootstrap: 1 (bootstrap from it)"
    elif states:
        best = max(states, key=lambda s: s[1].seqno if s[1] is not None else -2)
        if best[1] is not None and best[1].seqno >= 0:
            advice = f" — highest saved seqno {best[1].seqno} on {best[0]}"
        else:
            advice = " — no safe_to_bootstrap node and no saved seqno: recover positions first"
    return Finding(
        Severity.CRIT,
        C,
        "cluster",
        f"galera: no node answers ({reasons}){advice}",
        "galera.down",
    )


def _node(
    n: GaleraNodeSnapshot, th: Thresholds, prev: WsrepStatus | None, dt: float | None
) -> list[Finding]:
    out: list[Finding] = []

    def add(sev: Severity, msg: str, code: str) -> None:
        out.append(Finding(sev, C, n.name, f"galera: {n.name} {msg}", code))

    if n.wsrep is None:
        err = n.sql_error
        if err is not None and err.kind == "parse":
            add(
                Severity.UNKNOWN,
                f"answered but its status is unreadable: {why(err)}",
                "galera.parse",
            )
        elif n.process is not None and n.process.running is False:
            last = next((ln for ln in reversed(n.error_log_tail) if "[ERROR]" in ln), None)
            extra = f"; last error: {last}" if last else ""
            add(Severity.CRIT, f"is down: mariadbd not running{extra}", "galera.not_running")
        else:
            reason = why(err) if err is not None else "no answer"
            add(Severity.CRIT, f"unreachable: {reason}", "galera.unreachable")
    else:
        ws = n.wsrep
        status = ws.cluster_status
        if status not in ("Primary", "non-Primary", "Disconnected"):
            add(Severity.UNKNOWN, f"reports an unknown cluster status {status!r}", "galera.status")
        elif status != "Primary":
            add(Severity.CRIT, f"is in a {status} component — it refuses queries", "galera.status")
        if ws.connected is False:
            add(
                Severity.CRIT,
                "is not connected to the cluster (wsrep_connected OFF)",
                "galera.connected",
            )
        if ws.ready is False:
            add(Severity.CRIT, "does not accept queries (wsrep_ready OFF)", "galera.ready")
        state = ws.local_state_comment or ""
        sev = _state_severity(state)
        if sev is None:
            add(Severity.UNKNOWN, f"reports an unknown state {state!r}", "galera.state")
        elif sev is not Severity.OK:
            meaning = STATE_MEANING.get(state) or STATE_MEANING.get(state.split(":")[0], "")
            add(sev, f"is {state}" + (f" ({meaning})" if meaning else ""), "galera.state")
        frac, basis = _flow_fraction(ws, prev, dt)
        if frac is not None and frac >= th.galera_flow_control_warn:
            s = Severity.CRIT if frac >= th.galera_flow_control_crit else Severity.WARN
            add(
                s,
                f"replication paused by flow control {frac:.0%} of the time {basis}",
                "galera.flow",
            )
        q = ws.local_recv_queue
        if q is not None and q >= th.galera_recv_queue_warn:
            s = Severity.CRIT if q >= th.galera_recv_queue_crit else Severity.WARN
            add(s, f"receive queue {q} write-sets (applying falls behind)", "galera.recv_queue")
        sq = ws.local_send_queue
        if sq is not None and sq >= th.galera_send_queue_warn:
            add(
                Severity.WARN,
                f"send queue {sq} write-sets (network to peers slow)",
                "galera.send_queue",
            )
        if n.process is not None and n.process.running is False:
            add(
                Severity.UNKNOWN,
                f"answers SQL but the process check says: {n.process.detail}",
                "galera.process",
            )

    if n.disk is not None:
        pct = n.disk.used_pct
        if pct >= th.disk_warn_pct:
            s = Severity.CRIT if pct >= th.disk_crit_pct else Severity.WARN
            free_gib = n.disk.available_kb / 1024 / 1024
            add(
                s,
                f"datadir disk {pct:.0f}% full ({free_gib:.1f} GiB free on {n.disk.mount})",
                "galera.disk",
            )
    if n.shell_errors:
        steps = ", ".join(f"{e.step}: {why(e)}" for e in n.shell_errors)
        add(Severity.UNKNOWN, f"host checks failed ({steps})", "galera.host_checks")
    return out
