"""Redis instances (INFO) and Sentinels (SENTINEL ...), and who the master is.

The master is whom a majority of the configured Sentinels name: after a failover the old
master still calls itself master until Sentinel reconfigures it (~10 s in the lab), so an
instance's own ``role:master`` is evidence, not the answer.

Replies are accepted in every shape a Redis client may hand them over: raw RESP2 (INFO text,
flat key/value lists), RESP3 maps, or redis-py's parsed dicts.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from jaraba_tui.collectors.common import (
    Clock,
    EndpointError,
    ParseError,
    Serialisable,
    Stopwatch,
    guarded,
    opt_bool,
    opt_int,
    parsed,
    text,
)
from jaraba_tui.collectors.sentinel import (
    SentinelSnapshot,
    SentinelTarget,
    collect_sentinel,
    elect_master,
    norm_addr,
)
from jaraba_tui.transport.base import RedisClient


class RedisParseError(ParseError):
    pass


# -- types -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReplicaLink(Serialisable):
    """A replica as its master lists it (``slaveN:ip=..,port=..,state=..,offset=..,lag=..``)."""

    ip: str
    port: int
    state: str
    offset: int | None
    lag_s: int | None
    lag_bytes: int | None

    @property
    def address(self) -> str:
        return f"{self.ip}:{self.port}"


@dataclass(frozen=True)
class RedisInfo(Serialisable):
    version: str | None
    run_id: str | None
    uptime_s: int | None
    role: str | None
    master_host: str | None
    master_port: int | None
    master_link_status: str | None
    master_last_io_seconds_ago: int | None
    master_link_down_since_seconds: int | None
    master_sync_in_progress: bool | None
    slave_repl_offset: int | None
    master_repl_offset: int | None
    replicas: tuple[ReplicaLink, ...]
    connected_clients: int | None
    blocked_clients: int | None
    used_memory: int | None
    maxmemory: int | None
    maxmemory_policy: str | None
    instantaneous_ops_per_sec: int | None
    total_commands_processed: int | None
    evicted_keys: int | None
    rejected_connections: int | None
    loading: bool | None
    rdb_last_bgsave_status: str | None
    rdb_changes_since_last_save: int | None
    aof_enabled: bool | None
    aof_last_write_status: str | None
    aof_last_bgrewrite_status: str | None

    @property
    def memory_pct(self) -> float | None:
        if not self.maxmemory or self.used_memory is None:
            return None
        return round(100.0 * self.used_memory / self.maxmemory, 1)

    @property
    def master_address(self) -> str | None:
        if self.master_host is None or self.master_port is None:
            return None
        return f"{self.master_host}:{self.master_port}"


@dataclass(frozen=True)
class RedisTarget:
    name: str
    client: RedisClient
    #: "host:port" as Sentinels and replicas know this instance; defaults to the endpoint.
    address: str | None = None


@dataclass(frozen=True)
class RedisInstanceSnapshot(Serialisable):
    name: str
    endpoint: str
    address: str
    info: RedisInfo | None
    error: EndpointError | None
    elapsed_ms: float = 0.0


@dataclass(frozen=True)
class RedisSnapshot(Serialisable):
    master_name: str
    collected_at: float
    instances: tuple[RedisInstanceSnapshot, ...]
    sentinels: tuple[SentinelSnapshot, ...]
    #: "host:port" of the master, or None when nobody can say.
    master: str | None
    #: "sentinel-majority", "sentinel-minority", "self-reported" or "none".
    master_source: str
    #: Which Sentinels name which master address.
    master_votes: dict[str, tuple[str, ...]]
    elapsed_ms: float = 0.0

    def instance(self, address: str) -> RedisInstanceSnapshot | None:
        want = norm_addr(address)
        return next((i for i in self.instances if norm_addr(i.address) == want), None)

    @property
    def sentinels_disagree(self) -> bool:
        return len(self.master_votes) > 1


# -- pure parsers ----------------------------------------------------------------------------


def info_map(reply: Any) -> dict[str, str]:
    """An INFO reply (text, bytes, or an already parsed mapping) as flat key -> text."""
    if isinstance(reply, Mapping):
        out: dict[str, str] = {}
        for k, v in reply.items():
            if isinstance(v, Mapping):
                out[text(k)] = ",".join(f"{text(a)}={text(b)}" for a, b in v.items())
            else:
                out[text(k)] = text(v)
        return out
    if not isinstance(reply, str | bytes | bytearray):
        raise RedisParseError(f"INFO: unexpected reply type {type(reply).__name__}")
    out = {}
    for line in text(reply).splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition(":")
        if sep:
            out[key] = value
    if not out:
        raise RedisParseError("INFO: no key:value lines")
    return out


def _kv_list(s: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in s.split(","):
        k, sep, v = part.partition("=")
        if sep:
            out[k.strip()] = v.strip()
    return out


def parse_info(reply: Any) -> RedisInfo:
    m = info_map(reply)
    if "role" not in m and "redis_version" not in m:
        raise RedisParseError("INFO: neither role nor redis_version present")
    master_offset = opt_int(m.get("master_repl_offset"))
    replicas: list[ReplicaLink] = []
    n = 0
    while f"slave{n}" in m:
        kv = _kv_list(m[f"slave{n}"])
        port = opt_int(kv.get("port"))
        if kv.get("ip") and port is not None:
            off = opt_int(kv.get("offset"))
            lag_b = None if off is None or master_offset is None else max(0, master_offset - off)
            replicas.append(
                ReplicaLink(kv["ip"], port, kv.get("state", ""), off, opt_int(kv.get("lag")), lag_b)
            )
        n += 1

    def s(key: str) -> str | None:
        v = m.get(key)
        return v if v else None

    return RedisInfo(
        version=s("redis_version"),
        run_id=s("run_id"),
        uptime_s=opt_int(m.get("uptime_in_seconds")),
        role=s("role"),
        master_host=s("master_host"),
        master_port=opt_int(m.get("master_port")),
        master_link_status=s("master_link_status"),
        master_last_io_seconds_ago=opt_int(m.get("master_last_io_seconds_ago")),
        master_link_down_since_seconds=opt_int(m.get("master_link_down_since_seconds")),
        master_sync_in_progress=opt_bool(m.get("master_sync_in_progress")),
        slave_repl_offset=opt_int(m.get("slave_repl_offset")),
        master_repl_offset=master_offset,
        replicas=tuple(replicas),
        connected_clients=opt_int(m.get("connected_clients")),
        blocked_clients=opt_int(m.get("blocked_clients")),
        used_memory=opt_int(m.get("used_memory")),
        maxmemory=opt_int(m.get("maxmemory")),
        maxmemory_policy=s("maxmemory_policy"),
        instantaneous_ops_per_sec=opt_int(m.get("instantaneous_ops_per_sec")),
        total_commands_processed=opt_int(m.get("total_commands_processed")),
        evicted_keys=opt_int(m.get("evicted_keys")),
        rejected_connections=opt_int(m.get("rejected_connections")),
        loading=opt_bool(m.get("loading")),
        rdb_last_bgsave_status=s("rdb_last_bgsave_status"),
        rdb_changes_since_last_save=opt_int(m.get("rdb_changes_since_last_save")),
        aof_enabled=opt_bool(m.get("aof_enabled")),
        aof_last_write_status=s("aof_last_write_status"),
        aof_last_bgrewrite_status=s("aof_last_bgrewrite_status"),
    )


# -- I/O -------------------------------------------------------------------------------------


async def _instance(t: RedisTarget, timeout: float | None) -> RedisInstanceSnapshot:
    sw = Stopwatch()
    ep = t.client.endpoint
    reply, err = await guarded(ep, "INFO", lambda: t.client.command("INFO"), timeout)
    info = None
    if err is None:
        info, err = parsed(lambda: parse_info(reply), ep, "INFO")
    return RedisInstanceSnapshot(t.name, ep, norm_addr(t.address or ep), info, err, sw.ms())


async def collect(
    instances: Sequence[RedisTarget],
    sentinels: Sequence[SentinelTarget],
    master_name: str,
    *,
    clock: Clock = time.time,
    timeout: float | None = None,
) -> RedisSnapshot:
    """Every instance and every Sentinel concurrently; the master as the Sentinels say."""
    sw = Stopwatch()
    inst, sent = await asyncio.gather(
        asyncio.gather(*(_instance(t, timeout) for t in instances)),
        asyncio.gather(*(collect_sentinel(t, master_name, timeout) for t in sentinels)),
    )
    votes = {s.name: s.master_addr for s in sent}
    master, source, tally = elect_master(votes, len(sentinels))
    if master is None and not sentinels:
        claims = [i.address for i in inst if i.info is not None and i.info.role == "master"]
        if len(claims) == 1:
            master, source = claims[0], "self-reported"
    return RedisSnapshot(
        master_name=master_name,
        collected_at=clock(),
        instances=tuple(inst),
        sentinels=tuple(sent),
        master=master,
        master_source=source,
        master_votes=tally,
        elapsed_ms=sw.ms(),
    )
