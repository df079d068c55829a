"""Guarded actions in the console, on recorded snapshots and the real actions framework
(registry, runner, confirmation request, audit log, lock) with scripted I/O.

Nothing runs without the typed confirmation: Escape, a wrong name, an empty name leave no
command sent to HAProxy and no audit record; a failed check shows no input at all;
production asks for the environment's name too; read-only offers no action anywhere; a lock
held by someone else says who and since when.
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import time
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from rich.text import Text
from textual.message import Message
from textual.pilot import Pilot

from jaraba_tui.actions.lock import ActionLock, LockHolder
from jaraba_tui.engine import EngineUpdate
from jaraba_tui.model.snapshot import StackSnapshot
from jaraba_tui.ui import messages as msg
from jaraba_tui.ui.action_screen import ActionScreen, ConfirmInput
from jaraba_tui.ui.app import ConsoleInfo, JarabaApp
from jaraba_tui.ui.commands import ConsoleCommands
from jaraba_tui.ui.screens import HelpScreen
from jaraba_tui.ui.source import ScriptedSource
from jaraba_tui.ui.widgets.chrome import StatusHeader
from jaraba_tui.ui.widgets.table import KeyedTable
from tests.ui.action_fakes import ScriptedContext, audit_records, make_ops
from tests.ui.helpers import LAB, degraded_updates, healthy_updates, make_app, until

TARGET = "bk_app_green/app3"
PROD_RW = ConsoleInfo("local", "production", "production-marked copy of local")


@pytest.fixture(scope="module")
def healthy() -> list[EngineUpdate]:
    return healthy_updates()


@pytest.fixture
def fresh(healthy: list[EngineUpdate]) -> StackSnapshot:
    return healthy[-1].snapshot


async def settle(pilot: Pilot[Any], app: JarabaApp, last: EngineUpdate) -> None:
    assert await until(pilot, lambda: app.latest is last)
    await pilot.pause()


async def highlight_server(pilot: Pilot[Any], app: JarabaApp, key: str = TARGET) -> None:
    await pilot.press("4")
    table = app.query_one("#haproxy-servers", KeyedTable)
    table.focus()
    table.move_cursor(row=table.get_row_index(key))
    await pilot.pause()


def modal(app: JarabaApp) -> ActionScreen:
    assert isinstance(app.screen, ActionScreen), type(app.screen)
    return app.screen


async def open_drain(pilot: Pilot[Any], app: JarabaApp) -> ActionScreen:
    """d on the highlighted server, Enter on the parameters: the checks and the plan."""
    await highlight_server(pilot, app)
    await pilot.press("d")
    screen = modal(app)
    assert screen.phase == "params"
    await pilot.press("enter")  # no required parameter: the focus is on the button
    assert await until(pilot, lambda: screen.phase not in ("params", "preparing"))
    return screen


def plain(widget: Any) -> str:
    """The text of a Static, whether it holds Text or a Rich group of grids."""
    content = widget.content
    if isinstance(content, Text):
        return content.plain
    console = Console(width=300, file=io.StringIO(), record=True)
    console.print(content)
    return console.export_text()


def action_keys(app: JarabaApp) -> dict[str, str]:
    return {
        key: b.binding.action
        for key, b in app.screen.active_bindings.items()
        if "guarded" in b.binding.action
    }


def palette_titles(app: JarabaApp) -> list[str]:
    return [title for title, _, _ in ConsoleCommands(app.screen)._entries()]


async def type_text(pilot: Pilot[Any], text: str) -> None:
    if text:
        await pilot.press(*list(text))


# -- keys: only where the target supports the action ------------------------------------
async def test_action_keys_follow_the_pane_and_the_highlighted_row(
    healthy: list[EngineUpdate], fresh: StackSnapshot, tmp_path: Path
) -> None:
    ops, _ = make_ops(tmp_path, fresh)
    app = make_app(healthy, tmp_path, ops=ops)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app, healthy[-1])
        assert action_keys(app) == {}  # the overview has no target
        await highlight_server(pilot, app)
        keys = action_keys(app)
        assert keys["d"] == "app.guarded('haproxy.drain')"
        assert keys["b"] == "app.guarded('bluegreen.switch')"  # the idle colour: green
        assert "u" not in keys  # ready: only for a server in DRAIN/MAINT
        assert app.desk.guard_target("bluegreen.switch") == "green"
        await pilot.press("5")  # Redis: the Sentinel failover, nothing of HAProxy
        assert set(action_keys(app).values()) == {"app.guarded('redis.failover')"}
        await pilot.press("2")
        table = app.query_one("#galera-nodes", KeyedTable)
        table.focus()
        await pilot.pause()
        assert set(action_keys(app)) == {"T", "R"}  # stop, restart; start: only a down node
        titles = palette_titles(app)
        assert f"Drain HAProxy server: {TARGET}" in titles
        assert "Blue/green switch (dangerous): green" in titles
        await pilot.press("question_mark")
        help_text = str(app.screen.query_one("#help-text").render())
        assert "Drain HAProxy server [HAProxy]" in help_text and "action-haproxy-drain" in help_text
        assert "replay-" not in help_text  # the replay's keys: on a recording only


# -- nothing runs without the typed confirmation --------------------------------------------
async def test_escape_runs_nothing_and_resumes_the_paused_layer(
    healthy: list[EngineUpdate], fresh: StackSnapshot, tmp_path: Path
) -> None:
    ops, runtime = make_ops(tmp_path, fresh)
    sink: list[ScriptedSource] = []
    app = make_app(healthy, tmp_path, ops=ops, sink=sink)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app, healthy[-1])
        screen = await open_drain(pilot, app)
        assert screen.phase == "ready"
        assert sink[0].paused_layers == {"haproxy"}  # no refresh under the open modal
        assert ops.ctx.lock.held  # the plan holds the stack's lock while it is shown
        await type_text(pilot, TARGET)  # typed, but never submitted
        await pilot.press("escape")
        assert not isinstance(app.screen, ActionScreen)
        assert sink[0].paused_layers == set()
        assert sink[0].refreshes == []  # nothing ran: no need to re-poll
    assert runtime.changes == []
    assert audit_records(ops) == []
    assert not ops.ctx.lock.path.exists()


async def test_escape_during_the_preflight_releases_the_lock(
    healthy: list[EngineUpdate], fresh: StackSnapshot, tmp_path: Path
) -> None:
    ops, runtime = make_ops(tmp_path, fresh)
    assert isinstance(ops.ctx, ScriptedContext)
    ops.ctx.hold = asyncio.Event()  # the fresh poll hangs
    app = make_app(healthy, tmp_path, ops=ops)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app, healthy[-1])
        await highlight_server(pilot, app)
        await pilot.press("d", "enter")
        screen = modal(app)
        assert await until(pilot, lambda: screen.phase == "preparing")
        assert await until(pilot, lambda: ops.ctx.lock.path.exists())
        await pilot.press("escape")
        assert not isinstance(app.screen, ActionScreen)
        assert await until(pilot, lambda: not ops.ctx.lock.path.exists())
    assert runtime.commands == [] and audit_records(ops) == []


async def test_the_palette_opens_the_same_modal(
    healthy: list[EngineUpdate], fresh: StackSnapshot, tmp_path: Path
) -> None:
    ops, runtime = make_ops(tmp_path, fresh)
    app = make_app(healthy, tmp_path, ops=ops)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app, healthy[-1])  # on the overview: no key would do it here
        await pilot.press("ctrl+p")
        await type_text(pilot, f"Drain HAProxy server: {TARGET}")
        await pilot.pause(0.3)
        await pilot.press("enter")
        assert await until(pilot, lambda: isinstance(app.screen, ActionScreen))
        screen = modal(app)
        assert (screen.action_name, screen.target) == ("haproxy.drain", TARGET)
        await pilot.press("escape")
    assert runtime.commands == [] and audit_records(ops) == []


@pytest.mark.parametrize("typed", ["", "bk_app_green/app2", "BK_APP_GREEN/APP3", "green/app3"])
async def test_a_wrong_or_empty_name_runs_nothing(
    healthy: list[EngineUpdate], fresh: StackSnapshot, tmp_path: Path, typed: str
) -> None:
    seen: list[Message] = []
    ops, runtime = make_ops(tmp_path, fresh)
    app = make_app(healthy, tmp_path, ops=ops)
    async with app.run_test(size=(120, 40), message_hook=seen.append) as pilot:
        await settle(pilot, app, healthy[-1])
        screen = await open_drain(pilot, app)
        await type_text(pilot, typed)
        await pilot.press("enter")
        await pilot.pause()
        assert screen.phase == "ready"  # still asking
        status = plain(screen.query_one("#action-status"))
        assert "Not confirmed" in status and "Nothing was changed" in status
        assert any(isinstance(m, msg.ActionNotConfirmed) for m in seen)
        assert not any(isinstance(m, msg.ActionConfirmed) for m in seen)
        await pilot.press("escape")
    assert runtime.changes == []
    assert audit_records(ops) == []


async def test_a_failed_check_shows_no_input_and_runs_nothing(
    healthy: list[EngineUpdate], fresh: StackSnapshot, tmp_path: Path
) -> None:
    # the fresh poll (not the screen's data) shows app3 as the last UP server of green
    assert fresh.haproxy is not None
    servers = tuple(
        dataclasses.replace(s, status="DOWN", state="DOWN")
        if s.proxy == "bk_app_green" and s.name != "app3"
        else s
        for s in fresh.haproxy.servers
    )
    worse = dataclasses.replace(fresh, haproxy=dataclasses.replace(fresh.haproxy, servers=servers))
    ops, runtime = make_ops(tmp_path, worse)
    app = make_app(healthy, tmp_path, ops=ops)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app, healthy[-1])
        screen = await open_drain(pilot, app)
        assert screen.phase == "blocked"
        assert len(screen.query(ConfirmInput)) == 0
        checks = plain(screen.query_one("#action-checks"))
        assert "✗ FAIL" in checks and "last UP active server" in checks
        assert "FAILED" in plain(screen.query_one("#action-status"))
        assert not ops.ctx.lock.path.exists()  # released at once: nothing will run
        await pilot.press("enter")
        assert not isinstance(app.screen, ActionScreen)
    assert runtime.changes == []
    assert audit_records(ops) == []


async def test_the_typed_name_runs_streams_verifies_and_audits(
    healthy: list[EngineUpdate], fresh: StackSnapshot, tmp_path: Path
) -> None:
    seen: list[Message] = []
    ops, runtime = make_ops(tmp_path, fresh)
    sink: list[ScriptedSource] = []
    app = make_app(healthy, tmp_path, ops=ops, sink=sink)
    async with app.run_test(size=(120, 40), message_hook=seen.append) as pilot:
        await settle(pilot, app, healthy[-1])
        screen = await open_drain(pilot, app)
        await type_text(pilot, TARGET)
        await pilot.press("enter")
        assert await until(pilot, lambda: screen.phase == "done")
        assert screen.outcome is not None and screen.outcome.status == "verified"
        progress = plain(screen.query_one("#action-progress"))
        assert "[1] ✓ ok" in progress and "[2] ✓ ok" in progress and "verify ✓" in progress
        assert "✓ VERIFIED" in plain(screen.query_one("#action-result"))
        kinds = [type(m) for m in seen]
        assert msg.ActionConfirmed in kinds and msg.ActionVerified in kinds
        assert kinds.count(msg.ActionStepFinished) == 2
        await pilot.press("enter")  # closes
        assert not isinstance(app.screen, ActionScreen)
        assert sink[0].refreshes == ["haproxy"]  # the fresh poll that shows the effect
        # the audit log's records come back into the timeline
        assert await until(pilot, lambda: any(e.source == "action" for e in app.timeline))
        actions = [e.message for e in app.timeline if e.source == "action"]
        assert actions == [
            f"tester started haproxy.drain {TARGET} (typed)",
            f"tester: haproxy.drain {TARGET} step 1/2 ok: put {TARGET} in drain (no new sessions)",
            f"tester: haproxy.drain {TARGET} step 2/2 ok: wait until {TARGET} has no session "
            "(up to 120s)",
            f"tester: haproxy.drain {TARGET} VERIFIED: {TARGET} DRAIN, 0 session(s)",
        ]
    assert runtime.changes == [f"set server {TARGET} state drain"]
    events = [r["event"] for r in audit_records(ops)]
    assert events == ["started", "step", "step", "finished"]
    assert audit_records(ops)[0]["confirmation"] == "typed"
    assert not ops.ctx.lock.path.exists()


async def test_a_failed_step_stops_there_and_says_what_state_it_left(
    healthy: list[EngineUpdate], fresh: StackSnapshot, tmp_path: Path
) -> None:
    ops, runtime = make_ops(tmp_path, fresh, refuse=True)
    app = make_app(healthy, tmp_path, ops=ops)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app, healthy[-1])
        screen = await open_drain(pilot, app)
        await type_text(pilot, TARGET)
        await pilot.press("enter")
        assert await until(pilot, lambda: screen.phase == "done")
        assert screen.outcome is not None and screen.outcome.status == "failed"
        progress = plain(screen.query_one("#action-progress"))
        assert "[1] ✗ FAILED" in progress and "No such server" in progress
        assert "[2]" not in progress  # stopped at the first failure
        result = plain(screen.query_one("#action-result"))
        assert "✗ FAILED" in result and "no step had completed" in result
        assert f"{TARGET} is unchanged" in result
    assert runtime.changes == [f"set server {TARGET} state drain"]
    assert [r["event"] for r in audit_records(ops)] == ["started", "step", "finished"]


async def test_the_undo_key_opens_the_undo_action_in_its_own_modal(
    healthy: list[EngineUpdate], fresh: StackSnapshot, tmp_path: Path
) -> None:
    ops, _ = make_ops(tmp_path, fresh)
    app = make_app(healthy, tmp_path, ops=ops)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app, healthy[-1])
        screen = await open_drain(pilot, app)
        await type_text(pilot, TARGET)
        await pilot.press("enter")
        assert await until(pilot, lambda: screen.phase == "done")
        await pilot.press("u")
        assert await until(
            pilot,
            lambda: isinstance(app.screen, ActionScreen) and app.screen is not screen,
        )
        undo = modal(app)
        assert (undo.action_name, undo.target) == ("haproxy.ready", TARGET)
        await pilot.press("escape")


# -- production, read-only, the lock -----------------------------------------------------
async def test_production_asks_for_the_environment_name_too(
    healthy: list[EngineUpdate], fresh: StackSnapshot, tmp_path: Path
) -> None:
    ops, runtime = make_ops(tmp_path, fresh, production=True)
    app = make_app(healthy, tmp_path, ops=ops, info=PROD_RW)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app, healthy[-1])
        screen = await open_drain(pilot, app)
        inputs = list(screen.query(ConfirmInput))
        assert len(inputs) == 2
        prompts = [str(w.render()) for w in screen.query(".confirm-prompt")]
        assert "production" in prompts[1] and "(production)" in prompts[1]
        await type_text(pilot, TARGET)
        await pilot.press("enter")  # to the environment's field
        await pilot.press("enter")  # empty environment name
        assert screen.phase == "ready"
        inputs[1].value = "lab"
        await pilot.press("enter")
        assert screen.phase == "ready" and runtime.changes == []
        assert audit_records(ops) == []
        inputs[1].value = "production"
        await pilot.press("enter")
        assert await until(pilot, lambda: screen.phase == "done")
    assert runtime.changes == [f"set server {TARGET} state drain"]


@pytest.mark.parametrize("how", ["flag", "profile"])
async def test_read_only_offers_no_action_anywhere(
    healthy: list[EngineUpdate], fresh: StackSnapshot, tmp_path: Path, how: str
) -> None:
    ops, runtime = make_ops(tmp_path, fresh, read_only=how == "profile")
    info = dataclasses.replace(LAB, read_only=how == "flag")
    app = make_app(healthy, tmp_path, ops=ops, info=info)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app, healthy[-1])
        assert app.read_only and not app.can_act
        for pane, table in (("4", "#haproxy-servers"), ("2", "#galera-nodes"), ("5", None)):
            await pilot.press(pane)
            if table:
                app.query_one(table, KeyedTable).focus()
                await pilot.pause()
            assert action_keys(app) == {}
            footer = " ".join(
                str(b.binding.description) for b in app.screen.active_bindings.values()
            )
            assert "drain" not in footer and "failover" not in footer
        await highlight_server(pilot, app)
        await pilot.press("d", "b", "u")
        assert not isinstance(app.screen, ActionScreen)
        assert not any(
            t.startswith(("Drain", "Blue/green", "Redis", "Silence")) for t in palette_titles(app)
        )
        app.start_action("haproxy.drain", TARGET)  # even called directly: refused
        await pilot.pause()
        assert not isinstance(app.screen, ActionScreen)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        help_text = str(app.screen.query_one("#help-text").render())
        assert "Actions" not in help_text and "action-" not in help_text
        assert "Deployment checklist" in help_text  # read-only checks stay
    assert runtime.commands == []
    assert audit_records(ops) == []


async def test_a_lock_held_elsewhere_says_who_and_since_when(
    healthy: list[EngineUpdate], fresh: StackSnapshot, tmp_path: Path
) -> None:
    ops, runtime = make_ops(tmp_path, fresh)
    since = time.time() - 180.0
    alice = LockHolder(
        user="alice",
        ssh_client="10.0.0.7",
        host="bastion-2",
        pid=4242,
        pid_start=None,
        action="bluegreen.switch",
        target="green",
        profile="local",
        since=since,
    )
    ActionLock(ops.ctx.lock.path).acquire(alice)
    app = make_app(healthy, tmp_path, ops=ops)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot, app, healthy[-1])
        app.poll_audit()
        assert await until(pilot, lambda: app.desk.lock_badge is not None)
        header = str(app.query_one(StatusHeader).render())
        hhmm = time.strftime("%H:%M", time.localtime(since))
        assert f"LOCK alice: blue/green switch green, since {hhmm}" in header
        screen = await open_drain(pilot, app)
        assert screen.phase == "refused"
        text = plain(screen.query_one("#action-checks"))
        assert "action lock is held" in text
        assert "alice from 10.0.0.7 (pid 4242 on bastion-2) runs bluegreen.switch green" in text
        assert "since " in text and "3 min ago" in text
        assert len(screen.query(ConfirmInput)) == 0
        await pilot.press("escape")
    assert runtime.commands == []
    assert audit_records(ops) == []
    assert ActionLock(ops.ctx.lock.path).holder() == alice  # someone else's lock untouched


# -- parameters: the silence's required comment and its duration ----------------------------
async def test_a_silence_needs_its_comment_before_any_check_runs(tmp_path: Path) -> None:
    updates = degraded_updates()
    ops, runtime = make_ops(tmp_path, updates[-1].snapshot)
    app = make_app(updates, tmp_path, ops=ops)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app, updates[-1])
        await pilot.press("6")
        app.query_one("#alerts-table", KeyedTable).focus()
        await pilot.pause()
        assert action_keys(app)["s"] == "app.guarded('alert.silence')"
        assert app.desk.guard_target("alert.silence") == "5e8fecc695adc77a"  # AM's fingerprint
        await pilot.press("s")
        screen = modal(app)
        assert screen.phase == "params"
        await pilot.press("enter")  # the comment field is focused, and empty
        assert screen.phase == "params"
        assert "comment must not be empty" in plain(screen.query_one("#action-status"))
        assert isinstance(ops.ctx, ScriptedContext) and ops.ctx.polls == []  # no preflight yet
        await type_text(pilot, "db maintenance")
        await pilot.press("enter")
        assert await until(pilot, lambda: screen.phase == "ready")
        assert "Parameters: comment db maintenance · duration 2h" in plain(
            screen.query_one("#action-params-summary")
        )
        checks = plain(screen.query_one("#action-checks"))
        assert "duration: 7200s" in checks and "comment: 'db maintenance'" in checks
        plan = plain(screen.query_one("#action-plan"))
        assert "POST /api/v2/silences" in plan and '"comment": "db maintenance"' in plan
        assert len(screen.query(ConfirmInput)) == 1
        await pilot.press("escape")
    assert audit_records(ops) == [] and runtime.commands == []
