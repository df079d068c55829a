"""The data every guarded action is made of: checks, steps, plans, results, verification.

Everything here is a frozen dataclass that serialises to plain JSON (``to_dict``), so the
same objects feed the CLI, the TUI's confirmation modal and the audit log. A :class:`Step`
carries the coroutine that performs it; that callable is never serialised.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from jaraba_tui.collectors.common import Serialisable

#: Target kinds an action can apply to (k9s-style capabilities).
TargetKind = Literal[
    "alert",
    "silence",
    "haproxy-server",
    "bluegreen-colour",
    "sentinel-master",
    "proxysql-backend",
    "galera-cluster",
    "galera-node",
]


class ActionError(Exception):
    """Base of the framework's own refusals and failures: ``str(exc)`` is for a human."""


class ActionRefused(ActionError):
    """The action may not run at all (read-only, unknown target, bad parameter, lock held,
    a failed check without ``--force``). Nothing was changed and nothing was audited."""


class ActionDeclined(ActionError):
    """The engineer did not confirm (Escape, wrong text). Nothing was changed."""


# -- checks ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class CheckResult(Serialisable):
    """One preflight check: passed or failed, and why (always a reason, also when passed).

    ``blocking=False`` marks an advisory check: its failure is shown but does not block.
    """

    name: str
    passed: bool
    reason: str
    blocking: bool = True

    @property
    def blocks(self) -> bool:
        return self.blocking and not self.passed

    @property
    def symbol(self) -> str:
        if self.passed:
            return "PASS"
        return "FAIL" if self.blocking else "WARN"


Check = CheckResult


def passed(name: str, reason: str) -> CheckResult:
    return CheckResult(name, True, reason)


def failed(name: str, reason: str, *, blocking: bool = True) -> CheckResult:
    return CheckResult(name, False, reason, blocking)


def check(name: str, ok: bool, if_ok: str, if_not: str, *, blocking: bool = True) -> CheckResult:
    return CheckResult(name, ok, if_ok if ok else if_not, blocking)


# -- steps -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class StepOutcome:
    """What a step's coroutine returns. ``data`` is handed to later steps and verification
    (e.g. the id of a silence just created) and recorded in the audit."""

    ok: bool
    detail: str
    data: Mapping[str, str] = field(default_factory=dict)


@dataclass
class RunState:
    """Shared by the steps of one execution: outputs of earlier steps."""

    data: dict[str, str] = field(default_factory=dict)


StepRun = Callable[[RunState], Awaitable[StepOutcome]]

StepKind = Literal["sql", "runtime-api", "ssh", "http", "redis", "wait", "local"]


@dataclass(frozen=True)
class Step(Serialisable):
    """One thing the plan does, exactly: ``command`` is the literal SQL / runtime API line /
    argv / HTTP call sent to ``where``. ``if_failed`` says what state a failure here leaves."""

    title: str
    where: str
    command: str
    kind: StepKind
    timeout: float
    if_failed: str = ""
    run: StepRun | None = field(default=None, compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "where": self.where,
            "command": self.command,
            "kind": self.kind,
            "timeout": self.timeout,
            "if_failed": self.if_failed,
        }


@dataclass(frozen=True)
class PlanTable(Serialisable):
    """A small table shown with the plan (e.g. Galera positions per node)."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class ActionRef(Serialisable):
    """Another action run (the one-key undo / rollback)."""

    action: str
    target: str
    params: Mapping[str, str] = field(default_factory=dict)

    def command_line(self) -> str:
        extra = "".join(f" --param {k}={v}" for k, v in self.params.items())
        return f"jaraba-ops action {self.action} {self.target}{extra}"


@dataclass(frozen=True)
class Plan(Serialisable):
    action: str
    target: str
    summary: str
    steps: tuple[Step, ...]
    blast_radius: tuple[str, ...]
    expected: tuple[str, ...]
    undo: tuple[str, ...]
    undo_action: ActionRef | None = None
    tables: tuple[PlanTable, ...] = ()
    notes: tuple[str, ...] = ()
    #: Override the action's verification timeout / hold (seconds) for this plan.
    verify_timeout: float | None = None
    verify_hold: float | None = None
    #: Values the action's own verification needs (e.g. the expected cluster size).
    facts: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        data["steps"] = [s.to_dict() for s in self.steps]
        return data


# -- execution events ------------------------------------------------------------------------
StepStatus = Literal["ok", "failed", "not run"]


@dataclass(frozen=True)
class StepStarted(Serialisable):
    index: int
    total: int
    title: str
    where: str
    command: str


@dataclass(frozen=True)
class StepResult(Serialisable):
    index: int
    title: str
    where: str
    command: str
    status: StepStatus
    detail: str
    started_at: float
    elapsed_s: float
    data: Mapping[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass(frozen=True)
class Probe(Serialisable):
    """One look at the system after execution: does the expected end state hold?"""

    ok: bool
    seen: str


@dataclass(frozen=True)
class VerifyAttempt(Serialisable):
    attempt: int
    elapsed_s: float
    probe: Probe


@dataclass(frozen=True)
class Verification(Serialisable):
    verified: bool
    seen: str
    attempts: int
    elapsed_s: float
    timeout_s: float

    @property
    def word(self) -> str:
        return "verified" if self.verified else "not verified"


OutcomeStatus = Literal["verified", "not verified", "failed", "dry-run"]


@dataclass(frozen=True)
class Outcome(Serialisable):
    """How one action run ended. ``left_in`` says exactly what state a failure left."""

    run_id: str
    action: str
    target: str
    status: OutcomeStatus
    steps: tuple[StepResult, ...]
    verification: Verification | None
    left_in: str
    message: str
    undo: tuple[str, ...] = ()
    undo_action: ActionRef | None = None

    @property
    def ok(self) -> bool:
        return self.status in ("verified", "dry-run")


ExecutionEvent = StepStarted | StepResult | VerifyAttempt | Outcome


# -- parameters ------------------------------------------------------------------------------
ParamKind = Literal["str", "int", "bool", "duration", "percent-steps"]

_DURATION = re.compile(r"^(\d+)([smhd])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> int:
    """``"90s"``, ``"30m"``, ``"2h"``, ``"1d"`` or plain seconds -> seconds."""
    s = text.strip().lower()
    if s.isascii() and s.isdigit():
        return int(s)
    parts = re.findall(r"(\d+)([smhd])", s)
    if not parts or "".join(n + u for n, u in parts) != s:
        raise ValueError(f"not a duration: {text!r} (e.g. 30m, 2h, 1d, 1h30m)")
    return sum(int(n) * _UNITS[u] for n, u in parts)


def parse_steps(text: str) -> tuple[int, ...]:
    """``"10,50,100"`` -> (10, 50, 100): increasing percentages ending at 100."""
    try:
        values = tuple(int(p) for p in text.replace(" ", "").split(",") if p)
    except ValueError:
        raise ValueError(f"steps must be percentages like 10,50,100, got {text!r}") from None
    if not values or values[-1] != 100:
        raise ValueError("steps must end at 100 (e.g. 10,50,100 or 100)")
    if any(v < 1 or v > 100 for v in values) or list(values) != sorted(set(values)):
        raise ValueError("steps must be increasing percentages between 1 and 100")
    return values


_TRUE = {"1", "true", "yes", "on", "y"}
_FALSE = {"0", "false", "no", "off", "n", ""}


@dataclass(frozen=True)
class ParamSpec(Serialisable):
    """One parameter of an action (``--param name=value`` in the CLI, a field in the TUI)."""

    name: str
    kind: ParamKind
    help: str
    default: str | None = None
    required: bool = False

    def parse(self, raw: object) -> Any:
        if self.kind == "str":
            value = str(raw).strip()
            if self.required and not value:
                raise ValueError(f"{self.name} must not be empty")
            if any(ord(c) < 32 for c in value):
                raise ValueError(f"{self.name} must be one line")
            return value
        if self.kind == "bool":
            if isinstance(raw, bool):
                return raw
            s = str(raw).strip().lower()
            if s in _TRUE:
                return True
            if s in _FALSE:
                return False
            raise ValueError(f"{self.name} must be yes or no, got {raw!r}")
        if self.kind == "int":
            if isinstance(raw, int) and not isinstance(raw, bool):
                return raw
            s = str(raw).strip()
            if not (s.isascii() and s.isdigit()):
                raise ValueError(f"{self.name} must be a whole number, got {raw!r}")
            return int(s)
        if self.kind == "duration":
            if isinstance(raw, int) and not isinstance(raw, bool):
                return raw
            return parse_duration(str(raw))
        return parse_steps(str(raw))


def parse_params(specs: Sequence[ParamSpec], raw: Mapping[str, object]) -> dict[str, Any]:
    """Typed values for every spec (defaults filled in); ValueError names the bad one."""
    known = {s.name for s in specs}
    unknown = sorted(set(raw) - known)
    if unknown:
        names = ", ".join(sorted(known)) or "none"
        raise ValueError(f"unknown parameter(s) {', '.join(unknown)} (this action takes: {names})")
    out: dict[str, Any] = {}
    for spec in specs:
        if spec.name in raw:
            out[spec.name] = spec.parse(raw[spec.name])
        elif spec.required:
            raise ValueError(f"parameter {spec.name} is required: {spec.help}")
        elif spec.default is not None:
            out[spec.name] = spec.parse(spec.default)
        else:
            out[spec.name] = None
    return out
