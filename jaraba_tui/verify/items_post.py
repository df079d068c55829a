"""Post-deployment items: ask each system what it says now, and judge (see evaluate.py)."""

from __future__ import annotations

import asyncio
from typing import Any

from jaraba_tui.collectors import galera, proxysql
from jaraba_tui.collectors.common import parsed
from jaraba_tui.collectors.redis import parse_info
from jaraba_tui.collectors.sentinel import parse_ckquorum, parse_master_addr, records
from jaraba_tui.transport.base import TransportError
from jaraba_tui.verify import evaluate
from jaraba_tui.verify.context import Context, short_error
from jaraba_tui.verify.evaluate import RedisRole, SentinelView
from jaraba_tui.verify.model import Outcome, brief, failed, passed, skipped, verdict


async def galera_cluster(ctx: Context) -> Outcome:
    if ctx.profile.galera is None:
        return skipped("the profile has no [galera] section")
    names = ctx.transports.galera_names()
    targets = [
        galera.GaleraNodeTarget(name=n, sql=ctx.transports.galera(n), expected_size=len(names))
        for n in names
    ]
    snap = await galera.collect(targets, timeout=ctx.call_timeout)
    return evaluate.galera_cluster(snap.nodes, len(names))


async def proxysql_backends(ctx: Context) -> Outcome:
    if ctx.profile.proxysql is None:
        return skipped("the profile has no [proxysql] section")
    sql = ctx.transports.proxysql()
    try:
        async with asyncio.timeout(ctx.call_timeout * 2):
            pool_rows = await sql.query(proxysql.Q_POOL)
            hg_rows = await sql.query(proxysql.Q_GALERA_HG)
    except (TransportError, TimeoutError) as exc:
        return failed(f"could not ask ProxySQL: {short_error(exc)}")
    pool = proxysql.parse_pool(pool_rows)
    hostgroups = proxysql.parse_galera_hostgroups(hg_rows)
    expected = len(ctx.profile.galera.nodes) if ctx.profile.galera else 0
    return evaluate.proxysql_backends(pool, hostgroups, expected)


async def haproxy_backends(ctx: Context) -> Outcome:
    if ctx.profile.haproxy is None:
        return skipped("the profile has no [haproxy] section")
    return evaluate.haproxy_backends(await ctx.haproxy_snapshot())


async def _redis_role(ctx: Context, name: str) -> RedisRole:
    cfg = ctx.profile.redis_instance(name)
    address = f"{cfg.host}:{cfg.port}"
    try:
        async with asyncio.timeout(ctx.call_timeout):
            reply = await ctx.transports.redis(name).command("INFO")
    except (TransportError, TimeoutError) as exc:
        return RedisRole(name, address, None, None, short_error(exc))
    info, err = parsed(lambda: parse_info(reply), name, "INFO")
    if info is None:
        return RedisRole(name, address, None, None, err.message if err else "unreadable INFO")
    return RedisRole(name, address, info.role, info.run_id)


async def _sentinel_view(ctx: Context, name: str, master: str) -> SentinelView:
    client = ctx.transports.sentinel(name)
    try:
        async with asyncio.timeout(ctx.call_timeout * 2):
            addr = parse_master_addr(
                await client.command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", master)
            )
            recs = records(await client.command("SENTINEL", "MASTER", master))
    except (TransportError, TimeoutError, ValueError) as exc:
        return SentinelView(name, None, None, (), None, "", short_error(exc))
    rec = recs[0] if recs else {}
    flags = tuple(f for f in rec.get("flags", "").split(",") if f)
    try:
        async with asyncio.timeout(ctx.call_timeout):
            q = parse_ckquorum(await client.command("SENTINEL", "CKQUORUM", master))
        ok, text = q.ok, q.message
    except TransportError as exc:  # NOQUORUM comes back as an error reply
        ok, text = (False if "NOQUORUM" in str(exc).upper() else None), short_error(exc)
    except (TimeoutError, ValueError) as exc:
        ok, text = None, short_error(exc)
    return SentinelView(name, addr, rec.get("runid") or None, flags, ok, text)


async def sentinel_master(ctx: Context) -> Outcome:
    p = ctx.profile
    if p.sentinel is None:
        return skipped("the profile has no [sentinel] section")
    if p.redis is None:
        return skipped("the profile has no [redis] instances to tell the expected master")
    master = p.sentinel.master_name
    roles, views = await asyncio.gather(
        asyncio.gather(*(_redis_role(ctx, n) for n in ctx.transports.redis_names())),
        asyncio.gather(*(_sentinel_view(ctx, n, master) for n in ctx.transports.sentinel_names())),
    )
    return evaluate.sentinel_master(roles, views, master)


async def prometheus_targets(ctx: Context) -> Outcome:
    if ctx.profile.prometheus is None:
        return skipped("the profile has no [prometheus] section")
    try:
        async with asyncio.timeout(ctx.call_timeout):
            resp = await ctx.transports.prometheus().get(
                "/api/v1/targets", params={"state": "active"}
            )
    except (TransportError, TimeoutError) as exc:
        return failed(f"could not ask Prometheus: {short_error(exc)}")
    if resp.status != 200:
        return failed(f"Prometheus /api/v1/targets answered HTTP {resp.status}")
    try:
        return evaluate.prometheus_targets(resp.text)
    except ValueError as exc:
        return failed(f"unreadable answer from /api/v1/targets: {exc}")


async def grafana_dashboard(ctx: Context) -> Outcome:
    url = ctx.profile.grafana_url
    if url is None:
        return skipped("no grafana_url in the profile")
    http = ctx.transports.grafana()
    uid = ctx.settings.grafana_dashboard_uid
    evidence: list[str] = []
    try:
        async with asyncio.timeout(ctx.call_timeout * 2):
            health = await http.get("/api/health")
            dash = await http.get(f"/api/dashboards/uid/{uid}") if uid else None
    except (TransportError, TimeoutError) as exc:
        return failed(f"Grafana at {url} did not answer: {short_error(exc)}")
    db = _json_field(health.text, "database")
    evidence.append(f"{url}/api/health: HTTP {health.status}, database {db or '?'}")
    if health.status != 200 or db != "ok":
        return failed("Grafana is not healthy", evidence)
    if dash is None:
        evidence.append("no [checklist] grafana_dashboard_uid: the dashboard itself not asked")
        return passed("Grafana answers and its database is ok", evidence)
    title = _json_field(dash.text, "dashboard", "title")
    evidence.append(
        f"/api/dashboards/uid/{uid}: HTTP {dash.status}" + (f", {title!r}" if title else "")
    )
    if dash.status in (401, 403):
        return failed(
            f"Grafana wants credentials for dashboard {uid} (the profile has none for Grafana)",
            evidence,
        )
    if dash.status != 200:
        return failed(f"dashboard {uid} does not load (HTTP {dash.status})", evidence)
    return passed(f"dashboard {uid} loads", evidence)


def _json_field(text: str, *path: str) -> str | None:
    import json

    try:
        value: Any = json.loads(text)
    except ValueError:
        return None
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value if isinstance(value, str) else None


# -- blue/green: the switch action's own preflight, as a dry run -----------------------------
def _check_line(passed_: bool, blocking: bool, name: str, reason: str) -> str:
    mark = "✓" if passed_ else ("✗" if blocking else "! (advisory)")
    return f"{mark} {name}: {reason}"


async def bluegreen_switch(ctx: Context) -> Outcome:
    """The preflight of the ``bluegreen.switch`` action (jaraba_tui/actions/bluegreen.py)
    towards the idle colour, exactly as the switch would run it: runtime API, live colour,
    no other canary, every idle server UP, a 2xx smoke request to each (sent from the
    HAProxy host), the map file readable; and the plan it would execute. Its ``assess``
    is called directly: ``prepare`` refuses read-only profiles and takes the stack's
    action lock, and verify runs on any profile without changing anything."""
    if ctx.profile.haproxy is None:
        return skipped("the profile has no [haproxy] section")
    from jaraba_tui.actions.context import ActionContext
    from jaraba_tui.actions.registry import get_action
    from jaraba_tui.actions.types import parse_params

    action = get_action("bluegreen.switch")
    actx = ActionContext.create(ctx.profile, transports=ctx.transports)
    snapshot = await actx.poll(*action.layers)
    hp = snapshot.haproxy
    colours = action.targets(snapshot, ctx.profile)
    if not colours:
        why = "; ".join(e.sentence() for e in hp.errors) if hp is not None else "no HAProxy data"
        live = hp.live_colour if hp is not None else None
        return failed(
            f"cannot tell the idle colour: the runtime map gives live = {live!r}",
            [why] if why else [],
        )
    target = colours[0]
    assessment = await action.assess(actx, target, parse_params(action.params, {}), snapshot)
    evidence = [_check_line(c.passed, c.blocking, c.name, c.reason) for c in assessment.checks]
    plan = assessment.plan
    if plan is not None:
        steps = "; ".join(step.title for step in plan.steps)
        evidence.append(f"plan: {plan.summary}: {steps}")
    evidence.append("dry run of the bluegreen.switch preflight: nothing was changed")
    blocking = [c.name for c in assessment.checks if c.blocks]
    if assessment.blocked and not blocking:
        blocking = ["no plan"]
    return verdict(
        blocking,
        f"a switch to {target} would pass all its checks",
        f"a switch to {target} would be refused: {brief(blocking)} failed",
        evidence,
    )
