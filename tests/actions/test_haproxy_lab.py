"""Drain an HAProxy server and make it ready again, on the lab's real HAProxy; the
last-UP-server check. Always on the idle colour's pool (no live traffic moves)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from jaraba_tui.actions import ActionContext, ActionRefused, TypedConfirmer, run_action
from tests.actions.haproxy_lab import idle_colour, restore_servers, states
from tests.actions.labkit import labctl, wait_until
from tests.labutil import require_lab

pytestmark = pytest.mark.lab


@pytest.fixture
def idle() -> Iterator[str]:
    require_lab(9999, 8080)
    restore_servers()
    yield idle_colour()
    restore_servers()


@pytest.mark.parametrize("maint", ["no", "yes"])
async def test_drain_then_ready_verified(lab_ctx: ActionContext, idle: str, maint: str) -> None:
    target = f"bk_app_{idle}/app1"
    outcome = await run_action(
        lab_ctx, "haproxy.drain", target, {"maint": maint}, confirmer=TypedConfirmer([target])
    )
    assert outcome.status == "verified", outcome.left_in
    assert states(f"bk_app_{idle}")["app1"] == ("MAINT" if maint == "yes" else "DRAIN")
    assert outcome.undo_action is not None and outcome.undo_action.action == "haproxy.ready"
    assert outcome.steps[0].command == f"set server {target} state drain"

    back = await run_action(lab_ctx, "haproxy.ready", target, confirmer=TypedConfirmer([target]))
    assert back.status == "verified", back.left_in
    assert states(f"bk_app_{idle}")["app1"] == "UP"
    runs = {outcome.run_id, back.run_id}
    events = [r["event"] for r in lab_ctx.audit.records() if r["run_id"] in runs]
    assert events.count("started") == 2 and events.count("finished") == 2


async def test_draining_the_last_up_server_is_refused(lab_ctx: ActionContext, idle: str) -> None:
    for n in (2, 3):
        assert labctl("fault", "app-stop", f"{idle}{n}").returncode == 0
    assert wait_until(
        lambda: states(f"bk_app_{idle}") == {"app1": "UP", "app2": "DOWN", "app3": "DOWN"}, 30
    ), states(f"bk_app_{idle}")
    target = f"bk_app_{idle}/app1"
    with pytest.raises(ActionRefused, match=f"app1 is the last UP active server of bk_app_{idle}"):
        await run_action(lab_ctx, "haproxy.drain", target, confirmer=TypedConfirmer([target]))
    assert states(f"bk_app_{idle}")["app1"] == "UP"
    assert lab_ctx.audit.records() == []


async def test_ready_on_a_server_in_service_is_refused(lab_ctx: ActionContext, idle: str) -> None:
    target = f"bk_app_{idle}/app2"
    with pytest.raises(ActionRefused, match="not drained or in maintenance"):
        await run_action(lab_ctx, "haproxy.ready", target, confirmer=TypedConfirmer([target]))
