"""Blue/green switch on the lab's real HAProxy (map over the runtime API, map file over SSH,
verification through the frontend on 8080), rollback, and the gate refusing a colour with
a server down. The live colour is restored in teardown."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from jaraba_tui.actions import ActionContext, ActionRefused, TypedConfirmer, run_action
from tests.actions.haproxy_lab import MAP, map_file, restore_servers, routing, runtime, states
from tests.actions.labkit import labctl, wait_until
from tests.labutil import require_lab

pytestmark = pytest.mark.lab


def set_routing(live: str) -> None:
    for key, value in (("live", live), ("canary", "none"), ("canary_pct", "0")):
        runtime(f"set map {MAP} {key} {value}")
    text = Path(MAP).read_text()
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    if {ln.split()[0]: ln.split()[1] for ln in lines}.get("live") != live:
        Path(MAP).write_text(f"live {live}\ncanary none\ncanary_pct 0\n")


@pytest.fixture
def colours() -> Iterator[tuple[str, str]]:
    """(live, idle) before the test; routing and servers restored after it."""
    require_lab(9999, 8080)
    restore_servers()
    live = routing().get("live", "blue")
    set_routing(live)
    yield live, ("green" if live == "blue" else "blue")
    set_routing(live)
    restore_servers()


async def test_switch_in_steps_then_roll_back(
    lab_ctx: ActionContext, colours: tuple[str, str]
) -> None:
    live, idle = colours
    # The profile's deploy step runs first, on the HAProxy host (here a harmless echo).
    bg = dataclasses.replace(
        lab_ctx.settings.bluegreen, deploy_command=("echo", "deploy", "{ref}", "to", "{colour}")
    )
    lab_ctx.settings = dataclasses.replace(lab_ctx.settings, bluegreen=bg)
    outcome = await run_action(
        lab_ctx,
        "bluegreen.switch",
        idle,
        {"steps": "10,50,100", "deploy": "v1.2.3"},
        confirmer=TypedConfirmer([idle]),
    )
    assert outcome.status == "verified", outcome.left_in
    deploy = outcome.steps[0]
    assert deploy.command == f"echo deploy v1.2.3 to {idle}"
    assert deploy.ok and f"deploy v1.2.3 to {idle}" in deploy.detail
    commands = [s.command for s in outcome.steps[1:]]
    assert commands[:2] == [f"set map {MAP} canary {idle}", f"set map {MAP} canary_pct 10"]
    assert f"set map {MAP} canary_pct 50" in commands
    assert f"set map {MAP} live {idle}" in commands
    assert routing() == {"live": idle, "canary": "none", "canary_pct": "0"}
    assert map_file() == routing(), "persisted for a reload"
    assert outcome.verification is not None and f"{idle} " in outcome.verification.seen
    assert outcome.undo_action is not None and outcome.undo_action.target == live

    back = await run_action(lab_ctx, "bluegreen.switch", live, confirmer=TypedConfirmer([live]))
    assert back.status == "verified", back.left_in
    assert routing()["live"] == live
    assert map_file()["live"] == live


async def test_switch_to_a_colour_with_a_server_down_is_refused(
    lab_ctx: ActionContext, colours: tuple[str, str]
) -> None:
    live, idle = colours
    assert labctl("fault", "app-stop", f"{idle}2").returncode == 0
    assert wait_until(lambda: states(f"bk_app_{idle}")["app2"] == "DOWN", 30)
    with pytest.raises(ActionRefused) as info:
        await run_action(lab_ctx, "bluegreen.switch", idle, confirmer=TypedConfirmer([idle]))
    text = str(info.value)
    assert f"every {idle} server UP" in text and "app2 DOWN" in text
    assert "smoke requests" in text  # the direct request to app2 fails too
    assert routing()["live"] == live
    assert lab_ctx.audit.records() == []


async def test_switch_to_the_live_colour_is_refused(
    lab_ctx: ActionContext, colours: tuple[str, str]
) -> None:
    live, _ = colours
    with pytest.raises(ActionRefused, match="nothing to switch"):
        await run_action(lab_ctx, "bluegreen.switch", live, confirmer=TypedConfirmer([live]))
