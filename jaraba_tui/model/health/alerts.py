"""Alert rules: what Prometheus fires, as Alertmanager routes or silences it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from jaraba_tui.collectors.alerts import AlertsSnapshot, AmAlert, PromAlert
from jaraba_tui.model.findings import Finding, Severity
from jaraba_tui.model.health._util import duration, plural, why

C = "alerts"

SEVERITY_OF_LABEL = {
    "critical": Severity.CRIT,
    "page": Severity.CRIT,
    "error": Severity.CRIT,
    "warning": Severity.WARN,
    "warn": Severity.WARN,
    "info": Severity.OK,
    "none": Severity.OK,
}


def _matches(prom: Mapping[str, str], am: Mapping[str, str]) -> bool:
    """Alertmanager adds external labels, so Prometheus' labels are a subset of its own."""
    return all(am.get(k) == v for k, v in prom.items())


def alert_findings(snap: AlertsSnapshot) -> list[Finding]:
    out: list[Finding] = []
    now = snap.collected_at

    def add(sev: Severity, target: str, msg: str, code: str) -> None:
        out.append(Finding(sev, C, target, f"alerts: {msg}", code))

    prom, am = snap.prometheus, snap.alertmanager
    if prom is not None and prom.error is not None:
        add(
            Severity.WARN,
            prom.name,
            f"Prometheus {prom.endpoint} unreadable: {why(prom.error)} — alerts unknown",
            "alerts.prometheus",
        )
    if am is not None:
        for e in am.errors:
            add(
                Severity.WARN,
                am.name,
                f"Alertmanager {am.endpoint} {e.step}: {why(e)}",
                "alerts.alertmanager",
            )
    am_alerts: tuple[AmAlert, ...] = am.alerts if am is not None else ()

    firing: list[PromAlert] = list(prom.firing) if prom is not None else []
    # Alertmanager's alerts by label: 300 firing alerts matched against 300 others label
    # by label made every evaluation 90 000 comparisons. A twin carries every label of the
    # Prometheus alert, so it is in the (ordered) list of each one: scan the shortest.
    by_label: dict[tuple[str, str], list[AmAlert]] = {}
    for x in am_alerts:
        for item in x.labels.items():
            by_label.setdefault(item, []).append(x)
    for a in firing:
        pool: Sequence[AmAlert] = am_alerts
        if a.labels:
            pool = min((by_label.get(item, []) for item in a.labels.items()), key=len)
        twin = next((x for x in pool if _matches(a.labels, x.labels)), None)
        sev = SEVERITY_OF_LABEL.get((a.severity or "").lower(), Severity.WARN)
        since = f" for {duration(now - a.active_at)}" if a.active_at else ""
        summary = f" — {a.summary}" if a.summary else ""
        where = _where(a.labels)
        head = f"{a.name} ({a.severity or 'no severity'}){where} firing{since}{summary}"
        if twin is not None and twin.silenced_by:
            sil = am.silence(twin.silenced_by[0]) if am is not None else None
            until = f" for another {duration(sil.ends_at - now)}" if sil and sil.ends_at else ""
            who = f" by {sil.created_by}" if sil and sil.created_by else ""
            add(Severity.OK, a.name, f"{head} (silenced{who}{until})", "alerts.silenced")
        elif twin is not None and twin.inhibited_by:
            add(Severity.OK, a.name, f"{head} (inhibited by another alert)", "alerts.inhibited")
        else:
            add(sev, a.name, head, "alerts.firing")

    if not any(f.severity is not Severity.OK for f in out):
        pending = len(prom.pending) if prom is not None else 0
        silences = sum(1 for s in am.silences if s.state == "active") if am is not None else 0
        parts = [
            "nothing firing" if not firing else f"{plural(len(firing), 'alert')} firing",
            f"{pending} pending",
            f"{plural(silences, 'silence')} active",
        ]
        add(Severity.OK, "alerts", ", ".join(parts), "alerts.ok")
    return out


def _where(labels: Mapping[str, str]) -> str:
    for key in ("instance", "node", "server", "backend", "job"):
        if key in labels:
            return f" on {labels[key]}"
    return ""
