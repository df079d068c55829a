"""The audit log as the timeline's action feed, and the lock in the header: what another
engineer on the same bastion writes to the shared audit file shows up in this console."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from jaraba_tui.actions.audit import AuditLog, Who
from jaraba_tui.actions.lock import ActionLock, LockHolder
from jaraba_tui.model.findings import Severity
from jaraba_tui.ui.audit_feed import AuditTail, entry_for, lock_badge, timeline_entries
from jaraba_tui.ui.widgets.chrome import StatusHeader
from tests.ui.action_fakes import local_profile, make_ops
from tests.ui.helpers import healthy_updates, make_app, until

BOB = Who(user="bob", sudo_user=None, ssh_client="10.0.0.9", host="bastion", pid=1)
PANES = {"haproxy.drain": "haproxy", "bluegreen.switch": "haproxy"}


def line(**record: Any) -> str:
    return json.dumps(record) + "\n"


def test_the_tail_reads_only_what_was_appended(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    tail = AuditTail(path)
    assert tail.read_new() == []  # no file yet
    path.write_text(line(n=1) + line(n=2))
    assert [r["n"] for r in tail.read_new()] == [1, 2]
    assert tail.read_new() == []
    with open(path, "a") as f:
        f.write(line(n=3) + '{"n": 4')  # the last line is still being written
    assert [r["n"] for r in tail.read_new()] == [3]
    with open(path, "a") as f:
        f.write("}\nnot json\n" + line(n=5))
    assert [r["n"] for r in tail.read_new()] == [4, 5]


def test_the_first_look_reads_the_recent_end_and_a_rotated_file_from_its_start(
    tmp_path: Path,
) -> None:
    path = tmp_path / "audit.log"
    path.write_text("".join(line(n=n, pad="x" * 50) for n in range(100)))
    tail = AuditTail(path, backlog=300)
    first = [r["n"] for r in tail.read_new()]
    assert first and first[-1] == 99 and len(first) < 10  # whole lines from the end only
    os.replace(tmp_path / "audit.log", tmp_path / "audit.log.1")
    path.write_text(line(n=100))  # rotated: a new file
    assert [r["n"] for r in tail.read_new()] == [100]
    path.write_text(line(n=1))  # truncated and rewritten (shorter than the offset)
    assert [r["n"] for r in tail.read_new()] == [1]


def test_started_and_finished_records_become_timeline_entries() -> None:
    now = 1_767_225_600.0
    who = {"user": "root", "sudo_user": "alice"}
    records = [
        {
            "event": "started",
            "ts": now,
            "who": who,
            "profile": "local",
            "action": "haproxy.drain",
            "target": "bk/app3",
            "dangerous": False,
            "confirmation": "typed",
        },
        {"event": "step", "ts": now + 1, "who": who, "profile": "local"},
        {
            "event": "finished",
            "ts": now + 2,
            "who": who,
            "profile": "local",
            "action": "haproxy.drain",
            "target": "bk/app3",
            "status": "failed",
            "outcome": {"message": "step 1 of 2 FAILED", "verification": None},
        },
        {"event": "started", "ts": now, "who": who, "profile": "prod", "action": "x.y"},
        {"event": "started", "ts": now - 90_000, "who": who, "profile": "local", "action": "x.y"},
    ]
    entries = timeline_entries(records, "local", now=now + 10, pane_of=PANES)
    why = "step 1 of 2 FAILED"
    assert [(e.severity, e.component, e.source, e.message) for e in entries] == [
        (Severity.OK, "haproxy", "action", "alice started haproxy.drain bk/app3 (typed)"),
        (Severity.CRIT, "haproxy", "action", f"alice: haproxy.drain bk/app3 FAILED: {why}"),
    ]
    # who acted rides on the entry too: the incident report's "who" column
    assert [e.who for e in entries] == ["alice", "alice"]
    switch = entry_for(
        {
            "event": "started",
            "ts": now,
            "who": who,
            "action": "bluegreen.switch",
            "target": "green",
            "dangerous": True,
            "forced": True,
            "confirmation": "typed + override",
        },
        PANES,
    )
    assert switch is not None and switch.severity is Severity.WARN
    assert "(checks OVERRIDDEN)" in switch.message


def test_the_lock_badge_says_who_what_and_since_when() -> None:
    since = time.mktime((2026, 1, 1, 3, 12, 0, 0, 0, -1))
    alice = LockHolder("alice", None, "b2", 1, None, "bluegreen.switch", "green", "local", since)
    assert lock_badge(alice, True, False) == "alice: blue/green switch green, since 03:12"
    assert lock_badge(alice, True, True).endswith("(STALE: its process is gone)")  # type: ignore[union-attr]
    assert lock_badge(None, False, None) is None
    assert lock_badge(None, True, True) == "action lock unreadable (damaged?)"


async def test_another_engineers_action_shows_in_the_timeline_and_the_header(
    tmp_path: Path,
) -> None:
    updates = healthy_updates()
    ops, _ = make_ops(tmp_path, updates[-1].snapshot)
    shared = AuditLog(ops.audit_path)
    profile = local_profile()
    shared.record(
        "started",
        "run1",
        who=BOB,
        profile=profile,
        action="haproxy.drain",
        target="bk_app_green/app1",
        confirmation="typed",
    )
    app = make_app(updates, tmp_path, ops=ops)
    async with app.run_test(size=(160, 40)) as pilot:
        assert await until(pilot, lambda: any(e.source == "action" for e in app.timeline))
        # bob, on the same bastion, takes the lock and finishes his action
        seen = {"seen": "DRAIN"}
        bob_lock = LockHolder(
            "bob",
            "10.0.0.9",
            "bastion",
            os.getpid(),
            None,
            "haproxy.drain",
            "bk_app_green/app1",
            "local",
            time.time(),
        )
        ActionLock(ops.ctx.lock.path).acquire(bob_lock)
        shared.record(
            "finished",
            "run1",
            who=BOB,
            profile=profile,
            action="haproxy.drain",
            target="bk_app_green/app1",
            status="verified",
            outcome={"message": "verified: DRAIN", "verification": seen},
        )
        app.poll_audit()
        assert await until(pilot, lambda: app.desk.lock_badge is not None)
        header = str(app.query_one(StatusHeader).render())
        assert "LOCK bob: drain bk_app_green/app1, since" in header
        messages = [e.message for e in app.timeline if e.source == "action"]
        assert messages == [
            "bob started haproxy.drain bk_app_green/app1 (typed)",
            "bob: haproxy.drain bk_app_green/app1 VERIFIED: DRAIN",
        ]
        ops.ctx.lock.path.unlink()  # bob is done
        app.poll_audit()
        assert await until(pilot, lambda: app.desk.lock_badge is None)
        assert "LOCK" not in str(app.query_one(StatusHeader).render())
        await pilot.press("8")
        status = str(app.query_one("#timeline-status").render())
        assert "audited actions" in status
