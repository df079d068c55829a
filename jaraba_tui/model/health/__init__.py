"""Health: turn a StackSnapshot into findings, worst first.

``evaluate(cur, thresholds, prev)``: ``prev`` (the previous poll) enables the rules that
need a rate (HAProxy 5xx/s, ProxySQL new connection errors, Galera flow control over the
last interval); without it those rules stay silent.
"""

from __future__ import annotations

from collections.abc import Iterable

from jaraba_tui.model.findings import Finding, Severity, sort_findings, worst
from jaraba_tui.model.health.alerts import alert_findings
from jaraba_tui.model.health.galera import galera_findings
from jaraba_tui.model.health.haproxy import haproxy_findings
from jaraba_tui.model.health.hosts import host_findings
from jaraba_tui.model.health.proxysql import proxysql_findings
from jaraba_tui.model.health.redis import redis_findings
from jaraba_tui.model.snapshot import LAYERS, StackSnapshot
from jaraba_tui.model.thresholds import Thresholds

__all__ = [
    "Finding",
    "Severity",
    "Thresholds",
    "combine",
    "evaluate",
    "failure_findings",
    "layer_findings",
    "overall",
    "worst",
]

_DEFAULT = Thresholds()


def layer_findings(
    layer: str,
    cur: StackSnapshot,
    thresholds: Thresholds = _DEFAULT,
    prev: StackSnapshot | None = None,
) -> list[Finding]:
    """The findings of one layer's rules (unsorted). Each layer's rules read only that
    layer's data, so a poll of one layer re-evaluates only its own rules (the engine)."""
    th = thresholds
    if layer == "galera" and cur.galera is not None:
        return galera_findings(cur.galera, th, prev.galera if prev else None)
    if layer == "proxysql" and cur.proxysql is not None:
        return proxysql_findings(cur.proxysql, th, prev.proxysql if prev else None)
    if layer == "haproxy" and cur.haproxy is not None:
        return haproxy_findings(cur.haproxy, th, prev.haproxy if prev else None)
    if layer == "redis" and cur.redis is not None:
        return redis_findings(cur.redis, th)
    if layer == "alerts" and cur.alerts is not None:
        return alert_findings(cur.alerts)
    if layer == "hosts":
        return [f for h in cur.hosts for f in host_findings(h, th)]
    return []


def failure_findings(cur: StackSnapshot) -> list[Finding]:
    """One UNKNOWN finding per collector that failed outright."""
    out: list[Finding] = []
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
    return out


def combine(parts: Iterable[Iterable[Finding]]) -> list[Finding]:
    """Every layer's findings (in layer order) and the failures', worst first."""
    out = [f for part in parts for f in part]
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


def evaluate(
    cur: StackSnapshot, thresholds: Thresholds = _DEFAULT, prev: StackSnapshot | None = None
) -> list[Finding]:
    return combine(
        [*(layer_findings(layer, cur, thresholds, prev) for layer in LAYERS), failure_findings(cur)]
    )


def overall(
    cur: StackSnapshot, thresholds: Thresholds = _DEFAULT, prev: StackSnapshot | None = None
) -> Severity:
    """The worst severity of the stack."""
    return worst(evaluate(cur, thresholds, prev))
