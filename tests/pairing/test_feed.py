"""The pairing feed's rules on given records and lock states: a run's steps as they come,
the lock badge's phase (confirming, step k/n, verifying), the lock's changes as timeline
entries (taken, released, STALE), and nothing from a shared file reaching the screen as a
terminal escape or as a name the OS contradicts."""

from __future__ import annotations

import time
from typing import Any

from jaraba_tui.actions.lock import LockHolder
from jaraba_tui.model.findings import Severity
from jaraba_tui.ui.audit_feed import PairingFeed, clean, lock_badge
from jaraba_tui.ui.ops import LockState

PANES = {"haproxy.drain": "haproxy", "bluegreen.switch": "haproxy"}
T0 = time.mktime((2026, 1, 1, 3, 12, 0, 0, 0, -1))
TARGET = "bk_app_green/app3"


def record(event: str, ts: float, **fields: Any) -> dict[str, Any]:
    return {
        "event": event,
        "run_id": "r1",
        "ts": ts,
        "who": {"user": "root", "sudo_user": "alice"},
        "profile": "local",
        "action": "haproxy.drain",
        "target": TARGET,
        **fields,
    }


def alice(**kw: Any) -> LockHolder:
    base: dict[str, Any] = {
        "user": "alice",
        "ssh_client": None,
        "host": "bastion",
        "pid": 4242,
        "pid_start": None,
        "action": "haproxy.drain",
        "target": TARGET,
        "profile": "local",
        "since": T0,
        "run_id": "r1",
    }
    base.update(kw)
    return LockHolder(**base)


def step(index: int, status: str = "ok", detail: str = "") -> dict[str, Any]:
    return {"index": index, "title": f"step number {index}", "status": status, "detail": detail}


def test_a_run_seen_from_another_console_step_by_step() -> None:
    feed = PairingFeed("local", PANES, "bastion")
    held = LockState(True, alice(), False, "root")
    assert [e.message for e in feed.lock_changes(held, T0)] == [
        f"alice took the action lock: haproxy.drain {TARGET}"
    ]
    assert feed.badge(held) == f"alice: drain {TARGET}, since 03:12 · checks/confirmation"

    plan = {"steps": [{"title": "a"}, {"title": "b"}]}
    entries = feed.records(
        [record("started", T0 + 5, plan=plan, confirmation="typed")], now=T0 + 60
    )
    assert [e.message for e in entries] == [f"alice started haproxy.drain {TARGET} (typed)"]
    assert feed.badge(held) == f"alice: drain {TARGET}, since 03:12 · step 1/2"
    assert feed.lock_changes(held, T0 + 5) == []  # same lock: nothing new

    entries = feed.records([record("step", T0 + 6, step=step(1))], now=T0 + 60)
    assert [(e.severity, e.message) for e in entries] == [
        (Severity.OK, f"alice: haproxy.drain {TARGET} step 1/2 ok: step number 1")
    ]
    assert feed.badge(held) == f"alice: drain {TARGET}, since 03:12 · step 2/2"
    feed.records([record("step", T0 + 7, step=step(2))], now=T0 + 60)
    assert feed.badge(held) == f"alice: drain {TARGET}, since 03:12 · verifying"

    done = record("finished", T0 + 9, status="verified", outcome={"message": "verified: DRAIN"})
    assert [e.message for e in feed.records([done], now=T0 + 60)] == [
        f"alice: haproxy.drain {TARGET} VERIFIED: verified: DRAIN"
    ]
    released = feed.lock_changes(LockState(False, None, None), T0 + 10)
    assert [(e.source, e.message) for e in released] == [
        (
            "lock",
            f"alice released the action lock (haproxy.drain {TARGET}, held 10s) "
            "(its run: verified)",
        )
    ]
    assert feed.badge(LockState(False, None, None)) is None


def test_a_failed_step_is_critical_with_its_detail() -> None:
    feed = PairingFeed("local", PANES)
    feed.records([record("started", T0, plan={"steps": [{}, {}]})], now=T0 + 60)
    (entry,) = feed.records(
        [record("step", T0 + 1, step=step(1, "failed", "No such server."))], now=T0 + 60
    )
    assert entry.severity is Severity.CRIT
    assert entry.message.endswith("step 1/2 failed: step number 1 (No such server.)")


def test_a_lock_whose_process_died_turns_stale_then_is_cleared_without_acting() -> None:
    feed = PairingFeed("local", PANES, "bastion")
    feed.lock_changes(LockState(True, alice(), False, "root"), T0)
    stale = LockState(True, alice(), True, "root")
    (entry,) = feed.lock_changes(stale, T0 + 30)
    assert (
        entry.severity is Severity.CRIT and "STALE (pid 4242 on bastion is gone)" in entry.message
    )
    assert "--clear-stale-lock" in entry.message
    assert feed.lock_changes(stale, T0 + 32) == []  # said once
    badge = feed.badge(stale)
    assert badge == f"alice: drain {TARGET}, since 03:12 (STALE: its process is gone)"
    (cleared,) = feed.lock_changes(LockState(False, None, None), T0 + 60)
    assert cleared.message.endswith("held 60s) without acting (declined, refused or cleared)")


def test_another_stacks_records_are_ignored() -> None:
    feed = PairingFeed("local", PANES)
    assert feed.records([{**record("started", T0), "profile": "prod"}], now=T0 + 60) == []


def test_screen_text_from_shared_files_is_printable_and_bounded() -> None:
    assert clean("a\x1b[2Jb\nc\x07") == "a?[2Jb?c?"
    assert clean("x" * 500, 10) == "x" * 10 + "…"
    feed = PairingFeed("local", PANES)
    evil = record("started", T0, target="bk\x1b]0;pwned\x07/app1")
    evil["who"] = {"user": "r\x1b[31moot"}
    (entry,) = feed.records([evil], now=T0 + 60)
    assert "\x1b" not in entry.message and "\x07" not in entry.message
    holder = alice(user="bob\x1b[1A", target="t\rx")
    badge = lock_badge(holder, True, False)
    assert badge is not None and badge.isprintable()


def test_the_badge_names_the_lock_files_owner_when_it_contradicts_the_lock() -> None:
    # bob (not root) wrote a lock claiming to be alice: the OS's owner is shown
    assert lock_badge(alice(), True, False, owner="bob") == (
        f"alice: drain {TARGET}, since 03:12 (lock file owned by bob)"
    )
    # alice's own file, or root's (sudo: the person is the sudo caller): nothing to add
    assert "owned" not in (lock_badge(alice(), True, False, owner="alice") or "")
    assert "owned" not in (lock_badge(alice(), True, False, owner="root") or "")
    # a lock taken on another host (a shared filesystem) says where
    assert lock_badge(alice(host="b2"), True, None, this_host="bastion") == (
        f"alice: drain {TARGET}, since 03:12 on b2"
    )
