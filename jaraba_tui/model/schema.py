"""JSON Schema (draft 2020-12) of the snapshot, findings and events, derived from the
dataclasses themselves so it cannot drift from what ``to_dict()`` writes."""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Mapping
from typing import Any

from jaraba_tui.model.events import Event
from jaraba_tui.model.findings import Finding
from jaraba_tui.model.snapshot import SCHEMA_VERSION, StackSnapshot


def _schema(tp: Any, defs: dict[str, Any]) -> dict[str, Any]:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        return {"anyOf": [_schema(a, defs) for a in typing.get_args(tp)]}
    if tp is type(None):
        return {"type": "null"}
    if origin is tuple or origin is list:
        return {"type": "array", "items": _schema(typing.get_args(tp)[0], defs)}
    if origin in (dict, Mapping):
        return {"type": "object", "additionalProperties": _schema(typing.get_args(tp)[1], defs)}
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return {"type": "string", "enum": [m.value for m in tp]}
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        name = tp.__name__
        if name not in defs:
            defs[name] = {}  # placeholder against recursion
            hints = typing.get_type_hints(tp)
            props = {f.name: _schema(hints[f.name], defs) for f in dataclasses.fields(tp)}
            defs[name] = {
                "type": "object",
                "description": (tp.__doc__ or "").strip().split("\n\n")[0],
                "properties": props,
                "required": sorted(props),
            }
        return {"$ref": f"#/$defs/{name}"}
    simple = {str: "string", int: "integer", float: "number", bool: "boolean"}
    if tp in simple:
        return {"type": simple[tp]}
    if tp is Any:
        return {}
    raise TypeError(f"no JSON schema for {tp!r}")


def schema_of(root: type) -> dict[str, Any]:
    """JSON Schema of one dataclass as ``to_dict()`` writes it, with ``$defs`` for the rest."""
    defs: dict[str, Any] = {}
    ref = _schema(root, defs)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"jaraba-ops {root.__name__} (schema_version {SCHEMA_VERSION})",
        **ref,
        "$defs": defs,
    }


def snapshot_schema() -> dict[str, Any]:
    """The ``snapshot`` of ``status --json`` and of recordings."""
    return schema_of(StackSnapshot)


def finding_schema() -> dict[str, Any]:
    return schema_of(Finding)


def event_schema() -> dict[str, Any]:
    return schema_of(Event)


def json_type(tp: Any) -> str:
    """A short human spelling of a field's JSON type, as SCHEMA.md writes it."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        inner = " or ".join(json_type(a) for a in args)
        return f"{inner} or null" if len(args) < len(typing.get_args(tp)) else inner
    if origin is tuple or origin is list:
        return f"array of {json_type(typing.get_args(tp)[0])}"
    if origin in (dict, Mapping):
        return f"object of {json_type(typing.get_args(tp)[1])}"
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return "string"
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return tp.__name__
    return {str: "string", int: "integer", float: "number", bool: "boolean"}.get(tp, "any")


def documented_types() -> list[type]:
    """Every dataclass reachable from StackSnapshot, Finding and Event, first-seen order."""
    seen: list[type] = []

    def walk(tp: Any) -> None:
        for a in typing.get_args(tp):
            walk(a)
        if isinstance(tp, type) and dataclasses.is_dataclass(tp) and tp not in seen:
            seen.append(tp)
            hints = typing.get_type_hints(tp)
            for f in dataclasses.fields(tp):
                walk(hints[f.name])

    for root in (StackSnapshot, Finding, Event):
        walk(root)
    return seen
