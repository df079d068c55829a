"""Galera bootstrap after a full-cluster outage, from the most advanced node."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from jaraba_tui.actions.base import Action, Assessment
from jaraba_tui.actions.galera_choice import BootstrapChoice, NodePosition, choose_bootstrap_node
from jaraba_tui.actions.galera_common import (
    command_step,
    describe_wsrep,
    down_state,
    positions,
    set_safe_step,
    wait_synced_step,
    wsrep,
)
from jaraba_tui.actions.registry import register
from jaraba_tui.actions.types import (
    CheckResult,
    Plan,
    PlanTable,
    Probe,
    RunState,
    Step,
    check,
    failed,
)
from jaraba_tui.collectors.galera import GaleraNodeSnapshot
from jaraba_tui.model.snapshot import StackSnapshot

if TYPE_CHECKING:
    from jaraba_tui.actions.context import ActionContext
    from jaraba_tui.profile import Profile

TARGET = "galera"


def position_table(pos: list[NodePosition], choice: BootstrapChoice) -> PlanTable:
    rows = []
    for p in pos:
        gra = f"{p.grastate_uuid}:{p.grastate_seqno}" if p.grastate_uuid else "unreadable"
        rec = f"{p.recovered[0]}:{p.recovered[1]}" if p.recovered else (p.error or "-")
        used = f"{p.seqno} ({p.source})" if p.seqno is not None else "unknown"
        mark = "BOOTSTRAP" if p.name == choice.node else ""
        rows.append((p.name, gra, "1" if p.safe_to_bootstrap else "0", rec, used, mark))
    return PlanTable(
        "Galera positions (grastate.dat; mariadbd --wsrep-recover where seqno is -1)",
        ("node", "grastate uuid:seqno", "safe", "recovered", "position", "choice"),
        tuple(rows),
    )


async def outage_checks(
    ctx: ActionContext, nodes: tuple[GaleraNodeSnapshot, ...]
) -> list[CheckResult]:
    primary = [n for n in nodes if n.wsrep is not None and n.wsrep.in_primary]
    checks = [
        check(
            "no node in a Primary component",
            not primary,
            "no node answers as part of a Primary component",
            "; ".join(f"{n.name}: {describe_wsrep(n.wsrep)}" for n in primary)
            + ": bootstrapping now would create a second cluster (split brain); start the "
            "missing nodes with galera.start instead",
        )
    ]
    running = []
    for n in nodes:
        down, seen = await down_state(ctx, n)
        if not down:
            running.append(f"{n.name}: {seen}")
    checks.append(
        check(
            "every node verifiably down",
            not running,
            "no node answers SQL and no mariadbd serves any datadir",
            "; ".join(running) + " (stop it first; a surviving non-Primary node: "
            "galera.force-primary)",
        )
    )
    return checks


@register
class GaleraBootstrap(Action):
    name = "galera.bootstrap"
    title = "Bootstrap Galera after a full outage"
    target_kind = "galera-cluster"
    dangerous = True
    key = "B"
    description = (
        "Start a new Primary component from the most advanced node (grastate.dat, "
        "--wsrep-recover), then every other node one at a time."
    )
    layers = ("galera",)
    verify_timeout = 120.0
    verify_interval = 2.0

    def targets(self, snapshot: StackSnapshot, profile: Profile) -> tuple[str, ...]:
        g = snapshot.galera
        if g is None or any(n.wsrep is not None for n in g.nodes):
            return ()
        return (TARGET,)

    async def assess(
        self, ctx: ActionContext, target: str, params: Mapping[str, Any], snapshot: StackSnapshot
    ) -> Assessment:
        g = snapshot.galera
        if target != TARGET:
            return Assessment((failed("target", f"the cluster is named {TARGET!r}"),), None)
        if g is None or not g.nodes:
            return Assessment((failed("galera", "the profile has no Galera nodes"),), None)
        checks = await outage_checks(ctx, g.nodes)
        no_ssh = [n.name for n in g.nodes if ctx.transports.galera_shell(n.name) is None]
        checks.append(
            check(
                "ssh to every node",
                not no_ssh,
                "grastate.dat and the start commands are reachable",
                f"no ssh host for {', '.join(no_ssh)}",
            )
        )
        if any(c.blocks for c in checks):
            # Never run --wsrep-recover against a datadir a live mariadbd may hold.
            return Assessment(tuple(checks), None)
        pos = await positions(ctx, list(g.nodes))
        choice = choose_bootstrap_node(pos)
        checks.append(
            check(
                "every position known, one cluster",
                not choice.problems,
                f"cluster {choice.cluster_uuid}: "
                + ", ".join(f"{p.name} {p.seqno} ({p.source})" for p in pos),
                "; ".join(choice.problems),
            )
        )
        checks.append(
            check("bootstrap node", choice.node is not None, choice.reason, choice.reason)
        )
        if choice.node is None or choice.position is None:
            return Assessment(tuple(checks), None)
        return Assessment(tuple(checks), self._plan(ctx, pos, choice))

    def _plan(self, ctx: ActionContext, pos: list[NodePosition], choice: BootstrapChoice) -> Plan:
        assert choice.node is not None and choice.position is not None
        first = choice.node
        others = [p.name for p in pos if p.name != first]
        n = len(pos)
        cmds = ctx.settings.node(first)
        steps: list[Step] = []
        me = next(p for p in pos if p.name == first)
        if not me.safe_to_bootstrap:
            steps.append(set_safe_step(ctx, first))
        steps.append(
            command_step(
                ctx,
                first,
                f"start {first} as a new cluster at {choice.position}",
                cmds.bootstrap_argv(choice.position),
                cmds.start_timeout,
                f"no node runs; {first} has safe_to_bootstrap: 1: read its error log, then "
                "run galera.bootstrap again",
            )
        )
        steps.append(
            wait_synced_step(
                ctx,
                first,
                1,
                cmds.start_timeout,
                f"{first} was started but is not Synced/Primary: read its error log",
            )
        )
        started = [first]
        for name in others:
            c = ctx.settings.node(name)
            up = ", ".join(started)
            steps.append(
                command_step(
                    ctx,
                    name,
                    f"start {name} (joins, IST/SST from a running node)",
                    list(c.start),
                    c.start_timeout,
                    f"the cluster runs on {up} (Primary, size {len(started)}); {name} did "
                    f"not start: read its error log, then galera.start {name}",
                )
            )
            started.append(name)
            steps.append(
                wait_synced_step(
                    ctx,
                    name,
                    len(started),
                    c.start_timeout,
                    f"the cluster runs on {up}; {name} started but has not joined "
                    f"(SST may still run): watch it, or galera.stop {name}",
                )
            )
        return Plan(
            action=self.name,
            target=TARGET,
            summary=f"bootstrap from {first} at {choice.position}, then "
            + (", ".join(others) or "no other node")
            + " one at a time",
            steps=tuple(steps),
            blast_radius=(
                f"{first}'s data becomes the cluster's: a node with later transactions would "
                "lose them (the positions table shows none is later)",
                "joining nodes receive IST, or a full SST (they serve nothing meanwhile)",
            ),
            expected=(f"every node Synced in one Primary component of size {n}",),
            undo=("none: the new cluster is the cluster. Stop single nodes with galera.stop",),
            tables=(position_table(pos, choice),),
            notes=(choice.reason,),
        )

    async def verify(
        self, ctx: ActionContext, plan: Plan, params: Mapping[str, Any], state: RunState
    ) -> Probe:
        names = [n.name for n in ctx.profile.galera.nodes] if ctx.profile.galera else []
        seen = {name: await wsrep(ctx, name) for name in names}
        uuids = {ws.cluster_state_uuid for ws in seen.values() if ws is not None}
        ok = (
            all(
                ws is not None and ws.synced and ws.in_primary and ws.cluster_size == len(names)
                for ws in seen.values()
            )
            and len(uuids) == 1
        )
        return Probe(ok, "; ".join(f"{k}: {describe_wsrep(v)}" for k, v in seen.items()))
