"""Health: turn a StackSnapshot into findings, worst first.

``evaluate(cur, thresholds, prev)``: ``prev`` (the previous poll) enables the rules that
need a rate (HAProxy 5xx/s, ProxySQL new connection errors, Galera flow control over the
last interval); without it those rules stay silent.
"""

from __future__ import annotations

from jaraba_tui.model.findings import Finding, Severity, sort_findings, worst
from jaraba_tui.model.health.alerts import alert_findings
from jaraba_tui.model.health.galera import galera_findings
from jaraba_tui.model.health.haproxy import haproxy_findings
from jaraba_tui.model.health.hosts import host_findings
from jaraba_tui.model.health.proxysql import proxysql_findings
from jaraba_tui.model.health.redis import redis_findings
from jaraba_tui.model.snapshot import StackSnapshot
from jaraba_tui.model.thresholds import Thresholds

__all__ = [
    "Finding",
    "Severity",
    "Thresholds",
    "evaluate",
    "overall",
    "worst",
]

_DEFAULT = Thresholds()


def evaluate(
    cur: StackSnapshot, thresholds: Thresholds = _DEFAULT, prev: StackSnapshot | None = None
) -> list[Finding]:
    th = thresholds
    out: list[Finding] = []
    if cur.galera is not None:
        out += galera_findings(cur.galera, th, prev.galera if prev else None)
    if cur.proxysql is not None:
        out += proxysql_findings(cur.proxysql, th, prev.proxysql if prev else None)
    if cur.haproxy is not None:
        out += haproxy_findings(cur.haproxy, th, prev.haproxy if prev else None)
    if cur.redis is not None:
        out += redis_findings(cur.redis, th)
    if cur.alerts is not None:
        out += alert_findings(cur.alerts)
    for h in cur.hosts:
        out += host_findings(h, th)
    for f in cur.failures:
        component = "host" if f.layer.startswith("hosts:") else f.layer
        target = f.layer.split(":", 1)[1] if ":" in f.layer else f.layer
        out.append(
            Finding(
                Severity.UNKNOWN,
                component,
                target,
                f"{component}: could not collect {target}: {f.message}",
                "stack.collector",
            )
        )
    if not out:
        out.append(
            Finding(
                Severity.UNKNOWN,
                "stack",
                "stack",
                "stack: nothing configured to check",
                "stack.empty",
            )
        )
    return sort_findings(out)


def overall(
    cur: StackSnapshot, thresholds: Thresholds = _DEFAULT, prev: StackSnapshot | None = None
) -> Severity:
    """The worst severity of the stack."""
    return worst(evaluate(cur, thresholds, prev))
