"""The JSON Schema (draft 2020-12) of ``jaraba-ops verify --json``, version 1.

Stable: fields are only ever added; a removal or a change of meaning bumps
``verify_version`` (:data:`~jaraba_tui.verify.model.VERIFY_JSON_VERSION`).
"""

from __future__ import annotations

from typing import Any

from jaraba_tui.verify.model import VERIFY_JSON_VERSION

_STR = {"type": "string"}
_COUNT = {"type": "integer", "minimum": 0}

ITEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": [
        "id",
        "phase",
        "title",
        "seed",
        "critical",
        "status",
        "summary",
        "evidence",
        "elapsed_ms",
    ],
    "properties": {
        "id": {"type": "string", "pattern": "^[a-z0-9-]+$"},
        "phase": {"enum": ["pre", "post"]},
        "title": _STR,
        "seed": _STR,
        "critical": {"type": "boolean"},
        "status": {"enum": ["passed", "failed", "skipped"]},
        "summary": _STR,
        "evidence": {"type": "array", "items": _STR},
        "elapsed_ms": {"type": "number", "minimum": 0},
    },
}

VERIFY_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "jaraba-ops verify --json",
    "type": "object",
    "required": [
        "verify_version",
        "profile",
        "environment",
        "which",
        "started_at",
        "finished_at",
        "elapsed_ms",
        "summary",
        "ok",
        "exit_code",
        "items",
    ],
    "properties": {
        "verify_version": {"const": VERIFY_JSON_VERSION},
        "profile": _STR,
        "environment": _STR,
        "which": {"enum": ["pre", "post", "all"]},
        "started_at": {"type": "number"},
        "finished_at": {"type": "number"},
        "elapsed_ms": {"type": "number", "minimum": 0},
        "summary": {
            "type": "object",
            "required": ["passed", "failed", "skipped", "text"],
            "properties": {
                "passed": _COUNT,
                "failed": _COUNT,
                "skipped": _COUNT,
                "text": _STR,
            },
        },
        "ok": {"type": "boolean"},
        "exit_code": {"enum": [0, 1]},
        "items": {"type": "array", "items": ITEM_SCHEMA},
    },
}
