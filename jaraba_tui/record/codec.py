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

from collections.abc import Mapping
from typing import Any, TypeVar

from jaraba_tui.collectors.common import cached_type_hints
from jaraba_tui.collectors.common import rebuild as build
from jaraba_tui.collectors.common import rebuild_list as _list
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
        _LAYER_TYPES.update(cached_type_hints(StackSnapshot))
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


def build_as(tp: type[T], data: Any) -> T:
    result: T = build(tp, data)
    return result
