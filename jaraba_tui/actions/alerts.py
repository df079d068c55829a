"""Alertmanager: silence an alert (matchers from its labels) and expire a silence."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from jaraba_tui.actions.base import Action, Assessment
from jaraba_tui.actions.registry import register
from jaraba_tui.actions.types import (
    ActionRef,
    CheckResult,
    ParamSpec,
    Plan,
    Probe,
    RunState,
    Step,
    StepOutcome,
    check,
    failed,
    passed,
)
from jaraba_tui.collectors.alerts import AlertmanagerState, AmAlert, parse_am_alerts
from jaraba_tui.model.snapshot import StackSnapshot

if TYPE_CHECKING:
    from jaraba_tui.actions.context import ActionContext
    from jaraba_tui.profile import Profile


def _am(snapshot: StackSnapshot) -> AlertmanagerState | None:
    return snapshot.alerts.alertmanager if snapshot.alerts is not None else None


def _reachable(am: AlertmanagerState | None) -> CheckResult:
    if am is None:
        return failed("alertmanager", "the profile has no [alertmanager] or it was not polled")
    if am.errors:
        return failed("alertmanager", "; ".join(e.sentence() for e in am.errors))
    return passed("alertmanager", f"{am.endpoint} answered")


def find_alerts(alerts: tuple[AmAlert, ...], target: str) -> list[AmAlert]:
    """By fingerprint first, else by alert name."""
    exact = [a for a in alerts if a.fingerprint == target]
    return exact or [a for a in alerts if a.name == target]


def matchers_for(alert: AmAlert) -> list[dict[str, Any]]:
    """Every label of the alert as an exact matcher: the silence covers this alert only."""
    return [
        {"name": k, "value": v, "isRegex": False, "isEqual": True}
        for k, v in sorted(alert.labels.items())
    ]


def matcher_text(matchers: list[dict[str, Any]]) -> str:
    return "{" + ", ".join(f"{m['name']}={json.dumps(m['value'])}" for m in matchers) + "}"


@register
class SilenceAlert(Action):
    name = "alert.silence"
    title = "Silence alert"
    target_kind = "alert"
    key = "s"
    description = "Create an Alertmanager silence matching every label of one alert."
    layers = ("alerts",)
    params = (
        ParamSpec("comment", "str", "why (required; shown to everyone)", required=True),
        ParamSpec("duration", "duration", "how long, e.g. 30m, 2h, 1d", default="2h"),
    )
    verify_timeout = 30.0

    def targets(self, snapshot: StackSnapshot, profile: Profile) -> tuple[str, ...]:
        am = _am(snapshot)
        return tuple(a.fingerprint for a in am.alerts if a.state == "active") if am else ()

    async def assess(
        self, ctx: ActionContext, target: str, params: Mapping[str, Any], snapshot: StackSnapshot
    ) -> Assessment:
        am = _am(snapshot)
        checks = [_reachable(am)]
        if am is None or checks[0].blocks:
            return Assessment(tuple(checks), None)
        found = find_alerts(am.alerts, target)
        if not found:
            checks.append(failed("alert", f"no alert with fingerprint or name {target!r}"))
            return Assessment(tuple(checks), None)
        if len(found) > 1:
            listing = ", ".join(f"{a.fingerprint} {matcher_text(matchers_for(a))}" for a in found)
            checks.append(
                failed("alert", f"{len(found)} alerts named {target!r}; pick one: {listing}")
            )
            return Assessment(tuple(checks), None)
        alert = found[0]
        checks.append(passed("alert", f"{alert.name} ({alert.fingerprint}) is {alert.state}"))
        checks.append(
            check(
                "not silenced yet",
                not alert.silenced_by,
                "no silence covers it",
                f"already silenced by {', '.join(alert.silenced_by)}",
                blocking=False,
            )
        )
        duration = int(params["duration"])
        checks.append(
            check(
                "duration",
                60 <= duration <= ctx.settings.max_silence_s,
                f"{duration}s",
                f"{duration}s is outside 60s..{ctx.settings.max_silence_s}s",
            )
        )
        comment = str(params["comment"])
        checks.append(check("comment", bool(comment), repr(comment), "a comment is required"))
        from jaraba_tui.actions.audit import iso

        matchers = matchers_for(alert)
        http = ctx.transports.alertmanager()
        created_by = ctx.who.name

        async def create(state: RunState) -> StepOutcome:
            now = ctx.clock()
            body = {
                "matchers": matchers,
                "startsAt": iso(now),
                "endsAt": iso(now + duration),
                "createdBy": created_by,
                "comment": comment,
            }
            resp = await http.post("/api/v2/silences", body)
            if resp.status != 200:
                return StepOutcome(False, f"HTTP {resp.status}: {resp.text.strip()[:200]}")
            sid = str(resp.json().get("silenceID", ""))
            if not sid:
                return StepOutcome(False, f"no silenceID in the answer: {resp.text[:200]}")
            return StepOutcome(True, f"silence {sid} created", {"silence_id": sid})

        body_text = json.dumps(
            {
                "matchers": matchers,
                "startsAt": "<now>",
                "endsAt": f"<now + {duration}s>",
                "createdBy": created_by,
                "comment": comment,
            }
        )
        plan = Plan(
            action=self.name,
            target=target,
            summary=f"silence {alert.name} {matcher_text(matchers)} for {duration}s",
            steps=(
                Step(
                    "create the silence",
                    http.endpoint,
                    f"POST /api/v2/silences {body_text}",
                    "http",
                    ctx.timeout,
                    if_failed="no silence was created; the alert still notifies",
                    run=create,
                ),
            ),
            blast_radius=(
                f"notifications of this alert ({alert.name}, exactly these labels) stop for "
                f"{duration}s; other alerts are not affected",
            ),
            expected=(f"the silence is active and {alert.fingerprint} is suppressed by it",),
            undo=("expire the silence: jaraba-ops action alert.expire-silence SILENCE_ID",),
        )
        return Assessment(tuple(checks), plan)

    def undo_after(self, plan: Plan, state: RunState) -> tuple[tuple[str, ...], ActionRef | None]:
        sid = state.data.get("silence_id")
        if not sid:
            return plan.undo, None
        ref = ActionRef("alert.expire-silence", sid)
        return (f"expire silence {sid}: {ref.command_line()}",), ref

    async def verify(
        self, ctx: ActionContext, plan: Plan, params: Mapping[str, Any], state: RunState
    ) -> Probe:
        sid = state.data.get("silence_id", "")
        http = ctx.transports.alertmanager()
        resp = await http.get(f"/api/v2/silence/{sid}")
        if resp.status != 200:
            return Probe(False, f"GET silence {sid}: HTTP {resp.status}")
        silence_state = str(resp.json().get("status", {}).get("state", "?"))
        alerts = parse_am_alerts((await http.get("/api/v2/alerts")).text)
        mine = [a for a in alerts if a.fingerprint == plan.target or a.name == plan.target]
        covered = [a for a in mine if sid in a.silenced_by]
        seen = f"silence {sid} is {silence_state}; alert suppressed by it: {bool(covered)}"
        return Probe(silence_state == "active" and bool(covered), seen)


@register
class ExpireSilence(Action):
    name = "alert.expire-silence"
    title = "Expire silence"
    target_kind = "silence"
    key = "x"
    description = "Expire an Alertmanager silence now: its alerts notify again."
    layers = ("alerts",)
    verify_timeout = 30.0

    def targets(self, snapshot: StackSnapshot, profile: Profile) -> tuple[str, ...]:
        am = _am(snapshot)
        return tuple(s.id for s in am.silences if s.state in ("active", "pending")) if am else ()

    async def assess(
        self, ctx: ActionContext, target: str, params: Mapping[str, Any], snapshot: StackSnapshot
    ) -> Assessment:
        am = _am(snapshot)
        checks = [_reachable(am)]
        if am is None or checks[0].blocks:
            return Assessment(tuple(checks), None)
        silence = am.silence(target)
        if silence is None:
            checks.append(failed("silence", f"no active or pending silence with id {target!r}"))
            return Assessment(tuple(checks), None)
        matchers = ", ".join(m.expr() for m in silence.matchers)
        checks.append(
            passed(
                "silence",
                f"{silence.state}, by {silence.created_by}: {silence.comment!r} {{{matchers}}}",
            )
        )
        http = ctx.transports.alertmanager()

        async def expire(state: RunState) -> StepOutcome:
            resp = await http.delete(f"/api/v2/silence/{target}")
            if resp.status != 200:
                return StepOutcome(False, f"HTTP {resp.status}: {resp.text.strip()[:200]}")
            return StepOutcome(True, f"silence {target} expired")

        from jaraba_tui.actions.audit import iso

        ends = iso(silence.ends_at) if silence.ends_at else "?"
        plan = Plan(
            action=self.name,
            target=target,
            summary=f"expire silence {target} (was to end {ends})",
            steps=(
                Step(
                    "expire the silence",
                    http.endpoint,
                    f"DELETE /api/v2/silence/{target}",
                    "http",
                    ctx.timeout,
                    if_failed="the silence is still in force",
                    run=expire,
                ),
            ),
            blast_radius=(f"alerts matching {{{matchers}}} notify again at once",),
            expected=(f"silence {target} is expired",),
            undo=("create a new silence (alert.silence); an expired silence cannot be revived",),
        )
        return Assessment(tuple(checks), plan)

    async def verify(
        self, ctx: ActionContext, plan: Plan, params: Mapping[str, Any], state: RunState
    ) -> Probe:
        resp = await ctx.transports.alertmanager().get(f"/api/v2/silence/{plan.target}")
        if resp.status != 200:
            return Probe(False, f"GET silence: HTTP {resp.status}")
        st = str(resp.json().get("status", {}).get("state", "?"))
        return Probe(st == "expired", f"silence {plan.target} is {st}")
