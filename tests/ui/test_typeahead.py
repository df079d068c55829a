"""Keys typed faster than the screen updates (a fast typist, a paste, a terminal that
delivers ``/queue`` in one read) are queued together: after ``/`` they are the filter's
text, never the console's commands (``q`` quit, ``e`` wrote a report, ``r`` refreshed)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from textual import events
from textual.widgets import Input

from jaraba_tui.engine import EngineUpdate
from jaraba_tui.ui.widgets.pane import FilterInput
from jaraba_tui.ui.widgets.table import KeyedTable
from tests.ui.helpers import degraded_updates, make_app


@pytest.fixture(scope="module")
def degraded() -> list[EngineUpdate]:
    return degraded_updates()


async def test_keys_queued_behind_slash_are_filter_text(
    degraded: list[EngineUpdate], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # a report written by mistake would land here
    app = make_app(degraded, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(20):
            await pilot.pause(0.05)
        await pilot.press("4")
        servers = app.query_one("#haproxy-servers", KeyedTable)
        assert servers.row_count == 6
        # all posted before the app handles the first: as one read from the terminal
        for ch in "/equeue":
            app.post_message(events.Key("slash" if ch == "/" else ch, ch))
        for _ in range(5):
            await pilot.pause(0.05)
        assert app.is_running
        bar = app.query_one("#haproxy FilterInput", FilterInput)
        assert bar.value == "equeue"
        assert app.screen.focused is bar
        assert servers.row_count == 0  # no server row has "equeue" in it
        assert not [p.name for p in os.scandir(tmp_path) if p.name.startswith("jaraba-incident-")]
        # `/` in a text field is text: the filter bar's own, and the command palette's
        await pilot.press("slash", "x")
        assert bar.value == "equeue/x"
        await pilot.press("escape")  # clears the filter, back to the table
        assert not bar.display
        await pilot.press("ctrl+p")
        for _ in range(5):
            await pilot.pause(0.05)
        assert len(app.screen_stack) == 2
        await pilot.press("slash", "r")
        palette_input = app.screen.query_one(Input)
        assert palette_input.value == "/r"
        assert not bar.display  # the pane under the palette did not open its filter
