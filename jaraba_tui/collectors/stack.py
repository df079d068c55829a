"""One poll of the whole stack: every configured layer concurrently, into a StackSnapshot.

The wiring layer (profile -> targets) builds a :class:`StackTargets`; this module only runs
the collectors. A layer whose collector raises or misses ``layer_timeout`` becomes a
:class:`LayerFailure`; the other layers keep their data.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from jaraba_tui.collectors import alerts, galera, haproxy, hosts, proxysql, redis
from jaraba_tui.collectors.common import Clock, Stopwatch, error_from
from jaraba_tui.collectors.sentinel import SentinelTarget
from jaraba_tui.model.snapshot import LayerFailure, StackSnapshot


@dataclass(frozen=True)
class StackTargets:
    galera: Sequence[galera.GaleraNodeTarget] = ()
    proxysql: proxysql.ProxySQLTarget | None = None
    haproxy: haproxy.HAProxyTarget | None = None
    redis: Sequence[redis.RedisTarget] = ()
    sentinels: Sequence[SentinelTarget] = ()
    master_name: str = "mymaster"
    prometheus: alerts.PrometheusTarget | None = None
    alertmanager: alerts.AlertmanagerTarget | None = None
    hosts: Sequence[hosts.HostTarget] = ()
    profile: str = ""
    environment: str = ""


async def collect_stack(
    targets: StackTargets,
    *,
    clock: Clock = time.time,
    timeout: float | None = None,
    layer_timeout: float | None = None,
) -> StackSnapshot:
    """``timeout`` bounds each endpoint step, ``layer_timeout`` each whole layer."""
    sw = Stopwatch()
    t = targets
    # Factories, not coroutines: a poll cancelled before its jobs start (the engine
    # stopping) must not leave collector coroutines created and never awaited.
    jobs: dict[str, Callable[[], Awaitable[Any]]] = {}
    if t.galera:
        jobs["galera"] = lambda: galera.collect(t.galera, clock=clock, timeout=timeout)
    if t.proxysql is not None:
        proxy = t.proxysql
        jobs["proxysql"] = lambda: proxysql.collect(proxy, clock=clock, timeout=timeout)
    if t.haproxy is not None:
        hap = t.haproxy
        jobs["haproxy"] = lambda: haproxy.collect(hap, clock=clock, timeout=timeout)
    if t.redis or t.sentinels:
        jobs["redis"] = lambda: redis.collect(
            t.redis, t.sentinels, t.master_name, clock=clock, timeout=timeout
        )
    if t.prometheus is not None or t.alertmanager is not None:
        jobs["alerts"] = lambda: alerts.collect(
            t.prometheus, t.alertmanager, clock=clock, timeout=timeout
        )
    for h in t.hosts:
        jobs[f"hosts:{h.name}"] = partial(hosts.collect, h, clock=clock, timeout=timeout)

    async def bounded(make: Callable[[], Awaitable[Any]]) -> Any:
        if layer_timeout is None:
            return await make()
        async with asyncio.timeout(layer_timeout):
            return await make()

    results = await asyncio.gather(*(bounded(j) for j in jobs.values()), return_exceptions=True)
    layers: dict[str, Any] = {}
    host_snaps: list[hosts.HostSnapshot] = []
    failures: list[LayerFailure] = []
    for name, res in zip(jobs, results, strict=True):
        if isinstance(res, asyncio.CancelledError):
            raise res
        if isinstance(res, BaseException):
            err = error_from(res, name, "collector")
            failures.append(LayerFailure(name, err.kind, err.message))
        elif name.startswith("hosts:"):
            host_snaps.append(res)
        else:
            layers[name] = res
    return StackSnapshot(
        collected_at=clock(),
        galera=layers.get("galera"),
        proxysql=layers.get("proxysql"),
        haproxy=layers.get("haproxy"),
        redis=layers.get("redis"),
        alerts=layers.get("alerts"),
        hosts=tuple(host_snaps),
        failures=tuple(failures),
        profile=t.profile,
        environment=t.environment,
        elapsed_ms=sw.ms(),
    )
