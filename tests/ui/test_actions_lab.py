"""End to end against the lab: the console (live engine, real actions framework) silences
an alert in the lab's real Alertmanager through the confirmation modal, sees it verified,
then undoes it (u: expire the silence) through a second modal; both runs are in the audit
log and the timeline.

The alert is this test's own (posted to Alertmanager with a unique label), so no other
engineer's alert is touched; the silence and the alert are cleaned up in a ``finally``.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from textual.pilot import Pilot

from jaraba_tui.actions.audit import AuditLog
from jaraba_tui.actions.context import ActionContext
from jaraba_tui.profile import load_profile
from jaraba_tui.resources import themes_dir
from jaraba_tui.ui.action_screen import ActionScreen
from jaraba_tui.ui.app import ConsoleInfo, JarabaApp
from jaraba_tui.ui.ops import ConsoleOps
from jaraba_tui.ui.source import engine_source
from jaraba_tui.ui.widgets.table import KeyedTable
from tests.labutil import require_lab
from tests.ui.helpers import until as app_until

pytestmark = pytest.mark.lab

AM = "http://127.0.0.1:9093"
ALERT = "JarabaOpsConsoleLabTest"


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


async def until(pilot: Pilot[Any], cond: Callable[[], bool], limit: float) -> bool:
    return await app_until(pilot, cond, limit, every=0.1)


async def post_alert(client: httpx.AsyncClient, run: str, ends: float) -> None:
    labels = {"alertname": ALERT, "severity": "info", "run": run}
    body = [
        {
            "labels": labels,
            "annotations": {"summary": "posted by tests/ui/test_actions_lab.py"},
            "startsAt": iso(time.time() - 5),
            "endsAt": iso(ends),
        }
    ]
    resp = await client.post(f"{AM}/api/v2/alerts", json=body)
    assert resp.status_code == 200, resp.text


async def fingerprint_of(client: httpx.AsyncClient, run: str) -> str | None:
    resp = await client.get(f"{AM}/api/v2/alerts", params={"filter": f'run="{run}"'})
    for alert in resp.json():
        if alert.get("labels", {}).get("run") == run:
            return str(alert["fingerprint"])
    return None


async def type_text(pilot: Pilot[Any], text: str) -> None:
    await pilot.press(*list(text))


async def confirm_and_run(pilot: Pilot[Any], screen: ActionScreen, name: str) -> None:
    assert await until(pilot, lambda: screen.phase not in ("params", "preparing"), 30)
    assert screen.phase == "ready", screen.snapshot_state()
    await type_text(pilot, name)
    await pilot.press("enter")
    assert await until(pilot, lambda: screen.phase == "done", 60)


async def test_silence_and_expire_through_the_modal_against_the_lab(tmp_path: Path) -> None:
    require_lab(9093, 9090)
    profile = load_profile("local")
    run = uuid.uuid4().hex[:12]
    audit = tmp_path / "audit.log"
    ops = ConsoleOps(ActionContext.create(profile, audit_path=audit))
    app = JarabaApp(
        ConsoleInfo.from_profile(profile),
        engine_source(profile),
        state_path=tmp_path / "ui.json",
        theme_dirs=[themes_dir()],
        ops=ops,
        audit_interval=0.5,
    )
    silence_id = ""
    async with httpx.AsyncClient(timeout=10) as client:
        await post_alert(client, run, time.time() + 600)
        try:
            fingerprint = None
            for _ in range(50):
                fingerprint = await fingerprint_of(client, run)
                if fingerprint:
                    break
                await asyncio.sleep(0.2)
            assert fingerprint, "Alertmanager did not take the test alert"
            async with app.run_test(size=(120, 40)) as pilot:
                await pilot.press("6")

                def offered() -> bool:
                    return fingerprint in app.action_targets("alert.silence")

                for _ in range(6):  # Alertmanager may list it 'unprocessed' for a moment
                    app.action_refresh_now("alerts")
                    if await until(pilot, offered, 10):
                        break
                assert offered()
                table = app.query_one("#alerts-table", KeyedTable)
                table.focus()
                assert await until(pilot, lambda: f"am:{fingerprint}" in table.shown_keys, 10)
                table.move_cursor(row=table.get_row_index(f"am:{fingerprint}"))
                await pilot.pause()
                assert app.desk.guard_target("alert.silence") == fingerprint

                # s: the form (comment required), the checks, the plan, the typed fingerprint
                await pilot.press("s")
                silence = app.screen
                assert isinstance(silence, ActionScreen) and silence.phase == "params"
                await type_text(pilot, "console lab test")
                await pilot.press("tab")
                duration = app.screen.query_one("#param-duration")
                duration.value = "10m"  # type: ignore[attr-defined]
                await pilot.press("enter")
                await confirm_and_run(pilot, silence, fingerprint)
                assert silence.outcome is not None
                assert silence.outcome.status == "verified", silence.outcome.message
                assert silence.outcome.undo_action is not None
                silence_id = silence.outcome.undo_action.target

                # u: the undo (expire the silence) in its own modal, its own typed name
                await pilot.press("u")
                assert await until(
                    pilot,
                    lambda: isinstance(app.screen, ActionScreen) and app.screen is not silence,
                    10,
                )
                expire = app.screen
                assert isinstance(expire, ActionScreen)
                assert (expire.action_name, expire.target) == ("alert.expire-silence", silence_id)
                await confirm_and_run(pilot, expire, silence_id)
                assert expire.outcome is not None
                assert expire.outcome.status == "verified", expire.outcome.message
                await pilot.press("enter")
                assert not isinstance(app.screen, ActionScreen)

                def in_timeline() -> bool:
                    msgs = [e.message for e in app.timeline if e.source == "action"]
                    return sum("VERIFIED" in m for m in msgs) == 2

                assert await until(pilot, in_timeline, 10)
            records = AuditLog(audit).records()
            events = [(r["action"], r["event"]) for r in records if r["event"] != "step"]
            assert events == [
                ("alert.silence", "started"),
                ("alert.silence", "finished"),
                ("alert.expire-silence", "started"),
                ("alert.expire-silence", "finished"),
            ]
            assert records[0]["params"]["comment"] == "console lab test"
            assert not ops.ctx.lock.path.exists()
        finally:
            if silence_id:  # expired already unless the test failed half-way
                await client.delete(f"{AM}/api/v2/silence/{silence_id}")
            await post_alert(client, run, time.time() - 1)  # resolve the test alert
