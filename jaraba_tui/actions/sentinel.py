"""Redis Sentinel: a manual failover, only with quorum and a healthy replica to promote."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from jaraba_tui.actions.base import Action, Assessment
from jaraba_tui.actions.registry import register
from jaraba_tui.actions.types import (
    ActionRef,
    Plan,
    Probe,
    RunState,
    Step,
    StepOutcome,
    check,
    failed,
)
from jaraba_tui.collectors.common import text
from jaraba_tui.collectors.redis import RedisSnapshot, parse_info
from jaraba_tui.collectors.sentinel import norm_addr, parse_master_addr
from jaraba_tui.model.snapshot import StackSnapshot

if TYPE_CHECKING:
    from jaraba_tui.actions.context import ActionContext
    from jaraba_tui.profile import Profile


def healthy_replicas(
    redis: RedisSnapshot, *, max_lag_s: int, max_lag_bytes: int
) -> tuple[list[str], list[str]]:
    """(addresses of replicas fit to be promoted, why each other replica is not).

    A replica is fit when the master lists it ``online`` with a lag of at most ``max_lag_s``
    seconds and ``max_lag_bytes`` bytes, its own INFO says ``master_link_status:up`` to
    this master, and no Sentinel considers it down.
    """
    master = redis.instance(redis.master) if redis.master else None
    good: list[str] = []
    bad: list[str] = []
    if master is None or master.info is None:
        return good, ["the master's INFO is unavailable: replica lag unknown"]
    offset = master.info.master_repl_offset
    s_down = {
        norm_addr(r.address)
        for s in redis.sentinels
        for r in s.replicas
        if r.s_down or "disconnected" in r.flags
    }
    for link in master.info.replicas:
        addr = norm_addr(link.address)
        own = redis.instance(addr)
        behind = (
            (offset - link.offset) if (offset is not None and link.offset is not None) else None
        )
        problems = []
        if link.state != "online":
            problems.append(f"state {link.state}")
        if link.lag_s is None or link.lag_s > max_lag_s:
            problems.append(f"lag {link.lag_s}s > {max_lag_s}s")
        if behind is not None and behind > max_lag_bytes:
            problems.append(f"{behind} bytes behind")
        if own is None or own.info is None:
            problems.append("its INFO is unavailable")
        else:
            if own.info.master_link_status != "up":
                problems.append(f"master_link_status {own.info.master_link_status}")
            if own.info.master_address and norm_addr(own.info.master_address) != norm_addr(
                redis.master or ""
            ):
                problems.append(f"replicates {own.info.master_address}")
        if addr in s_down:
            problems.append("a Sentinel sees it down")
        if problems:
            bad.append(f"{addr}: " + ", ".join(problems))
        else:
            good.append(f"{addr} (lag {link.lag_s}s, {behind if behind is not None else '?'} B)")
    if not master.info.replicas:
        bad.append("the master lists no replica")
    return good, bad


@register
class SentinelFailover(Action):
    name = "redis.failover"
    title = "Redis Sentinel failover"
    target_kind = "sentinel-master"
    dangerous = True
    key = "f"
    description = "Promote a replica with SENTINEL FAILOVER (quorum and a healthy replica first)."
    layers = ("redis",)
    verify_timeout = 60.0

    def targets(self, snapshot: StackSnapshot, profile: Profile) -> tuple[str, ...]:
        r = snapshot.redis
        return (r.master_name,) if r is not None and r.sentinels else ()

    async def assess(
        self, ctx: ActionContext, target: str, params: Mapping[str, Any], snapshot: StackSnapshot
    ) -> Assessment:
        redis = snapshot.redis
        if redis is None or not redis.sentinels:
            return Assessment((failed("sentinels", "the profile has no Sentinels"),), None)
        if target != redis.master_name:
            return Assessment(
                (
                    failed(
                        "master name", f"Sentinels monitor {redis.master_name!r}, not {target!r}"
                    ),
                ),
                None,
            )
        total = len(redis.sentinels)
        up = [s for s in redis.sentinels if s.reachable and s.master is not None]
        checks = [
            check(
                "Sentinels reachable",
                len(up) > total // 2,
                f"{len(up)} of {total} answer",
                f"only {len(up)} of {total} answer: no majority",
            )
        ]
        named = {s.master_addr for s in up}
        checks.append(
            check(
                "Sentinels agree on the master",
                len(named) == 1 and redis.master is not None,
                f"all name {redis.master}",
                f"they disagree: {dict(redis.master_votes)}",
            )
        )
        quorum_ok = [s for s in up if s.quorum is not None and s.quorum.ok]
        chosen = quorum_ok[0] if quorum_ok else None
        checks.append(
            check(
                "CKQUORUM",
                chosen is not None,
                f"{chosen.name}: {chosen.quorum.message}" if chosen and chosen.quorum else "",
                "no Sentinel reports OK: "
                + "; ".join(f"{s.name}: {s.quorum.message if s.quorum else '?'}" for s in up),
            )
        )
        busy = [s.name for s in up if s.master is not None and s.master.failover_in_progress]
        checks.append(
            check(
                "no failover in progress",
                not busy,
                "none",
                f"{', '.join(busy)} report a failover in progress",
            )
        )
        good, bad = healthy_replicas(
            redis,
            max_lag_s=ctx.settings.redis_max_lag_s,
            max_lag_bytes=ctx.settings.redis_max_lag_bytes,
        )
        checks.append(
            check(
                "a healthy replica to promote",
                bool(good),
                "fit: " + ", ".join(good) + (f"; not fit: {'; '.join(bad)}" if bad else ""),
                "no replica has its link up with a small lag: " + "; ".join(bad),
            )
        )
        if chosen is None or redis.master is None:
            return Assessment(tuple(checks), None)
        old = redis.master
        client = ctx.transports.sentinel(chosen.name)

        async def failover(state: RunState) -> StepOutcome:
            reply = text(await client.command("SENTINEL", "FAILOVER", target))
            if reply.upper() != "OK":
                return StepOutcome(False, f"Sentinel answered {reply[:200]!r}")
            return StepOutcome(True, "OK: the failover started", {"old_master": old})

        plan = Plan(
            action=self.name,
            target=target,
            summary=f"fail {target} over from {old} to a healthy replica (Sentinel chooses)",
            steps=(
                Step(
                    f"ask {chosen.name} to fail {target} over",
                    client.endpoint,
                    f"SENTINEL FAILOVER {target}",
                    "redis",
                    ctx.timeout,
                    if_failed=f"no failover started: {old} is still the master",
                    run=failover,
                ),
            ),
            blast_radius=(
                f"writes to {target} fail for a few seconds while {old} is demoted",
                "clients that do not ask Sentinel for the master keep writing to the old one "
                "(read-only replica errors)",
                "sessions and queues survive (same data set, replicated)",
            ),
            expected=(
                f"every Sentinel names a new master (not {old})",
                f"{old} is a replica of the new master",
            ),
            undo=("fail over again to move the master role (Sentinel picks the replica)",),
            undo_action=ActionRef(self.name, target),
        )
        return Assessment(tuple(checks), plan)

    async def verify(
        self, ctx: ActionContext, plan: Plan, params: Mapping[str, Any], state: RunState
    ) -> Probe:
        old = state.data.get("old_master", "")
        tr = ctx.transports

        async def named(name: str) -> str:
            reply = await tr.sentinel(name).command(
                "SENTINEL", "GET-MASTER-ADDR-BY-NAME", plan.target
            )
            return parse_master_addr(reply) or "?"

        names = tr.sentinel_names()
        addrs = await asyncio.gather(*(named(n) for n in names), return_exceptions=True)
        seen = {
            n: (a if isinstance(a, str) else "unreachable")
            for n, a in zip(names, addrs, strict=True)
        }
        values = set(seen.values())
        votes = ", ".join(f"{n}={a}" for n, a in seen.items())
        if len(values) != 1 or "unreachable" in values or "?" in values:
            return Probe(False, f"Sentinels: {votes}")
        new = values.pop()
        if norm_addr(new) == norm_addr(old):
            return Probe(False, f"every Sentinel still names {old}")
        old_name = next(
            (
                i.name
                for i in (ctx.profile.redis.instances if ctx.profile.redis else [])
                if norm_addr(f"{i.host}:{i.port}") == norm_addr(old)
            ),
            None,
        )
        if old_name is None:
            return Probe(True, f"every Sentinel names {new}; {old} is not in the profile")
        info = parse_info(await tr.redis(old_name).command("INFO", "replication"))
        demoted = info.role in ("slave", "replica") and norm_addr(
            info.master_address or ""
        ) == norm_addr(new)
        where = f"role {info.role}" + (f" of {info.master_address}" if info.master_address else "")
        return Probe(demoted, f"every Sentinel names {new}; old master {old}: {where}")
