"""One Galera node: start (join), stop, restart, and force a surviving node Primary."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from jaraba_tui.actions.base import Action, Assessment
from jaraba_tui.actions.galera_common import (
    command_step,
    describe_wsrep,
    down_state,
    fresh_node,
    wait_down_step,
    wait_synced_step,
    wsrep,
)
from jaraba_tui.actions.registry import register
from jaraba_tui.actions.types import (
    ActionRef,
    CheckResult,
    Plan,
    Probe,
    RunState,
    Step,
    StepOutcome,
    check,
    failed,
)
from jaraba_tui.collectors.galera import GaleraNodeSnapshot, GaleraSnapshot
from jaraba_tui.model.snapshot import StackSnapshot

if TYPE_CHECKING:
    from jaraba_tui.actions.context import ActionContext
    from jaraba_tui.profile import Profile

FORCE_SQL = "SET GLOBAL wsrep_provider_options='pc.bootstrap=YES'"


def _node(g: GaleraSnapshot | None, target: str) -> GaleraNodeSnapshot | None:
    return g.node(target) if g is not None else None


def _primary_size(g: GaleraSnapshot, exclude: str) -> int:
    sizes = [
        n.wsrep.cluster_size or 0
        for n in g.nodes
        if n.name != exclude and n.wsrep is not None and n.wsrep.in_primary
    ]
    return max(sizes, default=0)


def _stop_checks(g: GaleraSnapshot, node: GaleraNodeSnapshot) -> list[CheckResult]:
    ws = node.wsrep
    size = ws.cluster_size or 0 if ws is not None else 0
    return [
        check(
            "node running and Synced",
            ws is not None and ws.synced,
            f"{node.name}: {describe_wsrep(ws)}",
            f"{node.name}: {describe_wsrep(ws)}: not a Synced member (donor, joiner or down)",
        ),
        check(
            "not the last node",
            ws is not None and ws.in_primary and size > 1,
            f"{size - 1} node(s) stay in the Primary component",
            f"{node.name} is the last node of the cluster (size {size}): stopping it is a "
            "full outage",
        ),
    ]


class _NodeAction(Action):
    target_kind = "galera-node"
    layers = ("galera",)
    dangerous = True
    verify_timeout = 60.0
    verify_interval = 2.0
    applies_when: ClassVar[str] = "running"

    def targets(self, snapshot: StackSnapshot, profile: Profile) -> tuple[str, ...]:
        g = snapshot.galera
        if g is None:
            return ()
        if self.applies_when == "down":
            return tuple(n.name for n in g.nodes if n.wsrep is None)
        if self.applies_when == "non-primary":
            return tuple(n.name for n in g.nodes if n.wsrep is not None and not n.wsrep.in_primary)
        return tuple(n.name for n in g.nodes if n.wsrep is not None)

    async def verify_member(self, ctx: ActionContext, name: str, size: int) -> Probe:
        ws = await wsrep(ctx, name)
        ok = ws is not None and ws.synced and ws.in_primary and ws.cluster_size == size
        return Probe(ok, f"{name}: {describe_wsrep(ws)} (want Synced, Primary, size {size})")


@register
class GaleraStart(_NodeAction):
    name = "galera.start"
    title = "Start Galera node"
    key = "S"
    description = "Start one stopped node; it joins the running Primary component."
    applies_when = "down"
    dangerous = False

    async def assess(
        self, ctx: ActionContext, target: str, params: Mapping[str, Any], snapshot: StackSnapshot
    ) -> Assessment:
        g = snapshot.galera
        node = _node(g, target)
        if g is None or node is None:
            return Assessment((failed("node", f"no Galera node {target!r}"),), None)
        size = _primary_size(g, target)
        down, seen = await down_state(ctx, node)
        checks = [
            check("node verifiably down", down, f"{target}: {seen}", f"{target}: {seen}"),
            check(
                "a Primary component to join",
                size > 0,
                f"Primary component of size {size}",
                "no node is in a Primary component: use galera.bootstrap (all down) or "
                "galera.force-primary (a surviving non-Primary node)",
            ),
        ]
        primary_uuids = {
            n.wsrep.cluster_state_uuid
            for n in g.nodes
            if n.wsrep is not None and n.wsrep.in_primary
        }
        gs = node.grastate
        if gs is not None and primary_uuids:
            checks.append(
                check(
                    "same cluster",
                    gs.uuid in primary_uuids,
                    f"grastate uuid {gs.uuid}: IST possible",
                    f"grastate uuid {gs.uuid} is not the cluster's "
                    f"({', '.join(map(str, primary_uuids))}): it will receive a full SST",
                    blocking=False,
                )
            )
        cmds = ctx.settings.node(target)
        plan = Plan(
            action=self.name,
            target=target,
            summary=f"start {target}; it joins the Primary component (size {size} -> {size + 1})",
            steps=(
                command_step(
                    ctx,
                    target,
                    f"start {target}",
                    list(cmds.start),
                    cmds.start_timeout,
                    f"{target} did not start: read its error log",
                ),
                wait_synced_step(
                    ctx,
                    target,
                    size + 1,
                    cmds.start_timeout,
                    f"{target} started but has not joined (SST may still run)",
                ),
            ),
            blast_radius=("a donor node is desynced while it sends IST/SST (ProxySQL avoids it)",),
            expected=(f"{target} Synced, Primary, cluster size {size + 1}",),
            undo=(f"galera.stop {target}",),
            undo_action=ActionRef("galera.stop", target),
            facts={"size": str(size + 1)},
        )
        return Assessment(tuple(checks), plan)

    async def verify(
        self, ctx: ActionContext, plan: Plan, params: Mapping[str, Any], state: RunState
    ) -> Probe:
        return await self.verify_member(ctx, plan.target, int(plan.facts.get("size", "0")))


@register
class GaleraStop(_NodeAction):
    name = "galera.stop"
    title = "Stop Galera node"
    key = "T"
    description = "Stop one node cleanly; the others stay Primary."

    async def assess(
        self, ctx: ActionContext, target: str, params: Mapping[str, Any], snapshot: StackSnapshot
    ) -> Assessment:
        g = snapshot.galera
        node = _node(g, target)
        if g is None or node is None:
            return Assessment((failed("node", f"no Galera node {target!r}"),), None)
        checks = _stop_checks(g, node)
        cmds = ctx.settings.node(target)
        size = (node.wsrep.cluster_size or 0) if node.wsrep else 0
        plan = Plan(
            action=self.name,
            target=target,
            summary=f"stop {target} cleanly (cluster size {size} -> {size - 1})",
            steps=(
                command_step(
                    ctx,
                    target,
                    f"stop {target}",
                    list(cmds.stop),
                    cmds.stop_timeout,
                    f"{target} may still run: check it before anything else",
                ),
                wait_down_step(
                    ctx,
                    target,
                    cmds.stop_timeout,
                    f"{target} was asked to stop but still answers or runs",
                ),
            ),
            blast_radius=(
                f"{target} serves nothing; ProxySQL moves its traffic to the others",
                f"the cluster continues with {size - 1} node(s)",
            ),
            expected=(f"{target} down; the others Primary with size {size - 1}",),
            undo=(f"galera.start {target}",),
            undo_action=ActionRef("galera.start", target),
        )
        return Assessment(tuple(checks), plan)

    async def verify(
        self, ctx: ActionContext, plan: Plan, params: Mapping[str, Any], state: RunState
    ) -> Probe:
        down, seen = await down_state(ctx, await fresh_node(ctx, plan.target))
        return Probe(down, f"{plan.target}: {seen}")


@register
class GaleraRestart(_NodeAction):
    name = "galera.restart"
    title = "Restart Galera node"
    key = "R"
    description = "Stop one node cleanly, start it again, wait until it is Synced."

    async def assess(
        self, ctx: ActionContext, target: str, params: Mapping[str, Any], snapshot: StackSnapshot
    ) -> Assessment:
        g = snapshot.galera
        node = _node(g, target)
        if g is None or node is None:
            return Assessment((failed("node", f"no Galera node {target!r}"),), None)
        checks = _stop_checks(g, node)
        cmds = ctx.settings.node(target)
        size = (node.wsrep.cluster_size or 0) if node.wsrep else 0
        steps: tuple[Step, ...] = (
            command_step(
                ctx,
                target,
                f"stop {target}",
                list(cmds.stop),
                cmds.stop_timeout,
                f"{target} may still run: check it",
            ),
            wait_down_step(
                ctx,
                target,
                cmds.stop_timeout,
                f"{target} was asked to stop but still answers or runs",
            ),
            command_step(
                ctx,
                target,
                f"start {target}",
                list(cmds.start),
                cmds.start_timeout,
                f"{target} is STOPPED and did not start: read its error log, then "
                f"galera.start {target}",
            ),
            wait_synced_step(
                ctx,
                target,
                size,
                cmds.start_timeout,
                f"{target} started but has not joined (SST may still run)",
            ),
        )
        plan = Plan(
            action=self.name,
            target=target,
            summary=f"restart {target} (stop cleanly, start, wait Synced)",
            steps=steps,
            blast_radius=(f"{target} serves nothing for the restart; the others carry on",),
            expected=(f"{target} Synced, Primary, cluster size {size}",),
            undo=("none needed: the node is back as it was",),
            facts={"size": str(size)},
        )
        return Assessment(tuple(checks), plan)

    async def verify(
        self, ctx: ActionContext, plan: Plan, params: Mapping[str, Any], state: RunState
    ) -> Probe:
        return await self.verify_member(ctx, plan.target, int(plan.facts.get("size", "0")))


@register
class GaleraForcePrimary(_NodeAction):
    name = "galera.force-primary"
    title = "Force Galera node Primary (pc.bootstrap)"
    key = "P"
    description = "Make a surviving non-Primary node Primary, only when every other is down."
    applies_when = "non-primary"

    async def assess(
        self, ctx: ActionContext, target: str, params: Mapping[str, Any], snapshot: StackSnapshot
    ) -> Assessment:
        g = snapshot.galera
        node = _node(g, target)
        if g is None or node is None:
            return Assessment((failed("node", f"no Galera node {target!r}"),), None)
        ws = node.wsrep
        checks = [
            check(
                "node answers and is not Primary",
                ws is not None and not ws.in_primary,
                f"{target}: {describe_wsrep(ws)}",
                f"{target}: {describe_wsrep(ws)}"
                + (" (already Primary: nothing to do)" if ws is not None else ""),
            )
        ]
        others = [n for n in g.nodes if n.name != target]
        not_down = []
        for n in others:
            down, seen = await down_state(ctx, n)
            if not down:
                not_down.append(f"{n.name}: {seen}")
        checks.append(
            check(
                "every other node verifiably down",
                not not_down,
                ", ".join(n.name for n in others) + ": no SQL answer, no mariadbd",
                "; ".join(not_down) + ": forcing Primary now could split the cluster",
            )
        )
        mine = ws.last_committed if ws is not None else None
        ahead = [
            f"{n.name} grastate seqno {n.grastate.seqno}"
            for n in others
            if n.grastate is not None and mine is not None and n.grastate.seqno > mine
        ]
        checks.append(
            check(
                "no stopped node is ahead",
                not ahead,
                f"{target} last committed {mine}; no other grastate shows more",
                f"{', '.join(ahead)} > {target}'s last committed {mine}: bootstrap from it "
                "instead (galera.bootstrap after stopping this node)",
            )
        )
        client = ctx.transports.galera(target)

        async def force(state: RunState) -> StepOutcome:
            await client.execute(FORCE_SQL)
            return StepOutcome(True, "accepted")

        plan = Plan(
            action=self.name,
            target=target,
            summary=f"make {target} a Primary component on its own (pc.bootstrap)",
            steps=(
                Step(
                    f"force {target} Primary",
                    client.endpoint,
                    FORCE_SQL,
                    "sql",
                    ctx.timeout,
                    f"{target} is still non-Primary",
                    force,
                ),
            ),
            blast_radius=(
                f"{target} becomes the cluster (size 1) and serves reads and writes",
                "the other nodes must join it (galera.start), never bootstrap on their own",
            ),
            expected=(f"{target} Synced, Primary",),
            undo=("none: start the other nodes with galera.start to rebuild the cluster",),
        )
        return Assessment(tuple(checks), plan)

    async def verify(
        self, ctx: ActionContext, plan: Plan, params: Mapping[str, Any], state: RunState
    ) -> Probe:
        ws = await wsrep(ctx, plan.target)
        ok = ws is not None and ws.in_primary and ws.synced
        return Probe(ok, f"{plan.target}: {describe_wsrep(ws)}")
