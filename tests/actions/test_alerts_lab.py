"""Silence an alert and expire the silence on the lab's real Alertmanager; the CLI's
read-only and refusal paths. The alert is a synthetic one posted by the test (unique labels),
resolved again in teardown: nothing else in the lab is silenced."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from jaraba_tui.actions import (
    ActionContext,
    ActionRefused,
    TypedConfirmer,
    run_action,
)
from jaraba_tui.actions.cli import EXIT_REFUSED
from jaraba_tui.actions.cli import main as action_cli
from tests.actions.labkit import wait_until
from tests.labutil import require_lab

pytestmark = pytest.mark.lab
AM = "http://127.0.0.1:9093"


def _post_alert(labels: dict[str, str], minutes: float) -> None:
    now = datetime.now(UTC)
    body = [
        {
            "labels": labels,
            "annotations": {"summary": "jaraba-ops action test alert"},
            "startsAt": now.isoformat(),
            "endsAt": (now + timedelta(minutes=minutes)).isoformat(),
        }
    ]
    httpx.post(f"{AM}/api/v2/alerts", json=body, timeout=5).raise_for_status()


@pytest.fixture
def test_alert() -> Iterator[dict[str, str]]:
    require_lab(9093)
    labels = {
        "alertname": "JarabaOpsActionTest",
        "instance": f"test-{uuid.uuid4().hex[:8]}",
        "severity": "info",
    }
    _post_alert(labels, 10)
    found: dict[str, str] = {}

    def listed() -> bool:
        for a in httpx.get(f"{AM}/api/v2/alerts", timeout=5).json():
            if a["labels"].get("instance") == labels["instance"]:
                found["fingerprint"] = a["fingerprint"]
                return True
        return False

    assert wait_until(listed, 15), "Alertmanager did not list the test alert"
    yield {**labels, **found}
    for s in httpx.get(f"{AM}/api/v2/silences", timeout=5).json():
        values = {m["value"] for m in s["matchers"]}
        if labels["instance"] in values and s["status"]["state"] != "expired":
            httpx.delete(f"{AM}/api/v2/silence/{s['id']}", timeout=5)
    _post_alert(labels, 0)  # resolve it


async def test_silence_then_expire_verified_and_audited(
    lab_ctx: ActionContext, test_alert: dict[str, str]
) -> None:
    fp = test_alert["fingerprint"]
    outcome = await run_action(
        lab_ctx,
        "alert.silence",
        fp,
        {"comment": "action test: silence", "duration": "10m"},
        confirmer=TypedConfirmer([fp]),
    )
    assert outcome.status == "verified", outcome.message
    sid = outcome.steps[0].data["silence_id"]
    async with httpx.AsyncClient(timeout=5) as http:
        silence = (await http.get(f"{AM}/api/v2/silence/{sid}")).json()
    assert silence["createdBy"] == "tester"
    assert silence["comment"] == "action test: silence"
    assert {m["name"]: m["value"] for m in silence["matchers"]} == {
        k: v for k, v in test_alert.items() if k != "fingerprint"
    }
    assert outcome.undo_action is not None and outcome.undo_action.target == sid

    expired = await run_action(
        lab_ctx, "alert.expire-silence", sid, confirmer=TypedConfirmer([sid])
    )
    assert expired.status == "verified", expired.message
    async with httpx.AsyncClient(timeout=5) as http:
        state = (await http.get(f"{AM}/api/v2/silence/{sid}")).json()["status"]["state"]
    assert state == "expired"
    events = [(r["run_id"], r["event"]) for r in lab_ctx.audit.records()]
    for run in (outcome.run_id, expired.run_id):
        assert [e for r, e in events if r == run] == ["started", "step", "finished"]


async def test_refused_silences_leave_no_audit_record(
    lab_ctx: ActionContext, test_alert: dict[str, str]
) -> None:
    with pytest.raises(ActionRefused, match="no alert with fingerprint or name"):
        await run_action(
            lab_ctx,
            "alert.silence",
            "NoSuchAlertAnywhere",
            {"comment": "x"},
            confirmer=TypedConfirmer(["NoSuchAlertAnywhere"]),
        )
    with pytest.raises(ActionRefused, match="comment is required"):
        await run_action(
            lab_ctx, "alert.silence", test_alert["fingerprint"], confirmer=TypedConfirmer([])
        )
    assert lab_ctx.audit.records() == []


def test_cli_read_only_lists_nothing_and_refuses(tmp_path: Path) -> None:
    require_lab(9093)
    out = io.StringIO()
    assert action_cli(["--list"], profile_name="local", read_only=True, out=out) == 0
    assert "read-only: no actions" in out.getvalue()
    code = action_cli(
        ["alert.silence", "Anything", "--comment", "x", "--yes"],
        profile_name="local",
        read_only=True,
        out=io.StringIO(),
    )
    assert code == EXIT_REFUSED


def test_cli_dry_run_prints_the_plan_and_changes_nothing(test_alert: dict[str, str]) -> None:
    out = io.StringIO()
    code = action_cli(
        ["alert.silence", test_alert["fingerprint"], "--comment", "dry", "--dry-run"],
        profile_name="local",
        read_only=False,
        out=out,
    )
    text = out.getvalue()
    assert code == 0, text
    assert "POST /api/v2/silences" in text and "dry run: nothing was changed" in text
    silences = httpx.get(f"{AM}/api/v2/silences", timeout=5).json()
    assert not any(test_alert["instance"] in {m["value"] for m in s["matchers"]} for s in silences)


def test_cli_wrong_typed_name_changes_nothing(test_alert: dict[str, str]) -> None:
    out = io.StringIO()
    code = action_cli(
        ["alert.silence", test_alert["fingerprint"], "--comment", "typo test"],
        profile_name="local",
        read_only=False,
        out=out,
        ask=lambda prompt: "not-the-fingerprint",
    )
    assert code == 5
    assert "nothing was changed" in out.getvalue()
    silences = httpx.get(f"{AM}/api/v2/silences", timeout=5).json()
    assert not any(test_alert["instance"] in {m["value"] for m in s["matchers"]} for s in silences)
