"""The Action interface every guarded action implements.

An action is a capability on one kind of target (k9s-style): ``targets()`` says where it
applies in a snapshot; ``assess()`` runs the preflight checks on a fresh poll and builds the
exact plan; ``verify()`` looks once at the system after execution (the runner repeats it
until the expected state holds or the timeout passes). The runner does the rest (lock,
confirmation, audit, streaming, stopping at the first failed step).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from jaraba_tui.actions.types import CheckResult, ParamSpec, Plan, Probe, RunState, TargetKind
from jaraba_tui.model.snapshot import StackSnapshot

if TYPE_CHECKING:
    from jaraba_tui.actions.context import ActionContext
    from jaraba_tui.profile import Profile


@dataclass(frozen=True)
class Assessment:
    """The checks (each passed or failed, with its reason) and the plan. ``plan`` is None
    only when there is nothing to plan (e.g. the target does not exist); then at least one
    blocking check failed."""

    checks: tuple[CheckResult, ...]
    plan: Plan | None

    @property
    def blocked(self) -> bool:
        return self.plan is None or any(c.blocks for c in self.checks)


class Action(ABC):
    #: Dotted name used by the CLI (``jaraba-ops action NAME TARGET``) and the audit.
    name: ClassVar[str]
    title: ClassVar[str]
    target_kind: ClassVar[TargetKind]
    #: Shown with a warning style; may cause an outage if misused.
    dangerous: ClassVar[bool] = False
    #: Suggested key in the console (the UI may remap it).
    key: ClassVar[str] = ""
    description: ClassVar[str] = ""
    #: Layers polled fresh for the preflight checks (none: no poll).
    layers: ClassVar[tuple[str, ...]] = ()
    params: ClassVar[tuple[ParamSpec, ...]] = ()
    verify_timeout: ClassVar[float] = 60.0
    verify_interval: ClassVar[float] = 1.0
    #: The expected state must hold this long (seconds) to count as verified.
    verify_hold: ClassVar[float] = 0.0

    @abstractmethod
    def targets(self, snapshot: StackSnapshot, profile: Profile) -> tuple[str, ...]:
        """The targets in ``snapshot`` this action applies to (for keys and the palette)."""

    @abstractmethod
    async def assess(
        self,
        ctx: ActionContext,
        target: str,
        params: Mapping[str, Any],
        snapshot: StackSnapshot,
    ) -> Assessment:
        """Preflight checks from ``snapshot`` (a fresh poll) and the plan."""

    @abstractmethod
    async def verify(
        self,
        ctx: ActionContext,
        plan: Plan,
        params: Mapping[str, Any],
        state: RunState,
    ) -> Probe:
        """One look: does the expected end state hold? Say what was seen either way."""

    def timeout_for(self, params: Mapping[str, Any]) -> float:
        return self.verify_timeout
