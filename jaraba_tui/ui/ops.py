"""What the console acts and checks with: the actions framework and ``verify`` on one profile.

The console never runs an action step itself: it asks :meth:`ConsoleOps.prepare` (the
runner's ``prepare``: lock, fresh poll, checks, plan) and drives the returned
:class:`~jaraba_tui.actions.Prepared` (confirmation request, streamed execution,
verification, audit). Tests build one on a temporary audit file, with scripted transports
or a scripted checklist. No textual here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from jaraba_tui.actions.audit import login_name
from jaraba_tui.actions.context import ActionContext
from jaraba_tui.actions.lock import LockHolder, is_stale
from jaraba_tui.actions.registry import AvailableAction, available_actions
from jaraba_tui.actions.runner import Prepared, prepare
from jaraba_tui.model.snapshot import StackSnapshot

if TYPE_CHECKING:
    from jaraba_tui.profile import Profile
    from jaraba_tui.verify.model import ItemResult, ItemSpec, Which


class ChecklistBackend(Protocol):
    """The deployment checklist: its rows before anything runs, then results as they come."""

    def plan(self, which: Which) -> list[ItemSpec]: ...

    def run(self, which: Which, items: Sequence[ItemSpec]) -> AsyncIterator[ItemResult]: ...


class VerifyChecklist:
    """``jaraba-ops verify``'s own code (read-only) on the profile's transports."""

    def __init__(self, profile: Profile, ctx: ActionContext) -> None:
        self.profile = profile
        self.ctx = ctx

    def plan(self, which: Which) -> list[ItemSpec]:
        from jaraba_tui.verify import plan

        return plan(self.profile, which)

    def run(self, which: Which, items: Sequence[ItemSpec]) -> AsyncIterator[ItemResult]:
        from jaraba_tui.verify import run_checklist

        return run_checklist(self.profile, self.ctx.transports, which, items=items)


@dataclass(frozen=True)
class LockState:
    """The stack's action lock as the header shows it; ``owner``: the login owning the
    lock file (the OS's word on who wrote it, whatever the file claims)."""

    exists: bool
    holder: LockHolder | None
    stale: bool | None
    owner: str | None = None


class ConsoleOps:
    def __init__(self, ctx: ActionContext, *, checklist: ChecklistBackend | None = None) -> None:
        self.ctx = ctx
        self.checklist: ChecklistBackend = checklist or VerifyChecklist(ctx.profile, ctx)
        self._cache: tuple[int, dict[str, tuple[str, ...]]] | None = None

    @classmethod
    def create(cls, profile: Profile, *, read_only: bool = False) -> ConsoleOps:
        return cls(ActionContext.create(profile, read_only=read_only))

    @property
    def profile(self) -> Profile:
        return self.ctx.profile

    @property
    def read_only(self) -> bool:
        return self.ctx.read_only

    @property
    def audit_path(self) -> Path:
        return self.ctx.audit.path

    def available(self, snapshot: StackSnapshot) -> list[AvailableAction]:
        return available_actions(snapshot, self.profile, read_only=self.read_only)

    def targets(self, snapshot: StackSnapshot | None) -> Mapping[str, tuple[str, ...]]:
        """action -> the targets it applies to in ``snapshot`` (memoised per snapshot)."""
        if snapshot is None:
            return {}
        if self._cache is not None and self._cache[0] == id(snapshot):
            return self._cache[1]
        out: dict[str, list[str]] = {}
        for a in self.available(snapshot):
            out.setdefault(a.action, []).append(a.target)
        frozen = {k: tuple(v) for k, v in out.items()}
        self._cache = (id(snapshot), frozen)
        return frozen

    async def prepare(
        self, action: str, target: str, params: Mapping[str, object] | None = None
    ) -> Prepared:
        """Refuse (read-only, lock held: :class:`~jaraba_tui.actions.LockHeld` says who and
        since when, bad parameter) or take the lock, poll fresh, check and plan."""
        return await prepare(self.ctx, action, target, params)

    def lock_state(self) -> LockState:
        exists, holder = self.ctx.lock.read()
        stale = is_stale(holder) if holder is not None else (True if exists else None)
        owner = None
        if exists:
            try:
                owner = login_name(self.ctx.lock.path.stat().st_uid)
            except OSError:  # released meanwhile
                owner = None
        return LockState(exists, holder, stale, owner)

    async def aclose(self) -> None:
        await self.ctx.aclose()
