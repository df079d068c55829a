"""The console while it closes: late messages find no screen, and must not crash the exit."""

from __future__ import annotations

from pathlib import Path

from tests.ui.action_fakes import make_ops
from tests.ui.helpers import healthy_updates, make_app


async def test_a_row_highlighted_after_the_last_screen_is_gone_is_ignored(
    tmp_path: Path,
) -> None:
    """A table's RowHighlighted handled after the screen stack was emptied (the app quitting)
    asked for the key bindings of a screen that no longer exists: ScreenStackError at exit."""
    updates = healthy_updates()
    ops, _ = make_ops(tmp_path, updates[-1].snapshot)
    app = make_app(updates, tmp_path, ops=ops)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("4")
        await pilot.pause()
        assert app.can_act
    assert not app.screen_stack
    app.refresh_bindings()  # what on_keyed_table_row_highlighted does


async def test_a_tick_after_the_last_screen_is_gone_is_ignored(tmp_path: Path) -> None:
    """The 1 s tick (clock, ages) firing while the console closes found no status header
    (NoMatches from the timer, raised out of the app's exit)."""
    updates = healthy_updates()
    app = make_app(updates, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app._on_tick()  # on screen: draws
    assert not app.screen_stack
    app._on_tick()
    app._redraw_all()
