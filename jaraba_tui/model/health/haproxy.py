"""HAProxy rules: reachability, servers DOWN/MAINT/DRAIN, empty backends, 5xx, live colour."""

from __future__ import annotations

from jaraba_tui.collectors.common import is_fatal
from jaraba_tui.collectors.haproxy import HAProxySnapshot, StatRow
from jaraba_tui.model.findings import Finding, Severity
from jaraba_tui.model.health._util import duration, why
from jaraba_tui.model.thresholds import Thresholds

C = "haproxy"

_SERVER_STATE = {
    "DOWN": (Severity.WARN, "is DOWN"),
    "MAINT": (Severity.WARN, "is in maintenance (MAINT)"),
    "DRAIN": (Severity.WARN, "is draining (DRAIN: no new sessions)"),
    "NOLB": (Severity.WARN, "is NOLB (no new load-balanced traffic)"),
}


def _check(s: StatRow) -> str:
    bits = [b for b in (s.check_status, s.check_desc) if b]
    return f" (check {' '.join(bits)})" if bits and s.state == "DOWN" else ""


def haproxy_findings(
    snap: HAProxySnapshot, th: Thresholds, prev: HAProxySnapshot | None = None
) -> list[Finding]:
    out: list[Finding] = []

    def add(sev: Severity, target: str, msg: str, code: str) -> None:
        out.append(Finding(sev, C, target, f"haproxy: {msg}", code))

    runtime_err = next((e for e in snap.errors if is_fatal(e)), None)
    if not snap.has_stats:
        reason = why(runtime_err or snap.errors[0]) if snap.errors else "no answer"
        add(Severity.CRIT, snap.name, f"{snap.endpoint} unreachable: {reason}", "haproxy.down")
        return out
    if runtime_err is not None:
        add(
            Severity.WARN,
            snap.name,
            f"runtime API unreachable ({why(runtime_err)}); stats from the "
            f"{snap.stat_source} fallback, live colour unknown",
            "haproxy.runtime",
        )
    for e in snap.errors:
        if not is_fatal(e):
            add(Severity.UNKNOWN, snap.name, f"{e.step}: {why(e)}", "haproxy.parse")

    live = snap.live_backend
    for b in snap.backends:
        servers = snap.servers_of(b.proxy)
        up = [s for s in servers if s.usable]
        role = "live" if b.proxy == live else ("standby" if live else "")
        label = f"{role} backend {b.proxy}".strip()
        if (servers and not up) or b.state == "DOWN":
            sev = Severity.CRIT if role in ("live", "") else Severity.WARN
            what = "could not take traffic" if role == "standby" else "takes no traffic"
            add(sev, b.proxy, f"{label} has no UP server — it {what}", "haproxy.backend_down")
        for s in servers:
            st = _SERVER_STATE.get(s.state)
            if st is None:
                continue
            since = f" for {duration(s.lastchg)}" if s.lastchg is not None else ""
            add(
                st[0],
                s.key,
                f"{s.key} {st[1]}{since}{_check(s)}"
                + (f" — {len(up)}/{len(servers)} UP in {label}" if servers else ""),
                "haproxy.server",
            )
    for f in snap.frontends:
        if f.state == "FULL":
            add(Severity.WARN, f.proxy, f"frontend {f.proxy} is FULL (at maxconn)", "haproxy.full")
        elif f.state == "STOP":
            add(Severity.CRIT, f.proxy, f"frontend {f.proxy} is stopped", "haproxy.stopped")

    if prev is not None and prev.has_stats:
        dt = snap.collected_at - prev.collected_at
        before = {b.proxy: b.hrsp_5xx for b in prev.backends}
        for b in snap.backends:
            p = before.get(b.proxy)
            if dt <= 0 or p is None or b.hrsp_5xx is None:
                continue
            delta = b.hrsp_5xx - p if b.hrsp_5xx >= p else b.hrsp_5xx  # counter reset
            rate = delta / dt
            if rate >= th.haproxy_5xx_rate_warn:
                sev = Severity.CRIT if rate >= th.haproxy_5xx_rate_crit else Severity.WARN
                add(sev, b.proxy, f"{b.proxy} answers {rate:.1f} 5xx/s", "haproxy.5xx")

    if snap.map_path and snap.live_colour is None and runtime_err is None:
        add(
            Severity.WARN,
            snap.name,
            f"live colour unknown: no live entry read from {snap.map_path}",
            "haproxy.colour",
        )
    if not any(f.severity is not Severity.OK for f in out):
        parts = []
        for b in snap.backends:
            servers = snap.servers_of(b.proxy)
            n_up = sum(1 for s in servers if s.usable)
            parts.append(f"{b.proxy} {n_up}/{len(servers)} UP")
        colour = f"live colour {snap.live_colour}" if snap.live_colour else "live colour ?"
        canary = f", canary {snap.canary} {snap.canary_pct}%" if snap.canary else ""
        add(Severity.OK, snap.name, f"{colour}{canary}; " + ", ".join(parts), "haproxy.ok")
    elif snap.live_colour:
        add(Severity.OK, snap.name, f"live colour {snap.live_colour}", "haproxy.colour")
    return out
