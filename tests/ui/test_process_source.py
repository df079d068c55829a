"""The live engine in a child process (jaraba_tui.engine.process, ui/process_source.py).

- The update stream's codec (pure): what the console rebuilds is exactly what the engine's
  merger produced (snapshots, findings, states, events, the sparklines' history), and the
  reader refuses what is not a model message.
- On the lab (real servers): a forked engine polls every layer, obeys pause/refresh/resume,
  closes; killed, it stops polling with the reason; stuck (SIGSTOP), it is killed by the
  close; its console killed with SIGKILL, it dies too; it never holds the terminal.
"""

from __future__ import annotations

import asyncio
import os
import pickle
import signal
import subprocess
import sys
import time
from collections.abc import Callable

import pytest

from jaraba_tui.engine import EngineUpdate, StackMerger
from jaraba_tui.engine.process import (
    EngineProcess,
    FrameError,
    FrameReader,
    UpdateDecoder,
    UpdateEncoder,
    fork_engine,
    frame,
)
from jaraba_tui.model.events import Event, EventKind
from jaraba_tui.model.findings import Severity
from jaraba_tui.profile import load_profile
from jaraba_tui.transport.base import TransportError
from jaraba_tui.ui.process_source import EngineProcessStopped, ProcessEngineSource
from tests.engine.fakes import recorded
from tests.labutil import REPO, require_lab

#: Generous bound for "does not hang" (the machine is shared and loaded; figures are bench's).
BOUND = 60.0
LAYERS6 = ("galera", "proxysql", "haproxy", "redis", "alerts", "hosts")


# -- the codec (pure) ---------------------------------------------------------------------------


def _merged() -> list[EngineUpdate]:
    """The degraded recording polled layer by layer, a failed poll (stale layer), a failed
    first poll of nothing-yet, and Sentinel events pushed between polls."""
    snaps = recorded("degraded")
    now = [snaps[0].collected_at]
    merger = StackMerger(profile="local", environment="lab", clock=lambda: now[0])
    out = []
    refused = TransportError("ssh lab: connection refused", kind="refused", endpoint="ssh lab")
    for i, snap in enumerate(snaps):
        now[0] = snap.collected_at
        for layer in LAYERS6:
            out.append(merger.merge(layer, snap))
        if i == 0:
            now[0] += 0.5
            out.append(merger.merge("hosts", refused))
            out.append(
                merger.push(
                    [
                        Event(
                            now[0], "redis", "mymaster", EventKind.FAILOVER, "switch", Severity.WARN
                        )
                    ]
                )
            )
    now[0] += 12.0
    out.append(merger.merge("haproxy", refused))
    return out


def _history(update: EngineUpdate) -> dict[str, list[object]]:
    keys = update.history.keys()
    return {key: update.history.points(key) for key in keys}


def test_the_console_rebuilds_every_update_exactly() -> None:
    updates = _merged()
    encoder = UpdateEncoder()
    stream = b"".join(frame(encoder.message(u)) for u in updates)
    reader = FrameReader()
    messages = []
    for i in range(0, len(stream), 997):  # as a pipe hands them over: any cut
        messages += reader.feed(stream[i : i + 997])
    assert len(messages) == len(updates)
    decoder = UpdateDecoder("local", "lab")
    rebuilt = [decoder.update(m) for m in messages]
    for want, got in zip(updates, rebuilt, strict=True):
        assert (got.layer, got.at) == (want.layer, want.at)
        assert got.snapshot == want.snapshot
        assert got.findings == want.findings
        assert got.events == want.events
        assert dict(got.states) == dict(want.states)
    assert any(u.state("hosts").stale for u in rebuilt)
    assert any(u.layer == "sentinel" and u.events for u in rebuilt)
    assert _history(rebuilt[-1]) == _history(updates[-1])  # the sparklines
    assert _history(rebuilt[-1])
    # only what changed crosses the pipe: a stale layer's kept data is not sent again
    last = encoder.message(updates[-1])
    assert "haproxy" not in last["view"]


def test_the_reader_refuses_what_is_not_a_model_message() -> None:
    with pytest.raises(FrameError, match=r"posix\.system"):
        FrameReader().feed(frame({"type": "update", "x": os.system}))
    with pytest.raises(FrameError, match=r"builtins\.eval"):  # a function, not a type
        FrameReader().feed(frame({"type": "update", "x": eval}))
    with pytest.raises(FrameError, match=r"jaraba_tui\.engine\.process\.frame"):
        FrameReader().feed(frame({"type": "update", "x": frame}))
    body = pickle.dumps(["a", "list"])
    with pytest.raises(FrameError, match="list"):
        FrameReader().feed(len(body).to_bytes(4, "big") + body)
    with pytest.raises(FrameError):
        FrameReader().feed(b"\x00\x00\x00\x05junk!")
    with pytest.raises(FrameError, match="bytes"):
        FrameReader().feed(b"\xff\xff\xff\xff")
    assert FrameReader().feed(frame({"type": "end"})[:-1]) == []  # incomplete: waits


def _sleeper() -> subprocess.Popen[bytes]:
    return subprocess.Popen(["sleep", "60"])


async def test_an_engine_failure_ends_the_source_with_its_reason() -> None:
    """The child's "failed" message (as sent when its engine raises): polling stopped with
    that reason, and the child is killed and reaped."""
    from jaraba_tui.engine.process import EngineProcess

    stand_in = _sleeper()  # a child of ours to kill and reap
    up_r, up_w = os.pipe()
    ctl_r, ctl_w = os.pipe()
    try:
        src = ProcessEngineSource(EngineProcess(stand_in.pid, up_r, ctl_w))
        src.attach(lambda u: None)
        os.write(up_w, frame({"type": "failed", "error": "RuntimeError: collector exploded"}))
        with pytest.raises(EngineProcessStopped, match="RuntimeError: collector exploded"):
            await asyncio.wait_for(src.run(), BOUND)
        assert src._exit is not None and os.WIFSIGNALED(src._exit)
    finally:
        stand_in.returncode = 0  # reaped by the source
        for fd in (up_w, ctl_r):
            os.close(fd)


# -- on the lab -----------------------------------------------------------------------------------


def _lab() -> None:
    require_lab(3307, 6032, 8404, 6379, 26379, 9090, 9093, 2222)


async def _until(cond: Callable[[], bool], bound: float = BOUND) -> None:
    deadline = time.monotonic() + bound
    while not cond():
        assert time.monotonic() < deadline, "condition not reached"
        await asyncio.sleep(0.05)


def _fresh_layers(seen: list[EngineUpdate]) -> set[str]:
    return {u.layer for u in seen if u.layer in LAYERS6 and not u.state(u.layer).stale}


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def _start(
    **options: float,
) -> tuple[EngineProcess, ProcessEngineSource, list[EngineUpdate], asyncio.Task[None]]:
    """The lab's engine forked, its source attached to a list and running."""
    _lab()
    profile = load_profile("local")
    proc = fork_engine(profile)
    src = ProcessEngineSource(
        proc, profile=profile.name, environment=profile.environment, **options
    )
    seen: list[EngineUpdate] = []
    src.attach(seen.append)
    return proc, src, seen, asyncio.create_task(src.run())


@pytest.mark.lab
async def test_a_forked_engine_polls_the_lab_and_obeys_the_controls() -> None:
    proc, src, seen, runner = _start()
    try:
        await _until(lambda: _fresh_layers(seen) == set(LAYERS6))
        assert set(src.layers) == set(LAYERS6)
        assert seen[-1].snapshot.profile == "local"
        assert seen[-1].history.keys()  # the sparklines are fed
        # the child has no terminal: its own session, stdio on /dev/null
        assert os.getsid(proc.pid) == proc.pid
        for fd in (0, 1, 2):
            assert os.readlink(f"/proc/{proc.pid}/fd/{fd}") == os.devnull
        src.pause()
        await asyncio.sleep(1.5)  # polls in flight end
        held = len([u for u in seen if u.layer in LAYERS6])
        await asyncio.sleep(5.0)  # 2.5 intervals of the 2 s layers
        assert len([u for u in seen if u.layer in LAYERS6]) == held
        src.refresh_now("redis")  # a forced poll while paused
        await _until(lambda: any(u.layer == "redis" for u in seen[held:]))
        src.resume()
        await _until(lambda: {u.layer for u in seen[held:]} >= {"galera", "haproxy"})
        await src.aclose()
        await asyncio.wait_for(runner, BOUND)
        assert src._exit is not None  # reaped
        assert _gone(proc.pid)
    finally:
        src.stop()


@pytest.mark.lab
async def test_a_killed_engine_process_stops_polling_with_the_reason() -> None:
    proc, src, seen, runner = _start()
    try:
        await _until(lambda: bool(seen))
        os.kill(proc.pid, signal.SIGKILL)
        with pytest.raises(EngineProcessStopped, match=r"killed \(SIGKILL\)"):
            await asyncio.wait_for(runner, BOUND)
    finally:
        src.stop()


@pytest.mark.lab
async def test_close_kills_an_engine_process_that_does_not_answer() -> None:
    proc, src, seen, runner = _start(stop_timeout=0.3)
    try:
        await _until(lambda: bool(seen))
        os.kill(proc.pid, signal.SIGSTOP)  # stuck: it will never read "stop"
        started = time.monotonic()
        await src.aclose()
        assert time.monotonic() - started < BOUND
        await asyncio.wait_for(runner, BOUND)
        assert src._exit is not None and os.WIFSIGNALED(src._exit)
        assert os.WTERMSIG(src._exit) == signal.SIGKILL
    finally:
        src.stop()


CONSOLE = """
import sys, time
from jaraba_tui.engine.process import fork_engine
from jaraba_tui.profile import load_profile
proc = fork_engine(load_profile("local"))
print(proc.pid, flush=True)
time.sleep(120)
"""


@pytest.mark.lab
def test_the_engine_process_dies_with_its_console() -> None:
    _lab()
    console = subprocess.Popen(
        [sys.executable, "-c", CONSOLE],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        assert console.stdout is not None
        child = int(console.stdout.readline())
        assert not _gone(child)
        console.kill()  # SIGKILL: no cleanup of its own runs
        console.wait(BOUND)
        deadline = time.monotonic() + BOUND
        while not _gone(child):
            assert time.monotonic() < deadline, "the engine process outlived its console"
            time.sleep(0.05)
    finally:
        console.kill()
        console.wait(BOUND)
