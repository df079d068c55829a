"""The audit log as a feed for the console: new records since the last look (cheap: the file
is read from the remembered offset), turned into timeline entries, and the action lock's
holder as a header badge.

Works the same when another engineer on the same bastion appends to the same shared audit
file (the pairing feature): their ``started``, ``step`` and ``finished`` records appear in
this console's timeline while their action runs, and their lock in its header ("alice:
blue/green switch green, since 03:12 · step 1/2"); :class:`PairingFeed` also turns the
lock's changes into timeline entries (taken, released, STALE).

Everything shown comes from files other users may write: strings are reduced to printable
characters (no terminal escapes) and bounded, and a lock whose file belongs to another
(non-root) user than the one it names says so. No textual here.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jaraba_tui.actions.lock import LockHolder
from jaraba_tui.model.findings import Severity
from jaraba_tui.ui.commands import KIND_PANE, short_name
from jaraba_tui.ui.format import clock_time
from jaraba_tui.ui.ops import LockState
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


def clean(value: object, limit: int = 160) -> str:
    """``value`` as text fit for a screen: printable characters only, at most ``limit``."""
    text = str(value)
    out = "".join(c if c.isprintable() else "?" for c in text[:limit])
    return out + ("…" if len(text) > limit else "")


def who_of(record: Mapping[str, Any]) -> str:
    who = record.get("who")
    if isinstance(who, Mapping):
        name = who.get("sudo_user") or who.get("user")
        if name:
            return clean(name, 64)
    return "someone"


def _component(action: str, pane_of: Mapping[str, str]) -> str:
    return pane_of.get(action) or action.partition(".")[0] or "action"


def _plan_steps(record: Mapping[str, Any]) -> int | None:
    plan = record.get("plan")
    if isinstance(plan, Mapping) and isinstance(plan.get("steps"), list):
        return len(plan["steps"])
    return None


def entry_for(
    record: Mapping[str, Any],
    pane_of: Mapping[str, str],
    *,
    steps_of: Mapping[str, int] | None = None,
) -> TimelineEntry | None:
    """A timeline entry for a ``started``, ``step`` or ``finished`` record (None for
    others). ``steps_of``: run id -> its plan's number of steps (from its started record)."""
    event = record.get("event")
    if event not in ("started", "step", "finished"):
        return None
    try:
        at = float(record.get("ts", 0.0))
    except (TypeError, ValueError):
        return None
    action = clean(record.get("action", "?"), 64)
    target = clean(record.get("target", "?"), 120)
    who = who_of(record)
    component = _component(action, pane_of)
    if event == "started":
        dangerous = bool(record.get("dangerous"))
        forced = " (checks OVERRIDDEN)" if record.get("forced") else ""
        how = clean(record.get("confirmation") or "", 40)
        text = f"{who} started {action} {target}{forced}" + (f" ({how})" if how else "")
        sev = Severity.WARN if dangerous or forced else Severity.OK
        return TimelineEntry(at, sev, component, text, "action", target, who)
    if event == "step":
        step = record.get("step")
        if not isinstance(step, Mapping):
            return None
        total = (steps_of or {}).get(str(record.get("run_id", "")))
        index = clean(step.get("index", "?"), 8)
        of = f"/{total}" if total else ""
        status = clean(step.get("status", "?"), 16)
        text = f"{who}: {action} {target} step {index}{of} {status}: " + clean(
            step.get("title", ""), 100
        )
        detail = clean(step.get("detail") or "", 120)
        if detail and status != "ok":
            text += f" ({detail})"
        sev = Severity.OK if status == "ok" else Severity.CRIT
        return TimelineEntry(at, sev, component, text, "action", target, who)
    status = clean(record.get("status", "?"), 32)
    outcome = record.get("outcome")
    message = ""
    if isinstance(outcome, Mapping):
        verification = outcome.get("verification")
        if isinstance(verification, Mapping) and verification.get("seen"):
            message = clean(verification["seen"])  # the message repeats the status word
        else:
            message = clean(outcome.get("message", ""))
    sev = {"verified": Severity.OK, "not verified": Severity.WARN, "dry-run": Severity.OK}.get(
        status, Severity.CRIT
    )
    text = f"{who}: {action} {target} {status.upper()}" + (f": {message}" if message else "")
    return TimelineEntry(at, sev, component, text, "action", target, who)


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
    steps_of: Mapping[str, int] | None = None,
) -> list[TimelineEntry]:
    """Entries for this profile's ``started``/``step``/``finished`` records younger than
    ``max_age`` (the shared file on a bastion may hold other stacks' actions too)."""
    panes = pane_of if pane_of is not None else action_panes()
    limit = (now if now is not None else time.time()) - max_age
    out: list[TimelineEntry] = []
    for record in records:
        if record.get("profile") != profile:
            continue
        entry = entry_for(record, panes, steps_of=steps_of)
        if entry is not None and entry.at >= limit:
            out.append(entry)
    return out


def lock_badge(
    holder: LockHolder | None,
    exists: bool,
    stale: bool | None,
    *,
    owner: str | None = None,
    phase: str | None = None,
    this_host: str | None = None,
) -> str | None:
    """``alice: blue/green switch green, since 03:12 · step 1/2`` (None when nobody holds
    the lock). ``owner``: the lock file's owner (the OS says who wrote it): named when it
    is neither root nor the user the lock claims. ``phase``: how far its run is."""
    if not exists:
        return None
    if holder is None:
        return "action lock unreadable (damaged?)"
    user = clean(holder.user, 64)
    text = f"{user}: {clean(short_name(holder.action), 40)} {clean(holder.target, 80)}, since "
    text += clock_time(holder.since)[:5]
    if this_host is not None and holder.host != this_host:
        text += f" on {clean(holder.host, 64)}"
    if phase and not stale:
        text += f" · {phase}"
    if owner is not None and owner not in ("root", holder.user):
        text += f" (lock file owned by {owner})"
    if stale:
        text += " (STALE: its process is gone)"
    return text


@dataclass
class _Run:
    who: str
    action: str
    target: str
    steps: int | None = None
    done: int = 0
    finished: str | None = None


@dataclass
class PairingFeed:
    """What the shared audit log and the lock say, turned into timeline entries and the
    header's badge; remembers the runs it saw (steps, end) and the last lock it saw."""

    profile: str
    pane_of: Mapping[str, str]
    this_host: str | None = None
    runs: dict[str, _Run] = field(default_factory=dict)
    _lock_key: tuple[object, ...] | None = None
    _lock_stale: bool | None = None
    _lock_holder: LockHolder | None = None

    def records(
        self, records: Iterable[Mapping[str, Any]], now: float | None = None
    ) -> list[TimelineEntry]:
        mine = [r for r in records if r.get("profile") == self.profile]
        for r in mine:
            run_id = str(r.get("run_id", ""))
            event = r.get("event")
            if event == "started":
                self.runs[run_id] = _Run(
                    who_of(r),
                    clean(r.get("action", "?"), 64),
                    clean(r.get("target", "?"), 120),
                    _plan_steps(r),
                )
            elif run_id in self.runs and event == "step":
                step = r.get("step")
                if isinstance(step, Mapping) and isinstance(step.get("index"), int):
                    self.runs[run_id].done = step["index"]
            elif run_id in self.runs and event == "finished":
                self.runs[run_id].finished = clean(r.get("status", "?"), 32)
        steps_of = {k: v.steps for k, v in self.runs.items() if v.steps}
        if len(self.runs) > 500:  # bounded: forget the oldest finished runs
            for key in [k for k, v in self.runs.items() if v.finished][:250]:
                del self.runs[key]
        return timeline_entries(
            mine, self.profile, now=now, pane_of=self.pane_of, steps_of=steps_of
        )

    def phase(self, holder: LockHolder) -> str | None:
        """``confirming`` (lock taken, nothing started yet), ``step k/n``, ``verifying``."""
        if not holder.run_id:
            return None
        run = self.runs.get(holder.run_id)
        if run is None:
            return "checks/confirmation"
        if run.finished:
            return run.finished
        if run.steps and run.done >= run.steps:
            return "verifying"
        return f"step {run.done + 1}/{run.steps}" if run.steps else "running"

    def badge(self, lock: LockState) -> str | None:
        phase = self.phase(lock.holder) if lock.holder is not None else None
        return lock_badge(
            lock.holder,
            lock.exists,
            lock.stale,
            owner=lock.owner,
            phase=phase,
            this_host=self.this_host,
        )

    def lock_changes(self, lock: LockState, now: float) -> list[TimelineEntry]:
        """Timeline entries when the lock was taken, released, or became stale."""
        holder = lock.holder
        key: tuple[object, ...] | None = None
        if lock.exists:
            key = (
                ("unreadable",)
                if holder is None
                else (holder.user, holder.pid, holder.since, holder.run_id)
            )
        out: list[TimelineEntry] = []
        previous = self._lock_holder
        if key != self._lock_key:
            if self._lock_key is not None and previous is not None:
                out.append(self._released(previous, now))
            if holder is not None:
                what = f"{clean(holder.action, 64)} {clean(holder.target, 120)}"
                out.append(
                    TimelineEntry(
                        now,
                        Severity.OK,
                        _component(holder.action, self.pane_of),
                        f"{clean(holder.user, 64)} took the action lock: {what}",
                        "lock",
                        clean(holder.target, 120),
                    )
                )
            elif lock.exists:
                out.append(
                    TimelineEntry(
                        now, Severity.WARN, "action", "action lock unreadable (damaged?)", "lock"
                    )
                )
            self._lock_stale = None
        if holder is not None and lock.stale and not self._lock_stale:
            out.append(
                TimelineEntry(
                    now,
                    Severity.CRIT,
                    _component(holder.action, self.pane_of),
                    f"{clean(holder.user, 64)}'s action lock is STALE (pid {holder.pid} on "
                    f"{clean(holder.host, 64)} is gone): {clean(holder.action, 64)} "
                    f"{clean(holder.target, 120)}; clear it with "
                    "`jaraba-ops action --clear-stale-lock`",
                    "lock",
                    clean(holder.target, 120),
                )
            )
        self._lock_key, self._lock_holder = key, holder
        self._lock_stale = lock.stale if holder is not None else None
        return out

    def _released(self, holder: LockHolder, now: float) -> TimelineEntry:
        run = self.runs.get(holder.run_id) if holder.run_id else None
        held = max(0.0, now - holder.since)
        if run is None:
            how = "without acting (declined, refused or cleared)" if holder.run_id else ""
        else:
            how = f"(its run: {run.finished})" if run.finished else "before its run finished"
        text = (
            f"{clean(holder.user, 64)} released the action lock "
            f"({clean(holder.action, 64)} {clean(holder.target, 120)}, held {held:.0f}s)"
        )
        return TimelineEntry(
            now,
            Severity.OK,
            _component(holder.action, self.pane_of),
            text + (f" {how}" if how else ""),
            "lock",
            clean(holder.target, 120),
        )
