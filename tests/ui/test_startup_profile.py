"""The console's start with its profile validated by the engine child (issue 6, start-up).

``jaraba-ops`` forks the engine first; the child loads and validates the profile and sends
the console its facts (:class:`~jaraba_tui.engine.process.ProfileFacts`), or nothing when the
profile does not load (the console then loads it itself: the same message and exit code).
The console builds its guarded actions' side (``ops``) after the first full frame, or at the
first key or click before it, so that key finds what it asks for.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from jaraba_tui.engine import EngineUpdate
from jaraba_tui.engine.process import (
    EXIT_FAILED,
    fork_engine_loading,
    kill_engine,
    read_profile_verdict,
)
from jaraba_tui.model.snapshot import LAYERS
from jaraba_tui.profile import ProfileError, load_profile
from jaraba_tui.resources import themes_dir
from jaraba_tui.ui.app import JarabaApp
from jaraba_tui.ui.ops import ConsoleOps
from jaraba_tui.ui.process_source import ProcessEngineSource
from jaraba_tui.ui.screens import HelpScreen, help_text
from jaraba_tui.ui.source import scripted
from tests.labutil import REPO, require_lab
from tests.probes import imported_after
from tests.ui.action_fakes import make_ops
from tests.ui.helpers import LAB, fixed_clock, healthy_updates, until

BOUND = 60.0


def _app(
    updates: list[EngineUpdate],
    tmp_path: Path,
    later: Callable[[], ConsoleOps],
    prepare: Callable[[], object] | None = None,
    audit_interval: float = 3600.0,
    **kw: Any,
) -> JarabaApp:
    now = fixed_clock(updates)
    return JarabaApp(
        LAB,
        scripted(updates, **kw),
        theme="jaraba-dark",
        clock=lambda: now,
        state_path=tmp_path / "ui.json",
        keymap_path=tmp_path / "keymap.toml",
        theme_dirs=[themes_dir()],
        tick=3600.0,
        audit_interval=audit_interval,
        ops_later=later,
        ops_prepare=prepare,
    )


def counted_ops(
    tmp_path: Path, updates: list[EngineUpdate]
) -> tuple[ConsoleOps, list[ConsoleOps], Callable[[], ConsoleOps]]:
    """Scripted actions' ops, the list of their builds, and the ``ops_later`` that builds."""
    ops, _ = make_ops(tmp_path, updates[-1].snapshot)
    built: list[ConsoleOps] = []

    def later() -> ConsoleOps:
        built.append(ops)
        return ops

    return ops, built, later


async def test_the_actions_are_built_once_after_the_first_full_frame(tmp_path: Path) -> None:
    updates = healthy_updates()
    ops, built, later = counted_ops(tmp_path, updates)
    app = _app(updates, tmp_path, later)
    async with app.run_test(size=(120, 40)) as pilot:
        assert await until(
            pilot, lambda: app.latest is not None and set(app.latest.states) >= set(LAYERS)
        )
        assert await until(pilot, lambda: app.ops is not None)
        assert built == [ops] and app.desk.ops is ops and app.desk.can_act
        await pilot.press("4")
        await pilot.pause(0.3)
        assert built == [ops]  # once
        bound = {b.binding.action for b in app.screen.active_bindings.values()}
        assert "app.guarded('bluegreen.switch')" in bound  # the footer has the action keys


async def test_a_key_before_them_builds_them_first_and_is_not_lost(tmp_path: Path) -> None:
    updates = healthy_updates()
    ops, built, later = counted_ops(tmp_path, updates)
    app = _app(updates, tmp_path, later, autoplay=False)  # no data: no full frame
    async with app.run_test(size=(120, 40)) as pilot:
        assert built == []
        await pilot.press("?")
        assert await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        assert built == [ops] and app.ops is ops
        shown = help_text(app, 120).plain  # what needs a profile to act on is listed
        assert "Deployment checklist" in shown and "drain" in shown.lower()


async def test_actions_that_cannot_be_built_are_said_and_the_console_goes_on(
    tmp_path: Path,
) -> None:
    updates = healthy_updates()

    def later() -> ConsoleOps:
        raise ProfileError("environment variable X is not set", key="k", fix="export X")

    app = _app(updates, tmp_path, later, autoplay=False)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await pilot.press("4", "c")  # c: the checklist needs them
        await pilot.pause(0.2)
        assert app.ops is None and app.current_pane == "haproxy"
        assert any("guarded actions unavailable" in n.message for n in app._notifications)


async def test_a_pane_key_does_not_wait_for_them(tmp_path: Path) -> None:
    """Keys that need no action (panes, cursor) are handled while the actions' side is
    still to be built; a key that needs it builds it first."""
    updates = healthy_updates()
    ops, built, later = counted_ops(tmp_path, updates)
    app = _app(updates, tmp_path, later, autoplay=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("4", "down", "2")
        await pilot.pause(0.1)
        assert app.current_pane == "galera" and built == []
        await pilot.press("4", "b")  # b: the blue/green switch, an action key
        assert built == [ops] and app.ops is ops


async def test_the_profile_is_prepared_on_a_thread_then_attached(tmp_path: Path) -> None:
    import threading

    updates = healthy_updates()
    ops, _ = make_ops(tmp_path, updates[-1].snapshot)
    prepared_on: list[str] = []
    built_on: list[str] = []

    def prepare() -> object:
        prepared_on.append(threading.current_thread().name)
        return None

    def later() -> ConsoleOps:
        built_on.append(threading.current_thread().name)
        return ops

    # the audit feed's timer, started when the actions attach, ticks within the test: it
    # must run in the app's context (a timer made from the thread's callback had no app)
    app = _app(updates, tmp_path, later, prepare, audit_interval=0.05)
    async with app.run_test(size=(120, 40)) as pilot:
        assert await until(pilot, lambda: app.ops is not None)
        main = threading.current_thread().name
        assert prepared_on == ["jaraba-ops-prepare"] and built_on == [main]
        assert app.desk.ops is ops
        await pilot.pause(0.3)  # a few audit ticks


def test_a_profile_that_does_not_load_ends_the_child_before_anything_runs(
    tmp_path: Path,
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\nenvironment = "lab"\n[galera\n')
    engine, verdict = fork_engine_loading(str(bad))
    try:
        assert read_profile_verdict(verdict) is None
        _, status = os.waitpid(engine.pid, 0)
        assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == EXIT_FAILED
        assert os.read(engine.updates_fd, 100) == b""  # nothing was polled or said
    finally:
        kill_engine(engine.pid)
        os.close(engine.updates_fd)
        os.close(engine.control_fd)


def test_a_bad_profile_gives_the_console_the_same_message_and_code(tmp_path: Path) -> None:
    """With the engine child (the default) as in-process (JARABA_ENGINE=thread)."""
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\nenvironment = "lab"\n[galera]\nnodes = 3\n')
    with pytest.raises(ProfileError) as raised:
        load_profile(bad)
    outs = []
    for engine in ("process", "thread"):
        env = {**os.environ, "PYTHONPATH": str(REPO), "JARABA_ENGINE": engine}
        out = subprocess.run(
            [sys.executable, "-m", "jaraba_tui", "--profile", str(bad)],
            capture_output=True,
            text=True,
            env=env,
            timeout=BOUND,
            stdin=subprocess.DEVNULL,
        )
        outs.append((out.returncode, out.stdout, out.stderr))
    assert outs[0] == outs[1] == (2, "", str(raised.value) + "\n")


@pytest.mark.lab
async def test_the_child_validates_the_profile_then_polls_the_lab() -> None:
    require_lab(3307, 6032, 8404, 6379, 26379, 9090, 9093, 2222)
    profile = load_profile("local")
    engine, verdict = fork_engine_loading("local")
    facts = read_profile_verdict(verdict)
    assert facts is not None
    src = ProcessEngineSource(engine, profile=facts.name, environment=facts.environment)
    try:
        assert (facts.name, facts.environment, facts.description, facts.read_only) == (
            profile.name,
            profile.environment,
            profile.description,
            profile.read_only,
        )
        assert facts.keymap == dict(profile.keymap)
        assert facts.profile() == profile and facts.profile() is facts.profile()
        seen: list[EngineUpdate] = []
        every = asyncio.Event()

        def got(update: EngineUpdate) -> None:
            seen.append(update)
            if {u.layer for u in seen} >= set(LAYERS):
                every.set()

        src.attach(got)
        runner = asyncio.create_task(src.run())
        await asyncio.wait_for(every.wait(), BOUND)
        await src.aclose()
        await asyncio.wait_for(runner, BOUND)
    finally:
        src.stop()


async def test_quitting_before_them_does_not_build_them(tmp_path: Path) -> None:
    updates = healthy_updates()
    built: list[str] = []

    def later() -> ConsoleOps:
        built.append("built")
        raise AssertionError("built on the way out")

    app = _app(updates, tmp_path, later, autoplay=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("q")
        await pilot.pause(0.1)
    assert built == [] and app.return_value == 0


def test_the_first_frame_imports_none_of_the_actions_machinery() -> None:
    """What the console imports before its first frame (``import_console``) leaves out the
    actions' modal, their console side (``ConsoleOps``), the audit feed and the runner: they
    are imported with the actions, on the thread after the first full frame."""
    loaded, _ = imported_after(
        "from jaraba_tui.ui import import_console\nimport_console()",
        (
            "jaraba_tui.ui.app",
            "jaraba_tui.ui.action_screen",
            "jaraba_tui.ui.ops",
            "jaraba_tui.ui.audit_feed",
            "jaraba_tui.actions.runner",
            "jaraba_tui.actions.lock",
        ),
    )
    assert loaded == ["jaraba_tui.ui.app"]  # the app, and none of the actions' machinery
