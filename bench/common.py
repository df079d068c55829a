"""Shared helpers of the benchmarks: load average, lab health, /proc readings, a tmux driver,
generated profiles, figures and result files.

Nothing here asserts a time: a benchmark measures, records the load average next to each
figure, and compares with its budget in the summary (machines are noisy: medians, ratios).
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import re
import secrets
import select
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
#: Result files; JARABA_BENCH_RESULTS sends a trial run's JSON elsewhere (not the committed set).
RESULTS = Path(os.environ.get("JARABA_BENCH_RESULTS", BENCH / "results"))
LABCTL = REPO / "lab" / "labctl.py"
LOCAL_PROFILE = REPO / "profiles" / "local.toml"
#: Where generated profiles, configs and logs of throwaway servers go (never in the repo).
WORK = Path(os.environ.get("JARABA_BENCH_DIR", "/tmp/jaraba-bench"))
#: The interpreter's own bin dir: the real console script, not a pyenv shim (a shim adds a
#: bash start-up to every launch, which is not the console's cost).
BIN = Path(sys.executable).parent
DOLPHIE = Path(os.environ.get("BENCH_DOLPHIE", "/tmp/dolphie-venv/bin/dolphie"))
TMUX_SOCKET = os.environ.get("JARABA_BENCH_TMUX", "jaraba-bench")  # own socket per runner
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def jaraba_ops() -> str:
    exe = BIN / "jaraba-ops"
    return str(exe) if exe.exists() else (shutil.which("jaraba-ops") or "jaraba-ops")


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def log(msg: str) -> None:
    print(f"  [{time.strftime('%H:%M:%S')} load {loadavg()[0]:.2f}] {msg}", flush=True)


# -- statistics -------------------------------------------------------------------------------


def pct(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..1)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def dist(values: Sequence[float], nd: int = 1) -> dict[str, Any]:
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        "p50": round(statistics.median(values), nd),
        "p95": round(pct(values, 0.95), nd),
        "min": round(min(values), nd),
        "max": round(max(values), nd),
    }


def slope_per_min(samples: Sequence[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, value) samples, per minute."""
    if len(samples) < 2:
        return 0.0
    xs = [s[0] for s in samples]
    ys = [s[1] for s in samples]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    den = sum((x - mx) ** 2 for x in xs)
    if den == 0:
        return 0.0
    return 60 * sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / den


# -- figures and results ----------------------------------------------------------------------


@dataclass
class Figure:
    """One measured number, its budget (``op`` "<=" or ">="; None: informational) and how it
    was produced (command, load average at the time)."""

    id: str
    label: str
    value: float | None
    unit: str
    budget: float | None = None
    op: str = "<="
    load: list[float] = field(default_factory=loadavg)
    command: str = ""
    note: str = ""

    @property
    def met(self) -> bool | None:
        if self.budget is None or self.value is None:
            return None
        return self.value <= self.budget if self.op == "<=" else self.value >= self.budget

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "label": self.label,
            "value": self.value,
            "unit": self.unit,
            "budget": self.budget,
            "op": self.op,
            "met": self.met,
            "load": self.load,
            "command": self.command,
            "note": self.note,
        }


def git_state() -> dict[str, Any]:
    """The commit measured, and product files that differed from it (the working tree is
    shared: other engineers' uncommitted changes are part of what ran)."""

    def git(*args: str) -> str:
        proc = subprocess.run(["git", *args], capture_output=True, text=True, cwd=REPO)
        return proc.stdout.strip()

    dirty = [
        line[3:]
        for line in git("status", "--porcelain").splitlines()
        if line[3:].startswith(("jaraba_tui/", "themes/", "profiles/", "pyproject.toml"))
    ]
    return {"head": git("rev-parse", "--short", "HEAD"), "dirty_product_files": dirty}


def result(name: str, figures: Iterable[Figure], **details: Any) -> dict[str, Any]:
    return {
        "benchmark": name,
        "when": now_iso(),
        "host": platform.node(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "git": git_state(),
        "figures": [f.as_dict() for f in figures],
        **details,
    }


def write_result(name: str, data: Mapping[str, Any]) -> Path:
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{name}.json"
    tmp = out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str) + "\n")
    tmp.replace(out)
    return out


# -- the lab ----------------------------------------------------------------------------------


def labctl(*args: str, timeout: float = 300) -> tuple[int, str]:
    proc = subprocess.run(
        [sys.executable, str(LABCTL), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
    )
    return proc.returncode, proc.stdout + proc.stderr


def lab_status() -> tuple[bool, list[str]]:
    """(healthy, problem lines): every component UP and Galera at full size."""
    try:
        _, out = labctl("status", timeout=60)
    except subprocess.TimeoutExpired:
        return False, ["labctl status timed out"]
    lines = out.splitlines()
    col = lines[0].find("STATE") if lines else -1
    if col < 0:
        return False, [out.strip()[:200] or "labctl status printed nothing"]
    problems = []
    for line in lines[1:]:
        if not line.strip():
            continue
        state = line[col:].strip()
        if not state.startswith("UP") or ("size" in state and "size 3" not in state):
            problems.append(re.sub(r"\s+", " ", line.strip()))
    return not problems, problems


def wait_lab_healthy(limit: float = 120.0, *, quiet: bool = False) -> dict[str, Any]:
    """Wait (bounded) for a healthy lab: other engineers inject faults. Returns what was seen;
    a benchmark that goes ahead on an unhealthy lab says so in its results."""
    t0 = time.monotonic()
    healthy, problems = lab_status()
    while not healthy and time.monotonic() - t0 < limit:
        if not quiet:
            log(f"lab not healthy ({'; '.join(problems)[:160]}), waiting")
        time.sleep(5)
        healthy, problems = lab_status()
    return {
        "healthy": healthy,
        "waited_s": round(time.monotonic() - t0, 1),
        "problems": problems,
        "load": loadavg(),
    }


# -- /proc ------------------------------------------------------------------------------------


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state not in ("Z", "X")


def cpu_seconds(pid: int, *, children: bool = True) -> float:
    """utime + stime of the process (all its threads) and, with ``children``, of its live
    child processes (the console's engine runs in one), seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    total = (int(fields[11]) + int(fields[12])) / CLK_TCK
    if children:
        for child in child_pids(pid):
            with contextlib.suppress(OSError, IndexError, ValueError):
                total += cpu_seconds(child)
    return total


def child_pids(pid: int) -> list[int]:
    """The live child processes of ``pid`` (from every thread's children list)."""
    out: list[int] = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError):
                out += [int(x) for x in (task / "children").read_text().split()]
    return out


def status_kb(pid: int) -> dict[str, int]:
    out: dict[str, int] = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM", "Threads"):
                out[key] = int(rest.split()[0])
    return out


def fd_counts(pid: int) -> dict[str, int]:
    total = sockets = 0
    with contextlib.suppress(FileNotFoundError):
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            total += 1
            with contextlib.suppress(OSError):
                if str(fd.readlink()).startswith("socket:"):
                    sockets += 1
    return {"fds": total, "sockets": sockets}


def wait_until(cond: Callable[[], bool], limit: float, step: float = 0.05) -> bool:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(step)
    return cond()


# -- tmux -------------------------------------------------------------------------------------


class TmuxControl:
    """A tmux control-mode client (``tmux -C``) attached to one session: commands and their
    output over one pipe. Polling the screen with a ``tmux capture-pane`` process every few
    ms had cost about half a core (a fork and exec each), taken from the console measured on
    a 2-core machine; here a capture is one line written and a block read. Attached with
    ``no-output`` (no copy of the pane's output stream) and ``ignore-size`` (the window
    keeps its size)."""

    def __init__(self, session: str) -> None:
        self.proc = subprocess.Popen(
            [
                *("tmux", "-L", TMUX_SOCKET, "-f", "/dev/null", "-C", "attach-session"),
                *("-f", "no-output,ignore-size", "-t", session),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            bufsize=0,
        )
        assert self.proc.stdout is not None
        self._fd = self.proc.stdout.fileno()
        self._buf = b""
        token = secrets.token_hex(8)  # in sync once this comes back (after attach's blocks)
        out = self.command(f"display-message -p {token}")
        if out is None or token not in out:
            self.close()
            raise RuntimeError("tmux control mode did not answer")

    def _line(self, deadline: float) -> bytes | None:
        while b"\n" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._fd], [], [], left)[0]:
                return None
            chunk = os.read(self._fd, 65536)
            if not chunk:
                return None
            self._buf += chunk
        line, _, self._buf = self._buf.partition(b"\n")
        return line

    def command(self, line: str, timeout: float = 10.0) -> str | None:
        """The command's output (None: an error reply, or no answer in time)."""
        if self.proc.poll() is not None or self.proc.stdin is None:
            return None
        try:
            self.proc.stdin.write(line.encode() + b"\n")
        except OSError:
            return None
        deadline = time.monotonic() + timeout
        while True:
            got = self._line(deadline)
            if got is None:
                return None
            if not got.startswith(b"%begin "):
                continue  # a notification (%...): they come only between blocks
            mine = got.split()[-1:] == [b"1"]  # flags 1: a command this client sent
            out: list[bytes] = []
            while True:
                got = self._line(deadline)
                if got is None:
                    return None
                if got.startswith((b"%end ", b"%error ")):
                    break
                out.append(got)
            if not mine:
                continue  # e.g. attach-session's own block, which may come after ours
            if got.startswith(b"%error "):
                return None
            return "".join(f"{ln.decode('utf-8', 'replace')}\n" for ln in out)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            if self.proc.stdin is not None:
                self.proc.stdin.close()
        try:
            self.proc.wait(2)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(2)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


#: An argument that needs no quoting, in a shell or a tmux command line.
_PLAIN_ARG = re.compile(r"[A-Za-z0-9_@%+=:,./-]+")


def _tmux_quote(arg: str) -> str:
    """One argument of a tmux command line (double quotes; \\, " and $ escaped)."""
    if _PLAIN_ARG.fullmatch(arg):
        return arg
    return '"' + re.sub(r'([\\"$])', r"\\\1", arg) + '"'


class Tmux:
    """One detached tmux session on the benchmarks' own server socket (never the user's).
    Screens are read and keys sent through a control-mode client (:class:`TmuxControl`)
    once the session runs; ``tmux`` processes otherwise."""

    def __init__(self, name: str, width: int = 120, height: int = 40) -> None:
        self.name = name
        self.width = width
        self.height = height
        self.pid: int | None = None
        self._ctl: TmuxControl | None = None

    def _control(self) -> TmuxControl | None:
        if self._ctl is None and self.pid is not None:
            with contextlib.suppress(OSError, RuntimeError):
                self._ctl = TmuxControl(self.name)
        return self._ctl

    def _tmux(self, *args: str, check: bool = True) -> str:
        proc = subprocess.run(
            ["tmux", "-L", TMUX_SOCKET, "-f", "/dev/null", *args],
            capture_output=True,
            text=True,
            timeout=30,
        )
        if check and proc.returncode != 0:
            raise RuntimeError(f"tmux {' '.join(args)}: {proc.stderr.strip()}")
        return proc.stdout

    def start(self, argv: Sequence[str], env: Mapping[str, str] | None = None) -> int:
        """Start ``argv`` (exec'd: the pane's pid is the program's pid). Returns the pid."""
        self.kill()
        cmd = "exec " + " ".join(_shquote(a) for a in argv)
        extra: list[str] = []
        for k, v in (env or {}).items():
            extra += ["-e", f"{k}={v}"]
        self._tmux(
            "new-session",
            "-d",
            "-s",
            self.name,
            "-x",
            str(self.width),
            "-y",
            str(self.height),
            *extra,
            cmd,
        )
        # keep the pane after the program exits, so its last screen and status are readable
        self._tmux("set-option", "-t", self.name, "remain-on-exit", "on", check=False)
        self.pid = int(self._tmux("display-message", "-p", "-t", self.name, "#{pane_pid}"))
        return self.pid

    def capture(self, first: int | None = None, last: int | None = None) -> str:
        args = ["capture-pane", "-p", "-t", self.name]
        if first is not None:
            args += ["-S", str(first)]
        if last is not None:
            args += ["-E", str(last)]
        ctl = self._control()
        if ctl is not None:
            out = ctl.command(" ".join(_tmux_quote(a) for a in args))
            if out is not None:
                return out
        return self._tmux(*args, check=False)

    def send(self, *keys: str) -> None:
        args = ["send-keys", "-t", self.name, *keys]
        ctl = self._control()
        if ctl is not None and ctl.command(" ".join(_tmux_quote(a) for a in args)) is not None:
            return
        self._tmux(*args)

    def kill(self) -> None:
        if self._ctl is not None:
            ctl, self._ctl = self._ctl, None
            ctl.close()
        self._tmux("kill-session", "-t", self.name, check=False)

    def wait_screen(
        self, cond: Callable[[str], bool], limit: float, step: float = 0.01
    ) -> tuple[bool, float, str]:
        """Poll the screen until ``cond(text)``; (seen, monotonic time seen, text)."""
        deadline = time.monotonic() + limit
        text = ""
        while True:
            text = self.capture()
            t = time.monotonic()
            if cond(text):
                return True, t, text
            if t > deadline:
                return False, t, text
            time.sleep(step)

    def quit_and_wait(self, key: str = "q", limit: float = 10.0) -> float | None:
        """Press ``key``; seconds until the process is gone (None: it did not exit)."""
        pid = self.pid
        t0 = time.monotonic()
        self.send(key)
        gone = pid is None or wait_until(lambda: not alive(pid), limit, step=0.005)
        elapsed = time.monotonic() - t0
        self.kill()
        if not gone and pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, 9)
            return None
        return elapsed


def _shquote(s: str) -> str:
    if _PLAIN_ARG.fullmatch(s):
        return s
    return "'" + s.replace("'", "'\"'\"'") + "'"


@contextlib.contextmanager
def tmux_session(name: str, width: int = 120, height: int = 40) -> Iterator[Tmux]:
    t = Tmux(name, width, height)
    try:
        yield t
    finally:
        pid = t.pid
        t.kill()
        if pid is not None and alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, 9)


# -- the console's screen ---------------------------------------------------------------------

LAYER_KEYS = {
    "galera": "2",
    "proxysql": "3",
    "haproxy": "4",
    "redis": "5",
    "alerts": "6",
    "hosts": "7",
}
CARD_TITLES = {
    "galera": "2 Galera",
    "proxysql": "3 ProxySQL",
    "haproxy": "4 HAProxy",
    "redis": "5 Redis/Sentinel",
    "alerts": "6 Alerts",
    "hosts": "7 Hosts",
}


def _card_title_col(line: str, title: str) -> int:
    """Column of `` 2 Galera `` in a card's top border (not in the pane bar)."""
    m = re.search(rf"[─━] {re.escape(title)}[ ─━]", line)
    return m.start() + 1 if m else -1


def overview_cards(screen: str) -> dict[str, str]:
    """The overview's cards as {layer: first line inside the card} (empty when not found).

    Cards sit two (or three) to a row: a title line ``╭─ 2 Galera ─...`` and the card's
    text in the rows below, in the same columns."""
    lines = screen.splitlines()
    out: dict[str, str] = {}
    for i, line in enumerate(lines):
        for layer, title in CARD_TITLES.items():
            col = _card_title_col(line, title)
            if col < 0 or i + 1 >= len(lines):
                continue
            start = max(0, col - 2)
            end = line.find("╮", col)
            if end < 0:
                end = line.find("┓", col)
            body = lines[i + 1][start + 1 : (end if end > 0 else None)]
            out[layer] = body.strip(" │┃")
    return out


def card_text(screen: str, layer: str) -> str:
    """Every row inside one overview card (its columns only), joined by newlines."""
    lines = screen.splitlines()
    title = CARD_TITLES[layer]
    for i, line in enumerate(lines):
        col = _card_title_col(line, title)
        if col < 0:
            continue
        start = max(0, col - 2)
        ends = [e for e in (line.find("╮", col), line.find("┓", col)) if e > 0]
        end = min(ends) if ends else None
        rows = []
        for below in lines[i + 1 :]:
            seg = below[start:end]
            if seg.lstrip().startswith(("╰", "┗")):
                break
            rows.append(seg.strip(" │┃"))
        return "\n".join(rows)
    return ""


def layers_with_data(screen: str) -> set[str]:
    return {
        layer
        for layer, first in overview_cards(screen).items()
        if first and not first.startswith("waiting") and "no data" not in first
    }


# -- generated profiles -----------------------------------------------------------------------

POLL_KEYS = (
    "galera",
    "proxysql",
    "haproxy",
    "redis",
    "sentinel",
    "prometheus",
    "alertmanager",
    "hosts",
)


def local_variant(
    path: Path,
    *,
    name: str,
    intervals: Mapping[str, float] | float | None = None,
    timeouts: Mapping[str, float] | None = None,
    ports: Mapping[int, int] | None = None,
) -> Path:
    """profiles/local.toml with another name, [poll] intervals (one number: every layer),
    timeouts, and ports replaced (``ports={3309: 18399}``: that endpoint moved)."""
    text = LOCAL_PROFILE.read_text()
    text = re.sub(r'(?m)^name = "local"', f'name = "{name}"', text, count=1)
    if isinstance(intervals, int | float):
        intervals = dict.fromkeys(POLL_KEYS, float(intervals))
    for key, value in {**(intervals or {}), **(timeouts or {})}.items():
        text, n = re.subn(rf"(?m)^{key} = [0-9.]+$", f"{key} = {float(value)}", text, count=1)
        if n != 1:
            raise ValueError(f"no [poll] {key} in {LOCAL_PROFILE}")
    for old, new in (ports or {}).items():
        text, n = re.subn(rf"(?m)^port = {old}\b", f"port = {new}", text, count=1)
        if n != 1:
            raise ValueError(f"no port {old} in {LOCAL_PROFILE}")
    WORK.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def profiles_dir() -> Path:
    d = WORK / "profiles"
    d.mkdir(parents=True, exist_ok=True)
    return d


@contextlib.contextmanager
def tarpit(port: int) -> Iterator[int]:
    """The lab's tarpit (accepts TCP, never answers) on our own port, stopped by PID."""
    proc = subprocess.Popen(
        [sys.executable, str(REPO / "lab" / "tarpit.py"), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        import socket

        def listening() -> bool:
            with socket.socket() as s:
                s.settimeout(0.2)
                return s.connect_ex(("127.0.0.1", port)) == 0

        if not wait_until(listening, 10):
            raise RuntimeError(f"tarpit on {port} did not start")
        yield proc.pid
    finally:
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(5)
        if proc.poll() is None:
            proc.kill()
