"""SVG snapshots of the console on recorded lab snapshots (tests/fixtures/recorded), with a
fixed clock and UTC: the overview healthy and degraded at 80x24 and 120x40, every pane,
production, and the help. Update after a deliberate change with ``--snapshot-update`` and
look at the SVGs before committing them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from jaraba_tui.engine import EngineUpdate
from jaraba_tui.ui.app import JarabaApp
from tests.ui.helpers import PROD, degraded_updates, healthy_updates, make_app

SnapCompare = Callable[..., bool]


@pytest.fixture(scope="module")
def healthy() -> list[EngineUpdate]:
    return healthy_updates()


@pytest.fixture(scope="module")
def degraded() -> list[EngineUpdate]:
    return degraded_updates()


def settled(app: JarabaApp, last: EngineUpdate) -> Callable[[Pilot[Any]], Any]:
    async def run_before(pilot: Pilot[Any]) -> None:
        for _ in range(100):
            await pilot.pause()
            if app.latest is last:
                break
        assert app.latest is last
        await pilot.pause()

    return run_before


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_overview_healthy(
    snap_compare: SnapCompare, healthy: list[EngineUpdate], tmp_path: Path, size: tuple[int, int]
) -> None:
    app = make_app(healthy, tmp_path)
    assert snap_compare(app, terminal_size=size, run_before=settled(app, healthy[-1]))


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_overview_degraded(
    snap_compare: SnapCompare, degraded: list[EngineUpdate], tmp_path: Path, size: tuple[int, int]
) -> None:
    app = make_app(degraded, tmp_path)
    assert snap_compare(app, terminal_size=size, run_before=settled(app, degraded[-1]))


@pytest.mark.parametrize(
    "key",
    ["2", "3", "4", "5", "6", "7", "8"],
    ids=["galera", "proxysql", "haproxy", "redis", "alerts", "hosts-stale", "timeline"],
)
def test_pane_degraded(
    snap_compare: SnapCompare, degraded: list[EngineUpdate], tmp_path: Path, key: str
) -> None:
    app = make_app(degraded, tmp_path)
    assert snap_compare(
        app, press=[key], terminal_size=(120, 40), run_before=settled(app, degraded[-1])
    )


@pytest.mark.parametrize("key", ["2", "4", "5"], ids=["galera", "haproxy", "redis"])
def test_pane_80x24(
    snap_compare: SnapCompare, degraded: list[EngineUpdate], tmp_path: Path, key: str
) -> None:
    app = make_app(degraded, tmp_path)
    assert snap_compare(
        app, press=[key], terminal_size=(80, 24), run_before=settled(app, degraded[-1])
    )


def test_production_read_only_80x24(
    snap_compare: SnapCompare, healthy: list[EngineUpdate], tmp_path: Path
) -> None:
    app = make_app(healthy, tmp_path, info=PROD)
    assert snap_compare(app, terminal_size=(80, 24), run_before=settled(app, healthy[-1]))


def test_help_80x24(snap_compare: SnapCompare, healthy: list[EngineUpdate], tmp_path: Path) -> None:
    app = make_app(healthy, tmp_path)
    assert snap_compare(
        app, press=["question_mark"], terminal_size=(80, 24), run_before=settled(app, healthy[-1])
    )


@pytest.mark.parametrize("theme", ["jaraba-light", "jaraba-high-contrast", "jaraba-colourblind"])
def test_overview_degraded_in_each_theme(
    snap_compare: SnapCompare, degraded: list[EngineUpdate], tmp_path: Path, theme: str
) -> None:
    app = make_app(degraded, tmp_path, theme=theme)
    assert snap_compare(app, terminal_size=(120, 40), run_before=settled(app, degraded[-1]))
