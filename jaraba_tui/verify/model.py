"""The checklist's data: what an item is, what running it gave, and the finished checklist.

Everything is a frozen dataclass that serialises to plain JSON (``to_dict``); the same
objects feed ``jaraba-ops verify`` (Rich or JSON) and the console's Checklist screen.
No I/O here.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from jaraba_tui.secrets import scrub

if TYPE_CHECKING:
    from jaraba_tui.verify.context import Context

#: Bumped on any incompatible change of ``verify --json`` (see jaraba_tui/verify/README.md).
VERIFY_JSON_VERSION = 1

Phase = Literal["pre", "post"]
Which = Literal["pre", "post", "all"]
PHASES: tuple[Phase, ...] = ("pre", "post")
PHASE_TITLES = {"pre": "Pre-deployment", "post": "Post-deployment verification"}


class Status(enum.Enum):
    """An item's mark. Rendered as symbol + word, never colour alone."""

    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"

    @property
    def symbol(self) -> str:
        return {"passed": "✓", "failed": "✗", "skipped": "–"}[self.value]

    @property
    def word(self) -> str:
        return self.value.upper()

    @property
    def mark(self) -> str:
        """``✓ PASSED``, ``✗ FAILED``, ``– SKIPPED``."""
        return f"{self.symbol} {self.word}"


@dataclass(frozen=True)
class Outcome:
    """What an item's check returns: a mark, one sentence, and the evidence lines."""

    status: Status
    summary: str
    evidence: tuple[str, ...] = ()


def passed(summary: str, evidence: Sequence[str] = ()) -> Outcome:
    return Outcome(Status.PASSED, summary, tuple(evidence))


def failed(summary: str, evidence: Sequence[str] = ()) -> Outcome:
    return Outcome(Status.FAILED, summary, tuple(evidence))


def skipped(reason: str, evidence: Sequence[str] = ()) -> Outcome:
    return Outcome(Status.SKIPPED, reason, tuple(evidence))


def brief(things: Sequence[str], limit: int = 3) -> str:
    """``a, b, c and 4 more``: a summary names a few, the evidence lists them all."""
    shown = ", ".join(things[:limit])
    rest = len(things) - limit
    return f"{shown} and {rest} more" if rest > 0 else shown


def verdict(problems: Sequence[str], ok: str, bad: str, evidence: Sequence[str]) -> Outcome:
    """Failed (``bad``) when there are problems, else passed (``ok``)."""
    return failed(bad, evidence) if problems else passed(ok, evidence)


CheckFn = Callable[["Context"], Awaitable[Outcome]]


@dataclass(frozen=True)
class ItemSpec:
    """One checklist item: a stable ``id`` (JSON, ``[checklist.skip]``, UI row key), its
    phase, a short title, the seed's checklist line it automates, and the check."""

    id: str
    phase: Phase
    title: str
    seed: str
    check: CheckFn = field(repr=False, compare=False)
    #: A failure of a critical item is shown as such (the dev-default secrets).
    critical: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "phase": self.phase,
            "title": self.title,
            "seed": self.seed,
            "critical": self.critical,
        }


@dataclass(frozen=True)
class ItemResult:
    """One finished item. ``summary`` is one sentence (for a skip: the reason);
    ``evidence`` what was observed, one line per node/target. Never a secret value."""

    id: str
    phase: Phase
    title: str
    seed: str
    critical: bool
    status: Status
    summary: str
    evidence: tuple[str, ...]
    elapsed_ms: float

    @classmethod
    def of(cls, spec: ItemSpec, outcome: Outcome, elapsed_ms: float) -> ItemResult:
        return cls(
            id=spec.id,
            phase=spec.phase,
            title=spec.title,
            seed=spec.seed,
            critical=spec.critical,
            status=outcome.status,
            summary=scrub(outcome.summary),
            evidence=tuple(scrub(line) for line in outcome.evidence),
            elapsed_ms=round(elapsed_ms, 1),
        )

    @property
    def mark(self) -> str:
        suffix = " (critical)" if self.critical and self.status is Status.FAILED else ""
        return self.status.mark + suffix

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "phase": self.phase,
            "title": self.title,
            "seed": self.seed,
            "critical": self.critical,
            "status": self.status.value,
            "summary": self.summary,
            "evidence": list(self.evidence),
            "elapsed_ms": self.elapsed_ms,
        }


@dataclass(frozen=True)
class Checklist:
    """A finished run, items in checklist order (pre-deployment first)."""

    profile: str
    environment: str
    which: Which
    started_at: float
    finished_at: float
    items: tuple[ItemResult, ...]

    def count(self, status: Status) -> int:
        return sum(1 for i in self.items if i.status is status)

    @property
    def passed(self) -> int:
        return self.count(Status.PASSED)

    @property
    def failed(self) -> int:
        return self.count(Status.FAILED)

    @property
    def skipped(self) -> int:
        return self.count(Status.SKIPPED)

    @property
    def summary(self) -> str:
        """``N passed, M failed, K skipped``."""
        return f"{self.passed} passed, {self.failed} failed, {self.skipped} skipped"

    @property
    def ok(self) -> bool:
        return self.failed == 0

    @property
    def exit_code(self) -> int:
        """0 when every item passed or was skipped, 1 when any failed."""
        return 0 if self.ok else 1

    def item(self, item_id: str) -> ItemResult:
        for it in self.items:
            if it.id == item_id:
                return it
        raise KeyError(item_id)

    def to_dict(self) -> dict[str, Any]:
        return {
            "verify_version": VERIFY_JSON_VERSION,
            "profile": self.profile,
            "environment": self.environment,
            "which": self.which,
            "started_at": round(self.started_at, 3),
            "finished_at": round(self.finished_at, 3),
            "elapsed_ms": round((self.finished_at - self.started_at) * 1000.0, 1),
            "summary": {
                "passed": self.passed,
                "failed": self.failed,
                "skipped": self.skipped,
                "text": self.summary,
            },
            "ok": self.ok,
            "exit_code": self.exit_code,
            "items": [i.to_dict() for i in self.items],
        }
