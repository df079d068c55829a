"""The ``status --json`` document: the snapshot, its findings, the overall severity."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from jaraba_tui.model.events import Event
from jaraba_tui.model.findings import Finding, sort_findings, worst
from jaraba_tui.model.snapshot import SCHEMA_VERSION, StackSnapshot


def status_document(
    snap: StackSnapshot, findings: Sequence[Finding], events: Sequence[Event] = ()
) -> dict[str, Any]:
    """``{"schema_version", "overall", "exit_code", "findings", "events", "snapshot"}``
    (see SCHEMA.md). Findings worst first."""
    ordered = sort_findings(findings)
    sev = worst(ordered)
    return {
        "schema_version": SCHEMA_VERSION,
        "overall": sev.value,
        "exit_code": sev.exit_code,
        "findings": [f.to_dict() for f in ordered],
        "events": [e.to_dict() for e in events],
        "snapshot": snap.to_dict(),
    }
