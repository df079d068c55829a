"""SVG snapshots of the confirmation modal (the real haproxy.drain's checks and plan on a
recorded snapshot, scripted runtime API) and of the Checklist screen (verify's rows, scripted
results), with a fixed clock in UTC. Update after a deliberate change with
``--snapshot-update`` and look at the SVGs before committing them."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from jaraba_tui.ui.action_screen import ActionScreen, ConfirmInput
from jaraba_tui.ui.app import ConsoleInfo, JarabaApp
from jaraba_tui.ui.checklist import ChecklistScreen
from jaraba_tui.ui.widgets.table import KeyedTable
from tests.ui.action_fakes import ScriptedChecklist, local_profile, make_ops
from tests.ui.helpers import healthy_updates, make_app

SnapCompare = Callable[..., bool]
PROD_RW = ConsoleInfo("local", "production", "production-marked copy of local")


async def until(pilot: Pilot[Any], cond: Callable[[], bool], limit: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while loop.time() < deadline and not cond():
        await pilot.pause(0.02)
    assert cond()


def drain_modal(app: JarabaApp) -> Callable[[Pilot[Any]], Any]:
    async def run_before(pilot: Pilot[Any]) -> None:
        await until(pilot, lambda: app.latest is not None and app.latest.layer == "hosts")
        await pilot.press("4")
        table = app.query_one("#haproxy-servers", KeyedTable)
        table.focus()
        table.move_cursor(row=table.get_row_index("bk_app_green/app3"))
        await pilot.pause()
        await pilot.press("d")
        await pilot.press("enter")
        await until(pilot, lambda: getattr(app.screen, "phase", "") == "ready")
        assert isinstance(app.screen, ActionScreen)
        for inp in app.screen.query(ConfirmInput):
            inp.cursor_blink = False
        await pilot.pause()

    return run_before


def test_confirmation_modal(snap_compare: SnapCompare, tmp_path: Path) -> None:
    updates = healthy_updates()
    ops, _ = make_ops(tmp_path, updates[-1].snapshot)
    app = make_app(updates, tmp_path, ops=ops)
    assert snap_compare(app, terminal_size=(80, 24), run_before=drain_modal(app))


def test_confirmation_modal_production(snap_compare: SnapCompare, tmp_path: Path) -> None:
    updates = healthy_updates()
    ops, _ = make_ops(tmp_path, updates[-1].snapshot, production=True)
    app = make_app(updates, tmp_path, ops=ops, info=PROD_RW)
    assert snap_compare(app, terminal_size=(110, 36), run_before=drain_modal(app))


def test_checklist_screen(snap_compare: SnapCompare, tmp_path: Path) -> None:
    updates = healthy_updates()
    backend = ScriptedChecklist(local_profile())
    ops, _ = make_ops(tmp_path, updates[-1].snapshot, checklist=backend)
    app = make_app(updates, tmp_path, ops=ops)

    async def run_before(pilot: Pilot[Any]) -> None:
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, ChecklistScreen))
        screen = app.screen
        assert isinstance(screen, ChecklistScreen)
        await until(pilot, lambda: not screen.running and len(screen.results) == 15)
        table = screen.query_one("#checklist-table", KeyedTable)
        table.move_cursor(row=table.get_row_index("haproxy-backends"))
        await pilot.pause()

    assert snap_compare(app, terminal_size=(100, 30), run_before=run_before)
