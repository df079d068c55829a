"""Pre-deployment items: each checked from where jaraba-ops runs (the bastion) or over SSH.

Every function takes a :class:`Context` and returns an :class:`Outcome`; network failures
become evidence ("could not ask ..."), never exceptions (the runner catches the rest).
"""

from __future__ import annotations

import asyncio
import ipaddress
from datetime import UTC, datetime

from jaraba_tui.collectors.common import opt_int
from jaraba_tui.collectors.redis import info_map
from jaraba_tui.profile import reveal_user
from jaraba_tui.profile.errors import ProfileError
from jaraba_tui.secrets import PUBLIC_LAB_CREDENTIALS
from jaraba_tui.transport.base import TransportError
from jaraba_tui.verify import grants, sizing, tls
from jaraba_tui.verify.context import Context, resolve, short_error
from jaraba_tui.verify.model import Outcome, brief, failed, skipped, verdict

#: The seed's development default passwords (docker-compose ``${VAR:-..._dev}``, the lab).
#: The user names of the same table (root, admin, ...) are not secrets and not listed.
DEV_DEFAULTS: frozenset[str] = frozenset(v for v in PUBLIC_LAB_CREDENTIALS if v.endswith("_dev"))


# -- secrets ---------------------------------------------------------------------------------
async def no_dev_secrets(ctx: Context) -> Outcome:
    profile = ctx.profile
    if profile.environment == "lab":
        return skipped('dev credentials are expected in a lab (environment = "lab")')
    secrets = [(key, s) for key, s in profile.secrets() if s.sensitive]
    if not secrets:
        return skipped("the profile references no secret")
    dev: list[str] = []
    unresolved: list[str] = []
    evidence: list[str] = []
    for key, secret in secrets:
        try:
            value = await secret.areveal()
        except ProfileError as exc:
            unresolved.append(key)
            evidence.append(f"{key} ({secret.source}): cannot be resolved: {exc.problem}")
            continue
        if value in DEV_DEFAULTS:
            dev.append(f"{key} ({secret.source})")
            evidence.append(
                f"{key} ({secret.source}): holds one of the seed's development defaults"
            )
        else:
            evidence.append(f"{key} ({secret.source}): not a development default")
        del value
    parts = []
    if dev:
        parts.append(
            f"{len(dev)} of {len(secrets)} secrets hold a seed development default: {brief(dev)}"
        )
    if unresolved:
        parts.append(f"{len(unresolved)} cannot be resolved: {brief(unresolved)}")
    return verdict(
        dev + unresolved,
        f"none of the {len(secrets)} secrets holds a seed development default",
        "; ".join(parts),
        evidence,
    )


# -- TLS certificate -------------------------------------------------------------------------
async def tls_certificate(ctx: Context, *, now: datetime | None = None) -> Outcome:
    cfg = ctx.settings.tls
    host = cfg.ssh or (ctx.profile.haproxy.ssh if ctx.profile.haproxy else None)
    if host is None:
        return skipped("no SSH host for the HAProxy host: set [checklist.tls] ssh or [haproxy] ssh")
    where = f"{host}:{cfg.path}"
    try:
        pem = await ctx.transports.shell(host).read_file(cfg.path, max_bytes=512 * 1024)
    except (TransportError, OSError) as exc:
        return failed(f"cannot read the certificate {where}", [f"{where}: {short_error(exc)}"])
    try:
        facts = tls.read_bundle(pem)
    except tls.CertificateError as exc:
        return failed(f"{where}: {exc}")
    finally:
        del pem  # may hold the private key: drop it as soon as the certificates are read
    return tls.evaluate(facts, cfg.hostnames, cfg.min_days, now or datetime.now(UTC), where)


# -- DNS -------------------------------------------------------------------------------------
def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def profile_dns_names(ctx: Context) -> list[str]:
    """Every DNS name the bastion itself connects to (SSH hosts, direct endpoints, URLs).
    Endpoints reached ``via`` a tunnel resolve on the far side and are left out."""
    from urllib.parse import urlsplit

    p = ctx.profile
    names: list[str] = [h.host for h in p.ssh.hosts.values()]
    endpoints: list[tuple[str, str | None]] = []
    endpoints += [(n.host, n.via) for n in (p.galera.nodes if p.galera else [])]
    endpoints += [(i.host, i.via) for i in (p.redis.instances if p.redis else [])]
    endpoints += [(i.host, i.via) for i in (p.sentinel.instances if p.sentinel else [])]
    if p.proxysql:
        endpoints.append((p.proxysql.host, p.proxysql.via))
    if p.haproxy and p.haproxy.runtime and p.haproxy.runtime.host:
        endpoints.append((p.haproxy.runtime.host, p.haproxy.runtime.via))
    names += [host for host, via in endpoints if via is None]
    urls: list[tuple[str | None, str | None]] = [(p.grafana_url, None)]
    if p.haproxy:
        urls.append((p.haproxy.stats_url, p.haproxy.stats_via))
    for svc in (p.prometheus, p.alertmanager):
        if svc is not None:
            urls.append((svc.url, svc.via))
    names += [urlsplit(u).hostname or "" for u, via in urls if u and via is None]
    out: list[str] = []
    for n in names:
        if n and not _is_ip(n) and n.lower() != "localhost" and n not in out:
            out.append(n)
    return out


async def dns_records(ctx: Context) -> Outcome:
    configured = ctx.settings.dns_names
    names = list(configured) if configured is not None else profile_dns_names(ctx)
    if not names:
        why = (
            "[checklist] dns_names is empty"
            if configured is not None
            else "every host the profile connects to directly is an IP address or localhost"
        )
        return skipped(f"no DNS name to resolve: {why}")
    timeout = max(ctx.connect_timeout, 2.0)
    results = await asyncio.gather(*(resolve(n, timeout) for n in names), return_exceptions=True)
    problems: list[str] = []
    evidence: list[str] = []
    for name, res in zip(names, results, strict=True):
        if isinstance(res, BaseException):
            problems.append(name)
            evidence.append(f"{name}: {short_error(res)}")
        else:
            evidence.append(f"{name} -> {', '.join(res[:4])}" + (" ..." if len(res) > 4 else ""))
    return verdict(
        problems,
        f"all {len(names)} names resolve from this host",
        f"{len(problems)} of {len(names)} names do not resolve: {brief(problems)}",
        evidence,
    )


# -- firewall --------------------------------------------------------------------------------
async def probe_port(host: str, port: int, timeout: float) -> tuple[bool | None, str]:
    """(True: it answered, False: refused or filtered, None: could not tell) and a phrase."""
    try:
        async with asyncio.timeout(timeout):
            _reader, writer = await asyncio.open_connection(host, port)
    except TimeoutError:
        return False, f"no answer within {timeout:g}s (filtered)"
    except ConnectionRefusedError:
        return False, "refused (closed)"
    except OSError as exc:
        import socket

        if isinstance(exc, socket.gaierror):
            return None, f"cannot check: {short_error(exc)}"
        return False, f"unreachable ({exc.strerror or type(exc).__name__})"
    writer.close()
    try:
        async with asyncio.timeout(1.0):
            await writer.wait_closed()
    except (TimeoutError, OSError):
        pass
    return True, "answered (open from this host)"


async def firewall_closed_ports(ctx: Context) -> Outcome:
    entries = ctx.settings.closed_ports
    if not entries:
        return skipped("no [[checklist.closed_ports]] in the profile")
    pairs = [(e.host, port) for e in entries for port in e.ports]
    timeout = min(ctx.connect_timeout, 3.0)
    results = await asyncio.gather(*(probe_port(h, p, timeout) for h, p in pairs))
    problems: list[str] = []
    evidence: list[str] = []
    for (host, port), (open_, why) in zip(pairs, results, strict=True):
        evidence.append(f"{host}:{port} {why}")
        if open_ is not False:
            problems.append(f"{host}:{port} {'answered' if open_ else 'not checked'}")
    return verdict(
        problems,
        f"all {len(pairs)} ports closed to this host",
        f"{len(problems)} of {len(pairs)} ports that must be closed to this host are not: "
        f"{brief(problems)}",
        evidence,
    )


# -- grants ----------------------------------------------------------------------------------
async def _grants_on_nodes(
    ctx: Context, user: str
) -> list[tuple[str, list[grants.Grant] | None, str | None]]:
    """(node, grants or None, error) for every Galera node, concurrently."""
    host = ctx.settings.grant_host
    names = ctx.transports.galera_names()

    async def one(node: str) -> tuple[str, list[grants.Grant] | None, str | None]:
        try:
            async with asyncio.timeout(ctx.call_timeout):
                rows = await ctx.transports.galera(node).query(
                    "SHOW GRANTS FOR %s@%s", [user, host]
                )
        except (TransportError, TimeoutError) as exc:
            msg = short_error(exc)
            if "(1141)" in msg:
                return node, [], None  # no such account
            return node, None, msg
        return node, grants.parse_grants(rows), None

    return list(await asyncio.gather(*(one(n) for n in names)))


async def _grant_item(ctx: Context, user: str, required: tuple[str, ...], role: str) -> Outcome:
    if ctx.profile.galera is None:
        return skipped("the profile has no [galera] section")
    account = f"'{user}'@'{ctx.settings.grant_host}'"
    results = await _grants_on_nodes(ctx, user)
    problems: list[str] = []
    evidence: list[str] = []
    checked = 0
    for node, got, err in results:
        if got is None:
            evidence.append(f"{node}: not checked ({err})")
            continue
        checked += 1
        if not got:
            problems.append(f"{node}: no account {account}")
            evidence.append(f"{node}: no account {account}")
            continue
        lacking = grants.missing(required, got)
        lines = " | ".join(g.text for g in got)
        if lacking:
            problems.append(f"{node}: {account} lacks {', '.join(lacking)}")
            evidence.append(f"{node}: lacks {', '.join(lacking)}: {lines}")
        else:
            evidence.append(f"{node}: has {grants.describe(required, got)}: {lines}")
    if checked == 0:
        return failed(f"could not read the grants of {account} on any Galera node", evidence)
    if checked < len(results):
        evidence.append("grants replicate across the cluster; the nodes that answered decide")
    return verdict(
        problems,
        f"{role} {account} has {', '.join(required)} on *.*",
        "; ".join(problems),
        evidence,
    )


async def monitor_user(ctx: Context) -> Outcome:
    user = reveal_user(ctx.settings.monitor_user)
    return await _grant_item(ctx, user, tuple(sorted(grants.MONITOR_PRIVILEGES)), "monitor user")


async def replication_user(ctx: Context) -> Outcome:
    user = reveal_user(ctx.settings.replication_user)
    return await _grant_item(ctx, user, grants.REPLICATION_PRIVILEGES, "replication user")


# -- memory sizing ---------------------------------------------------------------------------
async def _ram_groups(
    ctx: Context, measured: list[tuple[str, str | None, int | None, str | None]]
) -> tuple[list[sizing.SizingGroup], list[str]]:
    """(member, ssh host, configured bytes, error) -> groups per host and problem lines."""
    problems: list[str] = []
    per_host: dict[str, list[tuple[str, int]]] = {}
    for member, host, value, err in measured:
        if err is not None or value is None:
            problems.append(f"{member}: could not read the setting ({err or 'no value'})")
        elif host is None:
            problems.append(f"{member}: no `ssh` host in the profile: cannot read its RAM")
        else:
            per_host.setdefault(host, []).append((member, value))
    groups: list[sizing.SizingGroup] = []
    for host, members in per_host.items():
        try:
            async with asyncio.timeout(ctx.command_timeout + 2.0):
                mem = await ctx.meminfo(host)
        except Exception as exc:
            names = "+".join(m for m, _ in members)
            problems.append(f"{names}: cannot read RAM of {host} ({short_error(exc)})")
            continue
        groups.append(
            sizing.SizingGroup(
                host=host,
                members=tuple(m for m, _ in members),
                configured_bytes=sum(v for _, v in members),
                ram_bytes=mem.total_kb * 1024,
            )
        )
    return groups, problems


async def innodb_buffer_pool(ctx: Context) -> Outcome:
    if ctx.profile.galera is None:
        return skipped("the profile has no [galera] section")

    async def one(node: str) -> tuple[str, str | None, int | None, str | None]:
        ssh = ctx.profile.galera_node(node).ssh
        try:
            async with asyncio.timeout(ctx.call_timeout):
                rows = await ctx.transports.galera(node).query(
                    "SELECT @@innodb_buffer_pool_size AS size"
                )
        except (TransportError, TimeoutError) as exc:
            return node, ssh, None, short_error(exc)
        return node, ssh, opt_int(rows[0].get("size")) if rows else None, None

    measured = await asyncio.gather(*(one(n) for n in ctx.transports.galera_names()))
    groups, problems = await _ram_groups(ctx, list(measured))
    s = ctx.settings
    return sizing.evaluate(
        groups,
        what="buffer pool",
        target=s.ram_target_percent,
        tolerance=s.ram_tolerance_percent,
        problems=problems,
    )


async def redis_maxmemory(ctx: Context) -> Outcome:
    if ctx.profile.redis is None:
        return skipped("the profile has no [redis] section")

    async def one(name: str) -> tuple[str, str | None, int | None, str | None]:
        ssh = ctx.profile.redis_instance(name).ssh
        try:
            async with asyncio.timeout(ctx.call_timeout):
                reply = await ctx.transports.redis(name).command("INFO", "memory")
        except (TransportError, TimeoutError) as exc:
            return name, ssh, None, short_error(exc)
        return name, ssh, opt_int(info_map(reply).get("maxmemory")), None

    measured = await asyncio.gather(*(one(n) for n in ctx.transports.redis_names()))
    groups, problems = await _ram_groups(ctx, list(measured))
    s = ctx.settings
    return sizing.evaluate(
        groups,
        what="maxmemory",
        target=s.ram_target_percent,
        tolerance=s.ram_tolerance_percent,
        problems=problems,
    )
