"""The runner with a scripted action (no lab): order of stages, refusals, audit, lock."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

import pytest

from jaraba_tui.actions import (
    ActionContext,
    ActionDeclined,
    ActionRefused,
    DenyConfirmer,
    LockHeld,
    LockHolder,
    Outcome,
    TypedConfirmer,
    available_actions,
    list_actions,
    prepare,
    run_action,
)
from jaraba_tui.actions.base import Action, Assessment
from jaraba_tui.actions.registry import register
from jaraba_tui.actions.types import (
    ParamSpec,
    Plan,
    Probe,
    RunState,
    Step,
    StepOutcome,
    failed,
    passed,
)
from jaraba_tui.model.snapshot import StackSnapshot
from jaraba_tui.profile import Profile, profile_from_mapping
from jaraba_tui.secrets import register_secret_value
from tests.actions.labkit import TEST_WHO

SECRET = "s3cr3t-Value-for-the-audit-test"


@register
class Scripted(Action):
    """Three steps; parameters choose a blocking check, a failing step, the verification."""

    name = "test.scripted"
    title = "Scripted test action"
    target_kind = "alert"
    params = (
        ParamSpec("block", "bool", "fail a blocking check", default="no"),
        ParamSpec("fail_at", "int", "the step that fails (0: none)", default="0"),
        ParamSpec("verify", "str", "probe results, comma-separated (ok/bad)", default="ok"),
        ParamSpec("leak", "bool", "put a secret in a step detail", default="no"),
    )
    verify_interval = 0.01
    ran: ClassVar[list[str]] = []
    audit_at_first_step: ClassVar[list[str]] = []

    def targets(self, snapshot: StackSnapshot, profile: Profile) -> tuple[str, ...]:
        return ("thing",)

    def timeout_for(self, params: Mapping[str, Any]) -> float:
        return 0.3

    async def assess(
        self, ctx: ActionContext, target: str, params: Mapping[str, Any], snapshot: StackSnapshot
    ) -> Assessment:
        checks = [passed("always", "fine")]
        if params["block"]:
            checks.append(failed("blocker", "the scenario blocks"))
        checks.append(failed("advice", "only a warning", blocking=False))

        def make(n: int) -> Step:
            async def run(state: RunState) -> StepOutcome:
                if n == 1:
                    Scripted.audit_at_first_step.append(ctx.audit.path.read_text())
                Scripted.ran.append(f"step{n}")
                if params["fail_at"] == n:
                    return StepOutcome(False, "boom")
                detail = f"done {n}" + (f" with {SECRET}" if params["leak"] else "")
                return StepOutcome(True, detail, {f"k{n}": str(n)})

            return Step(f"step {n}", "here", f"do {n}", "local", 5.0, f"left after {n}", run)

        plan = Plan(
            self.name,
            target,
            "three steps",
            tuple(make(n) for n in (1, 2, 3)),
            ("nothing real",),
            ("all three done",),
            ("nothing to undo",),
        )
        return Assessment(tuple(checks), plan)

    async def verify(
        self, ctx: ActionContext, plan: Plan, params: Mapping[str, Any], state: RunState
    ) -> Probe:
        seq = str(params["verify"]).split(",")
        n = int(state.data.get("probes", "0"))
        state.data["probes"] = str(n + 1)
        word = seq[min(n, len(seq) - 1)]
        return Probe(word == "ok", f"probe {n + 1}: {word}")


def _profile(environment: str = "lab", read_only: bool = False) -> Profile:
    return profile_from_mapping(
        {"name": f"unit-{environment}", "environment": environment, "read_only": read_only}
    )


@pytest.fixture
async def ctx(audit_path: Path) -> AsyncIterator[ActionContext]:
    import os

    who = dataclasses.replace(TEST_WHO, host=os.uname().nodename)
    c = ActionContext.create(_profile(), audit_path=audit_path, who=who)
    Scripted.ran.clear()
    Scripted.audit_at_first_step.clear()
    try:
        yield c
    finally:
        await c.aclose()


def _records(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


async def test_happy_path_streams_steps_verifies_and_audits(ctx: ActionContext) -> None:
    events: list[Any] = []
    outcome = await run_action(
        ctx,
        "test.scripted",
        "thing",
        confirmer=TypedConfirmer(["thing"]),
        on_event=events.append,
    )
    assert outcome.status == "verified"
    assert [type(e).__name__ for e in events] == [
        "StepStarted",
        "StepResult",
        "StepStarted",
        "StepResult",
        "StepStarted",
        "StepResult",
        "VerifyAttempt",
        "Outcome",
    ]
    recs = _records(ctx.audit.path)
    assert [r["event"] for r in recs] == ["started", "step", "step", "step", "finished"]
    assert {r["run_id"] for r in recs} == {outcome.run_id}
    started, finished = recs[0], recs[-1]
    assert started["who"]["user"] == "tester" and started["who"]["ssh_client"] == "192.0.2.7"
    assert started["plan"]["steps"][0]["command"] == "do 1"
    assert [c["name"] for c in started["checks"]] == ["always", "advice"]
    assert started["confirmation"] == "typed" and started["forced"] is False
    assert finished["status"] == "verified"
    assert finished["outcome"]["verification"]["verified"] is True
    assert not ctx.lock.path.exists(), "the lock is released after the run"


async def test_started_record_is_on_disk_before_the_first_step(ctx: ActionContext) -> None:
    await run_action(ctx, "test.scripted", "thing", confirmer=TypedConfirmer(["thing"]))
    (seen,) = Scripted.audit_at_first_step
    assert json.loads(seen.splitlines()[0])["event"] == "started"


async def test_first_failed_step_stops_and_says_what_state_is_left(ctx: ActionContext) -> None:
    outcome = await run_action(
        ctx,
        "test.scripted",
        "thing",
        {"fail_at": "2"},
        confirmer=TypedConfirmer(["thing"]),
    )
    assert outcome.status == "failed"
    assert Scripted.ran == ["step1", "step2"], "step 3 must not run"
    assert [s.status for s in outcome.steps] == ["ok", "failed"]
    assert "step 2 of 3 FAILED (step 2): boom" in outcome.left_in
    assert "done before it: 1. step 1" in outcome.left_in
    assert "not run: 3. step 3" in outcome.left_in
    assert "left after 2" in outcome.left_in
    recs = _records(ctx.audit.path)
    assert [r["event"] for r in recs] == ["started", "step", "step", "finished"]
    assert recs[-1]["status"] == "failed"


async def test_not_verified_reports_what_was_seen(ctx: ActionContext) -> None:
    outcome = await run_action(
        ctx, "test.scripted", "thing", {"verify": "bad"}, confirmer=TypedConfirmer(["thing"])
    )
    assert outcome.status == "not verified"
    assert outcome.verification is not None and not outcome.verification.verified
    assert "bad" in outcome.verification.seen and outcome.verification.attempts > 1


async def test_a_failed_check_blocks_and_nothing_is_audited(ctx: ActionContext) -> None:
    with pytest.raises(ActionRefused, match="blocker: the scenario blocks"):
        await run_action(
            ctx, "test.scripted", "thing", {"block": "yes"}, confirmer=TypedConfirmer(["thing"])
        )
    assert Scripted.ran == []
    assert _records(ctx.audit.path) == []
    assert not ctx.lock.path.exists()


async def test_force_needs_the_second_typed_confirmation_and_is_audited(
    ctx: ActionContext,
) -> None:
    with pytest.raises(ActionDeclined):
        await run_action(
            ctx,
            "test.scripted",
            "thing",
            {"block": "yes"},
            confirmer=TypedConfirmer(["thing"]),
            force=True,
        )
    assert _records(ctx.audit.path) == [] and Scripted.ran == []
    confirmer = TypedConfirmer(["thing", "override"])
    outcome = await run_action(
        ctx, "test.scripted", "thing", {"block": "yes"}, confirmer=confirmer, force=True
    )
    assert outcome.status == "verified"
    (request,) = confirmer.seen
    assert request.forced and [c.name for c in request.failed_checks] == ["blocker"]
    started = _records(ctx.audit.path)[0]
    assert started["forced"] is True
    assert [c["name"] for c in started["overridden_checks"]] == ["blocker"]


async def test_wrong_or_no_confirmation_changes_nothing(ctx: ActionContext) -> None:
    for confirmer in (TypedConfirmer(["Thing"]), TypedConfirmer([]), DenyConfirmer()):
        with pytest.raises(ActionDeclined):
            await run_action(ctx, "test.scripted", "thing", confirmer=confirmer)
    assert Scripted.ran == [] and _records(ctx.audit.path) == []
    assert not ctx.lock.path.exists()


async def test_production_asks_for_the_environment_too_and_refuses_yes(audit_path: Path) -> None:
    ctx = ActionContext.create(_profile("production"), audit_path=audit_path, who=TEST_WHO)
    try:
        confirmer = TypedConfirmer(["thing"])
        with pytest.raises(ActionDeclined):
            await run_action(ctx, "test.scripted", "thing", confirmer=confirmer)
        assert [p.expected for p in confirmer.seen[0].phrases] == ["thing", "production"]
        with pytest.raises(ActionRefused, match="--yes"):
            await run_action(ctx, "test.scripted", "thing", confirmer=confirmer, assume_yes=True)
        ok = await run_action(
            ctx, "test.scripted", "thing", confirmer=TypedConfirmer(["thing", "production"])
        )
        assert ok.status == "verified"
    finally:
        await ctx.aclose()


async def test_read_only_refuses_and_lists_nothing(audit_path: Path) -> None:
    for profile, flag in ((_profile(read_only=True), False), (_profile(), True)):
        ctx = ActionContext.create(profile, audit_path=audit_path, read_only=flag)
        try:
            with pytest.raises(ActionRefused, match="read-only"):
                await prepare(ctx, "test.scripted", "thing")
            assert list_actions(profile, read_only=flag) == []
            snap = StackSnapshot(collected_at=0.0)
            assert available_actions(snap, profile, read_only=flag) == []
        finally:
            await ctx.aclose()
    assert ctx.audit.records() == []
    assert any(a.name == "test.scripted" for a in list_actions(_profile()))


async def test_a_second_action_is_told_who_holds_the_lock(ctx: ActionContext) -> None:
    import os

    other = LockHolder(
        user="alice",
        ssh_client="10.0.0.9",
        host=os.uname().nodename,
        pid=1,  # alive: init
        pid_start=None,
        action="haproxy.drain",
        target="bk_app_blue/app1",
        profile="unit-lab",
        since=1_700_000_000.0,
    )
    ctx.lock.path.parent.mkdir(parents=True, exist_ok=True)
    ctx.lock.path.write_text(json.dumps(other.to_dict()))
    with pytest.raises(LockHeld) as info:
        await run_action(ctx, "test.scripted", "thing", confirmer=TypedConfirmer(["thing"]))
    msg = str(info.value)
    assert "alice from 10.0.0.9" in msg and "haproxy.drain bk_app_blue/app1" in msg
    assert "since 2023-11-14T22:13:20" in msg and info.value.stale is False
    assert Scripted.ran == [] and _records(ctx.audit.path) == []
    assert ctx.lock.path.exists(), "somebody else's lock is never removed"


async def test_prepared_holds_the_lock_until_released(ctx: ActionContext) -> None:
    prepared = await prepare(ctx, "test.scripted", "thing")
    held = ctx.lock.holder()
    assert held is not None and held.action == "test.scripted"
    second = ActionContext.create(ctx.profile, audit_path=ctx.audit.path, who=TEST_WHO)
    with pytest.raises(LockHeld, match=r"tester from 192\.0\.2\.7"):
        await prepare(second, "test.scripted", "thing")
    prepared.release()
    assert not ctx.lock.path.exists()
    again = await prepare(second, "test.scripted", "thing")
    again.release()
    await second.aclose()


async def test_secrets_never_reach_the_audit_log(ctx: ActionContext) -> None:
    register_secret_value(SECRET)
    outcome = await run_action(
        ctx, "test.scripted", "thing", {"leak": "yes"}, confirmer=TypedConfirmer(["thing"])
    )
    assert SECRET in outcome.steps[0].detail  # the step really produced it
    text = ctx.audit.path.read_text()
    assert SECRET not in text and "done 1 with ***" in text


async def test_dry_run_executes_nothing_and_audits_nothing(ctx: ActionContext) -> None:
    outcome = await run_action(
        ctx, "test.scripted", "thing", confirmer=DenyConfirmer(), dry_run=True
    )
    assert isinstance(outcome, Outcome) and outcome.status == "dry-run"
    assert Scripted.ran == [] and _records(ctx.audit.path) == []


async def test_verification_must_hold_and_notices_when_it_does_not_stick(
    ctx: ActionContext,
) -> None:
    class Holding(Scripted):
        name = "test.scripted-hold"
        verify_hold = 0.05

        def timeout_for(self, params: Mapping[str, Any]) -> float:
            return 0.15

    register(Holding)
    outcome = await run_action(
        ctx,
        "test.scripted-hold",
        "thing",
        {"verify": "ok,bad"},
        confirmer=TypedConfirmer(["thing"]),
    )
    assert outcome.status == "not verified"
    assert outcome.verification is not None
    assert "did not stick" in outcome.verification.seen
