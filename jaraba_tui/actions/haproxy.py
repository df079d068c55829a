"""HAProxy: drain a server (state drain over the runtime API, sessions to 0, optional maint)
and make it ready again. Never the last UP active server of a backend."""

from __future__ import annotations

import time
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
from jaraba_tui.collectors.haproxy import HAProxySnapshot, StatRow, parse_stat_csv
from jaraba_tui.model.snapshot import StackSnapshot
from jaraba_tui.transport.base import HAProxyRuntime

if TYPE_CHECKING:
    from jaraba_tui.actions.context import ActionContext
    from jaraba_tui.profile import Profile

#: Server states (normalised ``show stat`` status) that take new traffic.
USABLE = ("UP", "NO CHECK")


def split_target(target: str) -> tuple[str, str]:
    backend, sep, server = target.partition("/")
    if not sep or not backend or not server or "/" in server or " " in target:
        raise ValueError(
            f"a server is named BACKEND/SERVER (e.g. bk_app_blue/app1), not {target!r}"
        )
    return backend, server


async def runtime_command(rt: HAProxyRuntime, line: str) -> StepOutcome:
    """A runtime API command that answers nothing on success (``set server``, ``set map``)."""
    answer = (await rt.command(line)).strip()
    if answer:
        return StepOutcome(False, f"HAProxy answered: {answer.splitlines()[0][:200]}")
    return StepOutcome(True, "accepted")


async def fetch_row(rt: HAProxyRuntime, backend: str, server: str) -> StatRow | None:
    table = parse_stat_csv(await rt.command("show stat"))
    return next(
        (r for r in table.rows if r.kind == "server" and r.proxy == backend and r.name == server),
        None,
    )


def runtime_checks(hp: HAProxySnapshot | None) -> list[CheckResult]:
    if hp is None:
        return [failed("haproxy", "the profile has no [haproxy] or it was not polled")]
    if hp.stat_source != "runtime":
        why = "; ".join(e.sentence() for e in hp.errors) or "no runtime API configured"
        return [failed("runtime API", f"changes go through the runtime API, unreachable: {why}")]
    return [passed("runtime API", f"{hp.endpoint} answered show stat")]


def find_server(hp: HAProxySnapshot, backend: str, server: str) -> StatRow | None:
    return next((s for s in hp.servers_of(backend) if s.name == server), None)


def locate_server(target: str, snapshot: StackSnapshot) -> tuple[list[CheckResult], StatRow | None]:
    """The checks every server action starts with (a valid ``backend/server`` target, the
    runtime API answered) and the target's row; ``None`` means stop, the checks say why."""
    try:
        backend, server = split_target(target)
    except ValueError as exc:
        return [failed("target", str(exc))], None
    hp = snapshot.haproxy
    checks = runtime_checks(hp)
    if hp is None or checks[0].blocks:
        return checks, None
    row = find_server(hp, backend, server)
    if row is None:
        checks.append(failed("server", f"no server {target} in show stat"))
    return checks, row


def others_usable(hp: HAProxySnapshot, backend: str, server: str) -> list[StatRow]:
    """Active (non-backup) servers of the backend, other than ``server``, taking traffic."""
    return [
        s
        for s in hp.servers_of(backend)
        if s.name != server and s.state in USABLE and not (s.bck or 0)
    ]


def describe(row: StatRow) -> str:
    return f"{row.key} {row.status or row.state}, {row.scur or 0} session(s)"


@register
class DrainServer(Action):
    name = "haproxy.drain"
    title = "Drain HAProxy server"
    target_kind = "haproxy-server"
    key = "d"
    description = "Stop new sessions to one server, wait for its sessions to end (then maint)."
    layers = ("haproxy",)
    params = (
        ParamSpec("maint", "bool", "put it in maintenance once drained", default="no"),
        ParamSpec("wait", "duration", "how long to wait for sessions to end", default="120s"),
    )
    verify_timeout = 20.0

    def targets(self, snapshot: StackSnapshot, profile: Profile) -> tuple[str, ...]:
        hp = snapshot.haproxy
        return tuple(s.key for s in hp.servers if s.state in USABLE) if hp else ()

    async def assess(
        self, ctx: ActionContext, target: str, params: Mapping[str, Any], snapshot: StackSnapshot
    ) -> Assessment:
        checks, row = locate_server(target, snapshot)
        if row is None:
            return Assessment(tuple(checks), None)
        backend, server = split_target(target)
        hp = snapshot.haproxy
        assert hp is not None  # locate_server found the row in it
        checks.append(
            check(
                "server state",
                row.state in USABLE,
                f"{describe(row)}",
                f"{describe(row)}: only an UP server can be drained",
            )
        )
        others = others_usable(hp, backend, server)
        checks.append(
            check(
                "not the last UP server",
                bool(others),
                f"{len(others)} other active server(s) UP in {backend}: "
                + ", ".join(s.name for s in others),
                f"{server} is the last UP active server of {backend}: draining it leaves "
                "the backend without a server",
            )
        )
        live = hp.live_backend == backend
        rt = ctx.transports.haproxy_runtime()
        maint = bool(params["maint"])
        wait_s = float(params["wait"])

        async def drain(state: RunState) -> StepOutcome:
            return await runtime_command(rt, f"set server {target} state drain")

        async def sessions_end(state: RunState) -> StepOutcome:
            deadline = time.monotonic() + wait_s
            while True:
                now_row = await fetch_row(rt, backend, server)
                if now_row is None:
                    return StepOutcome(False, f"{target} vanished from show stat")
                if (now_row.scur or 0) == 0:
                    return StepOutcome(True, f"{describe(now_row)}")
                if time.monotonic() >= deadline:
                    return StepOutcome(False, f"after {wait_s:g}s still {describe(now_row)}")
                await ctx.sleep(1.0)

        async def to_maint(state: RunState) -> StepOutcome:
            return await runtime_command(rt, f"set server {target} state maint")

        steps = [
            Step(
                f"put {target} in drain (no new sessions)",
                rt.endpoint,
                f"set server {target} state drain",
                "runtime-api",
                ctx.timeout,
                if_failed=f"{target} is unchanged ({row.status})",
                run=drain,
            ),
            Step(
                f"wait until {target} has no session (up to {wait_s:g}s)",
                rt.endpoint,
                f"show stat (every 1s) until scur of {target} is 0",
                "wait",
                wait_s + 2 * ctx.timeout,
                if_failed=f"{target} stays in DRAIN: it takes no new sessions but some remain; "
                f"wait, or undo with haproxy.ready {target}",
                run=sessions_end,
            ),
        ]
        if maint:
            steps.append(
                Step(
                    f"put {target} in maintenance",
                    rt.endpoint,
                    f"set server {target} state maint",
                    "runtime-api",
                    ctx.timeout,
                    if_failed=f"{target} is drained (DRAIN, no sessions) but not in MAINT",
                    run=to_maint,
                )
            )
        end = "MAINT" if maint else "DRAIN"
        plan = Plan(
            action=self.name,
            target=target,
            summary=f"drain {target}" + (" then maintenance" if maint else ""),
            steps=tuple(steps),
            blast_radius=(
                f"{target} takes no new sessions; {len(others)} other server(s) of {backend} "
                "take its share" + (" (the LIVE backend)" if live else ""),
                "existing sessions end normally (none is cut)",
                "a reload keeps this state only if the reload dumps the server state file",
            ),
            expected=(f"{target} is {end} with 0 sessions",),
            undo=(f"set server {target} state ready",),
            undo_action=ActionRef("haproxy.ready", target),
        )
        return Assessment(tuple(checks), plan)

    async def verify(
        self, ctx: ActionContext, plan: Plan, params: Mapping[str, Any], state: RunState
    ) -> Probe:
        backend, server = split_target(plan.target)
        row = await fetch_row(ctx.transports.haproxy_runtime(), backend, server)
        if row is None:
            return Probe(False, f"{plan.target} not in show stat")
        want = "MAINT" if params["maint"] else "DRAIN"
        return Probe(row.state == want and (row.scur or 0) == 0, describe(row))


@register
class ReadyServer(Action):
    name = "haproxy.ready"
    title = "Make HAProxy server ready"
    target_kind = "haproxy-server"
    key = "r"
    description = "Take a drained or maintenance server back into service."
    layers = ("haproxy",)
    verify_timeout = 60.0

    def targets(self, snapshot: StackSnapshot, profile: Profile) -> tuple[str, ...]:
        hp = snapshot.haproxy
        return tuple(s.key for s in hp.servers if s.state in ("DRAIN", "MAINT")) if hp else ()

    async def assess(
        self, ctx: ActionContext, target: str, params: Mapping[str, Any], snapshot: StackSnapshot
    ) -> Assessment:
        checks, row = locate_server(target, snapshot)
        if row is None:
            return Assessment(tuple(checks), None)
        checks.append(
            check(
                "server state",
                row.state in ("DRAIN", "MAINT"),
                describe(row),
                f"{describe(row)}: not drained or in maintenance, nothing to do",
            )
        )
        rt = ctx.transports.haproxy_runtime()

        async def ready(state: RunState) -> StepOutcome:
            return await runtime_command(rt, f"set server {target} state ready")

        plan = Plan(
            action=self.name,
            target=target,
            summary=f"make {target} ready",
            steps=(
                Step(
                    f"put {target} back in service",
                    rt.endpoint,
                    f"set server {target} state ready",
                    "runtime-api",
                    ctx.timeout,
                    if_failed=f"{target} is unchanged ({row.status})",
                    run=ready,
                ),
            ),
            blast_radius=(f"{target} takes new sessions again once its health check passes",),
            expected=(f"{target} is UP",),
            undo=(f"drain it again: haproxy.drain {target}",),
            undo_action=ActionRef("haproxy.drain", target),
        )
        return Assessment(tuple(checks), plan)

    async def verify(
        self, ctx: ActionContext, plan: Plan, params: Mapping[str, Any], state: RunState
    ) -> Probe:
        backend, server = split_target(plan.target)
        row = await fetch_row(ctx.transports.haproxy_runtime(), backend, server)
        if row is None:
            return Probe(False, f"{plan.target} not in show stat")
        return Probe(row.state in USABLE, describe(row))
