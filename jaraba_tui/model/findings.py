"""Health findings: a severity, a component, a target and one sentence for a human."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from jaraba_tui.collectors.common import Serialisable


class Severity(enum.Enum):
    """OK, WARN, CRIT, plus UNKNOWN for "could not tell".

    Order (``rank``), best to worst: OK < UNKNOWN < WARN < CRIT, the order monitoring
    plugins aggregate in: a known problem outranks not knowing. ``exit_code`` is the
    monitoring-plugin code (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN).
    """

    OK = "OK"
    UNKNOWN = "UNKNOWN"
    WARN = "WARN"
    CRIT = "CRIT"

    @property
    def rank(self) -> int:
        return _RANK[self]

    @property
    def exit_code(self) -> int:
        return _EXIT[self]

    @property
    def symbol(self) -> str:
        """A glyph so status never depends on colour alone."""
        return _SYMBOL[self]

    @property
    def label(self) -> str:
        """The monitoring-plugin word: OK, WARNING, CRITICAL, UNKNOWN."""
        return _LABEL[self]


_RANK = {Severity.OK: 0, Severity.UNKNOWN: 1, Severity.WARN: 2, Severity.CRIT: 3}
_EXIT = {Severity.OK: 0, Severity.WARN: 1, Severity.CRIT: 2, Severity.UNKNOWN: 3}
_SYMBOL = {Severity.OK: "✓", Severity.UNKNOWN: "?", Severity.WARN: "!", Severity.CRIT: "✗"}
_LABEL = {
    Severity.OK: "OK",
    Severity.UNKNOWN: "UNKNOWN",
    Severity.WARN: "WARNING",
    Severity.CRIT: "CRITICAL",
}

#: Component order for display: the request path top-down, then the rest.
COMPONENTS = ("haproxy", "proxysql", "galera", "redis", "alerts", "host", "stack")


@dataclass(frozen=True)
class Finding(Serialisable):
    """``message`` is one sentence an on-call engineer understands, starting with the
    component ("galera: cluster size 2/3 — node3 not in the cluster: connection refused").
    ``code`` is a stable identifier of the rule ("galera.size"), for tests and filters."""

    severity: Severity
    component: str
    target: str
    message: str
    code: str = ""

    def sort_key(self) -> tuple[int, int, str, str]:
        # by table: the engine sorts every finding (300 alerts' among them) on every poll
        comp = _COMPONENT_ORDER.get(self.component, 99)
        return (_WORST_FIRST[self.severity], comp, self.target, self.message)


_COMPONENT_ORDER = {c: n for n, c in reversed(list(enumerate(COMPONENTS)))}
_WORST_FIRST = {s: -r for s, r in _RANK.items()}


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Worst first; then by component (request path order), target, message."""
    return sorted(findings, key=Finding.sort_key)


def worst(findings: Iterable[Finding]) -> Severity:
    """The worst severity among ``findings``; OK for none."""
    return max((f.severity for f in findings), key=lambda s: s.rank, default=Severity.OK)
