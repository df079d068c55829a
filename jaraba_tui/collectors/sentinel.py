"""Redis Sentinel: what each Sentinel says about the master, its replicas and its peers.

Replies are accepted in every shape a Redis client may hand them over: RESP2 flat key/value
lists, RESP3 maps, or redis-py's parsed dicts.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from jaraba_tui.collectors.common import (
    EndpointError,
    ParseError,
    Serialisable,
    Stopwatch,
    guarded,
    is_fatal,
    opt_int,
    parsed,
    text,
)
from jaraba_tui.transport.base import RedisClient, TransportError


class SentinelParseError(ParseError):
    pass


@dataclass(frozen=True)
class SentinelMaster(Serialisable):
    name: str
    ip: str
    port: int
    flags: tuple[str, ...]
    num_slaves: int | None
    num_other_sentinels: int | None
    quorum: int | None
    config_epoch: int | None

    @property
    def address(self) -> str:
        return f"{self.ip}:{self.port}"

    @property
    def s_down(self) -> bool:
        return "s_down" in self.flags

    @property
    def o_down(self) -> bool:
        return "o_down" in self.flags

    @property
    def failover_in_progress(self) -> bool:
        return "failover_in_progress" in self.flags


@dataclass(frozen=True)
class SentinelReplica(Serialisable):
    ip: str
    port: int
    flags: tuple[str, ...]
    master_link_status: str | None
    master_host: str | None
    master_port: int | None
    repl_offset: int | None

    @property
    def address(self) -> str:
        return f"{self.ip}:{self.port}"

    @property
    def s_down(self) -> bool:
        return "s_down" in self.flags


@dataclass(frozen=True)
class SentinelPeer(Serialisable):
    ip: str
    port: int
    runid: str | None
    flags: tuple[str, ...]

    @property
    def s_down(self) -> bool:
        return "s_down" in self.flags


@dataclass(frozen=True)
class QuorumCheck(Serialisable):
    """``SENTINEL CKQUORUM``: ``ok`` None when the question itself failed."""

    ok: bool | None
    message: str


@dataclass(frozen=True)
class SentinelTarget:
    name: str
    client: RedisClient


@dataclass(frozen=True)
class SentinelSnapshot(Serialisable):
    name: str
    endpoint: str
    master: SentinelMaster | None
    master_addr: str | None
    replicas: tuple[SentinelReplica, ...]
    peers: tuple[SentinelPeer, ...]
    quorum: QuorumCheck | None
    errors: tuple[EndpointError, ...]
    elapsed_ms: float = 0.0

    @property
    def reachable(self) -> bool:
        return not any(is_fatal(e) for e in self.errors)


# -- pure parsers ----------------------------------------------------------------------------


def norm_addr(addr: str) -> str:
    """'redis://Host:6379/0' or 'host:6379' -> 'host:6379' (lower-case host)."""
    s = addr.strip()
    if "://" in s:
        s = s.split("://", 1)[1]
    s = s.split("/", 1)[0].rsplit("@", 1)[-1]
    host, sep, port = s.rpartition(":")
    return f"{host.lower()}:{port}" if sep else s.lower()


def _record(item: Any) -> dict[str, str]:
    """One Sentinel record: a mapping (RESP3, redis-py) or a flat [k1, v1, k2, v2] list."""
    if isinstance(item, Mapping):
        return {text(k): _flag_text(v) for k, v in item.items()}
    if isinstance(item, list | tuple):
        if len(item) % 2:
            raise SentinelParseError(f"sentinel record with an odd number of items ({len(item)})")
        return {text(item[i]): text(item[i + 1]) for i in range(0, len(item), 2)}
    raise SentinelParseError(f"sentinel record of type {type(item).__name__}")


def _flag_text(v: Any) -> str:
    return text(v) if not isinstance(v, bool) else ("1" if v else "0")


def records(reply: Any) -> list[dict[str, str]]:
    """A list of Sentinel records; also accepts redis-py's ``{name: record}`` for MASTERS."""
    if reply is None:
        return []
    if isinstance(reply, Mapping):
        if all(isinstance(v, Mapping) for v in reply.values()):
            return [{"name": text(k), **_record(v)} for k, v in reply.items()]
        return [_record(reply)]
    if not isinstance(reply, list | tuple):
        raise SentinelParseError(f"sentinel reply of type {type(reply).__name__}")
    return [_record(r) for r in reply]


def _flags(rec: Mapping[str, str]) -> tuple[str, ...]:
    return tuple(f for f in rec.get("flags", "").split(",") if f)


def _ip_port(rec: Mapping[str, str], what: str) -> tuple[str, int]:
    ip, port = rec.get("ip"), opt_int(rec.get("port"))
    if not ip or port is None:
        raise SentinelParseError(f"{what}: record without ip/port")
    return ip, port


def parse_sentinel_masters(reply: Any) -> tuple[SentinelMaster, ...]:
    out = []
    for rec in records(reply):
        ip, port = _ip_port(rec, "SENTINEL MASTERS")
        out.append(
            SentinelMaster(
                name=rec.get("name", ""),
                ip=ip,
                port=port,
                flags=_flags(rec),
                num_slaves=opt_int(rec.get("num-slaves")),
                num_other_sentinels=opt_int(rec.get("num-other-sentinels")),
                quorum=opt_int(rec.get("quorum")),
                config_epoch=opt_int(rec.get("config-epoch")),
            )
        )
    return tuple(out)


def parse_sentinel_replicas(reply: Any) -> tuple[SentinelReplica, ...]:
    out = []
    for rec in records(reply):
        ip, port = _ip_port(rec, "SENTINEL REPLICAS")
        out.append(
            SentinelReplica(
                ip=ip,
                port=port,
                flags=_flags(rec),
                master_link_status=rec.get("master-link-status") or None,
                master_host=rec.get("master-host") or None,
                master_port=opt_int(rec.get("master-port")),
                repl_offset=opt_int(rec.get("slave-repl-offset")),
            )
        )
    return tuple(out)


def parse_sentinel_peers(reply: Any) -> tuple[SentinelPeer, ...]:
    out = []
    for rec in records(reply):
        ip, port = _ip_port(rec, "SENTINEL SENTINELS")
        out.append(SentinelPeer(ip, port, rec.get("runid") or None, _flags(rec)))
    return tuple(out)


def parse_master_addr(reply: Any) -> str | None:
    """``GET-MASTER-ADDR-BY-NAME``: ``[ip, port]`` (or None for an unknown master name)."""
    if reply is None:
        return None
    if not isinstance(reply, list | tuple) or len(reply) != 2:
        raise SentinelParseError(f"GET-MASTER-ADDR-BY-NAME: unexpected reply {reply!r:.60}")
    ip, port = text(reply[0]), opt_int(reply[1])
    if not ip or port is None:
        raise SentinelParseError("GET-MASTER-ADDR-BY-NAME: no ip/port")
    return f"{ip}:{port}"


def parse_ckquorum(reply: Any) -> QuorumCheck:
    if reply is True:
        return QuorumCheck(True, "OK")
    s = text(reply).strip()
    if s.upper().startswith("OK"):
        return QuorumCheck(True, s)
    if s.upper().startswith("NOQUORUM"):
        return QuorumCheck(False, s)
    raise SentinelParseError(f"CKQUORUM: unexpected reply {s[:60]!r}")


def elect_master(
    votes: Mapping[str, str | None], configured: int
) -> tuple[str | None, str, dict[str, tuple[str, ...]]]:
    """Who the Sentinels name master: (address, source, {address: sentinel names}).

    A strict majority of the *configured* Sentinels makes "sentinel-majority"; otherwise the
    most named address (ties broken by name) is reported as "sentinel-minority".
    """
    named = {s: norm_addr(a) for s, a in votes.items() if a}
    by_addr: dict[str, list[str]] = {}
    for sentinel, addr in sorted(named.items()):
        by_addr.setdefault(addr, []).append(sentinel)
    tally = {a: tuple(v) for a, v in sorted(by_addr.items())}
    if not tally:
        return None, "none", tally
    counts = Counter({a: len(v) for a, v in tally.items()})
    best, n = min(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    source = "sentinel-majority" if n > configured / 2 else "sentinel-minority"
    return best, source, tally


# -- I/O -------------------------------------------------------------------------------------


@runtime_checkable
class PipelineClient(Protocol):
    """A :class:`RedisClient` that also sends several commands in one round trip
    (:meth:`jaraba_tui.transport.redis.AsyncRedisClient.pipeline`)."""

    endpoint: str

    async def command(self, *args: str) -> Any: ...

    async def pipeline(self, *commands: tuple[str, ...]) -> list[Any]: ...


class _Answered:
    """A Sentinel's replies fetched in one round trip, handed out as its ``command`` would
    (the same reply, or the same exception raised); any other command goes to the client.
    Each answer is handed out once: asking again asks the server."""

    def __init__(self, client: RedisClient, answers: dict[tuple[str, ...], Any]) -> None:
        self.endpoint = client.endpoint
        self._client = client
        self._answers = answers

    async def command(self, *args: str) -> Any:
        if args not in self._answers:
            return await self._client.command(*args)
        answer = self._answers.pop(args)
        if isinstance(answer, BaseException):
            raise answer
        return answer

    async def close(self) -> None:
        await self._client.close()


async def _prefetch(c: RedisClient, master_name: str, timeout: float | None) -> RedisClient:
    """The five questions of a Sentinel poll in one round trip when the client can pipeline
    (issue 6: five round trips and five commands' client overhead per Sentinel, at every
    poll). A failure of the whole round trip is the answer to each question, so the poll
    below reports it as it would have reported it at its first question."""
    if not isinstance(c, PipelineClient):
        return c
    asked = [
        ("SENTINEL", "MASTERS"),
        ("SENTINEL", "GET-MASTER-ADDR-BY-NAME", master_name),
        ("SENTINEL", "REPLICAS", master_name),
        ("SENTINEL", "SENTINELS", master_name),
        ("SENTINEL", "CKQUORUM", master_name),
    ]
    replies: list[Any]
    try:
        if timeout is None:
            replies = await c.pipeline(*asked)
        else:
            async with asyncio.timeout(timeout):
                replies = await c.pipeline(*asked)
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        replies = [exc] * len(asked)
    return _Answered(c, dict(zip(asked, replies, strict=True)))


async def collect_sentinel(
    t: SentinelTarget, master_name: str, timeout: float | None = None
) -> SentinelSnapshot:
    """One Sentinel's view; its commands in sequence, stopping after a connection failure."""
    sw = Stopwatch()
    c, ep = await _prefetch(t.client, master_name, timeout), t.client.endpoint
    errors: list[EndpointError] = []

    async def ask(step: str, *args: str) -> tuple[Any, EndpointError | None]:
        reply, err = await guarded(ep, step, lambda: c.command(*args), timeout)
        if err is not None:
            errors.append(err)
        return reply, err

    reply, err = await ask("SENTINEL MASTERS", "SENTINEL", "MASTERS")
    master = None
    if err is None:
        masters, perr = parsed(lambda: parse_sentinel_masters(reply), ep, "SENTINEL MASTERS")
        if perr is not None:
            errors.append(perr)
        master = next((m for m in masters or () if m.name == master_name), None)
        if masters is not None and master is None:
            errors.append(
                EndpointError(ep, "other", f"does not monitor {master_name!r}", "SENTINEL MASTERS")
            )
    if is_fatal(err):
        return SentinelSnapshot(t.name, ep, None, None, (), (), None, tuple(errors), sw.ms())

    addr = None
    reply, err = await ask(
        "GET-MASTER-ADDR-BY-NAME", "SENTINEL", "GET-MASTER-ADDR-BY-NAME", master_name
    )
    if err is None:
        addr, perr = parsed(lambda: parse_master_addr(reply), ep, "GET-MASTER-ADDR-BY-NAME")
        errors += [perr] if perr else []

    replicas: tuple[SentinelReplica, ...] = ()
    reply, err = await guarded(
        ep, "SENTINEL REPLICAS", lambda: c.command("SENTINEL", "REPLICAS", master_name), timeout
    )
    if err is not None and err.kind == "protocol":  # Redis < 5 knows only SLAVES
        reply, err = await ask("SENTINEL SLAVES", "SENTINEL", "SLAVES", master_name)
    elif err is not None:
        errors.append(err)
    if err is None:
        got, perr = parsed(lambda: parse_sentinel_replicas(reply), ep, "SENTINEL REPLICAS")
        replicas = got or ()
        errors += [perr] if perr else []

    peers: tuple[SentinelPeer, ...] = ()
    reply, err = await ask("SENTINEL SENTINELS", "SENTINEL", "SENTINELS", master_name)
    if err is None:
        got_p, perr = parsed(lambda: parse_sentinel_peers(reply), ep, "SENTINEL SENTINELS")
        peers = got_p or ()
        errors += [perr] if perr else []

    quorum = await _ckquorum(c, master_name, timeout)
    return SentinelSnapshot(
        t.name, ep, master, addr, replicas, peers, quorum, tuple(errors), sw.ms()
    )


async def _ckquorum(c: RedisClient, master_name: str, timeout: float | None) -> QuorumCheck:
    """CKQUORUM answers NOQUORUM as an error reply: that is a result, not a failure."""
    try:
        if timeout is None:
            reply = await c.command("SENTINEL", "CKQUORUM", master_name)
        else:
            async with asyncio.timeout(timeout):
                reply = await c.command("SENTINEL", "CKQUORUM", master_name)
    except TransportError as exc:
        msg = str(exc)
        if "NOQUORUM" in msg.upper():
            return QuorumCheck(False, msg)
        return QuorumCheck(None, f"could not check quorum: {msg}")
    except TimeoutError:
        return QuorumCheck(None, "could not check quorum: no answer before the deadline")
    try:
        return parse_ckquorum(reply)
    except ParseError as exc:
        return QuorumCheck(None, str(exc))
