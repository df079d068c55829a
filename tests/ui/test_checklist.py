"""The Checklist screen: verify's rows, marks streamed as items finish (symbol + word),
evidence of the highlighted item, pre/post/all, re-run all or one item."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from textual.message import Message

from jaraba_tui.ui import messages as msg
from jaraba_tui.ui.checklist import ChecklistScreen
from jaraba_tui.ui.widgets.table import KeyedTable
from jaraba_tui.verify.items import ITEMS
from tests.ui.action_fakes import ScriptedChecklist, local_profile, make_ops
from tests.ui.helpers import healthy_updates, make_app, until

POST = [s.id for s in ITEMS if s.phase == "post"]
PRE = [s.id for s in ITEMS if s.phase == "pre"]


def text(widget: Any) -> str:
    return str(getattr(widget.content, "plain", widget.content))


def marks(screen: ChecklistScreen) -> dict[str, str]:
    table = screen.query_one("#checklist-table", KeyedTable)
    return {key: table.get_cell(key, "mark").plain for key in table.shown_keys}


async def test_the_checklist_streams_marks_and_shows_evidence(tmp_path: Path) -> None:
    updates = healthy_updates()
    hold = asyncio.Event()
    backend = ScriptedChecklist(local_profile(), hold=hold)
    ops, _ = make_ops(tmp_path, updates[-1].snapshot, checklist=backend)
    seen: list[Message] = []
    app = make_app(updates, tmp_path, ops=ops)
    async with app.run_test(size=(120, 40), message_hook=seen.append) as pilot:
        await pilot.press("c")
        assert await until(pilot, lambda: isinstance(app.screen, ChecklistScreen))
        screen = app.screen
        assert isinstance(screen, ChecklistScreen)
        assert await until(pilot, lambda: len(screen.results) == 2)
        shown = marks(screen)
        assert list(shown) == [s.id for s in ITEMS]  # every row before its result
        assert shown["no-dev-secrets"] == "– SKIPPED" and shown["tls-certificate"] == "✓ PASSED"
        assert shown["galera-cluster"] == "… RUNNING"
        assert "running 13 item(s)" in text(screen.query_one("#checklist-head"))
        hold.set()
        assert await until(pilot, lambda: not screen.running)
        head = text(screen.query_one("#checklist-head"))
        assert "✗ FAILED" in head and "11 passed, 1 failed, 3 skipped" in head
        assert marks(screen)["haproxy-backends"] == "✗ FAILED"
        table = screen.query_one("#checklist-table", KeyedTable)
        table.move_cursor(row=table.get_row_index("haproxy-backends"))
        await pilot.pause()
        evidence = text(screen.query_one("#checklist-evidence"))
        assert "1 of 8 servers not UP" in evidence
        assert "· bk_app_blue/app2: DOWN (L4CON Connection refused)" in evidence
        assert "Seed:" in evidence
        assert sum(isinstance(m, msg.ChecklistItemChecked) for m in seen) == 15

        await pilot.press("o")  # post-deployment only
        assert await until(pilot, lambda: not screen.running and len(screen.results) == 7)
        assert list(marks(screen)) == POST and backend.runs[-1] == ("post", POST)
        await pilot.press("p")
        assert await until(pilot, lambda: not screen.running and list(marks(screen)) == PRE)
        await pilot.press("a")
        assert await until(pilot, lambda: not screen.running and len(screen.results) == 15)
        runs = len(backend.runs)
        await pilot.press("r")
        assert await until(pilot, lambda: len(backend.runs) == runs + 1 and not screen.running)
        table.move_cursor(row=table.get_row_index("dns-records"))
        await pilot.press("i")  # re-run the highlighted item alone (Enter does too)
        assert await until(pilot, lambda: backend.runs[-1] == ("all", ["dns-records"]))
        assert await until(pilot, lambda: not screen.running and len(screen.results) == 15)
        await pilot.press("escape")
        assert not isinstance(app.screen, ChecklistScreen)


async def test_the_checklist_is_not_offered_without_a_profile(tmp_path: Path) -> None:
    updates = healthy_updates()
    app = make_app(updates, tmp_path)  # a replay: no profile, no checks to run
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("c")
        await pilot.pause()
        assert not isinstance(app.screen, ChecklistScreen)
        footer = [b.binding.action for b in app.screen.active_bindings.values()]
        assert "app.checklist" not in footer
