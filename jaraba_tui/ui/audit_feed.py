"""The audit log as a feed for the console: new records since the last look (cheap: the file
is read from the remembered offset), turned into timeline entries, and the action lock's
holder as a header badge.

Works the same when another engineer on the same bastion appends to the same shared audit
file: their ``started``/``finished`` records appear in this console's timeline, and their
lock in its header (the pairing feature). No textual here.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from jaraba_tui.actions.lock import LockHolder
from jaraba_tui.model.findings import Severity
from jaraba_tui.ui.commands import KIND_PANE, short_name
from jaraba_tui.ui.format import clock_time
from jaraba_tui.ui.widgets.timeline import TimelineEntry

#: On the first look, only the end of an old audit file is read (recent history).
BACKLOG_BYTES = 256 * 1024
#: ... and only records younger than this become timeline entries.
BACKLOG_SECONDS = 24 * 3600.0


class AuditTail:
    """Reads the complete lines appended to a JSON-lines file since the last call.

    The first call starts ``backlog`` bytes before the end (at a line start). A file that
    shrank or was replaced (another inode: rotation) is read again from its start. A line
    still being written (no newline yet) waits for the next call.
    """

    def __init__(self, path: Path | str, *, backlog: int = BACKLOG_BYTES) -> None:
        self.path = Path(path)
        self.backlog = backlog
        self.offset: int | None = None
        self._inode: int | None = None

    def read_new(self) -> list[dict[str, Any]]:
        try:
            st = self.path.stat()
        except OSError:
            if self.offset is None:
                self.offset, self._inode = 0, None
            return []
        first = self.offset is None
        if not first and (st.st_ino != self._inode or st.st_size < (self.offset or 0)):
            self.offset = 0  # rotated or truncated: everything in it is new
        start = max(0, st.st_size - self.backlog) if first else (self.offset or 0)
        self._inode = st.st_ino
        if st.st_size <= start:
            self.offset = start
            return []
        with open(self.path, "rb") as f:
            f.seek(start)
            data = f.read(st.st_size - start)
        skip = 0
        if first and start > 0:  # started mid-line: drop the partial first line
            nl = data.find(b"\n")
            skip = len(data) if nl < 0 else nl + 1
        end = data.rfind(b"\n")
        if end < skip:
            self.offset = start + skip
            return []
        self.offset = start + end + 1
        out: list[dict[str, Any]] = []
        for line in data[skip : end + 1].splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict):
                out.append(record)
        return out


def who_of(record: Mapping[str, Any]) -> str:
    who = record.get("who")
    if isinstance(who, Mapping):
        name = who.get("sudo_user") or who.get("user")
        if name:
            return str(name)
    return "someone"


def _component(action: str, pane_of: Mapping[str, str]) -> str:
    return pane_of.get(action) or action.partition(".")[0] or "action"


def entry_for(record: Mapping[str, Any], pane_of: Mapping[str, str]) -> TimelineEntry | None:
    """A timeline entry for a ``started`` or ``finished`` record (None for the others)."""
    event = record.get("event")
    if event not in ("started", "finished"):
        return None
    try:
        at = float(record.get("ts", 0.0))
    except (TypeError, ValueError):
        return None
    action = str(record.get("action", "?"))
    target = str(record.get("target", "?"))
    who = who_of(record)
    component = _component(action, pane_of)
    if event == "started":
        dangerous = bool(record.get("dangerous"))
        forced = " (checks OVERRIDDEN)" if record.get("forced") else ""
        how = str(record.get("confirmation") or "")
        text = f"{who} started {action} {target}{forced}" + (f" ({how})" if how else "")
        sev = Severity.WARN if dangerous or forced else Severity.OK
        return TimelineEntry(at, sev, component, text, "action", target)
    status = str(record.get("status", "?"))
    outcome = record.get("outcome")
    message = ""
    if isinstance(outcome, Mapping):
        verification = outcome.get("verification")
        if isinstance(verification, Mapping) and verification.get("seen"):
            message = str(verification["seen"])  # the message repeats the status word
        else:
            message = str(outcome.get("message", ""))
    sev = {"verified": Severity.OK, "not verified": Severity.WARN, "dry-run": Severity.OK}.get(
        status, Severity.CRIT
    )
    text = f"{who}: {action} {target} {status.upper()}" + (f": {message}" if message else "")
    return TimelineEntry(at, sev, component, text, "action", target)


def action_panes() -> dict[str, str]:
    """action name -> the pane (timeline component) it acts on."""
    from jaraba_tui.actions.registry import all_actions

    return {a.name: KIND_PANE.get(a.target_kind, "") for a in all_actions()}


def timeline_entries(
    records: Iterable[Mapping[str, Any]],
    profile: str,
    *,
    now: float | None = None,
    max_age: float = BACKLOG_SECONDS,
    pane_of: Mapping[str, str] | None = None,
) -> list[TimelineEntry]:
    """Entries for this profile's ``started``/``finished`` records younger than ``max_age``
    (the shared file on a bastion may hold other stacks' actions too)."""
    panes = pane_of if pane_of is not None else action_panes()
    limit = (now if now is not None else time.time()) - max_age
    out: list[TimelineEntry] = []
    for record in records:
        if record.get("profile") != profile:
            continue
        entry = entry_for(record, panes)
        if entry is not None and entry.at >= limit:
            out.append(entry)
    return out


def lock_badge(holder: LockHolder | None, exists: bool, stale: bool | None) -> str | None:
    """``alice: blue/green switch green, since 03:12`` (None when nobody holds the lock)."""
    if not exists:
        return None
    if holder is None:
        return "action lock unreadable (damaged?)"
    text = f"{holder.user}: {short_name(holder.action)} {holder.target}, since "
    text += clock_time(holder.since)[:5]
    if stale:
        text += " (STALE: its process is gone)"
    return text
