"""One action at a time per stack: a lock file next to the audit log.

The file holds who took it (user, SSH client, host, pid and the pid's start time), for which
action and since when. It is created atomically (written to a temporary file, then
``link``-ed into place, which fails if a lock exists), so a reader never sees it half
written. A lock whose process is gone on this host (or whose pid now belongs to another
process) is *stale*: it is reported as such and can be cleared explicitly
(``jaraba-ops action --clear-stale-lock``); it is never taken over silently.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path

from jaraba_tui.actions.audit import Who, iso
from jaraba_tui.actions.types import ActionRefused
from jaraba_tui.collectors.common import Serialisable


def lock_path(audit_path: Path, profile_name: str) -> Path:
    """``<audit dir>/<audit file>.<profile>.lock``: one lock per stack, beside its log."""
    return audit_path.parent / f"{audit_path.name}.{profile_name}.lock"


def process_start_time(pid: int) -> int | None:
    """Field 22 of /proc/PID/stat (clock ticks since boot), None if no such process."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    try:
        return int(raw[raw.rfind(")") + 2 :].split()[19])
    except (IndexError, ValueError):
        return None


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True


@dataclass(frozen=True)
class LockHolder(Serialisable):
    user: str
    ssh_client: str | None
    host: str
    pid: int
    pid_start: int | None
    action: str
    target: str
    profile: str
    since: float
    run_id: str = ""

    @classmethod
    def for_run(
        cls, who: Who, *, action: str, target: str, profile: str, run_id: str = ""
    ) -> LockHolder:
        return cls(
            user=who.name,
            ssh_client=who.ssh_client,
            host=who.host,
            pid=who.pid,
            pid_start=process_start_time(who.pid),
            action=action,
            target=target,
            profile=profile,
            since=time.time(),
            run_id=run_id,
        )

    def describe(self, now: float | None = None) -> str:
        age = max(0.0, (now if now is not None else time.time()) - self.since)
        where = f" from {self.ssh_client}" if self.ssh_client else ""
        return (
            f"{self.user}{where} (pid {self.pid} on {self.host}) runs {self.action} "
            f"{self.target} since {iso(self.since)} ({_age(age)} ago)"
        )


def _age(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def is_stale(holder: LockHolder, *, this_host: str | None = None) -> bool | None:
    """True: its process is gone (or the pid was reused). False: it runs. None: it was
    taken on another host, whose processes this one cannot see."""
    host = this_host or socket.gethostname()
    if holder.host != host:
        return None
    if not pid_alive(holder.pid):
        return True
    if holder.pid_start is not None:
        start = process_start_time(holder.pid)
        if start is not None and start != holder.pid_start:
            return True
    return False


class LockHeld(ActionRefused):
    def __init__(self, path: Path, holder: LockHolder | None, stale: bool | None) -> None:
        self.path = path
        self.holder = holder
        self.stale = stale
        if holder is None:
            msg = f"the action lock {path} exists but cannot be read (a damaged lock)"
            hint = "; clear it with `jaraba-ops action --clear-stale-lock` if nobody acts now"
        else:
            msg = f"another action is in progress: {holder.describe()}"
            hint = (
                f"; its process is gone: the lock is STALE. Clear it with "
                f"`jaraba-ops action --clear-stale-lock` (lock file {path})"
                if stale
                else (
                    f"; it was taken on {holder.host}: if that process is gone, remove {path}"
                    if stale is None
                    else "; wait for it to finish"
                )
            )
        super().__init__(msg + hint)


class ActionLock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._mine: LockHolder | None = None

    @property
    def held(self) -> bool:
        return self._mine is not None

    def read(self) -> tuple[bool, LockHolder | None]:
        """(exists, holder); holder None when the file exists but is unreadable."""
        try:
            raw = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return False, None
        except OSError:
            return True, None
        try:
            data = json.loads(raw)
            return True, LockHolder(**data)
        except (ValueError, TypeError):
            return True, None

    def holder(self) -> LockHolder | None:
        return self.read()[1]

    def acquire(self, holder: LockHolder) -> None:
        """Take the lock or raise :class:`LockHeld` naming who holds it and since when."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.{time.monotonic_ns()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
        try:
            os.write(fd, json.dumps(holder.to_dict()).encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, self.path)
        except FileExistsError:
            exists, current = self.read()
            stale = True if (exists and current is None) else None
            if current is not None:
                stale = is_stale(current)
            raise LockHeld(self.path, current, stale) from None
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        self._mine = holder

    def release(self) -> None:
        """Remove the lock if (and only if) it is still the one this object took."""
        mine, self._mine = self._mine, None
        if mine is None:
            return
        _, current = self.read()
        if current == mine:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()

    def clear_stale(self) -> LockHolder | None:
        """Remove a stale (or unreadable) lock; returns whose it was. Refuses a live one."""
        exists, current = self.read()
        if not exists:
            raise ActionRefused(f"no action lock at {self.path}: nothing to clear")
        if current is not None:
            stale = is_stale(current)
            if stale is False:
                raise ActionRefused(
                    f"the lock is not stale: {current.describe()}; it is not cleared"
                )
            if stale is None:
                raise ActionRefused(
                    f"the lock was taken on {current.host}, whose processes cannot be checked "
                    f"from here ({current.describe()}); if you know it is gone, remove {self.path}"
                )
        # Move it aside first so a lock taken meanwhile by someone else is never deleted.
        aside = self.path.with_name(f".{self.path.name}.stale.{os.getpid()}")
        try:
            self.path.rename(aside)
        except FileNotFoundError:
            return current
        moved = ActionLock(aside).read()[1]
        if moved != current:
            with contextlib.suppress(OSError):
                os.link(aside, self.path)  # not the one we judged: put it back
            aside.unlink(missing_ok=True)
            raise ActionRefused("the lock changed while clearing it; nothing was cleared")
        aside.unlink(missing_ok=True)
        return current
