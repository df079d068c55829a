"""Profile -> transports -> collector targets. The one place that knows both sides.

``build_targets(profile, transports)`` gives the :class:`StackTargets` a poll needs;
``poll_once`` runs one whole-stack poll (``jaraba-ops status``/``check``, benchmarks).
"""

from __future__ import annotations

import time

from jaraba_tui.collectors.alerts import AlertmanagerTarget, PrometheusTarget
from jaraba_tui.collectors.galera import GaleraNodeTarget
from jaraba_tui.collectors.haproxy import HAProxyTarget
from jaraba_tui.collectors.hosts import HostTarget
from jaraba_tui.collectors.proxysql import ProxySQLTarget
from jaraba_tui.collectors.redis import RedisTarget
from jaraba_tui.collectors.sentinel import SentinelTarget
from jaraba_tui.collectors.stack import StackTargets, collect_stack
from jaraba_tui.model.snapshot import StackSnapshot
from jaraba_tui.model.thresholds import Thresholds
from jaraba_tui.profile import Profile
from jaraba_tui.transport.factory import NotConfigured, Transports


def model_thresholds(profile: Profile) -> Thresholds:
    """The health rules' thresholds from the profile's ``[thresholds]`` (same names)."""
    return profile.thresholds.to_health()


def build_targets(profile: Profile, tr: Transports) -> StackTargets:
    galera_targets = []
    if profile.galera is not None:
        expected = len(profile.galera.nodes)
        for node in profile.galera.nodes:
            galera_targets.append(
                GaleraNodeTarget(
                    name=node.name,
                    sql=tr.galera(node.name),
                    shell=tr.galera_shell(node.name),
                    datadir=node.datadir,
                    error_log=node.error_log,
                    expected_size=expected,
                )
            )
    proxysql_target = (
        ProxySQLTarget(name="proxysql", sql=tr.proxysql()) if profile.proxysql else None
    )
    haproxy_target = None
    if profile.haproxy is not None:
        hp = profile.haproxy
        runtime = tr.haproxy_runtime() if hp.runtime is not None else None
        stats = tr.haproxy_stats() if hp.stats_url is not None else None
        haproxy_target = HAProxyTarget(
            name="haproxy", runtime=runtime, map_path=hp.map_file, stats_http=stats
        )
    redis_targets = [
        RedisTarget(name=i.name, client=tr.redis(i.name), address=f"{i.host}:{i.port}")
        for i in (profile.redis.instances if profile.redis else [])
    ]
    sentinel_targets = [
        SentinelTarget(name=s.name, client=tr.sentinel(s.name))
        for s in (profile.sentinel.instances if profile.sentinel else [])
    ]
    prometheus = (
        PrometheusTarget(name="prometheus", http=tr.prometheus()) if profile.prometheus else None
    )
    alertmanager = (
        AlertmanagerTarget(name="alertmanager", http=tr.alertmanager())
        if profile.alertmanager
        else None
    )
    host_targets = []
    for name in profile.ssh.hosts:
        try:
            host_targets.append(HostTarget(name=name, shell=tr.shell(name)))
        except NotConfigured:  # pragma: no cover - names come from the same profile
            continue
    return StackTargets(
        galera=tuple(galera_targets),
        proxysql=proxysql_target,
        haproxy=haproxy_target,
        redis=tuple(redis_targets),
        sentinels=tuple(sentinel_targets),
        master_name=profile.sentinel.master_name if profile.sentinel else "jaraba-master",
        prometheus=prometheus,
        alertmanager=alertmanager,
        hosts=tuple(host_targets),
        profile=profile.name,
        environment=profile.environment,
    )


def layer_timeout(profile: Profile) -> float:
    """A whole layer may take a few sequential calls; bound it well above one call."""
    poll = profile.poll
    return poll.connect_timeout + 2 * poll.read_timeout + 1.0


async def poll_once(profile: Profile, transports: Transports | None = None) -> StackSnapshot:
    """One poll of every configured layer, concurrently."""
    own = transports is None
    tr = transports or Transports(profile)
    try:
        targets = build_targets(profile, tr)
        return await collect_stack(
            targets,
            clock=time.time,
            timeout=profile.poll.connect_timeout + profile.poll.read_timeout,
            layer_timeout=layer_timeout(profile),
        )
    finally:
        if own:
            await tr.aclose()
