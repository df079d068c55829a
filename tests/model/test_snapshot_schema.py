"""The JSON form: round trip, versioning, SCHEMA.md in step with the dataclasses, and the
generated JSON Schema accepting real documents."""

from __future__ import annotations

import dataclasses
import json
import re
import typing
from pathlib import Path
from typing import Any

import pytest

from jaraba_tui.model.events import diff
from jaraba_tui.model.health import evaluate
from jaraba_tui.model.schema import (
    documented_types,
    event_schema,
    finding_schema,
    json_type,
    snapshot_schema,
)
from jaraba_tui.model.snapshot import SCHEMA_VERSION, SchemaVersionError, StackSnapshot
from tests.model.snapshots import galera_snap, healthy_stack, redis_snap

SCHEMA_MD = Path(__file__).resolve().parents[2] / "jaraba_tui" / "model" / "SCHEMA.md"


def documented() -> dict[str, dict[str, str]]:
    """SCHEMA.md's tables: type name -> {field: type as written}."""
    tables: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for line in SCHEMA_MD.read_text().splitlines():
        m = re.match(r"^### (\w+)\s*$", line)
        if m:
            current = tables.setdefault(m.group(1), {})
            continue
        m = re.match(r"^\| `(\w+)` \| ([^|]+) \|", line)
        if m and current is not None:
            current[m.group(1)] = m.group(2).strip()
    return tables


def test_schema_md_documents_every_field_with_its_type() -> None:
    doc = documented()
    problems = []
    for cls in documented_types():
        fields = doc.get(cls.__name__)
        if fields is None:
            problems.append(f"{cls.__name__}: no '### {cls.__name__}' table")
            continue
        hints = typing.get_type_hints(cls)
        want = {f.name: json_type(hints[f.name]) for f in dataclasses.fields(cls)}
        for name, t in want.items():
            if fields.get(name) != t:
                problems.append(f"{cls.__name__}.{name}: documented {fields.get(name)!r}, is {t!r}")
        for name in set(fields) - set(want):
            problems.append(f"{cls.__name__}.{name}: documented but does not exist")
    assert not problems, "SCHEMA.md out of date:\n" + "\n".join(problems)


async def test_round_trip_through_json() -> None:
    s = await healthy_stack()
    data = json.loads(json.dumps(s.to_dict()))
    assert next(iter(data)) == "schema_version" and data["schema_version"] == SCHEMA_VERSION
    assert StackSnapshot.from_dict(data) == s
    degraded = StackSnapshot(collected_at=5.0, galera=await galera_snap("galera_stopped"))
    assert StackSnapshot.from_dict(json.loads(json.dumps(degraded.to_dict()))) == degraded


def test_unknown_schema_version_is_refused() -> None:
    data = StackSnapshot(collected_at=1.0).to_dict()
    data["schema_version"] = SCHEMA_VERSION + 1
    with pytest.raises(SchemaVersionError):
        StackSnapshot.from_dict(data)


def _validate(instance: Any, schema: dict[str, Any]) -> None:
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema not installed")
    jsonschema.validate(instance, schema)


async def test_generated_json_schema_accepts_real_documents() -> None:
    prev = await healthy_stack()
    cur = StackSnapshot(
        collected_at=1010.0,
        galera=await galera_snap("galera_stopped"),
        redis=await redis_snap("old_master_back"),
    )
    findings = [f.to_dict() for f in evaluate(cur)]
    events = [e.to_dict() for e in diff(prev, cur)]
    assert findings[0]["severity"] == "CRIT" and events
    doc = json.loads(json.dumps({"f": findings, "e": events, "s": cur.to_dict()}))
    _validate(doc["s"], snapshot_schema())
    _validate(prev.to_dict(), snapshot_schema())
    for f in doc["f"]:
        _validate(f, finding_schema())
    for e in doc["e"]:
        _validate(e, event_schema())


def test_json_schema_rejects_a_wrong_document() -> None:
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema not installed")
    bad = StackSnapshot(collected_at=1.0).to_dict()
    bad["hosts"] = "not a list"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, snapshot_schema())


def test_json_schema_is_serialisable_and_names_every_type() -> None:
    defs: set[str] = set()
    for schema in (snapshot_schema(), finding_schema(), event_schema()):
        json.dumps(schema)
        defs |= set(schema["$defs"])
    assert {c.__name__ for c in documented_types()} <= defs
