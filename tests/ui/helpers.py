"""Build the console on recorded snapshots: deterministic clock, shipped themes, no user files."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from jaraba_tui.engine import EngineUpdate, StackMerger, replay_updates
from jaraba_tui.model.snapshot import StackSnapshot
from jaraba_tui.resources import themes_dir
from jaraba_tui.transport.base import TransportError
from jaraba_tui.ui.app import ConsoleInfo, JarabaApp
from jaraba_tui.ui.ops import ConsoleOps
from jaraba_tui.ui.source import ScriptedSource, scripted
from tests.engine.fakes import recorded

LAB = ConsoleInfo("local", "lab", "Local lab on 127.0.0.1 (seed Quick Start ports)")
PROD = ConsoleInfo("prod-eu", "production", "Jaraba production, eu-west", read_only=True)


def healthy_updates() -> list[EngineUpdate]:
    return replay_updates(recorded("healthy"))


def degraded_updates(*, stale: str | None = "hosts") -> list[EngineUpdate]:
    """The degraded recording, then (by default) a failed poll of ``stale``: its pane shows
    the last data marked stale."""
    snaps: list[StackSnapshot] = recorded("degraded")
    now = [snaps[0].collected_at]
    merger = StackMerger(profile="local", environment="lab", clock=lambda: now[0])
    out = []
    for snap in snaps:
        now[0] = snap.collected_at
        for layer in ("galera", "proxysql", "haproxy", "redis", "alerts", "hosts"):
            out.append(merger.merge(layer, snap))
    if stale is not None:
        now[0] = snaps[-1].collected_at + 12.0
        out.append(
            merger.merge(
                stale,
                TransportError("ssh lab: connection refused", kind="refused", endpoint="ssh lab"),
            )
        )
        now[0] += 12.0
    return out


def fixed_clock(updates: list[EngineUpdate], later: float = 12.0) -> float:
    return updates[-1].at + later


def make_app(
    updates: list[EngineUpdate],
    tmp_path: Path,
    *,
    info: ConsoleInfo = LAB,
    autoplay: bool = True,
    sink: list[ScriptedSource] | None = None,
    theme: str | None = "jaraba-dark",
    theme_dirs: list[Path] | None = None,
    keymap: str | None = None,
    ops: ConsoleOps | None = None,
    profile_keymap: dict[str, str] | None = None,
) -> JarabaApp:
    now = fixed_clock(updates) if updates else 1_767_225_600.0
    keymap_path = tmp_path / "keymap.toml"
    if keymap is not None:
        keymap_path.write_text(keymap)
    return JarabaApp(
        info,
        scripted(updates, autoplay=autoplay, sink=sink),
        theme=theme,
        clock=lambda: now,
        state_path=tmp_path / "ui.json",
        keymap_path=keymap_path,
        theme_dirs=theme_dirs if theme_dirs is not None else [themes_dir()],
        tick=3600.0,
        ops=ops,
        audit_interval=3600.0,  # tests read the audit log with app.poll_audit()
        profile_keymap=profile_keymap,
    )


async def until(
    pilot: Pilot[Any], cond: Callable[[], bool], limit: float = 5.0, every: float = 0.02
) -> bool:
    """Let the app run until ``cond()`` (checked every ``every`` s of its loop), at most
    ``limit`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while loop.time() < deadline:
        if cond():
            return True
        await pilot.pause(every)
    return cond()
