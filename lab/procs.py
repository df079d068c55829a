"""Process bookkeeping for the lab: spawn, record, probe and stop by recorded PID.

Every process the lab starts is recorded in ``$STATE/pids/<name>.json`` with its PID and
its start time (field 22 of /proc/PID/stat), so a recycled PID is never mistaken for
ours and ``down`` never signals a process the lab did not start.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


def state_dir() -> Path:
    explicit = os.environ.get("JARABA_LAB_DIR")
    if explicit:
        return Path(explicit).resolve()
    xdg = os.environ.get("XDG_STATE_HOME")
    if xdg:
        return Path(xdg).resolve() / "jaraba-lab"
    return Path("/tmp/jaraba-lab")


MARKER = ".jaraba-lab"


@dataclass(frozen=True)
class Record:
    name: str
    pid: int
    start_time: int
    argv: list[str]
    log: str


def _proc_start_time(pid: int) -> int | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # comm may contain spaces and parentheses: split after the last ')'.
    rest = raw[raw.rfind(")") + 2 :].split()
    return int(rest[19])


def _proc_state(pid: int) -> str | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rfind(")") + 2 :].split()[0]


class Procs:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.pid_dir = root / "pids"
        self.log_dir = root / "logs"

    def ensure(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / MARKER).write_text("jaraba lab state directory\n")
        self.pid_dir.mkdir(exist_ok=True)
        self.log_dir.mkdir(exist_ok=True)

    def _path(self, name: str) -> Path:
        return self.pid_dir / f"{name}.json"

    def record(self, name: str) -> Record | None:
        try:
            data = json.loads(self._path(name).read_text())
        except (OSError, ValueError):
            return None
        return Record(**data)

    def names(self) -> list[str]:
        if not self.pid_dir.is_dir():
            return []
        return sorted(p.stem for p in self.pid_dir.glob("*.json"))

    def alive(self, name: str) -> bool:
        rec = self.record(name)
        return rec is not None and self._is_ours(rec)

    def pid(self, name: str) -> int | None:
        rec = self.record(name)
        return rec.pid if rec is not None and self._is_ours(rec) else None

    @staticmethod
    def _is_ours(rec: Record) -> bool:
        state = _proc_state(rec.pid)
        if state is None or state in ("Z", "X"):
            return False
        return _proc_start_time(rec.pid) == rec.start_time

    def spawn(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> Record:
        if self.alive(name):
            rec = self.record(name)
            assert rec is not None
            return rec
        log = self.log_dir / f"{name}.log"
        full_env = dict(os.environ)
        if env:
            full_env.update(env)
        with open(log, "ab") as out:
            proc = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=full_env,
                cwd=cwd,
                start_new_session=True,
            )
        start = _proc_start_time(proc.pid)
        rec = Record(name, proc.pid, start or 0, list(argv), str(log))
        self._path(name).write_text(json.dumps(rec.__dict__))
        return rec

    def send(self, name: str, sig: signal.Signals) -> bool:
        rec = self.record(name)
        if rec is None or not self._is_ours(rec):
            return False
        try:
            os.kill(rec.pid, sig)
        except ProcessLookupError:
            return False
        return True

    def stop(
        self, name: str, *, timeout: float = 20.0, sig: signal.Signals = signal.SIGTERM
    ) -> bool:
        """Signal the recorded process and wait for it to go; SIGKILL after ``timeout``."""
        rec = self.record(name)
        if rec is None:
            return False
        sent = self.send(name, sig)
        deadline = time.monotonic() + timeout
        while sent and self._is_ours(rec) and time.monotonic() < deadline:
            time.sleep(0.1)
        if self._is_ours(rec):
            self.send(name, signal.SIGKILL)
            end = time.monotonic() + 5
            while self._is_ours(rec) and time.monotonic() < end:
                time.sleep(0.05)
        self._path(name).unlink(missing_ok=True)
        return sent

    def kill9(self, name: str) -> bool:
        rec = self.record(name)
        ok = self.send(name, signal.SIGKILL)
        if rec is not None:
            end = time.monotonic() + 5
            while self._is_ours(rec) and time.monotonic() < end:
                time.sleep(0.05)
        self._path(name).unlink(missing_ok=True)
        return ok

    def log_tail(self, name: str, lines: int = 15) -> str:
        path = self.log_dir / f"{name}.log"
        try:
            return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def port_open(port: int, host: str = "127.0.0.1", timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


class StopWaiting(RuntimeError):
    """Raised by a probe to end :func:`wait_for` at once (the thing it waits for died)."""


def _probe(check: Callable[[], object]) -> bool:
    try:
        return bool(check())
    except StopWaiting:
        raise
    except Exception:  # a failing probe just means "not yet"
        return False


def wait_for(check: Callable[[], object], timeout: float, interval: float = 0.25) -> bool:
    """Poll ``check()`` until it returns truthy or ``timeout`` seconds pass.

    A probe that raises counts as "not yet", except :class:`StopWaiting`, which a probe
    raises on purpose to stop waiting early (e.g. the process it waits for died).
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _probe(check):
            return True
        time.sleep(interval)
    return _probe(check)
