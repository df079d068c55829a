"""The recording's line format (one JSON object per line, the whole file gzipped).

::

    {"type": "header", "format": "jaraba-ops-recording", "version": 1, "tool_version": ...,
     "profile": ..., "environment": ..., "description": ..., "started_at": ts,
     "schema_version": 1, "layers": [...]}
    {"type": "update", "t": ts, "layer": "galera", "data": {...}, "states": {...},
     "findings": [...], "failures": [...], "events": [...]}
    {"type": "audit", "t": ts, "record": {...}}        # an audit-log record (already scrubbed)
    {"type": "end", "t": ts}                           # a clean stop (absent after a crash)

An ``update`` carries the polled layer's data only when the poll was good (a stale layer
keeps its last data, as on screen); ``states``, ``findings`` and ``failures`` only when they
changed since the previous update (the reader carries them forward). ``events`` are the
timeline events of that update. Only model data is written: never a profile, never a
secret (every line goes through :func:`jaraba_tui.secrets.scrub`).

Decoding rebuilds the model's frozen dataclasses; type hints are looked up once per class
(the generic rebuild in ``collectors.common`` looks them up on every object, far too slow
for a recording of thousands of updates).
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import types
import typing
from collections.abc import Mapping
from typing import Any, TypeVar

from jaraba_tui.engine import LayerState
from jaraba_tui.model.events import Event
from jaraba_tui.model.findings import Finding
from jaraba_tui.model.snapshot import LAYERS, LayerFailure, StackSnapshot

FORMAT = "jaraba-ops-recording"
VERSION = 1
#: The suffix ``--record`` suggests; any name works.
SUFFIX = ".jsonl.gz"

T = TypeVar("T")


class RecordingError(Exception):
    """A recording that cannot be written or read; ``str()`` is one clear sentence."""


def state_to_json(state: LayerState) -> dict[str, Any]:
    return {"last_ok_at": state.last_ok_at, "error": state.error, "stale_since": state.stale_since}


def state_from_json(data: Any) -> LayerState:
    if not isinstance(data, Mapping):
        raise TypeError(f"a layer state must be an object, got {data!r}")
    return LayerState(
        last_ok_at=_opt_float(data.get("last_ok_at")),
        error=None if data.get("error") is None else str(data["error"]),
        stale_since=_opt_float(data.get("stale_since")),
    )


def _opt_float(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"expected a number, got {value!r}")
    return float(value)


_LAYER_TYPES: dict[str, Any] = {}


def layer_type(layer: str) -> Any:
    """The type hint of ``StackSnapshot.<layer>`` (e.g. ``GaleraSnapshot | None``)."""
    if not _LAYER_TYPES:
        _LAYER_TYPES.update(_hints(StackSnapshot))
    if layer not in LAYERS:
        raise ValueError(f"unknown layer {layer!r}")
    return _LAYER_TYPES[layer]


def layer_from_json(layer: str, data: Any) -> Any:
    if layer == "hosts" and data is None:
        return ()
    return build(layer_type(layer), data)


def events_from_json(data: Any) -> tuple[Event, ...]:
    return tuple(build(Event, e) for e in _list(data))


def findings_from_json(data: Any) -> tuple[Finding, ...]:
    return tuple(build(Finding, f) for f in _list(data))


def failures_from_json(data: Any) -> tuple[LayerFailure, ...]:
    return tuple(build(LayerFailure, f) for f in _list(data))


def _list(data: Any) -> list[Any]:
    if not isinstance(data, list):
        raise TypeError(f"expected a list, got {type(data).__name__}")
    return data


@functools.cache
def _hints(tp: type) -> dict[str, Any]:
    return typing.get_type_hints(tp)


@functools.cache
def _fields(tp: type) -> tuple[tuple[str, Any], ...]:
    hints = _hints(tp)
    return tuple((f.name, hints[f.name]) for f in dataclasses.fields(tp) if f.init)


def build(tp: Any, data: Any) -> Any:
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
                return build(arg, data)
            except (TypeError, ValueError, KeyError) as exc:
                last = exc
        raise TypeError(f"no member of {tp} accepts {data!r:.80}") from last
    if origin is tuple:
        args = typing.get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(build(args[0], v) for v in _list(data))
        return tuple(build(a, v) for a, v in zip(args, _list(data), strict=True))
    if origin in (dict, Mapping, typing.Mapping):
        kt, vt = typing.get_args(tp) or (str, Any)
        if not isinstance(data, Mapping):
            raise TypeError(f"expected an object, got {data!r:.80}")
        return {build(kt, k): build(vt, v) for k, v in data.items()}
    if origin is list:
        (it,) = typing.get_args(tp)
        return [build(it, v) for v in _list(data)]
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        if not isinstance(data, Mapping):
            raise TypeError(f"{tp.__name__} needs an object, got {data!r:.80}")
        kwargs = {name: build(hint, data[name]) for name, hint in _fields(tp) if name in data}
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


def build_as(tp: type[T], data: Any) -> T:
    result: T = build(tp, data)
    return result
