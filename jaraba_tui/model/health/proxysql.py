"""ProxySQL rules: reachability, writer availability, backends out of service, monitor."""

from __future__ import annotations

from collections.abc import Sequence

from jaraba_tui.collectors.common import is_fatal
from jaraba_tui.collectors.proxysql import ProxyServer, ProxySQLSnapshot
from jaraba_tui.model.findings import Finding, Severity
from jaraba_tui.model.health._util import plural, why
from jaraba_tui.model.thresholds import Thresholds

C = "proxysql"


def proxysql_findings(
    snap: ProxySQLSnapshot, th: Thresholds, prev: ProxySQLSnapshot | None = None
) -> list[Finding]:
    out: list[Finding] = []
    t = snap.name

    def add(sev: Severity, msg: str, code: str, target: str = t) -> None:
        out.append(Finding(sev, C, target, f"proxysql: {msg}", code))

    fatal = next((e for e in snap.errors if is_fatal(e)), None)
    if fatal is not None and not snap.servers:
        add(
            Severity.CRIT,
            f"admin {snap.endpoint} unreachable: {why(fatal)} — backend routing unknown",
            "proxysql.unreachable",
        )
        return out
    for e in snap.errors:
        if not is_fatal(e):
            add(Severity.UNKNOWN, f"could not read {e.step}: {why(e)}", "proxysql.query")

    if snap.is_standin:
        add(
            Severity.OK,
            f"{snap.endpoint} is the lab's ProxySQL stand-in ({snap.version or '?'}), "
            "not a real ProxySQL",
            "proxysql.standin",
        )

    servers = snap.servers
    hgs = [g for g in snap.galera_hostgroups if g.active]
    offline_hgs = {g.offline_hostgroup for g in hgs if g.offline_hostgroup is not None}

    for g in hgs:
        writers = [s for s in servers if s.hostgroup == g.writer_hostgroup]
        online = [s for s in writers if s.status == "ONLINE"]
        if not online:
            add(
                Severity.CRIT,
                f"no ONLINE writer in hostgroup {g.writer_hostgroup} — writes fail"
                + (f" ({_list(writers)})" if writers else ""),
                "proxysql.no_writer",
                target=f"hg{g.writer_hostgroup}",
            )
        elif g.max_writers is not None and len(online) > g.max_writers:
            add(
                Severity.WARN,
                f"{len(online)} ONLINE writers in hostgroup {g.writer_hostgroup}, "
                f"max_writers {g.max_writers}",
                "proxysql.writers",
                target=f"hg{g.writer_hostgroup}",
            )
        if g.reader_hostgroup is not None:
            readers = [s for s in servers if s.hostgroup == g.reader_hostgroup]
            if readers and not any(s.status == "ONLINE" for s in readers):
                add(
                    Severity.CRIT,
                    f"no ONLINE reader in hostgroup {g.reader_hostgroup} ({_list(readers)})",
                    "proxysql.no_reader",
                    target=f"hg{g.reader_hostgroup}",
                )

    # A backend matters when it serves in no hostgroup at all (Galera hostgroups move
    # nodes around on purpose: backup writer or offline hostgroup is not by itself wrong).
    by_addr: dict[str, list[str]] = {}
    for s in servers:
        by_addr.setdefault(s.address, [])
        if s.hostgroup not in offline_hgs and s.status == "ONLINE":
            by_addr[s.address].append(str(s.hostgroup))
    for addr, online_in in sorted(by_addr.items()):
        if online_in:
            continue
        states = ", ".join(
            f"{s.status} in hg {s.hostgroup}"
            + (" (offline hostgroup)" if s.hostgroup in offline_hgs else "")
            for s in servers
            if s.address == addr
        )
        add(Severity.WARN, f"backend {addr} out of service ({states})", "proxysql.backend", addr)

    if snap.ping is not None:
        for c in snap.ping.latest:
            if c.error:
                add(
                    Severity.WARN,
                    f"monitor cannot ping {c.address}: {c.error}",
                    "proxysql.ping",
                    c.address,
                )
    if snap.galera_checks is not None:
        for c in snap.galera_checks.latest:
            if c.error:
                add(
                    Severity.WARN,
                    f"Galera check of {c.address} fails: {c.error}",
                    "proxysql.galera_check",
                    c.address,
                )

    prev_err = {(p.hostgroup, p.address): p.conn_err for p in (prev.pool if prev else ())}
    for p in snap.pool:
        if p.latency_us is not None and p.latency_us >= th.proxysql_latency_warn_us:
            add(
                Severity.WARN,
                f"backend {p.address} ping latency {p.latency_us / 1000:.0f} ms",
                "proxysql.latency",
                p.address,
            )
        before = prev_err.get((p.hostgroup, p.address))
        if before is not None and p.conn_err is not None and p.conn_err > before:
            add(
                Severity.WARN,
                f"{plural(p.conn_err - before, 'new connection error')} to {p.address} "
                f"(hostgroup {p.hostgroup}) since the last poll",
                "proxysql.conn_err",
                p.address,
            )

    if not any(f.severity is not Severity.OK for f in out):
        writer = next(
            (
                s
                for g in hgs
                for s in servers
                if s.hostgroup == g.writer_hostgroup and s.status == "ONLINE"
            ),
            None,
        )
        w = f"writer {writer.address} ONLINE in hg {writer.hostgroup}; " if writer else ""
        n_online = sum(1 for a, hg in by_addr.items() if hg)
        add(
            Severity.OK,
            f"{w}{n_online}/{len(by_addr)} backends in service",
            "proxysql.ok",
        )
    return out


def _list(servers: Sequence[ProxyServer]) -> str:
    return ", ".join(f"{s.address} {s.status}" for s in servers)
