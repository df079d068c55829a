"""Recordings for the tests: written by the real Recorder from the lab's recorded snapshots
(tests/fixtures/recorded), plus audit records shaped as the audit log writes them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jaraba_tui.engine import EngineUpdate
from jaraba_tui.record.writer import Recorder
from tests.ui.helpers import degraded_updates

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "recordings"
SMALL = FIXTURES / "small-incident.jsonl.gz"


def updates() -> list[EngineUpdate]:
    """The lab's degraded recording (a node down, a server down...), then a stale layer."""
    return degraded_updates()


def audit_record(
    event: str, at: float, *, user: str = "alice", status: str = "verified", **extra: Any
) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "format": 1,
        "event": event,
        "run_id": "0123456789abcdef",
        "time": "x",
        "ts": at,
        "who": {"user": user, "sudo_user": None, "ssh_client": "10.0.0.7", "host": "b", "pid": 1},
        "profile": "local",
        "environment": "lab",
        "action": "haproxy.drain",
        "target": "bk_app_blue/app2",
        **extra,
    }
    if event == "finished":
        rec["status"] = status
        rec["outcome"] = {"message": "drained", "verification": {"seen": "app2 is DRAIN"}}
    return rec


def write_recording(
    path: Path,
    ups: list[EngineUpdate] | None = None,
    *,
    close: bool = True,
    min_interval: float = 0.0,
    audit: bool = True,
) -> Recorder:
    ups = updates() if ups is None else ups
    rec = Recorder(
        path,
        profile="local",
        environment="lab",
        description="Local lab on 127.0.0.1 (seed Quick Start ports)",
        min_interval=min_interval,
        clock=lambda: ups[0].at - 1.0,
    )
    mid = len(ups) // 2
    for i, u in enumerate(ups):
        rec.update(u)
        if audit and i == mid:
            rec.audit([audit_record("started", u.at), audit_record("finished", u.at + 0.5)])
    if close:
        rec.close()
    else:
        rec.flush()
    return rec
