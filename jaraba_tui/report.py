"""The incident report: Markdown for the postmortem and the incident channel.

What it holds: who/what/when it was made from; the overall state; the current findings;
the state of every layer (its status, how fresh its data is, its one-line headline); the
timeline of events and actions, oldest first, with times (UTC) and who acted (audit
records carry the user). No textual here; every line is scrubbed of secrets.

Three sources feed :func:`build_report`: the console (its timeline and latest update), a
recording (every event and audit record in it, the state at its end), and a live poll
(one poll's state, and the profile's audit log for the actions).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jaraba_tui import __version__
from jaraba_tui.engine import LAYERS, EngineUpdate, LayerState
from jaraba_tui.model.events import Event
from jaraba_tui.model.findings import Finding, Severity, sort_findings, worst
from jaraba_tui.model.snapshot import StackSnapshot
from jaraba_tui.secrets import scrub
from jaraba_tui.ui.format import TITLES, age, layer_findings
from jaraba_tui.ui.summaries import headline

#: How far back a live report reads the audit log.
DEFAULT_SINCE = 24 * 3600.0


@dataclass(frozen=True)
class ReportEntry:
    """One line of the report's timeline. ``kind``: event, sentinel, action."""

    at: float
    severity: Severity
    component: str
    text: str
    kind: str = "event"
    who: str = ""


def utc(ts: float | None) -> str:
    if ts is None or ts <= 0:
        return "-"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def who_of(record: Mapping[str, Any]) -> str:
    """The person behind an audit record: the sudo caller, else the login; with the SSH
    client address when there is one."""
    who = record.get("who")
    if not isinstance(who, Mapping):
        return "someone"
    name = str(who.get("sudo_user") or who.get("user") or "someone")
    client = who.get("ssh_client")
    return f"{name} ({client})" if client else name


def entries_from_events(events: Iterable[Event], kind: str = "event") -> list[ReportEntry]:
    return [ReportEntry(e.timestamp, e.severity, e.component, e.message, kind) for e in events]


def entries_from_audit(
    records: Iterable[Mapping[str, Any]], profile: str | None = None
) -> list[ReportEntry]:
    """``started`` and ``finished`` records (of ``profile`` when given) as report lines."""
    out: list[ReportEntry] = []
    for r in records:
        if profile is not None and r.get("profile") != profile:
            continue
        event = r.get("event")
        if event not in ("started", "finished"):
            continue
        try:
            at = float(r.get("ts", 0.0))
        except (TypeError, ValueError):
            continue
        action = str(r.get("action", "?"))
        target = str(r.get("target", "?"))
        component = action.partition(".")[0] or "action"
        run = str(r.get("run_id", ""))[:8]
        if event == "started":
            forced = " with checks OVERRIDDEN" if r.get("forced") else ""
            how = str(r.get("confirmation") or "")
            text = f"started {action} on {target}{forced}" + (f" ({how})" if how else "")
            sev = Severity.WARN if r.get("dangerous") or r.get("forced") else Severity.OK
        else:
            status = str(r.get("status", "?"))
            outcome = r.get("outcome")
            message = ""
            if isinstance(outcome, Mapping):
                ver = outcome.get("verification")
                if isinstance(ver, Mapping) and ver.get("seen"):
                    message = str(ver["seen"])
                else:
                    message = str(outcome.get("message", ""))
            text = f"{action} on {target}: {status.upper()}" + (f": {message}" if message else "")
            sev = {
                "verified": Severity.OK,
                "not verified": Severity.WARN,
                "dry-run": Severity.OK,
            }.get(status, Severity.CRIT)
        if run:
            text += f" [run {run}]"
        out.append(ReportEntry(at, sev, component, text, "action", who_of(r)))
    return out


def _cell(text: object) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _sev(sev: Severity) -> str:
    return f"{sev.symbol} {sev.label}"


def layer_status(findings: Sequence[Finding], layer: str, state: LayerState) -> Severity:
    found = layer_findings(list(findings), layer)
    sev = worst(found) if found else Severity.UNKNOWN
    if state.stale and sev.rank < Severity.UNKNOWN.rank:
        return Severity.UNKNOWN
    return sev


def build_report(
    *,
    profile: str,
    environment: str,
    source: str,
    snapshot: StackSnapshot | None,
    findings: Sequence[Finding],
    states: Mapping[str, LayerState],
    entries: Iterable[ReportEntry],
    now: float,
    description: str = "",
    notes: Sequence[str] = (),
) -> str:
    """The report as Markdown (scrubbed). ``now`` is the moment the state is from."""
    ordered = sorted(entries, key=lambda e: e.at)
    made_by = os.environ.get("SUDO_USER") or _login()
    lines: list[str] = []
    lines.append(f"# Incident report: {profile} ({environment})")
    lines.append("")
    if description:
        lines.append(f"*{_cell(description)}*")
        lines.append("")
    lines.append(f"- State as of: **{utc(now)}**")
    lines.append(f"- Source: {source}")
    lines.append(
        f"- Written {utc(datetime.now(UTC).timestamp())} by {made_by} with jaraba-ops {__version__}"
    )
    if ordered:
        lines.append(f"- Timeline: {utc(ordered[0].at)} → {utc(ordered[-1].at)}")
    for note in notes:
        lines.append(f"- Note: {note}")
    lines.append("")
    problems = [f for f in findings if f.severity is not Severity.OK]
    overall = worst(findings) if findings else Severity.UNKNOWN
    counts = {
        s: sum(1 for f in problems if f.severity is s)
        for s in (Severity.CRIT, Severity.WARN, Severity.UNKNOWN)
    }
    summary = ", ".join(f"{n} {s.label.lower()}" for s, n in counts.items() if n) or "no problem"
    lines.append(f"**Overall: {_sev(overall)}** ({summary})")
    lines.append("")

    lines.append("## Current findings")
    lines.append("")
    if problems:
        lines.append("| severity | component | target | finding |")
        lines.append("|---|---|---|---|")
        for f in sort_findings(problems):
            lines.append(
                f"| {_sev(f.severity)} | {_cell(f.component)} | {_cell(f.target)} | "
                f"{_cell(f.message)} |"
            )
    else:
        lines.append("No problem found (every finding is OK)." if findings else "No findings.")
    lines.append("")

    lines.append("## State of every layer")
    lines.append("")
    lines.append("| layer | status | data | state |")
    lines.append("|---|---|---|---|")
    for layer in LAYERS:
        state = states.get(layer)
        configured = snapshot is not None and (
            getattr(snapshot, layer) not in (None, ()) or snapshot.failure(layer) is not None
        )
        if state is None and not configured:
            continue
        state = state or LayerState()
        sev = layer_status(findings, layer, state)
        if state.stale:
            fresh = f"STALE {age(state.age(now))}: {state.error}"
        elif state.last_ok_at is not None:
            fresh = f"fresh: {age(state.age(now))} old"
        else:
            fresh = "no data"
        text = headline(layer, snapshot) if snapshot is not None else "-"
        lines.append(f"| {TITLES[layer]} | {_sev(sev)} | {_cell(fresh)} | {_cell(text)} |")
    lines.append("")
    if snapshot is not None and snapshot.proxysql is not None and snapshot.proxysql.is_standin:
        lines.append("ProxySQL is the lab's STAND-IN, not a real ProxySQL.")
        lines.append("")

    lines.append("## Timeline")
    lines.append("")
    if ordered:
        lines.append("| time (UTC) | severity | component | who | what |")
        lines.append("|---|---|---|---|---|")
        for e in ordered:
            who = e.who or ("sentinel" if e.kind == "sentinel" else "-")
            lines.append(
                f"| {utc(e.at)} | {_sev(e.severity)} | {_cell(e.component)} | {_cell(who)} | "
                f"{_cell(e.text)} |"
            )
    else:
        lines.append("Nothing happened in the window this report covers.")
    lines.append("")
    actions = [e for e in ordered if e.kind == "action"]
    lines.append("## Actions")
    lines.append("")
    if actions:
        for e in actions:
            lines.append(f"- {utc(e.at)} **{_cell(e.who or '-')}**: {_cell(e.text)}")
    else:
        lines.append("No guarded action was run.")
    lines.append("")
    return scrub("\n".join(lines))


def _login() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid{os.getuid()}"


def report_from_update(
    update: EngineUpdate | None,
    *,
    profile: str,
    environment: str,
    source: str,
    entries: Iterable[ReportEntry],
    now: float,
    description: str = "",
    notes: Sequence[str] = (),
) -> str:
    return build_report(
        profile=profile,
        environment=environment,
        description=description,
        source=source,
        snapshot=update.snapshot if update is not None else None,
        findings=update.findings if update is not None else (),
        states=update.states if update is not None else {},
        entries=entries,
        now=now,
        notes=notes,
    )


def report_from_recording(path: Path | str) -> str:
    """The report of a whole recording: every event and action in it, the state at its end."""
    from jaraba_tui.record.reader import load_recording

    rec = load_recording(path)
    entries: list[ReportEntry] = []
    last: EngineUpdate | None = None
    for frame in rec.frames:
        if frame.update is not None:
            last = frame.update
            kind = "sentinel" if frame.update.layer == "sentinel" else "event"
            entries += entries_from_events(frame.update.events, kind)
    entries += entries_from_audit(rec.audit_records)
    notes = [f"the recording {rec.damage}"] if rec.damage else []
    return report_from_update(
        last,
        profile=rec.profile,
        environment=rec.environment,
        description=rec.description,
        source=f"recording {Path(path).name} ({utc(rec.start)} → {utc(rec.end)})",
        entries=entries,
        now=rec.end,
        notes=notes,
    )


def default_report_path(profile: str, now: float, directory: Path | None = None) -> Path:
    """``./jaraba-incident-<profile>-<UTC time>.md`` (the current directory, else the
    user's state directory when it is not writable)."""
    stamp = datetime.fromtimestamp(now, UTC).strftime("%Y%m%d-%H%M%S")
    name = f"jaraba-incident-{profile or 'stack'}-{stamp}.md"
    if directory is None:
        directory = Path.cwd()
        if not os.access(directory, os.W_OK):
            from platformdirs import user_state_dir

            directory = Path(user_state_dir("jaraba-ops")) / "reports"
    return directory / name


def write_report(text: str, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    return path


def live_report(profile: Any, *, since: float = DEFAULT_SINCE) -> str:
    """One poll of the profile's stack, and the actions of the last ``since`` seconds from
    its audit log."""
    import asyncio
    import time

    from jaraba_tui.actions.audit import AuditLog, default_audit_path
    from jaraba_tui.engine import replay_updates
    from jaraba_tui.wiring import model_thresholds, poll_once

    snap = asyncio.run(poll_once(profile))
    updates = replay_updates([snap], model_thresholds(profile))
    last = updates[-1] if updates else None
    now = time.time()
    path = default_audit_path(profile)
    records = [
        r for r in AuditLog(path).iter_records() if float(r.get("ts", 0.0) or 0.0) >= now - since
    ]
    notes = [
        "one poll sees the state, not its changes: the timeline holds the actions from the "
        f"audit log ({path}) of the last {since / 3600:g} h; the console's report key or "
        "`report --from-recording` add the events"
    ]
    return report_from_update(
        last,
        profile=profile.name,
        environment=profile.environment,
        description=profile.description,
        source=f"a live poll of profile {profile.name}",
        entries=entries_from_audit(records, profile.name),
        now=snap.collected_at or now,
        notes=notes,
    )
