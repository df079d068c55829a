"""Host rules: reachable, load per CPU, memory, disk."""

from __future__ import annotations

from jaraba_tui.collectors.hosts import HostSnapshot
from jaraba_tui.model.findings import Finding, Severity
from jaraba_tui.model.health._util import why
from jaraba_tui.model.thresholds import Thresholds

C = "host"


def host_findings(h: HostSnapshot, th: Thresholds) -> list[Finding]:
    out: list[Finding] = []

    def add(sev: Severity, msg: str, code: str) -> None:
        out.append(Finding(sev, C, h.name, f"host: {h.name} {msg}", code))

    if not h.reachable:
        add(Severity.CRIT, f"unreachable: {why(h.errors[0])}", "host.unreachable")
        return out
    if h.load is not None:
        cpus = h.cpus or 1
        per = h.load.load5 / cpus
        if per >= th.host_load_per_cpu_warn:
            sev = Severity.CRIT if per >= th.host_load_per_cpu_crit else Severity.WARN
            add(sev, f"load {h.load.load5:.2f} (5 min) on {cpus} CPUs", "host.load")
    if h.memory is not None:
        pct = h.memory.used_pct
        if pct >= th.host_memory_warn_pct:
            sev = Severity.CRIT if pct >= th.host_memory_crit_pct else Severity.WARN
            avail = h.memory.available_kb / 1024 / 1024
            add(sev, f"memory {pct:.0f}% used ({avail:.1f} GiB available)", "host.memory")
    for d in h.disks:
        pct = d.used_pct
        if pct >= th.disk_warn_pct:
            sev = Severity.CRIT if pct >= th.disk_crit_pct else Severity.WARN
            free = d.available_kb / 1024 / 1024
            add(sev, f"disk {d.mount} {pct:.0f}% full ({free:.1f} GiB free)", "host.disk")
    for e in h.errors:
        add(Severity.UNKNOWN, f"{e.step} unknown: {why(e)}", "host.check")
    if not out:
        parts = []
        if h.load is not None:
            parts.append(f"load {h.load.load1:.2f}")
        if h.memory is not None:
            parts.append(f"memory {h.memory.used_pct:.0f}% used")
        if h.disks:
            fullest = max(h.disks, key=lambda d: d.used_pct)
            parts.append(f"fullest disk {fullest.mount} {fullest.used_pct:.0f}%")
        add(Severity.OK, ", ".join(parts) or "reachable", "host.ok")
    return out
