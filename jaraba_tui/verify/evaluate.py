"""Post-deployment verdicts from what the servers said. Pure functions (no I/O).

Each returns an :class:`~jaraba_tui.verify.model.Outcome` whose evidence names every node,
backend, server, Sentinel or target looked at, so a passed item shows what it saw.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from jaraba_tui.collectors.galera import GaleraNodeSnapshot
from jaraba_tui.collectors.haproxy import HAProxySnapshot, StatRow
from jaraba_tui.collectors.proxysql import GaleraHostgroup, PoolEntry
from jaraba_tui.collectors.sentinel import norm_addr
from jaraba_tui.verify.model import Outcome, brief, failed, verdict

ONOFF = {True: "ON", False: "OFF", None: "unknown"}


# -- Galera ----------------------------------------------------------------------------------
def galera_cluster(nodes: Sequence[GaleraNodeSnapshot], expected: int) -> Outcome:
    """wsrep_cluster_size = ``expected`` and wsrep_ready = ON on every node."""
    problems: list[str] = []
    evidence: list[str] = []
    for n in nodes:
        w = n.wsrep
        if w is None:
            why = n.sql_error.message if n.sql_error else "no answer"
            problems.append(f"{n.name} unreachable")
            evidence.append(f"{n.name}: could not ask ({why})")
            continue
        bad = []
        if w.cluster_size != expected:
            bad.append(f"wsrep_cluster_size {w.cluster_size} (expected {expected})")
        if w.ready is not True:
            bad.append(f"wsrep_ready {ONOFF[w.ready]}")
        state = f"{w.local_state_comment or '?'}, {w.cluster_status or '?'}"
        evidence.append(
            f"{n.name}: wsrep_cluster_size {w.cluster_size}, wsrep_ready {ONOFF[w.ready]} ({state})"
        )
        if bad:
            problems.append(f"{n.name}: " + ", ".join(bad))
    return verdict(
        problems,
        f"all {len(nodes)} nodes report wsrep_cluster_size {expected} and wsrep_ready ON",
        "; ".join(problems),
        evidence,
    )


# -- ProxySQL --------------------------------------------------------------------------------
def proxysql_backends(
    pool: Sequence[PoolEntry], hostgroups: Sequence[GaleraHostgroup], expected_nodes: int
) -> Outcome:
    """No backend out of service, defined on stats_mysql_connection_pool as:

    * every backend is ONLINE in at least one hostgroup that is not an offline hostgroup;
    * no backend is in a Galera offline hostgroup, nor OFFLINE_SOFT/OFFLINE_HARD anywhere;
    * SHUNNED only where it is by design: in a writer hostgroup limited by max_writers, for
      a backend that is ONLINE in that configuration's backup-writer hostgroup;
    * every active Galera writer hostgroup has an ONLINE writer;
    * ProxySQL knows at least as many backends as the profile has Galera nodes.
    """
    active = [h for h in hostgroups if h.active]
    offline = {h.offline_hostgroup for h in active if h.offline_hostgroup is not None}
    by_writer = {h.writer_hostgroup: h for h in active}
    role: dict[int, str] = {}
    for h in active:
        role[h.writer_hostgroup] = "writer"
        for hg, name in (
            (h.backup_writer_hostgroup, "backup writer"),
            (h.reader_hostgroup, "reader"),
            (h.offline_hostgroup, "offline"),
        ):
            if hg is not None:
                role.setdefault(hg, name)
    if not pool:
        return failed("stats_mysql_connection_pool lists no backend at all")
    backends: dict[str, list[PoolEntry]] = {}
    for p in pool:
        backends.setdefault(p.address, []).append(p)
    problems: list[str] = []
    evidence: list[str] = []
    for addr in sorted(backends):
        entries = sorted(backends[addr], key=lambda e: e.hostgroup)
        online = {e.hostgroup for e in entries if e.status == "ONLINE"}
        bad: list[str] = []
        cells: list[str] = []
        for e in entries:
            label = role.get(e.hostgroup)
            cell = f"{e.status} in {e.hostgroup}" + (f" ({label})" if label else "")
            cfg = by_writer.get(e.hostgroup)
            if e.hostgroup in offline:
                bad.append(f"in offline hostgroup {e.hostgroup}")
            elif e.status == "SHUNNED" and (
                cfg is not None
                and cfg.max_writers is not None
                and cfg.backup_writer_hostgroup in online
            ):
                cell += f" by design (max_writers {cfg.max_writers})"
            elif e.status != "ONLINE":
                bad.append(f"{e.status} in hostgroup {e.hostgroup}")
            cells.append(cell)
        if not online - offline:
            bad.append("not ONLINE in any serving hostgroup")
        evidence.append(f"{addr}: " + "; ".join(cells))
        if bad:
            problems.append(f"{addr} " + ", ".join(dict.fromkeys(bad)))
    for h in active:
        writers = [p for p in pool if p.hostgroup == h.writer_hostgroup and p.status == "ONLINE"]
        if not writers:
            problems.append(f"writer hostgroup {h.writer_hostgroup} has no ONLINE writer")
        else:
            evidence.append(
                f"writer hostgroup {h.writer_hostgroup}: "
                + ", ".join(w.address for w in writers)
                + f" ONLINE (max_writers {h.max_writers})"
            )
    if len(backends) < expected_nodes:
        problems.append(
            f"ProxySQL knows {len(backends)} backends, the profile has {expected_nodes} "
            "Galera nodes"
        )
    return verdict(
        problems,
        f"all {len(backends)} backends in service (none offline or shunned but by design)",
        "; ".join(problems),
        evidence,
    )


# -- HAProxy ---------------------------------------------------------------------------------
def _server_text(s: StatRow) -> str:
    status = (s.check_status or "").lstrip("* ")  # "* L7OK": a check is running right now
    check = f", check {status}" if status else ""
    desc = f" {s.check_desc}" if s.check_desc and s.state != "UP" else ""
    return f"{s.name} {s.status or s.state}{check}{desc}"


def haproxy_backends(snap: HAProxySnapshot) -> Outcome:
    """Every backend and every server UP in ``show stat`` (or the stats CSV)."""
    if not snap.has_stats:
        why = "; ".join(e.sentence() for e in snap.errors) or "no stat table"
        return failed(f"could not read HAProxy's stats: {why}")
    problems: list[str] = []
    evidence: list[str] = []
    names = [b.proxy for b in snap.backends]
    names += [s.proxy for s in snap.servers if s.proxy not in names]
    if not names:
        return failed("HAProxy reports no backend", [f"source: {snap.stat_source}"])
    for name in names:
        be = snap.backend(name)
        servers = snap.servers_of(name)
        state = be.state if be is not None else "?"
        if be is None or be.state != "UP":
            problems.append(f"backend {name} {state}")
        for s in servers:
            if s.state != "UP":
                problems.append(f"{name}/{s.name} {s.status or s.state}")
        listing = ", ".join(_server_text(s) for s in servers) or "no servers"
        evidence.append(f"{name}: {state} ({listing})")
    return verdict(
        problems,
        f"{len(names)} backends and {len(snap.servers)} servers UP",
        "; ".join(problems),
        [*evidence, f"source: {snap.stat_source}"],
    )


# -- Redis Sentinel --------------------------------------------------------------------------
@dataclass(frozen=True)
class RedisRole:
    name: str
    address: str
    role: str | None
    run_id: str | None
    error: str | None = None


@dataclass(frozen=True)
class SentinelView:
    name: str
    master_addr: str | None
    master_runid: str | None
    flags: tuple[str, ...]
    quorum_ok: bool | None
    quorum_text: str
    error: str | None = None


def sentinel_master(
    instances: Sequence[RedisRole], sentinels: Sequence[SentinelView], master_name: str
) -> Outcome:
    """The one instance reporting role:master is whom every Sentinel names, by run id (or
    by address where Sentinel gives no run id), not down; CKQUORUM OK on every Sentinel."""
    problems: list[str] = []
    evidence: list[str] = []
    masters = [i for i in instances if i.role == "master"]
    for i in instances:
        state = f"role:{i.role}" if i.error is None else f"unreachable ({i.error})"
        evidence.append(f"{i.name} {i.address}: {state}")
    expected = masters[0] if len(masters) == 1 else None
    if not masters:
        problems.append("no Redis instance reports role:master")
    elif len(masters) > 1:
        problems.append(
            f"{len(masters)} instances report role:master: "
            + ", ".join(f"{m.name} ({m.address})" for m in masters)
        )
    for s in sentinels:
        if s.error is not None:
            problems.append(f"{s.name} unreachable")
            evidence.append(f"{s.name}: could not ask ({s.error})")
            continue
        named = s.master_addr or "nothing"
        same = expected is not None and (
            (s.master_runid is not None and s.master_runid == expected.run_id)
            or (s.master_runid is None and norm_addr(named) == norm_addr(expected.address))
        )
        who = f" = {expected.name}" if same and expected is not None else ""
        line = f"{s.name}: names {named}{who} for {master_name}"
        down = [f for f in s.flags if f in ("s_down", "o_down")]
        if down:
            problems.append(f"{s.name} flags the master {','.join(down)}")
            line += f" (flags {','.join(s.flags)})"
        if expected is not None and not same:
            problems.append(f"{s.name} names {named}, not {expected.name} ({expected.address})")
        quorum = {True: "CKQUORUM", False: "CKQUORUM FAILED:", None: "CKQUORUM not answered:"}
        evidence.append(f"{line}; {quorum[s.quorum_ok]} {s.quorum_text}")
        if s.quorum_ok is not True:
            problems.append(f"{s.name}: quorum not reachable")
    exp = f"{expected.name} ({expected.address})" if expected else "?"
    return verdict(
        problems,
        f"all {len(sentinels)} Sentinels name {exp}; quorum reachable on each",
        "; ".join(problems),
        evidence,
    )


# -- Prometheus ------------------------------------------------------------------------------
def prometheus_targets(body: str | Mapping[str, Any]) -> Outcome:
    """``/api/v1/targets``: every active target's health is "up"."""
    doc = json.loads(body) if isinstance(body, str) else body
    data = doc.get("data") if isinstance(doc, Mapping) else None
    targets = data.get("activeTargets") if isinstance(data, Mapping) else None
    if not isinstance(targets, list):
        return failed("unexpected answer from /api/v1/targets (no data.activeTargets)")
    if not targets:
        return failed("Prometheus has no active scrape target")
    problems: list[str] = []
    evidence: list[str] = []
    jobs: dict[str, int] = {}
    for t in targets:
        if not isinstance(t, Mapping):
            continue
        raw = t.get("labels")
        labels: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
        job = str(labels.get("job") or t.get("scrapePool") or "?")
        instance = str(labels.get("instance") or t.get("scrapeUrl") or "?")
        health = str(t.get("health") or "unknown")
        if health == "up":
            jobs[job] = jobs.get(job, 0) + 1
            continue
        err = str(t.get("lastError") or "").strip()
        problems.append(f"{job} {instance} {health}")
        evidence.append(f"{job} {instance}: {health}" + (f" ({err[:160]})" if err else ""))
    n_up = sum(jobs.values())
    if jobs:
        evidence.append(f"{n_up} up: " + ", ".join(f"{job} {n}" for job, n in sorted(jobs.items())))
    return verdict(
        problems,
        f"all {len(targets)} targets up",
        f"{len(problems)} of {len(targets)} targets not up: {brief(problems)}",
        evidence,
    )
