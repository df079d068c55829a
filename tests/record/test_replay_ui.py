"""The console on a recording (a slice of a real lab incident, tests/fixtures/recordings):
pause, step, seek, speed and the status line; read-only (no action can run); the audit
records in the timeline with who; the report key; an SVG snapshot."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from jaraba_tui.record import load_recording
from jaraba_tui.record.reader import Recording
from jaraba_tui.resources import themes_dir
from jaraba_tui.ui.action_screen import ActionScreen
from jaraba_tui.ui.commands import ConsoleCommands
from jaraba_tui.ui.replay import ReplayApp, SeekScreen
from tests.record.helpers import SMALL

SnapCompare = Callable[..., bool]


@pytest.fixture(scope="module")
def rec() -> Recording:
    return load_recording(SMALL)


def make(rec: Recording, tmp_path: Path, **kw: Any) -> ReplayApp:
    return ReplayApp(
        rec,
        theme="jaraba-dark",
        state_path=tmp_path / "state.json",
        keymap_path=tmp_path / "keymap.toml",
        theme_dirs=[themes_dir()],
        **kw,
    )


def reports(where: Path) -> list[Path]:
    return list(where.glob("jaraba-incident-local-*.md"))


def updates_seen(app: ReplayApp) -> int:
    return sum(1 for f in app.player.delivered() if f.update is not None)


async def test_pause_step_seek_speed_and_the_status_line(rec: Recording, tmp_path: Path) -> None:
    app = make(rec, tmp_path, paused=True)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        assert "REPLAY ❚❚ PAUSED x1" in app.bar_text()
        assert app.latest is None
        await pilot.press("n")
        assert updates_seen(app) == 1 and app.latest is not None
        first = app.latest.at
        await pilot.press("n", "n")
        assert updates_seen(app) == 3 and app.latest.at >= first
        assert f"update 3/{len(rec.updates)}" in app.bar_text()
        before = app.player.now
        await pilot.press("full_stop")
        assert app.player.now == pytest.approx(before + 10)
        assert app.latest is not None and app.latest.at <= app.player.now
        await pilot.press("greater_than_sign")
        assert app.player.now == pytest.approx(before + 70)
        await pilot.press("comma", "less_than_sign")
        assert app.player.now == pytest.approx(before)
        await pilot.press("plus", "plus", "minus", "plus")
        assert app.player.speed == 4.0 and "x4" in app.bar_text()
        await pilot.press("g")
        assert isinstance(app.screen, SeekScreen)
        await pilot.press(*"50%", "enter")
        mid = app.player.start + app.player.duration / 2
        assert app.player.now == pytest.approx(mid)
        await pilot.press("g", *"soon", "enter")  # unreadable: a notice, no move
        assert app.player.now == pytest.approx(mid)
        await pilot.press("space")
        assert not app.player.paused and "▶ PLAYING" in app.bar_text()
        await pilot.pause(0.5)
        assert app.player.now > mid  # it plays (x4)
        await pilot.press("p")  # the console's pause key pauses the replay
        assert app.player.paused


async def test_seeking_back_shows_exactly_the_past(rec: Recording, tmp_path: Path) -> None:
    app = make(rec, tmp_path, paused=True, start_at=rec.end)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        assert app.player.ended
        everything = len(app.timeline)
        assert any(e.source == "action" for e in app.timeline)
        await pilot.press("g", *"T+10", "enter")
        assert app.player.now == pytest.approx(rec.start + 10)
        assert all(e.at <= app.player.now for e in app.timeline)
        assert len(app.timeline) < everything
        assert app.latest is not None and app.latest.at <= app.player.now


async def test_actions_appear_with_who_and_the_lock_badge_follows(
    rec: Recording, tmp_path: Path
) -> None:
    started = next(f for f in rec.frames if f.record and f.record["event"] == "started")
    app = make(rec, tmp_path, paused=True, start_at=started.t)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        user = started.record["who"]["user"]  # type: ignore[index]
        texts = [e.message for e in app.timeline if e.source == "action"]
        assert any(t.startswith(f"{user} started bluegreen.switch") for t in texts), texts
        assert app.desk.lock_badge is not None and "blue/green switch" in app.desk.lock_badge
        await pilot.press("g", *"100%", "enter")
        assert app.desk.lock_badge is None  # both runs finished
        finished = [e.message for e in app.timeline if "VERIFIED" in e.message]
        assert len(finished) == 2


async def test_the_help_lists_the_replay_keys(rec: Recording, tmp_path: Path) -> None:
    app = make(rec, tmp_path, paused=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("question_mark")
        help_text = str(app.screen.query_one("#help-text").render())
        lines = help_text.splitlines()
        assert "Replay" in lines
        rows = {ln.split()[-1]: ln for ln in lines[lines.index("Replay") + 1 :] if ln.strip()}
        assert "seek to a time" in rows["replay-goto"] and rows["replay-goto"].split()[0] == "g"
        assert ">" in rows["replay-forward-1m"].split()[0]
        assert set(rows) >= {"replay-pause", "replay-step", "replay-slower", "replay-faster"}
        await pilot.press("escape")
        await pilot.press("n")  # the keys work once the help is closed
        assert updates_seen(app) == 1


async def test_no_action_can_run_in_a_replay(rec: Recording, tmp_path: Path) -> None:
    app = make(rec, tmp_path, paused=True, start_at=rec.end)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        assert app.ops is None and app.read_only and not app.can_act
        assert app.action_targets("bluegreen.switch") == ()
        await pilot.press("4")  # HAProxy: where drain (d) and switch (b) live
        for action in ("haproxy.drain", "bluegreen.switch"):
            assert not app.check_action("guarded", (action,))
        await pilot.press("d", "b", "c")
        assert len(app.screen_stack) == 1
        app.start_action("bluegreen.switch", "green")
        await pilot.pause()
        assert not any(isinstance(s, ActionScreen) for s in app.screen_stack)
        entries = ConsoleCommands(app.screen)._entries()
        assert not any("switch" in title.lower() for title, _, _ in entries)
        await pilot.press("r")
        assert app.replay_source is not None and app.replay_source.refused_refreshes == 0


async def test_report_key_writes_the_report_of_what_is_on_screen(
    rec: Recording, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    app = make(rec, tmp_path, paused=True, start_at=rec.end)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        await pilot.press("e")
        for _ in range(50):
            await pilot.pause(0.05)
            if reports(tmp_path):
                break
    (report,) = reports(tmp_path)
    text = report.read_text()
    assert text.startswith("# Incident report: local (lab)")
    assert "replay of the recording small-incident.jsonl.gz" in text
    assert "## Timeline" in text and "went DOWN" in text and "bluegreen.switch" in text
    assert "| HAProxy |" in text


def test_snapshot_replay_paused_at_the_rollback(
    snap_compare: SnapCompare, rec: Recording, tmp_path: Path
) -> None:
    last_action = max(f.t for f in rec.frames if f.record is not None)
    app = make(rec, tmp_path, paused=True, start_at=last_action)

    async def settle(pilot: Pilot[Any]) -> None:
        for _ in range(50):
            await pilot.pause()
            if app.player.now == last_action and app.latest is not None:
                break
        assert app.player.now == last_action
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=settle)
