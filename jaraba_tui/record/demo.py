"""The demo recording shipped in the package (``jaraba-ops demo``): a real incident
recorded in the lab by ``lab/record_demo.py`` (see the README to re-record it)."""

from __future__ import annotations

from pathlib import Path

DEMO_FILE = Path(__file__).resolve().parent / "data" / "demo-incident.jsonl.gz"


def demo_recording() -> Path | None:
    return DEMO_FILE if DEMO_FILE.is_file() else None
