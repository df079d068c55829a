"""Pure unit tests: the action lock (staleness, atomic creation), the audit format, params."""

from __future__ import annotations

import json
import os
import subprocess
import threading
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jaraba_tui.actions import ActionRefused, AuditLog, LockHeld, LockHolder, Who
from jaraba_tui.actions.audit import ssh_client_address
from jaraba_tui.actions.confirm import build_request, render_request
from jaraba_tui.actions.lock import ActionLock, is_stale, lock_path, process_start_time
from jaraba_tui.actions.types import (
    ParamSpec,
    Plan,
    PlanTable,
    Step,
    failed,
    parse_duration,
    parse_params,
    parse_steps,
    passed,
)
from jaraba_tui.profile import profile_from_mapping
from jaraba_tui.secrets import register_secret_value

HOST = os.uname().nodename


def holder(pid: int, *, host: str = HOST, pid_start: int | None = None) -> LockHolder:
    return LockHolder(
        user="bob",
        ssh_client=None,
        host=host,
        pid=pid,
        pid_start=pid_start,
        action="x",
        target="y",
        profile="p",
        since=1.0,
    )


def dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


# -- lock --------------------------------------------------------------------------------------
def test_lock_next_to_the_audit_log_one_per_stack(tmp_path: Path) -> None:
    assert lock_path(tmp_path / "audit.log", "prod") == tmp_path / "audit.log.prod.lock"


def test_staleness() -> None:
    me = os.getpid()
    assert is_stale(holder(me, pid_start=process_start_time(me))) is False
    assert is_stale(holder(dead_pid())) is True
    # The pid exists but belongs to a younger process: the recorded one is gone.
    assert is_stale(holder(me, pid_start=(process_start_time(me) or 0) + 12345)) is True
    assert is_stale(holder(me, host="another-host")) is None


def test_acquire_is_exclusive_and_release_removes_only_its_own(tmp_path: Path) -> None:
    path = tmp_path / "a.lock"
    first, second = ActionLock(path), ActionLock(path)
    first.acquire(holder(os.getpid(), pid_start=process_start_time(os.getpid())))
    with pytest.raises(LockHeld) as info:
        second.acquire(holder(os.getpid()))
    assert info.value.stale is False and "bob" in str(info.value)
    second.release()  # never held: must not remove first's lock
    assert path.exists()
    first.release()
    assert not path.exists()
    assert not list(tmp_path.glob(".a.lock.*")), "no temporary files left behind"


def test_concurrent_acquire_has_exactly_one_winner(tmp_path: Path) -> None:
    path = tmp_path / "race.lock"
    wins: list[int] = []
    barrier = threading.Barrier(8)

    def contend(n: int) -> None:
        barrier.wait()
        try:
            ActionLock(path).acquire(holder(os.getpid()))
            wins.append(n)
        except LockHeld:
            pass

    threads = [threading.Thread(target=contend, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(wins) == 1


def test_stale_lock_is_reported_and_cleared_explicitly(tmp_path: Path) -> None:
    path = tmp_path / "s.lock"
    path.write_text(json.dumps(holder(dead_pid()).to_dict()))
    lock = ActionLock(path)
    with pytest.raises(LockHeld, match="STALE") as info:
        lock.acquire(holder(os.getpid()))
    assert info.value.stale is True
    assert path.exists(), "a stale lock is never taken over silently"
    cleared = lock.clear_stale()
    assert cleared is not None and cleared.user == "bob"
    assert not path.exists()
    lock.acquire(holder(os.getpid()))
    lock.release()


def test_clear_refuses_a_live_or_foreign_or_missing_lock(tmp_path: Path) -> None:
    path = tmp_path / "l.lock"
    lock = ActionLock(path)
    with pytest.raises(ActionRefused, match="nothing to clear"):
        lock.clear_stale()
    path.write_text(json.dumps(holder(os.getpid()).to_dict()))
    with pytest.raises(ActionRefused, match="not stale"):
        lock.clear_stale()
    path.write_text(json.dumps(holder(os.getpid(), host="elsewhere").to_dict()))
    with pytest.raises(ActionRefused, match="elsewhere"):
        lock.clear_stale()
    assert path.exists()


def test_unreadable_lock_blocks_and_can_be_cleared(tmp_path: Path) -> None:
    path = tmp_path / "u.lock"
    path.write_text("{not json")
    lock = ActionLock(path)
    with pytest.raises(LockHeld, match="cannot be read"):
        lock.acquire(holder(os.getpid()))
    assert lock.clear_stale() is None
    assert not path.exists()


# -- audit -------------------------------------------------------------------------------------
def test_audit_lines_are_json_objects_with_who_and_when(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "sub" / "audit.log")
    profile = profile_from_mapping({"name": "p1", "environment": "staging"})
    who = Who("carol", "root", "10.1.2.3", "bastion", 42)
    log.record("started", "r1", who=who, profile=profile, action="a", target="t", n=(1, 2))
    log.record("finished", "r1", who=who, profile=profile, action="a", target="t")
    lines = (tmp_path / "sub" / "audit.log").read_text().splitlines()
    assert len(lines) == 2
    first = json.loads(lines[0])
    assert first["event"] == "started" and first["run_id"] == "r1" and first["format"] == 1
    assert first["who"] == {
        "user": "carol",
        "sudo_user": "root",
        "ssh_client": "10.1.2.3",
        "host": "bastion",
        "pid": 42,
        "uid": None,
    }
    assert first["profile"] == "p1" and first["environment"] == "staging"
    assert first["time"].endswith("Z") and first["n"] == [1, 2]
    assert [r["event"] for r in log.run_records("r1")] == ["started", "finished"]


def test_audit_scrubs_every_string_including_keys(tmp_path: Path) -> None:
    secret = "Tr0ub4dor-audit-unit"
    register_secret_value(secret)
    log = AuditLog(tmp_path / "a.log")
    log.append({"detail": f"password={secret}", secret: [f"x{secret}y"], "n": 1})
    text = (tmp_path / "a.log").read_text()
    assert secret not in text
    assert json.loads(text) == {"detail": "password=***", "***": ["x***y"], "n": 1}


def test_audit_appends_whole_lines_under_concurrency(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "c.log")

    def write(n: int) -> None:
        for i in range(50):
            log.append({"writer": n, "i": i, "pad": "x" * 2000})

    threads = [threading.Thread(target=write, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    records = log.records()
    assert len(records) == 300
    assert len((tmp_path / "c.log").read_text().splitlines()) == 300


def test_who_reads_the_ssh_client_address() -> None:
    assert ssh_client_address({"SSH_CLIENT": "203.0.113.5 51234 22"}) == "203.0.113.5"
    assert ssh_client_address({"SSH_CONNECTION": "2001:db8::1 5 2001:db8::2 22"}) == "2001:db8::1"
    assert ssh_client_address({}) is None
    who = Who.current({"SSH_CLIENT": "203.0.113.5 1 22", "SUDO_USER": "dave"}, uid=0)
    assert who.ssh_client == "203.0.113.5" and who.name == "dave"
    assert "from 203.0.113.5" in who.label


# -- parameters, confirmation data -------------------------------------------------------------
def test_durations_and_steps() -> None:
    assert parse_duration("90") == 90
    assert parse_duration("2h") == 7200
    assert parse_duration("1h30m") == 5400
    assert parse_steps("10,50,100") == (10, 50, 100)
    assert parse_steps("100") == (100,)
    for bad in ("", "2x", "h", "1h 30m"):
        with pytest.raises(ValueError):
            parse_duration(bad)
    for bad in ("10,50", "50,10,100", "0,100", "10,10,100", "a"):
        with pytest.raises(ValueError):
            parse_steps(bad)


@given(st.lists(st.integers(min_value=1, max_value=99), unique=True, max_size=5))
def test_steps_accept_any_increasing_list_ending_at_100(values: list[int]) -> None:
    steps = [*sorted(values), 100]
    assert parse_steps(",".join(map(str, steps))) == tuple(steps)


def test_params_typed_defaults_required_unknown() -> None:
    specs = (
        ParamSpec("comment", "str", "why", required=True),
        ParamSpec("maint", "bool", "then maint", default="no"),
        ParamSpec("duration", "duration", "how long", default="2h"),
    )
    assert parse_params(specs, {"comment": "x"}) == {
        "comment": "x",
        "maint": False,
        "duration": 7200,
    }
    with pytest.raises(ValueError, match="comment is required"):
        parse_params(specs, {})
    with pytest.raises(ValueError, match="unknown parameter"):
        parse_params(specs, {"comment": "x", "bogus": "1"})
    with pytest.raises(ValueError, match="must not be empty"):
        parse_params(specs, {"comment": "  "})
    with pytest.raises(ValueError, match="one line"):
        parse_params(specs, {"comment": "a\nb"})


def test_confirm_request_is_renderable_data() -> None:
    plan = Plan(
        "a.b",
        "node3",
        "do it",
        (Step("one", "host", "cmd --x", "ssh", 1.0),),
        ("blast",),
        ("end",),
        ("undo",),
        tables=(PlanTable("positions", ("node", "seqno"), (("node1", "5"),)),),
    )
    checks = (passed("ok", "fine"), failed("bad", "broken"))
    req = build_request(
        action="a.b",
        title="A B",
        target="node3",
        dangerous=True,
        profile="prod",
        environment="production",
        production=True,
        plan=plan,
        checks=checks,
        forced=True,
    )
    assert [p.expected for p in req.phrases] == ["node3", "production", "override"]
    assert req.accepts(["node3", "production", "override"])
    assert not req.accepts(["node3", "production"])
    assert not req.accepts(["node3 ", "prod", "override"])
    data = json.loads(json.dumps(req.to_dict()))
    assert data["plan"]["steps"][0] == {
        "title": "one",
        "where": "host",
        "command": "cmd --x",
        "kind": "ssh",
        "timeout": 1.0,
        "if_failed": "",
    }
    text = render_request(req)
    assert "[FAIL] bad: broken" in text and "cmd --x" in text and "node1" in text
