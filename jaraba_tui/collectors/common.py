"""What every collector shares: errors, clocks, JSON conversion, guarded endpoint calls.

A collector never raises for a failed endpoint: it records an :class:`EndpointError` in its
snapshot and carries on with the other endpoints. Parsers raise :class:`ParseError` (or a
subclass) for input they cannot make sense of, and nothing else.
"""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import functools
import math
import re
import time
import types
import typing
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

from jaraba_tui.transport.base import CommandResult, ProbeShell, Shell, TransportError

Clock = Callable[[], float]
"""Wall-clock seconds since the epoch (``time.time``); tests pass a fixed one."""

T = TypeVar("T")

#: Transport error kinds after which a further call to the same endpoint is pointless.
FATAL_KINDS = frozenset({"timeout", "refused", "unreachable", "auth", "hostkey"})


class ParseError(ValueError):
    """Input a parser cannot make sense of. ``str(exc)`` says what and where."""


class Serialisable:
    """Mixin for frozen dataclasses: ``to_dict()`` gives plain JSON-ready data."""

    def to_dict(self) -> dict[str, Any]:
        data = to_jsonable(self)
        assert isinstance(data, dict)
        return data


@dataclasses.dataclass(frozen=True)
class EndpointError(Serialisable):
    """Why one endpoint (or one step against it) gave no data.

    ``kind`` is the transport's word ("timeout", "refused", "unreachable", "auth",
    "hostkey", "protocol", "other") or "parse" for output we could not read, or
    "internal" for a bug on our side. ``message`` is one secret-free sentence.
    """

    endpoint: str
    kind: str
    message: str
    step: str = ""

    def sentence(self) -> str:
        where = f"{self.step} " if self.step else ""
        return f"{where}{self.endpoint}: {self.message}".strip()


def error_from(exc: BaseException, endpoint: str, step: str = "") -> EndpointError:
    """Turn an exception raised while talking to ``endpoint`` into an :class:`EndpointError`."""
    if isinstance(exc, TransportError):
        return EndpointError(endpoint or exc.endpoint, exc.kind, str(exc) or exc.kind, step)
    if isinstance(exc, ParseError):
        return EndpointError(endpoint, "parse", _short(str(exc)), step)
    if isinstance(exc, TimeoutError):
        return EndpointError(endpoint, "timeout", "no answer before the deadline", step)
    return EndpointError(endpoint, "internal", _short(f"{type(exc).__name__}: {exc}"), step)


def _short(text: str, limit: int = 240) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


async def guarded(
    endpoint: str, step: str, make: Callable[[], Awaitable[T]], timeout: float | None = None
) -> tuple[T | None, EndpointError | None]:
    """Await ``make()``; on any failure return ``(None, EndpointError)`` instead of raising.

    ``timeout`` is a belt on top of the transport's own braces: a misbehaving transport
    still cannot hold a poll longer than this.
    """
    try:
        if timeout is None:
            return await make(), None
        async with asyncio.timeout(timeout):
            return await make(), None
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        return None, error_from(exc, endpoint, step)


def parsed(fn: Callable[[], T], endpoint: str, step: str) -> tuple[T | None, EndpointError | None]:
    """Run a pure parser; its failure becomes an :class:`EndpointError`, never an exception."""
    try:
        return fn(), None
    except Exception as exc:
        return None, error_from(exc, endpoint, step)


def is_fatal(err: EndpointError | None) -> bool:
    return err is not None and err.kind in FATAL_KINDS


class Stopwatch:
    """Elapsed milliseconds of one endpoint's work (for the benchmark and the UI)."""

    def __init__(self) -> None:
        self._t0 = time.perf_counter()

    def ms(self) -> float:
        return round((time.perf_counter() - self._t0) * 1000.0, 3)


# -- value coercion: servers send strings, bytes, numbers; parsers want typed values -------


def text(value: Any) -> str:
    if value.__class__ is str:  # the common case first: called per cell of every poll
        return value
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", errors="replace")
    if value is None:
        return ""
    return str(value)


def is_uint(s: str) -> bool:
    """ASCII digits only: ``str.isdigit`` also accepts '²' and '٣', which ``int`` rejects."""
    return s.isascii() and s.isdigit()


def opt_int(value: Any) -> int | None:
    """An int from a server value, or None when empty/absent/unparseable."""
    if value.__class__ is str and value.isascii() and value.isdigit():
        return int(value)  # the common case first (a plain unsigned number)
    if value is None or isinstance(value, bool):
        return None if value is None else int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if math.isfinite(value) else None
    s = text(value).strip()
    if not s:
        return None
    try:
        return int(s)
    except ValueError:
        try:
            f = float(s)
        except ValueError:
            return None
        return int(f) if math.isfinite(f) else None


def opt_float(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        f = float(value)
    else:
        try:
            f = float(text(value).strip())
        except ValueError:
            return None
    return f if math.isfinite(f) else None


_TRUE = {"on", "yes", "true", "1", "enabled"}
_FALSE = {"off", "no", "false", "0", "disabled"}


def opt_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    s = text(value).strip().lower()
    if s in _TRUE:
        return True
    if s in _FALSE:
        return False
    return None


_TS = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})?$"
)


def parse_timestamp(value: Any) -> float | None:
    """RFC 3339 (Prometheus' nanoseconds included) to epoch seconds; None if unreadable."""
    s = text(value).strip()
    m = _TS.match(s)
    if not m:
        return None
    y, mo, d, h, mi, sec, frac, tz = m.groups()
    tz = tz or "Z"
    if tz == "Z":
        tz = "+00:00"
    elif ":" not in tz:
        tz = tz[:3] + ":" + tz[3:]
    frac6 = (frac or "0")[:6].ljust(6, "0")
    try:
        dt = datetime.fromisoformat(f"{y}-{mo}-{d}T{h}:{mi}:{sec}.{frac6}{tz}")
    except ValueError:
        return None
    if dt.year <= 1:  # Go's zero time "0001-01-01T00:00:00Z" means "never"
        return None
    return dt.timestamp()


# -- JSON conversion -------------------------------------------------------------------------


def to_jsonable(obj: Any) -> Any:
    """Dataclasses, enums, tuples and mappings to plain dicts/lists/strings/numbers."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, Mapping):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | frozenset | set):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if obj is None or isinstance(obj, str | int | float | bool):
        return obj
    return str(obj)


def from_jsonable(cls: type[T], data: Any) -> T:
    """Rebuild a (nested) frozen dataclass from :func:`to_jsonable` output (replay, tests)."""
    result: T = rebuild(cls, data)
    return result


def rebuild_list(data: Any) -> list[Any]:
    if not isinstance(data, list):
        raise TypeError(f"expected a list, got {type(data).__name__}")
    return data


@functools.cache
def cached_type_hints(tp: type) -> dict[str, Any]:
    return typing.get_type_hints(tp)


@functools.cache
def _fields(tp: type) -> tuple[tuple[str, Any], ...]:
    hints = cached_type_hints(tp)
    return tuple((f.name, hints[f.name]) for f in dataclasses.fields(tp) if f.init)


def rebuild(tp: Any, data: Any) -> Any:
    """Rebuild ``tp`` from :func:`jaraba_tui.collectors.common.to_jsonable` output.

    Raises TypeError/ValueError/KeyError for data that does not fit the type."""
    if tp is Any:
        return data
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if data is None and type(None) in args:
            return None
        last: Exception | None = None
        for arg in args:
            if arg is type(None):
                continue
            try:
                return rebuild(arg, data)
            except (TypeError, ValueError, KeyError) as exc:
                last = exc
        raise TypeError(f"no member of {tp} accepts {data!r:.80}") from last
    if origin is tuple:
        args = typing.get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(rebuild(args[0], v) for v in rebuild_list(data))
        return tuple(rebuild(a, v) for a, v in zip(args, rebuild_list(data), strict=True))
    if origin in (dict, Mapping, typing.Mapping):
        kt, vt = typing.get_args(tp) or (str, Any)
        if not isinstance(data, Mapping):
            raise TypeError(f"expected an object, got {data!r:.80}")
        return {rebuild(kt, k): rebuild(vt, v) for k, v in data.items()}
    if origin is list:
        (it,) = typing.get_args(tp)
        return [rebuild(it, v) for v in rebuild_list(data)]
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        if not isinstance(data, Mapping):
            raise TypeError(f"{tp.__name__} needs an object, got {data!r:.80}")
        kwargs = {name: rebuild(hint, data[name]) for name, hint in _fields(tp) if name in data}
        return tp(**kwargs)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return tp(data)
    if tp is float:
        if isinstance(data, bool) or not isinstance(data, int | float):
            raise TypeError(f"expected a number, got {data!r:.80}")
        return float(data)
    if tp is int:
        if isinstance(data, bool) or not isinstance(data, int):
            raise TypeError(f"expected an integer, got {data!r:.80}")
        return data
    if tp in (str, bool):
        if not isinstance(data, tp):
            raise TypeError(f"expected {tp.__name__}, got {data!r:.80}")
        return data
    if tp is type(None):
        if data is not None:
            raise TypeError(f"expected null, got {data!r:.80}")
        return None
    raise TypeError(f"cannot rebuild {tp!r}")


async def run_probe(
    shell: Shell, argv: Sequence[str], timeout: float | None = None
) -> CommandResult:
    """Run a read-only host probe: through the shell's cheaper probe path when it has one
    (SSH: a reused shell on the host, no new session per probe), else :meth:`Shell.run`."""
    if isinstance(shell, ProbeShell):
        return await shell.probe(argv, timeout=timeout)
    return await shell.run(argv, timeout=timeout)


def split_probe(output: str) -> dict[str, tuple[str, int]]:
    """A host probe's output -> {section: (text, exit status)}.

    Probes print ``@@name`` before a section and ``@@rc N`` after it (N = exit status)."""
    sections: dict[str, tuple[str, int]] = {}
    name: str | None = None
    lines: list[str] = []

    def close(rc: int) -> None:
        if name is not None:
            sections[name] = ("\n".join(lines), rc)

    for line in output.splitlines():
        if line.startswith("@@rc "):
            close(int(line[5:]) if is_uint(line[5:]) else -1)
            name, lines = None, []
        elif line.startswith("@@") and line[2:].isidentifier():
            close(0)
            name, lines = line[2:], []
        elif name is not None:
            lines.append(line)
    close(0)
    return sections
