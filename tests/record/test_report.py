"""The incident report's Markdown: findings worst first, every layer, the timeline oldest
first with who acted, table cells that cannot break the table, no secret."""

from __future__ import annotations

from jaraba_tui.model.findings import Severity
from jaraba_tui.report import (
    ReportEntry,
    entries_from_audit,
    entries_from_events,
    report_from_update,
)
from jaraba_tui.secrets import register_secret_value
from tests.record.helpers import audit_record, updates


def test_the_report_of_the_degraded_lab_recording() -> None:
    ups = updates()
    last = ups[-1]
    events = [e for u in ups for e in u.events]
    entries = [
        *entries_from_events(events),
        *entries_from_audit(
            [
                audit_record("started", last.at - 5, forced=True, confirmation="typed"),
                audit_record("finished", last.at - 4),
                audit_record("step", last.at - 4.5),
                {**audit_record("started", last.at - 3), "profile": "other"},
            ],
            "local",
        ),
    ]
    text = report_from_update(
        last, profile="local", environment="lab", source="test", entries=entries, now=last.at
    )
    assert text.startswith("# Incident report: local (lab)")
    problems = [f for f in last.findings if f.severity is not Severity.OK]
    assert problems
    worst_first = text.index(problems[0].message.replace("|", "\\|"))
    assert worst_first > text.index("## Current findings")
    for layer in ("Galera", "ProxySQL", "HAProxy", "Redis/Sentinel", "Alerts", "Hosts"):
        assert f"| {layer} |" in text
    assert "STALE" in text  # the fixture's last poll of hosts failed
    timeline = text[text.index("## Timeline") : text.index("## Actions")]
    rows = [r for r in timeline.splitlines() if r.startswith("| 20")]
    assert len(rows) == len(events) + 2  # step records and other profiles are left out
    assert rows == sorted(rows, key=lambda r: r.split(" | ")[0])
    actions = text[text.index("## Actions") :]
    assert "**alice (10.0.0.7)**: started haproxy.drain on bk_app_blue/app2 with checks" in actions
    assert "haproxy.drain on bk_app_blue/app2: VERIFIED: app2 is DRAIN" in actions


def test_cells_are_escaped_and_secrets_scrubbed() -> None:
    secret = "p4ss-in-a-report-test"
    register_secret_value(secret)
    entry = ReportEntry(1.0, Severity.CRIT, "redis", f"a | b\nc {secret}", "event")
    text = report_from_update(
        None, profile="p", environment="lab", source="t", entries=[entry], now=2.0
    )
    assert secret not in text
    assert "a \\| b c ***" in text
    assert "No findings." in text
