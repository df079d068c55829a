"""``jaraba-ops profile check [NAME|PATH]``: validate a profile, then try every endpoint.

Exit codes: 0 every endpoint reachable, 1 some unreachable, 2 the profile is invalid.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass

from jaraba_tui.profile import Profile, ProfileError, load_profile
from jaraba_tui.secrets import scrub
from jaraba_tui.transport.base import TransportError
from jaraba_tui.transport.factory import Transports

EXIT_OK, EXIT_UNREACHABLE, EXIT_INVALID = 0, 1, 2


@dataclass(frozen=True)
class EndpointResult:
    layer: str
    name: str
    endpoint: str
    ok: bool
    detail: str
    kind: str = ""
    seconds: float = 0.0


Probe = Callable[[], Awaitable[str]]


def _probes(t: Transports) -> list[tuple[str, str, str, Probe]]:
    """(layer, name, endpoint label, probe returning a detail) for every endpoint."""
    p = t.profile
    out: list[tuple[str, str, str, Probe]] = []

    def ssh_probe(name: str) -> Probe:
        return lambda: t.ssh.server_version(name)

    for name, host in p.ssh.hosts.items():
        via = f" via {host.jump}" if host.jump else ""
        out.append(
            ("ssh", name, f"{host.user or ''}@{host.host}:{host.port}{via}", ssh_probe(name))
        )

    def galera_probe(node: str) -> Probe:
        async def probe() -> str:
            sql = t.galera(node)
            version = (await sql.query("SELECT VERSION() AS v"))[0]["v"]
            rows = await sql.query("SHOW GLOBAL STATUS LIKE 'wsrep_local_state_comment'")
            state = rows[0]["Value"] if rows else "wsrep off"
            return f"{version}, {state}"

        return probe

    for node in t.galera_names():
        out.append(("galera", node, t.galera(node).endpoint, galera_probe(node)))

    if p.proxysql is not None:

        async def proxysql_probe() -> str:
            rows = await t.proxysql().query("SELECT COUNT(*) AS n FROM runtime_mysql_servers")
            return f"{rows[0]['n']} runtime servers"

        out.append(("proxysql", "admin", t.proxysql().endpoint, proxysql_probe))

    if p.haproxy is not None and p.haproxy.runtime is not None:

        async def runtime_probe() -> str:
            info = await t.haproxy_runtime().command("show info")
            for line in info.splitlines():
                if line.startswith("Version:"):
                    return f"HAProxy {line.split(':', 1)[1].strip()}"
            raise TransportError("no Version in `show info`", kind="protocol")

        out.append(("haproxy", "runtime", t.haproxy_runtime().endpoint, runtime_probe))
    if p.haproxy is not None and p.haproxy.stats_url is not None:
        out.append(
            (
                "haproxy",
                "stats",
                t.haproxy_stats().endpoint,
                _http_probe(t, "haproxy_stats", ";csv"),
            )
        )

    def redis_probe(name: str, sentinel: bool) -> Probe:
        async def probe() -> str:
            if sentinel:
                master = p.sentinel.master_name if p.sentinel else ""
                addr = await t.sentinel(name).command("SENTINEL", "get-master-addr-by-name", master)
                return f"{master} master at {addr[0]}:{addr[1]}" if addr else f"no {master}"
            from jaraba_tui.collectors.redis import info_map

            info = info_map(await t.redis(name).command("INFO", "replication"))
            return f"role {info.get('role', '?')}"

        return probe

    for name in t.redis_names():
        out.append(("redis", name, t.redis(name).endpoint, redis_probe(name, False)))
    for name in t.sentinel_names():
        out.append(("sentinel", name, t.sentinel(name).endpoint, redis_probe(name, True)))
    if p.prometheus is not None:
        out.append(
            (
                "prometheus",
                "prometheus",
                t.prometheus().endpoint,
                _http_probe(t, "prometheus", "/-/ready"),
            )
        )
    if p.alertmanager is not None:
        out.append(
            (
                "alertmanager",
                "alertmanager",
                t.alertmanager().endpoint,
                _http_probe(t, "alertmanager", "/-/ready"),
            )
        )
    if p.grafana_url is not None:
        out.append(
            ("grafana", "grafana", t.grafana().endpoint, _http_probe(t, "grafana", "/api/health"))
        )
    return out


def _http_probe(t: Transports, which: str, path: str) -> Probe:
    async def probe() -> str:
        client = getattr(t, which)()
        response = await client.get(path)
        if response.status in (401, 403):
            raise TransportError(f"HTTP {response.status}: credentials refused", kind="auth")
        if response.status >= 400:
            raise TransportError(f"HTTP {response.status}", kind="protocol")
        return f"HTTP {response.status}"

    return probe


async def check_profile(
    profile: Profile, *, transports: Transports | None = None
) -> list[EndpointResult]:
    """Try every endpoint of ``profile`` concurrently, each bounded by its timeouts."""
    own = transports is None
    t = transports or Transports(profile)
    # Tunnels and jump hosts add their own connects: bound each probe generously, still finite.
    limit = 3 * t.timeouts.total

    async def run(layer: str, name: str, endpoint: str, probe: Probe) -> EndpointResult:
        start = time.monotonic()
        where = endpoint.removeprefix(f"{layer} {name} ")
        try:
            async with asyncio.timeout(limit):
                detail = await probe()
            ok, kind = True, ""
        except TransportError as exc:
            ok, kind, detail = False, exc.kind, str(exc)
            if exc.endpoint:
                detail = detail.removeprefix(f"{exc.endpoint}: ")
        except TimeoutError:
            ok, kind, detail = False, "timeout", f"no answer within {limit:g}s"
        except Exception as exc:  # a probe must never crash the check
            ok, kind, detail = False, "other", f"{type(exc).__name__}: {exc}"
        detail = str(detail).removeprefix(f"{endpoint}: ")
        elapsed = round(time.monotonic() - start, 3)
        return EndpointResult(layer, name, where, ok, scrub(detail), kind, elapsed)

    try:
        probes = _probes(t)
        return list(await asyncio.gather(*(run(*probe) for probe in probes)))
    finally:
        if own:
            await t.aclose()


def _print_table(profile: Profile, results: list[EndpointResult]) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(highlight=False)
    title = f"profile {profile.name} ({profile.environment})"
    if profile.source is not None:
        title += f" - {profile.source}"
    table = Table(title=title, title_justify="left", expand=True)
    for column in ("layer", "name", "endpoint", "status", "detail", "time"):
        table.add_column(
            column,
            no_wrap=column in ("layer", "name", "status", "time"),
            ratio={"endpoint": 2, "detail": 3}.get(column),
        )
    for r in results:
        status = Text("✓ ok", style="green") if r.ok else Text(f"✗ {r.kind}", style="bold red")
        table.add_row(
            Text(r.layer),
            Text(r.name),
            Text(r.endpoint),
            status,
            Text(r.detail),
            Text(f"{r.seconds:.2f}s"),
        )
    console.print(table)
    bad = sum(not r.ok for r in results)
    summary = f"{len(results) - bad}/{len(results)} endpoints reachable"
    console.print(Text(summary, style="bold red" if bad else "bold green"))


def main(args: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="jaraba-ops profile check",
        description="Validate a profile and try every endpoint it names.",
    )
    parser.add_argument("profile", nargs="?", help="profile name or path (default: local)")
    parser.add_argument("--profile", dest="profile_option", help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true", help="print results as JSON")
    ns = parser.parse_args(list(sys.argv[1:] if args is None else args))
    try:
        profile = load_profile(ns.profile or ns.profile_option)
        profile.resolve_secrets()
    except ProfileError as exc:
        sys.stderr.write(scrub(str(exc)) + "\n")
        return EXIT_INVALID
    results = asyncio.run(check_profile(profile))
    if ns.json:
        sys.stdout.write(json.dumps([asdict(r) for r in results], indent=2) + "\n")
    else:
        _print_table(profile, results)
    return EXIT_OK if all(r.ok for r in results) else EXIT_UNREACHABLE


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
