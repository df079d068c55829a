"""Sentinel's pub/sub events (``+sdown``, ``+odown``, ``+switch-master``, ``+failover-*``...)
as typed :class:`SentinelEvent` values, for push updates between polls.

The source is anything with an async ``subscribe(channels)`` iterator (see
:class:`PubSubSource`) yielding ``(channel, data)`` pairs or redis-py style message dicts.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from jaraba_tui.collectors.common import Clock, ParseError, Serialisable, is_uint, opt_int, text

#: The channels worth an on-call engineer's attention (Redis docs, "Sentinel API").
SENTINEL_CHANNELS: tuple[str, ...] = (
    "+sdown",
    "-sdown",
    "+odown",
    "-odown",
    "+switch-master",
    "+try-failover",
    "+elected-leader",
    "+failover-detected",
    "+failover-state-select-slave",
    "+selected-slave",
    "+failover-state-send-slaveof-noone",
    "+failover-state-wait-promotion",
    "+promoted-slave",
    "+failover-state-reconf-slaves",
    "+failover-end",
    "+failover-end-for-timeout",
    "-failover-abort-not-elected",
    "-failover-abort-no-good-slave",
    "+new-epoch",
    "+vote-for-leader",
    "+convert-to-slave",
    "+role-change",
    "-role-change",
    "+config-update-from",
    "+reboot",
    "+slave",
    "+sentinel",
    "+tilt",
    "-tilt",
)

_INSTANCE_TYPES = ("master", "slave", "replica", "sentinel")


class SentinelEventParseError(ParseError):
    pass


@dataclass(frozen=True)
class SentinelEvent(Serialisable):
    """One Sentinel event. ``kind`` is the channel name without decoration (``"+sdown"``).

    Instance events carry ``instance_type``, ``instance``, ``ip``, ``port`` and, for
    replicas and sentinels, the master they belong to. ``+switch-master`` fills
    ``old_master``/``new_master`` ("ip:port"). Unparsed words land in ``extra``.
    """

    kind: str
    sentinel: str
    received_at: float
    raw: str
    instance_type: str | None = None
    instance: str | None = None
    ip: str | None = None
    port: int | None = None
    master_name: str | None = None
    master_ip: str | None = None
    master_port: int | None = None
    old_master: str | None = None
    new_master: str | None = None
    epoch: int | None = None
    extra: str = ""

    @property
    def address(self) -> str | None:
        return None if self.ip is None or self.port is None else f"{self.ip}:{self.port}"

    def sentence(self) -> str:
        """One line for a timeline."""
        if self.kind == "+switch-master":
            return (
                f"redis: Sentinel {self.sentinel} switched {self.master_name} "
                f"from {self.old_master} to {self.new_master}"
            )
        what = {
            "+sdown": "sees {x} down (subjectively)",
            "-sdown": "sees {x} back up",
            "+odown": "agrees {x} is down (objectively, quorum reached)",
            "-odown": "no longer sees {x} objectively down",
            "+try-failover": "starts a failover of {x}",
            "+failover-end": "finished the failover of {x}",
            "+failover-end-for-timeout": "gave up waiting for replicas after failing over {x}",
            "-failover-abort-no-good-slave": "aborted the failover of {x}: no good replica",
            "+convert-to-slave": "reconfigures {x} as a replica",
            "+promoted-slave": "promoted {x}",
            "+selected-slave": "selected {x} for promotion",
        }.get(self.kind)
        target = self.address or self.instance or self.raw
        if what is None:
            return f"redis: Sentinel {self.sentinel} {self.kind} {self.raw}".rstrip()
        return f"redis: Sentinel {self.sentinel} " + what.format(
            x=f"{self.instance_type or 'instance'} {target}"
        )


class PubSubSource(Protocol):
    """Anything that subscribes to channels and yields their messages."""

    def subscribe(self, channels: Sequence[str]) -> AsyncIterator[Any]: ...


# -- pure parser -----------------------------------------------------------------------------


def _port(tok: str, what: str) -> int:
    port = opt_int(tok)
    if port is None or not 0 <= port <= 65535 or not is_uint(tok.strip()):
        raise SentinelEventParseError(f"{what}: bad port {tok[:12]!r}")
    return port


def parse_sentinel_event(
    channel: str, data: str, *, sentinel: str = "", received_at: float = 0.0
) -> SentinelEvent:
    """Parse one message. Raises :class:`SentinelEventParseError` for malformed instance
    details; an unknown channel with free text is kept as ``extra``."""
    kind = channel.strip()
    words = data.split()
    base = SentinelEvent(kind=kind, sentinel=sentinel, received_at=received_at, raw=data)
    if kind == "+switch-master":
        if len(words) != 5:
            raise SentinelEventParseError(f"+switch-master: expected 5 words, got {len(words)}")
        name, oip, oport, nip, nport = words
        return _replace(
            base,
            master_name=name,
            old_master=f"{oip}:{_port(oport, kind)}",
            new_master=f"{nip}:{_port(nport, kind)}",
        )
    if kind == "+new-epoch":
        return _replace(base, epoch=opt_int(words[0]) if words else None)
    if kind == "+vote-for-leader":
        return _replace(
            base,
            instance=words[0] if words else None,
            epoch=opt_int(words[1]) if len(words) > 1 else None,
        )
    if not words or words[0] not in _INSTANCE_TYPES:
        return _replace(base, extra=data.strip())
    # <type> <name> <ip> <port> [@ <master-name> <master-ip> <master-port>] [extra...]
    if len(words) < 4:
        raise SentinelEventParseError(f"{kind}: instance details need 4 words, got {len(words)}")
    itype, iname, ip, port_s = words[:4]
    rest = words[4:]
    mname = mip = None
    mport = None
    if rest and rest[0] == "@":
        if len(rest) < 4:
            raise SentinelEventParseError(f"{kind}: '@' needs master name, ip and port")
        mname, mip, mport = rest[1], rest[2], _port(rest[3], kind)
        rest = rest[4:]
    elif itype == "master":
        mname, mip, mport = iname, ip, _port(port_s, kind)
    return _replace(
        base,
        instance_type="replica" if itype == "slave" else itype,
        instance=iname,
        ip=ip,
        port=_port(port_s, kind),
        master_name=mname,
        master_ip=mip,
        master_port=mport,
        extra=" ".join(rest),
    )


def _replace(ev: SentinelEvent, **changes: Any) -> SentinelEvent:
    return replace(ev, **changes)


def _message(msg: Any) -> tuple[str, str] | None:
    """``(channel, data)`` from a tuple, a redis-py message dict or an object with
    ``channel``/``data`` attributes; None for control messages."""
    if isinstance(msg, Mapping):
        if msg.get("type") not in ("message", "pmessage"):
            return None
        return text(msg.get("channel")), text(msg.get("data"))
    if isinstance(msg, tuple | list) and len(msg) == 2:
        return text(msg[0]), text(msg[1])
    channel, data = getattr(msg, "channel", None), getattr(msg, "data", None)
    if channel is not None and data is not None:  # e.g. the transport's PubSubMessage
        return text(channel), text(data)
    return None


# -- the event source ------------------------------------------------------------------------


async def sentinel_events(
    source: PubSubSource,
    *,
    sentinel: str = "",
    channels: Sequence[str] = SENTINEL_CHANNELS,
    clock: Clock = time.time,
) -> AsyncIterator[SentinelEvent]:
    """Yield Sentinel events as they arrive. A malformed message becomes an event of kind
    ``"unparsed"`` carrying the raw text; it never ends the stream."""
    async for msg in source.subscribe(list(channels)):
        pair = _message(msg)
        if pair is None:
            continue
        channel, data = pair
        try:
            yield parse_sentinel_event(channel, data, sentinel=sentinel, received_at=clock())
        except ParseError as exc:
            yield SentinelEvent(
                kind="unparsed",
                sentinel=sentinel,
                received_at=clock(),
                raw=f"{channel} {data}",
                extra=str(exc),
            )
