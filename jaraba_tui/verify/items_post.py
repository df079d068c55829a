"""Post-deployment items: ask each system what it says now, and judge (see evaluate.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import httpx

from jaraba_tui.collectors import galera, proxysql
from jaraba_tui.collectors.common import parsed
from jaraba_tui.collectors.redis import parse_info
from jaraba_tui.collectors.sentinel import parse_ckquorum, parse_master_addr, records
from jaraba_tui.transport.base import TransportError
from jaraba_tui.verify import evaluate
from jaraba_tui.verify.context import Context, short_error
from jaraba_tui.verify.evaluate import RedisRole, SentinelView
from jaraba_tui.verify.model import Outcome, failed, passed, skipped, verdict


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


# -- blue/green: the switch's own preflight --------------------------------------------------
async def _smoke(
    ctx: Context, addrs: Sequence[tuple[str, str]], path: str, host_header: str, via: str | None
) -> list[tuple[str, int | None, str]]:
    """(server, HTTP status or None, detail) per idle server: one GET to each directly,
    through an SSH tunnel ``via`` a host that reaches the app servers when given."""
    timeout = httpx.Timeout(
        connect=ctx.connect_timeout,
        read=ctx.profile.poll.read_timeout,
        write=ctx.profile.poll.read_timeout,
        pool=ctx.connect_timeout,
    )

    async def one(client: httpx.AsyncClient, server: str, addr: str) -> tuple[str, int | None, str]:
        url = f"http://{addr}{path}"
        try:
            host, _, port = addr.rpartition(":")
            if via is not None:
                lhost, lport = await ctx.transports.ssh.address_via(via, host, int(port))()
                target = f"http://{lhost}:{lport}{path}"
            else:
                target = url
            async with asyncio.timeout(ctx.call_timeout):
                resp = await client.get(target, headers={"Host": host_header})
        except (TransportError, TimeoutError, httpx.HTTPError, OSError, ValueError) as exc:
            why = type(exc).__name__ if isinstance(exc, httpx.HTTPError) else short_error(exc)
            if isinstance(exc, httpx.ConnectError):
                why = "connection failed (refused?)"
            return server, None, f"{url} -> {why}"
        return server, resp.status_code, f"{url} -> {resp.status_code}"

    async with httpx.AsyncClient(timeout=timeout, trust_env=False, follow_redirects=False) as c:
        return list(await asyncio.gather(*(one(c, s, a) for s, a in addrs)))


async def bluegreen_switch(ctx: Context) -> Outcome:
    """What ``blue-green-deploy.sh switch`` checks before it switches: the live colour
    from the runtime map, every idle-colour server UP, a 2xx smoke answer from each, and
    the map file readable (so the switch can persist). Nothing is changed."""
    hp = ctx.profile.haproxy
    if hp is None:
        return skipped("the profile has no [haproxy] section")
    snap = await ctx.haproxy_snapshot()
    problems: list[str] = []
    evidence: list[str] = []
    if hp.runtime is None or not hp.map_file:
        return failed("the switch needs the HAProxy runtime API and [haproxy] map_file")
    live = snap.live_colour
    idle = evaluate.other_colour(live or "")
    if idle is None:
        why = "; ".join(e.sentence() for e in snap.errors) or f"live = {live!r}"
        return failed(f"cannot tell the live colour from the runtime map ({why})")
    canary = snap.canary or "none"
    evidence.append(
        f"live {live}, idle {idle} (canary {canary}); the switch would make {idle} live"
    )
    backend = f"bk_app_{idle}"
    servers = snap.servers_of(backend)
    if not servers:
        problems.append(f"{backend} has no servers")
    down = [s for s in servers if s.state != "UP"]
    for s in down:
        problems.append(f"{backend}/{s.name} {s.status}")
    evidence.append(
        f"{backend}: {len(servers) - len(down)}/{len(servers)} servers UP"
        + (": " + ", ".join(f"{s.name} {s.status}" for s in down) if down else "")
    )
    addrs = [(s.name, s.addr) for s in servers if s.addr]
    bg = ctx.settings.bluegreen
    via = bg.via or hp.ssh
    for server, code, detail in await _smoke(ctx, addrs, bg.smoke_path, bg.smoke_host, via):
        ok = code is not None and 200 <= code < 300
        evidence.append(f"smoke {backend}/{server} {detail}" + ("" if ok else " (FAILED)"))
        if not ok:
            problems.append(f"smoke {backend}/{server} failed")
    where = f"{hp.ssh}:{hp.map_file}" if hp.ssh else hp.map_file
    try:
        text = await ctx.transports.shell(hp.ssh).read_file(hp.map_file, max_bytes=64 * 1024)
    except (TransportError, OSError) as exc:
        problems.append("map file not readable")
        evidence.append(f"map file {where}: NOT readable ({short_error(exc)})")
    else:
        on_disk = evaluate.parse_map_file(text)
        keys = ("live", "canary", "canary_pct")
        same = all(on_disk.get(k) == snap.map_entries.get(k) for k in keys if k in snap.map_entries)
        state = (
            "in sync with the runtime map"
            if same
            else (
                "DIFFERS from the runtime map (a reload would apply it): "
                + " ".join(f"{k}={on_disk.get(k)}" for k in keys)
            )
        )
        evidence.append(f"map file {where}: readable, {state}")
    evidence.append("preflight of the switch done here; nothing was changed")
    return verdict(
        problems,
        f"a switch to {idle} would pass its checks",
        f"a switch to {idle} would be refused: " + "; ".join(problems),
        evidence,
    )
