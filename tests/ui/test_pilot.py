"""Pilot tests of the console on recorded snapshots (a scripted update source)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from textual.message import Message
from textual.pilot import Pilot
from textual.widgets import ContentSwitcher

from jaraba_tui.engine import EngineUpdate
from jaraba_tui.resources import themes_dir
from jaraba_tui.ui import messages as msg
from jaraba_tui.ui.app import ConsoleInfo, JarabaApp
from jaraba_tui.ui.commands import COMMANDS
from jaraba_tui.ui.screens import HelpScreen
from jaraba_tui.ui.source import ScriptedSource, scripted
from jaraba_tui.ui.widgets.chrome import NavBar, StatusHeader
from jaraba_tui.ui.widgets.overview import EventList, LayerCard
from jaraba_tui.ui.widgets.pane import FilterInput
from jaraba_tui.ui.widgets.table import KeyedTable
from tests.labutil import REPO
from tests.ui.helpers import PROD, degraded_updates, healthy_updates, make_app


@pytest.fixture(scope="module")
def degraded() -> list[EngineUpdate]:
    return degraded_updates()


@pytest.fixture(scope="module")
def healthy() -> list[EngineUpdate]:
    return healthy_updates()


async def settle(pilot: Pilot[Any], app: JarabaApp, last: EngineUpdate | None = None) -> None:
    for _ in range(50):
        await pilot.pause()
        if last is None or app.latest is last:
            break
    await pilot.pause()


def pane(app: JarabaApp) -> str:
    return str(app.query_one(ContentSwitcher).current)


def text_of(widget: Any) -> str:
    rendered = widget.render()
    return str(getattr(rendered, "plain", rendered))


async def test_number_keys_jump_to_each_pane_and_brackets_cycle(
    degraded: list[EngineUpdate], tmp_path: Path
) -> None:
    app = make_app(degraded, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app, degraded[-1])
        assert pane(app) == "overview"
        names = ["galera", "proxysql", "haproxy", "redis", "alerts", "hosts", "timeline"]
        for key, name in zip("2345678", names, strict=True):
            await pilot.press(key)
            assert pane(app) == name
            assert app.query_one(NavBar).current == name
        await pilot.press("1")
        assert pane(app) == "overview"
        await pilot.press("right_square_bracket")
        assert pane(app) == "galera"
        await pilot.press("left_square_bracket", "left_square_bracket")
        assert pane(app) == "timeline"


async def test_updates_arrive_as_past_tense_messages(
    degraded: list[EngineUpdate], tmp_path: Path
) -> None:
    seen: list[Message] = []
    app = make_app(degraded, tmp_path)
    async with app.run_test(size=(100, 30), message_hook=seen.append) as pilot:
        await settle(pilot, app, degraded[-1])
    polled = [m for m in seen if isinstance(m, msg.LayerPolled)]
    failed = [m for m in seen if isinstance(m, msg.CollectorFailed)]
    assert len(polled) == len(degraded) - 1
    assert [m.layer for m in failed] == ["hosts"]
    assert "connection refused" in failed[0].error


async def test_filter_narrows_every_table_of_the_pane_and_escape_clears_it(
    degraded: list[EngineUpdate], tmp_path: Path
) -> None:
    app = make_app(degraded, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app, degraded[-1])
        await pilot.press("4")
        servers = app.query_one("#haproxy-servers", KeyedTable)
        assert servers.row_count == 6
        await pilot.press("slash")
        bar = app.screen.focused
        assert isinstance(bar, FilterInput)
        await pilot.press(*"app2")
        assert servers.shown_keys == ["bk_app_blue/app2", "bk_app_green/app2"]
        await pilot.press("space", *"blue")
        assert servers.shown_keys == ["bk_app_blue/app2"]
        await pilot.press("enter")  # keeps the filter, back to the table
        assert isinstance(app.screen.focused, KeyedTable)
        assert servers.row_count == 1
        await pilot.press("escape")
        assert servers.row_count == 6
        assert not app.query_one("#haproxy FilterInput").display
        await pilot.press("slash", *"!blue")
        assert servers.shown_keys == [f"bk_app_green/app{i}" for i in (1, 2, 3)]


async def test_keys_typed_into_the_filter_are_text_not_commands(
    degraded: list[EngineUpdate], tmp_path: Path
) -> None:
    app = make_app(degraded, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app, degraded[-1])
        await pilot.press("8", "slash", "2", "q", "p")
        assert pane(app) == "timeline"
        assert app.query_one("#timeline FilterInput", FilterInput).value == "2qp"
        assert app.is_running


async def test_overview_filter_narrows_the_newest_events(
    degraded: list[EngineUpdate], tmp_path: Path
) -> None:
    app = make_app(degraded, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app, degraded[-1])
        events = app.query_one(EventList)
        assert len(events.shown()) > 3
        await pilot.press("slash", *"failover")
        assert events.shown() and all("failover" in e.message for e in events.shown())


async def test_pause_and_refresh_reach_the_source(
    degraded: list[EngineUpdate], tmp_path: Path
) -> None:
    sink: list[ScriptedSource] = []
    app = JarabaApp(
        ConsoleInfo("local", "lab"),
        scripted(degraded, sink=sink),
        clock=lambda: degraded[-1].at,
        state_path=tmp_path / "ui.json",
        theme_dirs=[themes_dir()],
        tick=3600,
    )
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app, degraded[-1])
        source = sink[0]
        await pilot.press("p")
        assert (source.paused, app.paused) == (True, True)
        assert "PAUSED" in text_of(app.query_one(StatusHeader))
        await pilot.press("r")
        assert source.refreshes == [None]  # refresh works while paused
        await pilot.press("p")
        assert not source.paused
        assert "PAUSED" not in text_of(app.query_one(StatusHeader))
        console = [e for e in app.timeline if e.source == "console"]
        assert [e.message for e in console] == [
            "console: polling paused (p resumes)",
            "console: polling resumed",
        ]


async def test_help_lists_every_binding_with_its_key(
    degraded: list[EngineUpdate], tmp_path: Path
) -> None:
    app = make_app(degraded, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = str(app.screen.query_one("#help-text").render())
        # a replay has no profile: no action, no checklist (tests/ui/test_actions.py: with one)
        for cmd in COMMANDS:
            shown = not cmd.requires_profile
            assert (cmd.id in text) is shown, cmd.id
            if shown:
                assert cmd.title in text
        assert "2             " in text or "2 " in text
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


def test_every_binding_has_an_id_and_a_description() -> None:
    for binding in JarabaApp.BINDINGS:
        assert not isinstance(binding, tuple)
        assert binding.id and binding.description and binding.tooltip


async def test_palette_runs_navigation_from_the_registry(
    degraded: list[EngineUpdate], tmp_path: Path
) -> None:
    app = make_app(degraded, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"go to haproxy")
        for _ in range(20):
            await pilot.pause(0.05)
        await pilot.press("enter")
        await settle(pilot, app)
        assert pane(app) == "haproxy"


async def test_palette_offers_themes_and_switching_is_remembered(
    degraded: list[EngineUpdate], tmp_path: Path
) -> None:
    app = make_app(degraded, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        assert set(app.console_themes) >= {
            "jaraba-dark",
            "jaraba-light",
            "jaraba-high-contrast",
            "jaraba-colourblind",
        }
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"theme: jaraba-light")
        for _ in range(20):
            await pilot.pause(0.05)
        await pilot.press("enter")
        await settle(pilot, app)
        assert app.theme == "jaraba-light"
    assert json.loads((tmp_path / "ui.json").read_text())["theme"] == "jaraba-light"
    again = make_app(degraded, tmp_path, theme=None)
    async with again.run_test(size=(100, 30)) as pilot:
        assert again.theme == "jaraba-light"


async def test_a_broken_theme_file_falls_back_with_a_notice(tmp_path: Path) -> None:
    themes = tmp_path / "themes"
    themes.mkdir()
    (themes / "jaraba-dark.toml").write_text((themes_dir() / "jaraba-dark.toml").read_text())
    (themes / "broken.toml").write_text('name = "broken"\nprimary = "not-a-colour"\n')
    (themes / "garbage.toml").write_text("this is [not toml")
    app = make_app([], tmp_path, theme="broken", theme_dirs=[themes])
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.theme == "jaraba-dark"
        notices = " ".join(app.notices)
        assert "broken.toml" in notices and "not a colour" in notices
        assert "garbage.toml" in notices
        assert "'broken' is not available" in notices


async def test_stale_pane_keeps_its_data_and_says_for_how_long_and_why(
    degraded: list[EngineUpdate], tmp_path: Path
) -> None:
    app = make_app(degraded, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app, degraded[-1])
        card = app.query_one("#card-hosts", LayerCard)
        assert card.has_class("-stale")
        assert "STALE 24s" in text_of(card)
        assert not app.query_one("#card-redis", LayerCard).has_class("-stale")
        await pilot.press("7")
        await settle(pilot, app)
        assert app.query_one("#hosts-table", KeyedTable).shown_keys == ["lab"]
        status = str(app.query_one("#hosts-status").render())
        assert "STALE 24s" in status and "connection refused" in status
        assert "showing data from 00:00:25" in status


async def test_rows_are_updated_by_key_and_the_cursor_stays(
    degraded: list[EngineUpdate], tmp_path: Path
) -> None:
    sink: list[ScriptedSource] = []
    app = make_app(degraded, tmp_path, autoplay=False, sink=sink)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        source = sink[0]
        source.step(6)
        await settle(pilot, app, degraded[5])
        await pilot.press("2", "down")
        table = app.query_one("#galera-nodes", KeyedTable)
        assert table.cursor_row == 1
        on = table.cursor_key()
        keys_before = table.shown_keys
        source.step(len(degraded) - 6)
        await settle(pilot, app, degraded[-1])
        assert table.shown_keys == keys_before
        assert table.cursor_row == 1 and table.cursor_key() == on
        assert "DOWN" in table.get_cell("node3", "state").plain


async def test_overview_shows_live_colour_standin_and_worst_first(
    degraded: list[EngineUpdate], tmp_path: Path
) -> None:
    app = make_app(degraded, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app, degraded[-1])
        assert "LIVE ■ BLUE" in text_of(app.query_one("#card-haproxy"))
        assert "STAND-IN" in str(app.query_one("#card-proxysql").border_title)
        galera = text_of(app.query_one("#card-galera")).splitlines()
        assert galera[1].startswith("✗ cluster size 2/3")
        assert app.query_one("#card-galera").has_class("-crit")
        assert "✗ CRITICAL" in str(app.query_one("#card-galera").border_subtitle)


async def test_production_is_unmistakable_and_read_only_is_badged(
    healthy: list[EngineUpdate], tmp_path: Path
) -> None:
    app = make_app(healthy, tmp_path, info=PROD)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, healthy[-1])
        header = app.query_one(StatusHeader)
        assert header.has_class("-production") and app.screen.has_class("-production")
        text = text_of(header)
        assert "PRODUCTION" in text and "READ-ONLY" in text and "prod-eu" in text


async def test_a_remapped_key_works_and_shows_everywhere(
    degraded: list[EngineUpdate], tmp_path: Path
) -> None:
    keymap = 'goto-galera = "g"\nnot-a-binding = "x"\n'
    app = make_app(degraded, tmp_path, keymap=keymap)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        await pilot.press("g")
        assert pane(app) == "galera"
        assert app.query_one(NavBar).keys["galera"] == "g"
        assert any("not-a-binding" in n for n in app.notices)
        await pilot.press("question_mark")
        assert "g             Go to Galera" in str(app.screen.query_one("#help-text").render())


async def test_the_profile_remaps_keys_over_the_user_keymap(
    degraded: list[EngineUpdate], tmp_path: Path
) -> None:
    app = make_app(
        degraded,
        tmp_path,
        keymap='goto-galera = "g"\n',
        profile_keymap={"goto-galera": "G", "goto-redis": "R", "no-such-id": "z"},
    )
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        await pilot.press("G")
        assert pane(app) == "galera"
        await pilot.press("R")
        assert pane(app) == "redis"
        assert app.query_one(NavBar).keys["galera"] == "G"
        assert any("no-such-id" in n for n in app.notices)


def test_a_profile_keymap_is_validated_strictly(tmp_path: Path) -> None:
    from jaraba_tui.profile import ProfileError, load_profile

    text = (REPO / "profiles" / "local.toml").read_text()
    good = tmp_path / "good.toml"
    good.write_text(
        text.replace('name = "local"', 'name = "local"\nkeymap = { goto-galera = "g" }', 1)
    )
    assert load_profile(good).keymap == {"goto-galera": "g"}
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace('name = "local"', 'name = "local"\nkeymap = "g"', 1))
    with pytest.raises(ProfileError) as exc:
        load_profile(bad)
    assert "keymap" in str(exc.value)


class BrokenSource:
    layers: tuple[str, ...] = ("galera",)

    def __init__(self, emit: Any) -> None:
        self.emit = emit

    async def run(self) -> None:
        raise RuntimeError("engine bug")

    def refresh_now(self, layer: str | None = None) -> None: ...
    def pause(self) -> None: ...
    def resume(self) -> None: ...
    def pause_layer(self, layer: str) -> None: ...
    def resume_layer(self, layer: str) -> None: ...
    async def aclose(self) -> None: ...


async def test_a_failed_engine_worker_becomes_pane_state(tmp_path: Path) -> None:
    app = JarabaApp(
        ConsoleInfo("local", "lab"),
        BrokenSource,
        clock=lambda: 1_767_225_600.0,
        theme_dirs=[themes_dir()],
        tick=3600,
    )
    async with app.run_test(size=(100, 30)) as pilot:
        for _ in range(10):
            await pilot.pause()
        assert app.stopped is not None and "engine bug" in app.stopped
        assert "POLLING STOPPED" in text_of(app.query_one(StatusHeader))
        assert "polling stopped" in text_of(app.query_one("#card-galera"))
        assert app.is_running


async def test_q_quits_with_code_zero(degraded: list[EngineUpdate], tmp_path: Path) -> None:
    app = make_app(degraded, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0


async def test_full_collections_wait_for_the_next_keys_screen_after_the_heap_freeze(
    degraded: list[EngineUpdate], tmp_path: Path
) -> None:
    import gc

    from jaraba_tui.ui import app as app_module

    before = gc.get_threshold()
    app = make_app(degraded, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app, degraded[-1])
        if gc.get_freeze_count():
            pytest.skip("something else in this process froze the heap")
        app._freeze_heap()  # what the timer does 3 s after the first drawings
        assert gc.get_freeze_count() and gc.get_threshold()[2] == 1_000_000  # none on its own
        done = app._last_full_gc
        await pilot.press("2")
        await pilot.pause()
        assert app._last_full_gc == done  # not due: nothing ran
        app._last_full_gc -= app_module.FULL_GC_EVERY  # due now
        app._last_input = float("inf")  # never quiet: only a key's screen may run it
        app._collect_when_quiet()
        assert app._last_full_gc < done
        await pilot.press("3")
        for _ in range(20):
            await pilot.pause(0.02)
            if app._last_full_gc > done:
                break
        assert app._last_full_gc > done and pane(app) == "proxysql"
    assert gc.get_threshold() == before and not gc.get_freeze_count()  # restored at exit


async def test_collection_paused_for_the_start_is_back_on_when_the_panes_have_drawn(
    degraded: list[EngineUpdate], tmp_path: Path
) -> None:
    """The CLI pauses cyclic collection while the console starts (jaraba_tui.gcpause): the
    console turns it back on when its panes have drawn their first data (the heap freeze),
    and it is not on before that."""
    import gc

    from jaraba_tui import gcpause

    was = gc.isenabled()
    gc.enable()
    gcpause.pause()
    try:
        app = make_app(degraded, tmp_path)
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot, app, degraded[-1])
            assert not gc.isenabled()  # the timers (3 s, 5 s at most) have not fired yet
            app._freeze_heap()  # what the timer does 3 s after the first drawings
            assert gc.isenabled() and not gcpause.paused()
            await pilot.press("q")
            await pilot.pause()
    finally:
        gcpause.resume()
        (gc.enable if was else gc.disable)()


async def test_collection_paused_for_the_start_is_back_on_even_without_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No pane ever gets data (no update at all): collection is back on at the latest
    GC_PAUSE_AT_MOST seconds after the start (shortened here)."""
    import gc

    from jaraba_tui import gcpause
    from jaraba_tui.ui import app as app_module

    monkeypatch.setattr(app_module, "GC_PAUSE_AT_MOST", 0.2)
    was = gc.isenabled()
    gc.enable()
    gcpause.pause()
    try:
        app = make_app([], tmp_path)
        async with app.run_test(size=(100, 30)) as pilot:
            assert not gc.isenabled()
            for _ in range(50):
                await pilot.pause(0.05)
                if gc.isenabled():
                    break
            assert gc.isenabled() and app.latest is None
            await pilot.press("q")
            await pilot.pause()
    finally:
        gcpause.resume()
        (gc.enable if was else gc.disable)()
