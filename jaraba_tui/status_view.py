"""``jaraba-ops status`` and ``check``: one poll, rendered for a terminal, JSON or a plugin.

Rich only (no textual). Layers with problems come first; inside a layer the findings are
worst first, followed by the layer's key facts.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from jaraba_tui.model.findings import COMPONENTS, Finding, Severity, worst
from jaraba_tui.model.snapshot import StackSnapshot

#: Bumped on any incompatible change of ``status --json`` (the snapshot has its own version).
STATUS_JSON_VERSION = 1

_STYLE = {
    Severity.OK: "green",
    Severity.UNKNOWN: "magenta",
    Severity.WARN: "yellow",
    Severity.CRIT: "bold red",
}
_TITLES = {
    "haproxy": "HAProxy",
    "proxysql": "ProxySQL",
    "galera": "Galera",
    "redis": "Redis / Sentinel",
    "alerts": "Alerts",
    "host": "Hosts",
    "stack": "Stack",
}


def _clock(ts: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(ts))


def severity_text(sev: Severity) -> Text:
    """Symbol and word: status is never colour alone."""
    return Text(f"{sev.symbol} {sev.label}", style=_STYLE[sev])


def by_component(findings: Iterable[Finding]) -> dict[str, list[Finding]]:
    groups: dict[str, list[Finding]] = {}
    for f in findings:
        groups.setdefault(f.component, []).append(f)
    return groups


def _ordered_components(groups: dict[str, list[Finding]]) -> list[str]:
    def key(comp: str) -> tuple[int, int]:
        order = COMPONENTS.index(comp) if comp in COMPONENTS else 99
        return (-worst(groups[comp]).rank, order)

    return sorted(groups, key=key)


def _fmt(value: object, suffix: str = "") -> str:
    return "-" if value is None else f"{value}{suffix}"


def _galera_facts(snap: StackSnapshot) -> Table | None:
    if snap.galera is None:
        return None
    t = Table(box=None, pad_edge=False, show_edge=False)
    for col in ("node", "state", "cluster", "size", "ready", "recv q", "flow ctl", "seqno"):
        t.add_column(col)
    for n in snap.galera.nodes:
        w = n.wsrep
        seqno = str(n.grastate.seqno) if n.grastate else "-"
        if w is None:
            why = n.sql_error.message if n.sql_error else "no answer"
            t.add_row(n.name, Text("unreachable", style="red"), why[:50], "-", "-", "-", "-", seqno)
            continue
        t.add_row(
            n.name,
            _fmt(w.local_state_comment),
            _fmt(w.cluster_status),
            _fmt(w.cluster_size),
            {True: "ON", False: "OFF", None: "-"}[w.ready],
            _fmt(w.local_recv_queue),
            "-" if w.flow_control_paused is None else f"{w.flow_control_paused:.3f}",
            seqno,
        )
    return t


def _proxysql_facts(snap: StackSnapshot) -> Table | None:
    if snap.proxysql is None:
        return None
    t = Table(box=None, pad_edge=False, show_edge=False)
    for col in ("hostgroup", "backend", "status", "used", "free", "queries", "latency"):
        t.add_column(col)
    pool = {(p.hostgroup, p.host, p.port): p for p in snap.proxysql.pool}
    for s in sorted(snap.proxysql.servers, key=lambda s: (s.hostgroup, s.hostname, s.port)):
        p = pool.get((s.hostgroup, s.hostname, s.port))
        t.add_row(
            str(s.hostgroup),
            f"{s.hostname}:{s.port}",
            s.status,
            _fmt(p.conn_used if p else None),
            _fmt(p.conn_free if p else None),
            _fmt(p.queries if p else None),
            _fmt(p.latency_us if p else None, " µs"),
        )
    return t


def _haproxy_facts(snap: StackSnapshot) -> Table | None:
    if snap.haproxy is None:
        return None
    t = Table(box=None, pad_edge=False, show_edge=False)
    for col in ("backend", "server", "status", "sessions", "5xx", "check"):
        t.add_column(col)
    for s in snap.haproxy.servers:
        t.add_row(s.proxy, s.name, s.status, _fmt(s.scur), _fmt(s.hrsp_5xx), _fmt(s.check_status))
    return t


def _redis_facts(snap: StackSnapshot) -> Table | None:
    if snap.redis is None:
        return None
    t = Table(box=None, pad_edge=False, show_edge=False)
    for col in ("instance", "address", "role", "link", "ops/s", "memory", "clients"):
        t.add_column(col)
    for i in snap.redis.instances:
        info = i.info
        if info is None:
            why = i.error.message if i.error else "no answer"
            t.add_row(i.name, i.address, Text("unreachable", style="red"), why[:40], "", "", "")
            continue
        t.add_row(
            i.name,
            i.address,
            _fmt(info.role),
            _fmt(info.master_link_status),
            _fmt(info.instantaneous_ops_per_sec),
            _fmt(info.used_memory),
            _fmt(info.connected_clients),
        )
    return t


_FACTS = {
    "galera": _galera_facts,
    "proxysql": _proxysql_facts,
    "haproxy": _haproxy_facts,
    "redis": _redis_facts,
}


def render_status(
    console: Console, snap: StackSnapshot, findings: Sequence[Finding], *, verbose: bool = False
) -> None:
    overall = worst(findings)
    env = snap.environment or "?"
    env_text = Text(
        f" {env.upper()} ", style="bold white on red" if env == "production" else "bold"
    )
    head = Text.assemble(
        ("jaraba-ops status  ", "bold"),
        ("profile ", "dim"),
        (snap.profile or "?", "bold"),
        ("  environment ", "dim"),
        env_text,
        ("  overall ", "dim"),
        severity_text(overall),
        (
            f"  polled in {snap.elapsed_ms:.0f} ms at {_clock(snap.collected_at)}",
            "dim",
        ),
    )
    console.print(head)
    groups = by_component(findings)
    for comp in _ordered_components(groups):
        items = groups[comp]
        sev = worst(items)
        rows = Table(box=None, show_header=False, pad_edge=False, show_edge=False)
        rows.add_column(no_wrap=True)
        rows.add_column(overflow="fold")
        for f in items:
            rows.add_row(severity_text(f.severity), f.message)
        parts: list[Any] = [rows]
        facts = _FACTS.get(comp)
        detail = facts(snap) if facts and (verbose or sev is not Severity.OK) else None
        if detail is not None and detail.row_count:
            parts.append(Text(""))
            parts.append(detail)
        title = Text.assemble((_TITLES.get(comp, comp), "bold"), "  ", severity_text(sev))
        console.print(
            Panel(Group(*parts), title=title, title_align="left", border_style=_STYLE[sev])
        )


def status_json(snap: StackSnapshot, findings: Sequence[Finding]) -> dict[str, Any]:
    overall = worst(findings)
    return {
        "status_version": STATUS_JSON_VERSION,
        "profile": snap.profile,
        "environment": snap.environment,
        "overall": {"severity": overall.value, "exit_code": overall.exit_code},
        "findings": [f.to_dict() for f in findings],
        "snapshot": snap.to_dict(),
    }


def check_lines(findings: Sequence[Finding]) -> tuple[int, list[str]]:
    """Monitoring-plugin output: a summary line, then one line per finding; the exit code."""
    overall = worst(findings)
    counts = {s: sum(1 for f in findings if f.severity is s) for s in Severity}
    summary = (
        f"JARABA {overall.label} - {counts[Severity.CRIT]} critical, {counts[Severity.WARN]} "
        f"warning, {counts[Severity.UNKNOWN]} unknown, {counts[Severity.OK]} ok"
        f" | crit={counts[Severity.CRIT]} warn={counts[Severity.WARN]}"
        f" unknown={counts[Severity.UNKNOWN]} ok={counts[Severity.OK]}"
    )
    lines = [summary]
    lines += [f"{f.severity.label}: {f.message}" for f in findings]
    return overall.exit_code, lines
