"""Read the real captured outputs in tests/fixtures/captured/ (see its README)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

CAPTURED = Path(__file__).resolve().parents[1] / "fixtures" / "captured"


def path(scenario: str, name: str) -> Path:
    p = CAPTURED / scenario / name
    if not p.exists():
        raise FileNotFoundError(f"captured fixture missing: {p} (see capture_lab.py)")
    return p


def text(scenario: str, name: str) -> str:
    return path(scenario, name).read_text()


def load(scenario: str, name: str) -> Any:
    return json.loads(text(scenario, name))


def exists(scenario: str, name: str) -> bool:
    return (CAPTURED / scenario / name).exists()
