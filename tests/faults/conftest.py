"""The fault suite's tools: a fast profile copy, the console on the lab, bounded waits,
the lab's own fault commands, a restore after every test and a table of measurements.

Every wait polls a condition under a deadline (never a fixed sleep standing in for one).
Each test restores the lab in its teardown (``labctl up``, Galera 3 Synced) so the suites
that run after this one see a healthy stack.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from jaraba_tui.engine import LAYERS
from jaraba_tui.model.findings import Finding
from jaraba_tui.profile import Profile, load_profile
from jaraba_tui.resources import themes_dir
from jaraba_tui.ui.app import ConsoleInfo, JarabaApp
from jaraba_tui.ui.source import engine_source
from jaraba_tui.wiring import layer_timeout
from tests.labutil import LAB_DIR, REPO, require_lab

LABCTL = [sys.executable, str(REPO / "lab" / "labctl.py")]
#: Every port the console reads in these tests.
LAB_PORTS = (3307, 3308, 3309, 6032, 8404, 6379, 6380, 6381, 26379, 9090, 9093, 2222)

#: Short intervals and timeouts keep the suite fast; the machine is shared (2 cores), so
#: the timeouts stay a little above what a loaded lab needs to answer.
FAST_POLL = {
    "galera": 1.0,
    "proxysql": 1.0,
    "haproxy": 1.0,
    "redis": 1.0,
    "sentinel": 1.0,
    "prometheus": 1.5,
    "alertmanager": 1.5,
    "hosts": 1.5,
    "connect_timeout": 2.0,
    "read_timeout": 3.0,
    "command_timeout": 10.0,
}
#: Scheduling slack on top of "one interval plus the timeout" (2 shared cores, a busy lab).
GRACE = 3.0

RESULTS_ENV = "JARABA_FAULT_RESULTS"


def profile_text(audit_log: Path | None = None, replace: Callable[[str], str] | None = None) -> str:
    """profiles/local.toml with the fast [poll] block (and an optional audit log/edit)."""
    text = (REPO / "profiles" / "local.toml").read_text()
    poll = "[poll]\n" + "".join(f"{k} = {v}\n" for k, v in FAST_POLL.items())
    text, n = re.subn(r"\[poll\]\n.*?\n\n", poll + "\n", text, count=1, flags=re.S)
    assert n == 1, "profiles/local.toml has no [poll] block to replace"
    if audit_log is not None:
        text, n = re.subn(r"^audit_log = .*$", f'audit_log = "{audit_log}"', text, flags=re.M)
        assert n == 1
    return replace(text) if replace else text


def write_profile(path: Path, **kw: Any) -> Path:
    path.write_text(profile_text(**kw))
    return path


def detect_limit(profile: Profile, layer: str) -> float:
    """One interval plus the poll's timeout (the engine's per-layer deadline), plus slack."""
    from jaraba_tui.engine import layer_intervals

    interval = layer_intervals(profile.poll)[layer]
    deadline = layer_timeout(profile) + profile.poll.read_timeout
    return interval + deadline + GRACE


# -- the lab -----------------------------------------------------------------------------------
async def labctl(*args: str, timeout: float = 400.0) -> str:
    """Run the lab's own command; fail the test with its output when it fails."""
    proc = await asyncio.create_subprocess_exec(
        *LABCTL,
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), timeout)
    text = out.decode(errors="replace")
    assert proc.returncode == 0, f"labctl {' '.join(args)} failed:\n{text}"
    return text


def lab_rows() -> list[dict[str, str]]:
    import subprocess

    res = subprocess.run(
        [*LABCTL, "status", "--json"], capture_output=True, text=True, timeout=60, check=False
    )
    try:
        rows: list[dict[str, str]] = json.loads(res.stdout)["components"]
    except (ValueError, KeyError):
        return []
    return rows


def galera_synced(rows: list[dict[str, str]] | None = None) -> bool:
    rows = lab_rows() if rows is None else rows
    galera = [r for r in rows if r["component"].startswith("galera-")]
    return len(galera) == 3 and all("Synced, Primary, size 3" in r["state"] for r in galera)


def lab_healthy() -> bool:
    """Every component UP, no fault process (tarpit) left, Galera 3 Synced."""
    rows = lab_rows()
    return bool(rows) and all(r["state"].startswith("UP") for r in rows) and galera_synced(rows)


def restore_lab() -> None:
    """``labctl up`` (idempotent: thaws, restarts what is down), then Galera 3 Synced."""
    import subprocess

    if lab_healthy():  # `up` re-checks every component: skip it when nothing is wrong
        return
    deadline = time.monotonic() + 400
    last = ""
    while time.monotonic() < deadline:
        res = subprocess.run(
            [*LABCTL, "up"], capture_output=True, text=True, timeout=400, check=False
        )
        last = res.stdout + res.stderr
        if res.returncode == 0 and galera_synced():
            return
        time.sleep(2)
    raise AssertionError(f"the lab could not be restored:\n{last[-3000:]}")


@pytest.fixture
def lab() -> Iterator[None]:
    """The lab up before the test; restored (``labctl up``, Galera 3 Synced) after it."""
    require_lab(*LAB_PORTS)
    try:
        yield
    finally:
        restore_lab()


# -- measurements for tests/faults/README.md ---------------------------------------------------
def record(scenario: str, expected: str, observed: str, **figures: float | str) -> None:
    """Append one row to $JARABA_FAULT_RESULTS (JSON lines) when it is set; print it too."""
    row = {"scenario": scenario, "expected": expected, "observed": observed, **figures}
    print(json.dumps(row))
    target = os.environ.get(RESULTS_ENV)
    if target:
        with open(target, "a", encoding="utf-8") as f:
            f.write(json.dumps(row) + "\n")


# -- the console ---------------------------------------------------------------------------------
class Console:
    """The real console (Textual pilot) polling the lab through the profile's transports."""

    def __init__(self, app: JarabaApp, pilot: Pilot[Any], profile: Profile) -> None:
        self.app = app
        self.pilot = pilot
        self.profile = profile

    @property
    def findings(self) -> tuple[Finding, ...]:
        return self.app.latest.findings if self.app.latest else ()

    def has(self, code: str, target: str | None = None, text: str = "") -> bool:
        return any(
            f.code == code and (target is None or f.target == target) and text in f.message
            for f in self.findings
        )

    def last_ok(self, layer: str) -> float:
        u = self.app.latest
        at = u.state(layer).last_ok_at if u else None
        return at or 0.0

    def fresh(self, layer: str) -> bool:
        u = self.app.latest
        return bool(u and layer in u.states and not u.state(layer).stale)

    def all_fresh(self, layers: tuple[str, ...] = LAYERS) -> bool:
        return all(self.fresh(layer) for layer in layers)

    async def wait(self, cond: Callable[[], bool], limit: float) -> float | None:
        """Seconds until ``cond`` held (polled every 0.2 s), None if not within ``limit``."""
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        while True:
            if cond():
                return loop.time() - t0
            if loop.time() - t0 >= limit:
                return None
            await self.pilot.pause(0.2)

    async def responsive(self) -> float:
        """A key still works: switch to the Galera pane and back. Returns the seconds taken."""
        t0 = time.monotonic()
        await self.pilot.press("2")
        assert self.app.current_pane == "galera", "the console did not follow a key"
        await self.pilot.press("1")
        assert self.app.current_pane == "overview"
        return time.monotonic() - t0

    async def others_update(self, layers: tuple[str, ...], since: float, limit: float) -> float:
        """Every layer in ``layers`` answers a poll after ``since``; returns the seconds."""
        took = await self.wait(lambda: all(self.last_ok(layer) > since for layer in layers), limit)
        lagging = {layer: round(since - self.last_ok(layer), 1) for layer in layers}
        assert took is not None, f"other panes stopped updating (seconds behind): {lagging}"
        return took

    def describe(self) -> str:
        states = {}
        if self.app.latest:
            states = {k: (v.error or "ok")[:80] for k, v in self.app.latest.states.items()}
        return f"states {states}; findings " + "; ".join(
            f"{f.code}[{f.target}] {f.message[:100]}" for f in self.findings
        )


def socket_count() -> int:
    """Open sockets of this process (the console runs in it)."""
    n = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}").startswith("socket:"):
                n += 1
        except OSError:
            continue
    return n


@asynccontextmanager
async def console(profile_path: Path | str, tmp_path: Path) -> AsyncIterator[Console]:
    """The console on ``profile_path``; waits until every layer answered once."""
    profile = load_profile(profile_path)
    source = engine_source(profile)
    if os.environ.get("JARABA_ENGINE") == "process":  # the engine in its own process, as
        # jaraba-ops runs it (forked from this test process)
        from jaraba_tui.engine.process import fork_engine
        from jaraba_tui.ui.process_source import process_engine_source

        source, _ = process_engine_source(profile, fork_engine(profile))
    app = JarabaApp(
        ConsoleInfo.from_profile(profile),
        source,
        state_path=tmp_path / "ui.json",
        keymap_path=tmp_path / "keymap.toml",
        theme_dirs=[themes_dir()],
    )
    async with app.run_test(size=(120, 40)) as pilot:
        yield Console(app, pilot, profile)
        await pilot.press("q")


@pytest.fixture
def fast_profile(tmp_path: Path) -> Path:
    return write_profile(tmp_path / "fast.toml", audit_log=tmp_path / "audit" / "audit.log")


__all__ = ["LAB_DIR"]
