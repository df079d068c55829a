"""Redis + Sentinel rules. The master is whom the Sentinels name (see collectors.redis)."""

from __future__ import annotations

from jaraba_tui.collectors.redis import RedisInstanceSnapshot, RedisSnapshot
from jaraba_tui.collectors.sentinel import norm_addr
from jaraba_tui.model.findings import Finding, Severity
from jaraba_tui.model.health._util import size, why
from jaraba_tui.model.thresholds import Thresholds

C = "redis"


def redis_findings(snap: RedisSnapshot, th: Thresholds) -> list[Finding]:
    out: list[Finding] = []

    def add(sev: Severity, target: str, msg: str, code: str) -> None:
        out.append(Finding(sev, C, target, f"redis: {msg}", code))

    master = snap.master
    name = snap.master_name
    sentinels = snap.sentinels

    # -- Sentinels ---------------------------------------------------------------------------
    for s in sentinels:
        if not s.reachable:
            err = next(e for e in s.errors)
            add(
                Severity.WARN,
                s.name,
                f"Sentinel {s.name} unreachable: {why(err)}",
                "redis.sentinel",
            )
        else:
            for e in s.errors:
                add(
                    Severity.UNKNOWN,
                    s.name,
                    f"Sentinel {s.name}: {e.step} failed: {why(e)}",
                    "redis.sentinel_query",
                )
    if sentinels:
        if snap.sentinels_disagree:
            votes = "; ".join(
                f"{', '.join(who)} say {addr}" for addr, who in snap.master_votes.items()
            )
            add(
                Severity.CRIT,
                name,
                f"Sentinels disagree on the master of {name}: {votes}",
                "redis.disagree",
            )
        if snap.master_source != "sentinel-majority":
            answered = sum(len(v) for v in snap.master_votes.values())
            add(
                Severity.CRIT,
                name,
                f"no majority of the {len(sentinels)} Sentinels names a master for {name} "
                f"({answered} answered)",
                "redis.no_majority",
            )
        checks = [s.quorum for s in sentinels if s.reachable and s.quorum is not None]
        failed = next((q for q in checks if q.ok is False), None)
        if failed is not None:
            add(
                Severity.CRIT,
                name,
                f"Sentinel quorum for {name} not reachable: {failed.message}",
                "redis.quorum",
            )
        elif checks and all(q.ok is None for q in checks):
            add(
                Severity.UNKNOWN,
                name,
                f"quorum of {name} unknown: {checks[0].message}",
                "redis.quorum",
            )
        views = [s.master for s in sentinels if s.master is not None]
        if any(m.o_down for m in views):
            add(
                Severity.CRIT,
                name,
                f"master {master or '?'} is objectively down (o_down)",
                "redis.odown",
            )
        elif any(m.s_down for m in views):
            who = ", ".join(s.name for s in sentinels if s.master is not None and s.master.s_down)
            add(
                Severity.WARN,
                name,
                f"master {master or '?'} subjectively down for {who}",
                "redis.sdown",
            )
        if any(m.failover_in_progress for m in views):
            add(Severity.WARN, name, f"failover of {name} in progress", "redis.failover")

    # -- instances ---------------------------------------------------------------------------
    master_inst = snap.instance(master) if master else None
    if master is not None and master_inst is not None:
        if master_inst.info is None:
            merr = master_inst.error
            add(
                Severity.CRIT,
                master_inst.name,
                f"master {master} ({master_inst.name}) unreachable: "
                f"{why(merr) if merr else 'no answer'}",
                "redis.master_down",
            )
        elif master_inst.info.role != "master":
            add(
                Severity.CRIT,
                master_inst.name,
                f"Sentinels name {master} master but it reports role {master_inst.info.role}",
                "redis.master_role",
            )
    for inst in snap.instances:
        out += _instance(inst, master, master_inst, th)

    if not any(f.severity is not Severity.OK for f in out):
        replicas = [i for i in snap.instances if i.info is not None and i.info.role == "slave"]
        agree = (
            f"{len(snap.master_votes.get(norm_addr(master), ()))}/{len(sentinels)} Sentinels agree"
            if master and sentinels
            else snap.master_source
        )
        add(
            Severity.OK,
            name,
            f"master {master or '?'} ({agree}), {len(replicas)} replicas linked",
            "redis.ok",
        )
    return out


def _instance(
    inst: RedisInstanceSnapshot,
    master: str | None,
    master_inst: RedisInstanceSnapshot | None,
    th: Thresholds,
) -> list[Finding]:
    out: list[Finding] = []

    def add(sev: Severity, msg: str, code: str) -> None:
        out.append(Finding(sev, C, inst.name, f"redis: {msg}", code))

    label = f"{inst.name} ({inst.address})"
    is_master = master is not None and inst is master_inst
    info = inst.info
    if info is None:
        if not is_master:
            err = inst.error
            add(
                Severity.WARN,
                f"{label} unreachable: {why(err) if err else 'no answer'}",
                "redis.down",
            )
        return out
    if not is_master and info.role == "master" and master is not None:
        add(
            Severity.WARN,
            f"{label} still claims master but the Sentinels name {master} — "
            "clients that bypass Sentinel may write to it",
            "redis.old_master",
        )
    if info.role == "slave":
        if info.master_link_status != "up":
            down = info.master_link_down_since_seconds
            since = f" for {down}s" if down is not None and down >= 0 else ""
            add(
                Severity.WARN,
                f"replica {label} link to {info.master_address or '?'} is "
                f"{info.master_link_status or 'unknown'}{since}",
                "redis.link",
            )
        elif (
            master is not None and info.master_address and norm_addr(info.master_address) != master
        ):
            add(
                Severity.WARN,
                f"replica {label} replicates from {info.master_address}, not from {master}",
                "redis.wrong_master",
            )
    if is_master:
        for r in info.replicas:
            if r.lag_s is not None and r.lag_s >= th.redis_lag_warn_s:
                sev = Severity.CRIT if r.lag_s >= th.redis_lag_crit_s else Severity.WARN
                add(sev, f"replica {r.address} lags {r.lag_s}s behind the master", "redis.lag")
            elif r.lag_bytes is not None and r.lag_bytes >= th.redis_lag_warn_bytes:
                add(
                    Severity.WARN, f"replica {r.address} is {size(r.lag_bytes)} behind", "redis.lag"
                )
            if r.state not in ("online", ""):
                add(
                    Severity.WARN,
                    f"replica {r.address} is in state {r.state}",
                    "redis.replica_state",
                )
    pct = info.memory_pct
    if pct is not None and pct >= th.redis_memory_warn_pct:
        sev = Severity.CRIT if pct >= th.redis_memory_crit_pct else Severity.WARN
        add(
            sev,
            f"{label} uses {pct:.0f}% of maxmemory ({size(info.used_memory)} of "
            f"{size(info.maxmemory)}, policy {info.maxmemory_policy or '?'})",
            "redis.memory",
        )
    if info.rdb_last_bgsave_status not in (None, "ok"):
        add(
            Severity.CRIT,
            f"{label} last RDB save failed ({info.rdb_last_bgsave_status}): writes may be refused",
            "redis.rdb",
        )
    if info.aof_enabled and info.aof_last_write_status not in (None, "ok"):
        add(Severity.CRIT, f"{label} AOF write failing ({info.aof_last_write_status})", "redis.aof")
    if info.loading:
        add(Severity.WARN, f"{label} is loading its dataset", "redis.loading")
    return out
