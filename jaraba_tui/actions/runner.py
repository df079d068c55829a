"""Check, plan, confirm, execute, verify, audit: the one path every action goes through.

The console drives it in stages::

    prepared = await prepare(ctx, "haproxy.drain", "bk_app_blue/app1")   # lock, poll, checks, plan
    request = prepared.confirm_request()          # -> the typed-confirmation modal
    if await confirmer.confirm(request):
        async for event in prepared.execute():    # StepStarted, StepResult, VerifyAttempt, Outcome
            ...
    prepared.release()                            # always (also after Escape)

``run_action`` does all of it for the CLI and tests. Refusals (read-only, lock held, failed
checks, bad parameters) raise :class:`ActionRefused` before anything is written or changed.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

from jaraba_tui.actions.base import Action, Assessment
from jaraba_tui.actions.confirm import Confirmer, ConfirmRequest, build_request
from jaraba_tui.actions.context import ActionContext
from jaraba_tui.actions.lock import LockHolder
from jaraba_tui.actions.registry import get_action
from jaraba_tui.actions.types import (
    ActionDeclined,
    ActionRefused,
    ExecutionEvent,
    Outcome,
    Plan,
    Probe,
    RunState,
    Step,
    StepOutcome,
    StepResult,
    StepStarted,
    Verification,
    VerifyAttempt,
    failed,
    parse_params,
)
from jaraba_tui.collectors.common import error_from
from jaraba_tui.model.snapshot import StackSnapshot
from jaraba_tui.transport.base import TransportError

READ_ONLY = "read-only: this profile (or --read-only) refuses every action"


class Prepared:
    """A planned action: its fresh snapshot, checks and plan; it holds the stack's lock."""

    def __init__(
        self,
        ctx: ActionContext,
        action: Action,
        target: str,
        params: Mapping[str, Any],
        snapshot: StackSnapshot,
        assessment: Assessment,
        run_id: str,
    ) -> None:
        self.ctx = ctx
        self.action = action
        self.target = target
        self.params = dict(params)
        self.snapshot = snapshot
        self.checks = assessment.checks
        self.plan = assessment.plan
        self.run_id = run_id
        self._executed = False

    @property
    def blocked(self) -> bool:
        return self.plan is None or any(c.blocks for c in self.checks)

    def refusal(self) -> str:
        bad = [c for c in self.checks if c.blocks]
        lines = [f"{self.action.name} {self.target}: refused by {len(bad)} failed check(s):"]
        lines += [f"  [FAIL] {c.name}: {c.reason}" for c in bad]
        if self.plan is None and not bad:
            lines.append("  nothing to plan")
        return "\n".join(lines)

    def confirm_request(self, *, forced: bool = False) -> ConfirmRequest:
        if self.plan is None:
            raise ActionRefused(self.refusal())
        profile = self.ctx.profile
        return build_request(
            action=self.action.name,
            title=self.action.title,
            target=self.target,
            dangerous=self.action.dangerous,
            profile=profile.name,
            environment=profile.environment,
            production=profile.is_production,
            plan=self.plan,
            checks=self.checks,
            forced=forced and self.blocked,
        )

    def release(self) -> None:
        self.ctx.lock.release()

    def dry_run(self) -> Outcome:
        return Outcome(
            run_id=self.run_id,
            action=self.action.name,
            target=self.target,
            status="dry-run",
            steps=(),
            verification=None,
            left_in="nothing was changed (dry run)",
            message="dry run: plan shown, nothing executed",
            undo=self.plan.undo if self.plan else (),
        )

    async def execute(
        self, *, forced: bool = False, confirmation: str = "typed"
    ) -> AsyncIterator[ExecutionEvent]:
        """Run the plan, streaming events; the last one is the :class:`Outcome`."""
        ctx, plan = self.ctx, self.plan
        if ctx.read_only:
            raise ActionRefused(READ_ONLY)
        if plan is None or (self.blocked and not forced):
            raise ActionRefused(self.refusal())
        if self._executed:
            raise ActionRefused("this plan was already executed; prepare the action again")
        self._executed = True
        if not ctx.lock.held:
            ctx.lock.acquire(self._holder())
        try:
            async for event in self._run(plan, forced=forced, confirmation=confirmation):
                yield event
        finally:
            self.release()

    def _holder(self) -> LockHolder:
        return LockHolder.for_run(
            self.ctx.who,
            action=self.action.name,
            target=self.target,
            profile=self.ctx.profile.name,
            run_id=self.run_id,
        )

    def _audit(self, event: str, **fields: Any) -> None:
        self.ctx.audit.record(
            event,
            self.run_id,
            who=self.ctx.who,
            profile=self.ctx.profile,
            action=self.action.name,
            target=self.target,
            **fields,
        )

    async def _run(
        self, plan: Plan, *, forced: bool, confirmation: str
    ) -> AsyncIterator[ExecutionEvent]:
        overridden = [c for c in self.checks if c.blocks]
        self._audit(
            "started",
            dangerous=self.action.dangerous,
            params={k: _plain(v) for k, v in self.params.items()},
            confirmation=confirmation,
            forced=bool(forced and overridden),
            overridden_checks=overridden,
            checks=self.checks,
            plan=plan.to_dict(),
        )
        state = RunState()
        results: list[StepResult] = []
        outcome: Outcome | None = None
        try:
            for index, step in enumerate(plan.steps, 1):
                yield StepStarted(index, len(plan.steps), step.title, step.where, step.command)
                result = await self._step(index, step, state)
                results.append(result)
                self._audit("step", step=result)
                yield result
                if not result.ok:
                    outcome = await self._observed(self._failed(plan, results, index), state)
                    break
            if outcome is None:
                verification: Verification | None = None
                async for ev in self._verify(plan, state):
                    if isinstance(ev, Verification):
                        verification = ev
                    else:
                        yield ev
                assert verification is not None
                undo, undo_action = self.action_undo(plan, state)
                outcome = Outcome(
                    run_id=self.run_id,
                    action=self.action.name,
                    target=self.target,
                    status="verified" if verification.verified else "not verified",
                    steps=tuple(results),
                    verification=verification,
                    left_in=(
                        "the expected end state: " + "; ".join(plan.expected)
                        if verification.verified
                        else "every step ran, but the end state was not confirmed: "
                        + verification.seen
                    ),
                    message=f"{verification.word}: {verification.seen}",
                    undo=undo,
                    undo_action=undo_action,
                )
        except BaseException as exc:
            if outcome is None:
                why = "cancelled" if isinstance(exc, asyncio.CancelledError) else repr(exc)
                outcome = self._failed(plan, results, len(results) + 1, interrupted=why)
            self._audit("finished", status=outcome.status, outcome=outcome)
            raise
        self._audit(
            "finished",
            status=outcome.status,
            outcome=outcome,
        )
        yield outcome

    def action_undo(self, plan: Plan, state: RunState) -> tuple[tuple[str, ...], Any]:
        hook: Callable[[Plan, RunState], tuple[tuple[str, ...], Any]] | None = getattr(
            self.action, "undo_after", None
        )
        if hook is not None:
            return hook(plan, state)
        return plan.undo, plan.undo_action

    async def _step(self, index: int, step: Step, state: RunState) -> StepResult:
        started, t0 = time.time(), time.monotonic()
        try:
            if step.run is None:
                raise RuntimeError("step has nothing to run")
            async with asyncio.timeout(step.timeout):
                out = await step.run(state)
        except TimeoutError:
            out = StepOutcome(False, f"did not finish within {step.timeout:g}s")
        except TransportError as exc:
            out = StepOutcome(False, error_from(exc, step.where).sentence())
        except ActionRefused as exc:
            out = StepOutcome(False, str(exc))
        except Exception as exc:  # a bug must still stop the plan and say where
            out = StepOutcome(False, f"internal error: {type(exc).__name__}: {exc}")
        state.data.update(out.data)
        return StepResult(
            index=index,
            title=step.title,
            where=step.where,
            command=step.command,
            status="ok" if out.ok else "failed",
            detail=out.detail,
            started_at=started,
            elapsed_s=round(time.monotonic() - t0, 3),
            data=dict(out.data),
        )

    def _failed(
        self,
        plan: Plan,
        results: list[StepResult],
        index: int,
        *,
        interrupted: str | None = None,
    ) -> Outcome:
        steps = plan.steps
        done = [r for r in results if r.ok]
        lines: list[str] = []
        if interrupted is not None:
            lines.append(f"interrupted ({interrupted}) at step {index} of {len(steps)}")
        else:
            bad = results[-1]
            lines.append(f"step {index} of {len(steps)} FAILED ({bad.title}): {bad.detail}")
        if done:
            lines.append("done before it: " + "; ".join(f"{r.index}. {r.title}" for r in done))
        else:
            lines.append("no step had completed: nothing was changed by earlier steps")
        rest = steps[index:]
        if rest:
            first = index + 1
            lines.append(
                "not run: " + "; ".join(f"{n}. {s.title}" for n, s in enumerate(rest, first))
            )
        if 0 < index <= len(steps) and steps[index - 1].if_failed:
            lines.append(steps[index - 1].if_failed)
        left = ". ".join(lines)
        return Outcome(
            run_id=self.run_id,
            action=self.action.name,
            target=self.target,
            status="failed",
            steps=tuple(results),
            verification=None,
            left_in=left,
            message=lines[0],
            undo=plan.undo,
            undo_action=plan.undo_action,
        )

    async def _observed(self, outcome: Outcome, state: RunState) -> Outcome:
        """After a failed step, look once at the real state (the action's own read-only
        verification probe, bounded) and add what was seen to ``left_in``: the static
        ``if_failed`` note says what the plan expected to be left, this says what is."""
        assert self.plan is not None
        limit = 2 * self.ctx.timeout + 10.0
        try:
            async with asyncio.timeout(limit):
                probe = await self.action.verify(self.ctx, self.plan, self.params, state)
            seen = probe.seen
        except TimeoutError:
            seen = f"could not look within {limit:g}s"
        except TransportError as exc:
            seen = "could not look: " + error_from(exc, exc.endpoint).sentence()
        except Exception as exc:  # the outcome must still be recorded
            seen = f"could not look: {type(exc).__name__}: {exc}"
        return dataclasses.replace(
            outcome, left_in=f"{outcome.left_in}. Seen after the failure: {seen}"
        )

    async def _verify(
        self, plan: Plan, state: RunState
    ) -> AsyncIterator[VerifyAttempt | Verification]:
        action, ctx = self.action, self.ctx
        timeout = plan.verify_timeout or action.timeout_for(self.params)
        hold = plan.verify_hold if plan.verify_hold is not None else action.verify_hold
        t0 = time.monotonic()
        ok_since: float | None = None
        regressed = ""
        attempt = 0
        while True:
            attempt += 1
            try:
                probe = await action.verify(ctx, plan, self.params, state)
            except TransportError as exc:
                probe = Probe(False, f"could not look: {exc}")
            now = time.monotonic()
            yield VerifyAttempt(attempt, round(now - t0, 3), probe)
            if probe.ok:
                ok_since = now if ok_since is None else ok_since
                if now - ok_since >= hold:
                    seen = probe.seen + (f" (held {hold:g}s)" if hold else "")
                    yield Verification(True, seen, attempt, round(now - t0, 3), timeout)
                    return
            elif ok_since is not None:
                regressed = f"it held for {now - ok_since:.1f}s, then did not stick: {probe.seen}; "
                ok_since = None
            if now - t0 >= timeout:
                yield Verification(
                    False, regressed + probe.seen, attempt, round(now - t0, 3), timeout
                )
                return
            await ctx.sleep(action.verify_interval)


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    return value


async def prepare(
    ctx: ActionContext,
    name: str,
    target: str,
    params: Mapping[str, object] | None = None,
    *,
    take_lock: bool = True,
) -> Prepared:
    """Refuse (read-only, unknown action, bad parameters, lock held) or poll fresh, run the
    preflight checks and build the plan. With ``take_lock`` the stack's lock is held from
    here until :meth:`Prepared.release` (or the end of :meth:`Prepared.execute`)."""
    if ctx.read_only:
        raise ActionRefused(READ_ONLY)
    action = get_action(name)
    try:
        typed = parse_params(action.params, params or {})
    except ValueError as exc:
        raise ActionRefused(f"{name}: {exc}") from None
    run_id = uuid.uuid4().hex
    holder = LockHolder.for_run(
        ctx.who, action=name, target=target, profile=ctx.profile.name, run_id=run_id
    )
    if take_lock:
        ctx.lock.acquire(holder)
    try:
        snapshot = (
            await ctx.poll(*action.layers)
            if action.layers
            else StackSnapshot(collected_at=ctx.clock(), profile=ctx.profile.name)
        )
        try:
            assessment = await action.assess(ctx, target, typed, snapshot)
        except TransportError as exc:
            reason = error_from(exc, exc.endpoint).sentence()
            assessment = Assessment((failed("preflight", f"could not check: {reason}"),), None)
    except BaseException:
        if take_lock:
            ctx.lock.release()
        raise
    return Prepared(ctx, action, target, typed, snapshot, assessment, run_id)


async def run_action(
    ctx: ActionContext,
    name: str,
    target: str,
    params: Mapping[str, object] | None = None,
    *,
    confirmer: Confirmer,
    force: bool = False,
    assume_yes: bool = False,
    dry_run: bool = False,
    on_event: Callable[[ExecutionEvent], None] | None = None,
    on_prepared: Callable[[Prepared], None] | None = None,
) -> Outcome:
    """The whole path. Raises :class:`ActionRefused` / :class:`ActionDeclined` when nothing
    ran; otherwise returns the :class:`Outcome` (verified, not verified, or failed)."""
    if assume_yes and ctx.profile.is_production:
        raise ActionRefused(
            "--yes is not accepted with a production profile: type the confirmation"
        )
    prepared = await prepare(ctx, name, target, params, take_lock=not dry_run)
    try:
        if on_prepared is not None:
            on_prepared(prepared)
        if dry_run:
            return prepared.dry_run()
        if prepared.plan is None or (prepared.blocked and not force):
            raise ActionRefused(prepared.refusal())
        forced = prepared.blocked
        if assume_yes and not forced:
            confirmation = "--yes"
        else:
            if not await confirmer.confirm(prepared.confirm_request(forced=forced)):
                raise ActionDeclined(f"{name} {target}: not confirmed; nothing was changed")
            confirmation = "typed" + (" + override" if forced else "")
        outcome: Outcome | None = None
        async for event in prepared.execute(forced=forced, confirmation=confirmation):
            if on_event is not None:
                on_event(event)
            if isinstance(event, Outcome):
                outcome = event
        assert outcome is not None
        return outcome
    finally:
        prepared.release()
