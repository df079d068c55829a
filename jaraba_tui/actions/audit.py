"""The audit log: append-only JSON lines, one shared file per bastion if the profile says so.

Created group-writable (0660, less the umask) so the engineers of one group can share it
(pairing: each console shows the others' actions); see the README for a bastion's setup.

Every executed action writes a ``started`` record (fsynced before its first step), one
``step`` record per step and a ``finished`` record. Refused and declined actions write
nothing. Every string is passed through :func:`jaraba_tui.secrets.scrub` before it is
written, so a secret revealed in this process can never reach the file.
"""

from __future__ import annotations

import contextlib
import fcntl
import ipaddress
import json
import os
import pwd
import socket
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jaraba_tui.collectors.common import Serialisable, to_jsonable
from jaraba_tui.secrets import scrub

if TYPE_CHECKING:
    from jaraba_tui.profile import Profile

AUDIT_FORMAT = 1
APP_NAME = "jaraba-ops"


def default_audit_path(profile: Profile) -> Path:
    """``profile.audit_log``, else ``<user state dir>/jaraba-ops/audit.log``."""
    if profile.audit_log:
        return Path(profile.audit_log)
    from platformdirs import user_state_dir

    return Path(user_state_dir(APP_NAME)) / "audit.log"


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Who(Serialisable):
    """Who runs the action: the login, the sudo caller, the SSH client address, where.

    The login is the OS's: the passwd name of the real uid (``uid1234`` without an entry),
    never ``$USER``/``$LOGNAME``, which anyone can set. ``$SUDO_USER`` names the person only
    when the process runs as root (sudo sets it there; root could write anything anyway);
    set by an ordinary user it is ignored. Pairing consoles show these names, so one
    engineer cannot make their actions appear as another's beyond what the OS allows.
    """

    user: str
    sudo_user: str | None
    ssh_client: str | None
    host: str
    pid: int
    uid: int | None = None

    @classmethod
    def current(cls, environ: Mapping[str, str] | None = None, *, uid: int | None = None) -> Who:
        env = os.environ if environ is None else environ
        real_uid = os.getuid() if uid is None else uid
        sudo_user = env.get("SUDO_USER") or None
        return cls(
            user=login_name(real_uid),
            sudo_user=_printable(sudo_user) if sudo_user and real_uid == 0 else None,
            ssh_client=ssh_client_address(env),
            host=socket.gethostname(),
            pid=os.getpid(),
            uid=real_uid,
        )

    @property
    def label(self) -> str:
        """``alice`` / ``root (sudo by alice)`` / ``alice from 10.0.0.7``: for a human."""
        text = self.user
        if self.sudo_user and self.sudo_user != self.user:
            text += f" (sudo by {self.sudo_user})"
        if self.ssh_client:
            text += f" from {self.ssh_client}"
        return text

    @property
    def name(self) -> str:
        """The person: the sudo caller when there is one, else the login."""
        return self.sudo_user or self.user


def login_name(uid: int) -> str:
    """The passwd name of ``uid`` (``uid1234`` when it has none: containers)."""
    try:
        return pwd.getpwuid(uid).pw_name
    except (KeyError, OSError):
        return f"uid{uid}"


def _printable(text: str, limit: int = 64) -> str:
    """Only printable characters (no terminal escapes), at most ``limit`` of them."""
    return "".join(c if c.isprintable() else "?" for c in text[:limit])


def ssh_client_address(env: Mapping[str, str]) -> str | None:
    """The client's address from ``SSH_CLIENT`` ("ip port lport") or ``SSH_CONNECTION``:
    an address, or None (a value that is not one is ignored)."""
    for key in ("SSH_CLIENT", "SSH_CONNECTION"):
        value = env.get(key, "").split()
        if value:
            try:
                return str(ipaddress.ip_address(value[0]))
            except ValueError:
                return None
    return None


def scrubbed(value: Any) -> Any:
    """Every string inside ``value`` (JSON-ready data) with known secrets replaced."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, Mapping):
        return {scrub(str(k)): scrubbed(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrubbed(v) for v in value]
    return value


class AuditLog:
    """One JSON object per line; appended under an exclusive ``flock`` and fsynced."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)

    def append(self, record: Mapping[str, Any]) -> dict[str, Any]:
        data = scrubbed(to_jsonable(dict(record)))
        assert isinstance(data, dict)
        line = json.dumps(data, ensure_ascii=False, sort_keys=False, separators=(",", ":"))
        payload = (line + "\n").encode("utf-8")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o660)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                view = memoryview(payload)
                while view:
                    written = os.write(fd, view)
                    view = view[written:]
                os.fsync(fd)
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
        return data

    def record(
        self, event: str, run_id: str, *, who: Who, profile: Profile, **fields: Any
    ) -> dict[str, Any]:
        now = time.time()
        return self.append(
            {
                "format": AUDIT_FORMAT,
                "event": event,
                "run_id": run_id,
                "time": iso(now),
                "ts": round(now, 3),
                "who": who,
                "profile": profile.name,
                "environment": profile.environment,
                **fields,
            }
        )

    def records(self) -> list[dict[str, Any]]:
        """Every record (lines that are not JSON objects are skipped)."""
        return list(self.iter_records())

    def iter_records(self) -> Iterator[dict[str, Any]]:
        with contextlib.suppress(FileNotFoundError), open(self.path, encoding="utf-8") as f:
            for line in f:
                try:
                    data = json.loads(line)
                except ValueError:
                    continue
                if isinstance(data, dict):
                    yield data

    def run_records(self, run_id: str) -> list[dict[str, Any]]:
        return [r for r in self.iter_records() if r.get("run_id") == run_id]
