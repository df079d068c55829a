"""The live poll engine in a child process (issue 6: start-up and key->screen latency).

``jaraba-ops`` forks this child right after loading the profile, before any thread exists
and before textual is imported: the engine's imports, connections and first polls run on
another core while the console builds its first frame, and the engine's parsing never
holds the console's GIL. No textual here.

The pipes (both newline-delimited JSON):

- **updates** (child -> console): the recording's ``update`` lines
  (:class:`~jaraba_tui.record.writer.UpdateLines` in its ``view`` mode, scrubbed by
  :func:`~jaraba_tui.record.writer.encode_line` with the secrets the child revealed), plus
  ``{"type": "hello", "layers": [...]}`` first, ``{"type": "failed", "error": "..."}`` when
  the engine fails, ``{"type": "end"}`` after a requested stop. The console rebuilds
  EngineUpdates from them as the replay does (``jaraba_tui.ui.process_source``).
- **control** (console -> child): ``{"op": "refresh", "layer": null}``, ``pause``,
  ``resume``, ``pause_layer``, ``resume_layer``, ``stop``. EOF (the console closed it or
  died) stops the engine too.

The child never touches the terminal: it starts its own session (no controlling
terminal), its stdin/stdout/stderr are /dev/null, and it dies with the console
(``PR_SET_PDEATHSIG``) even when the console is killed with SIGKILL.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jaraba_tui.profile import Profile

#: Control operations the child understands (the :class:`UpdateSource` controls).
OPS = frozenset({"refresh", "pause", "resume", "pause_layer", "resume_layer", "stop"})
#: Linux: ask for this pipe size (the console may read late at start-up).
PIPE_SIZE = 1 << 20
PR_SET_PDEATHSIG = 1
#: Exit codes of the child.
EXIT_STOPPED = 0
EXIT_FAILED = 1
EXIT_CRASHED = 70


@dataclass
class EngineProcess:
    """The console's handle on a forked engine: its PID and the console's pipe ends (-1
    once closed)."""

    pid: int
    updates_fd: int  #: read end of the updates pipe
    control_fd: int  #: write end of the control pipe


def can_fork() -> str | None:
    """Why the engine cannot be forked here (None: it can)."""
    if not hasattr(os, "fork"):
        return "no fork() on this platform"
    if threading.active_count() != 1:
        names = ", ".join(t.name for t in threading.enumerate())
        return f"threads are already running ({names})"
    return None


def fork_engine(profile: Profile) -> EngineProcess:
    """Fork the engine child now (the caller checked :func:`can_fork`); the child never
    returns from here. OSError if the pipes or the fork fail."""
    up_r, up_w = os.pipe()
    ctl_r, ctl_w = os.pipe()
    for fd in (up_r, up_w):
        with contextlib.suppress(OSError, AttributeError):
            import fcntl

            fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_SIZE)
    parent = os.getpid()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    try:
        pid = os.fork()
    except OSError:
        for fd in (up_r, up_w, ctl_r, ctl_w):
            os.close(fd)
        raise
    if pid == 0:  # the child
        code = EXIT_CRASHED
        try:
            os.close(up_r)
            os.close(ctl_w)
            _detach(parent)
            # no asyncio.run(): its teardown waits for executor threads (a read blocked on
            # a hung endpoint); the process ends right after with os._exit
            code = asyncio.new_event_loop().run_until_complete(serve(profile, up_w, ctl_r))
        except BaseException:  # nothing may reach the console's terminal
            code = EXIT_CRASHED
        finally:
            os._exit(code)
    os.close(up_w)
    os.close(ctl_r)
    os.set_blocking(ctl_w, False)
    return EngineProcess(pid, up_r, ctl_w)


def _detach(parent: int) -> None:
    """No terminal, no signals from it; die with the console."""
    with contextlib.suppress(Exception):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the console died before the line above
        os._exit(EXIT_STOPPED)
    with contextlib.suppress(OSError):
        os.setsid()
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    if null > 2:
        os.close(null)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


class _Pipe(asyncio.Protocol):
    def __init__(self, stop: asyncio.Event) -> None:
        self.stop = stop
        self.lost = asyncio.Event()

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost.set()
        self.stop.set()  # the console is gone (or we closed it)


async def serve(profile: Profile, updates_fd: int, control_fd: int) -> int:
    """The child's main: poll, write updates, obey controls, until stopped or failed."""
    from jaraba_tui.engine.poll import PollEngine
    from jaraba_tui.record.writer import UpdateLines, encode_line
    from jaraba_tui.transport.factory import Transports

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    pipe = os.fdopen(updates_fd, "wb", buffering=0)
    out, proto = await loop.connect_write_pipe(lambda: _Pipe(stop), pipe)
    lines = UpdateLines(view=True)

    def send(obj: dict[str, Any]) -> None:
        if not out.is_closing():
            out.write(encode_line(obj))

    def on_update(update: Any) -> None:
        line = lines.line(update)
        if line is not None:
            send(line)

    try:
        engine = PollEngine(profile, Transports(profile), on_update, close_transports=True)
    except Exception as exc:  # e.g. a secret's command failed: the console says why
        send({"type": "failed", "error": f"{type(exc).__name__}: {exc}"[:500]})
        await _drain(out, proto)
        return EXIT_FAILED
    send({"type": "hello", "layers": list(engine.layers), "pid": os.getpid()})
    controls = _Controls(engine, stop)
    os.set_blocking(control_fd, False)
    loop.add_reader(control_fd, controls.readable, control_fd)
    runner = asyncio.create_task(engine.run(), name="engine")
    stopper = asyncio.create_task(stop.wait(), name="engine stop")
    await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
    stopper.cancel()
    loop.remove_reader(control_fd)
    code = EXIT_STOPPED
    if runner.done():
        error = None if runner.cancelled() else runner.exception()
        reason = f"{type(error).__name__}: {error}" if error is not None else "the engine ended"
        send({"type": "failed", "error": reason[:500]})
        code = EXIT_FAILED
    else:
        with contextlib.suppress(Exception, asyncio.TimeoutError):
            await asyncio.wait_for(engine.aclose(), 1.5)
        with contextlib.suppress(Exception, asyncio.CancelledError, asyncio.TimeoutError):
            await asyncio.wait_for(runner, 1.0)
        send({"type": "end"})
    await _drain(out, proto)
    return code


async def _drain(out: asyncio.WriteTransport, proto: _Pipe, limit: float = 1.0) -> None:
    """Close the pipe once what is buffered has reached it (bounded: a console that
    stopped reading)."""
    out.close()
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(proto.lost.wait(), limit)


class _Controls:
    """JSON lines from the console, applied to the engine on its loop."""

    def __init__(self, engine: Any, stop: asyncio.Event) -> None:
        self.engine = engine
        self.stop = stop
        self.buf = b""

    def readable(self, fd: int) -> None:
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:  # EOF: the console closed its end (or died)
            self.stop.set()
            asyncio.get_running_loop().remove_reader(fd)
            return
        *complete, self.buf = (self.buf + data).split(b"\n")
        for raw in complete:
            with contextlib.suppress(ValueError, TypeError, AttributeError):
                self.apply(json.loads(raw))

    def apply(self, cmd: dict[str, Any]) -> None:
        op = cmd.get("op")
        layer = cmd.get("layer")
        if op == "stop":
            self.stop.set()
        elif op == "refresh":
            self.engine.refresh_now(layer if isinstance(layer, str) else None)
        elif op == "pause":
            self.engine.pause()
        elif op == "resume":
            self.engine.resume()
        elif op == "pause_layer" and isinstance(layer, str):
            self.engine.pause_layer(layer)
        elif op == "resume_layer" and isinstance(layer, str):
            self.engine.resume_layer(layer)


def control_line(op: str, layer: str | None = None) -> bytes:
    """One control line for the child."""
    if op not in OPS:
        raise ValueError(f"unknown engine control {op!r}")
    return json.dumps({"op": op, "layer": layer}).encode() + b"\n"
