"""The console's side of the engine process (:mod:`jaraba_tui.engine.process`).

:class:`ProcessEngineSource` is an :class:`~jaraba_tui.ui.source.UpdateSource` on the UI's
loop: it reads the child's messages (``loop.add_reader``, no thread), rebuilds the
EngineUpdates (:class:`~jaraba_tui.engine.process.UpdateDecoder`: only what changed crosses
the pipe; the sparklines' history is fed by the fresh polls) and hands them to the
console's ``emit``; the controls go to the child as JSON lines. The child failing or
dying ends :meth:`run` with :class:`EngineProcessStopped` ("polling stopped: ..."), as a
failed engine thread does; :meth:`aclose` asks the child to stop and kills it (by its PID)
if it has not gone within ``stop_timeout``.

No textual here (it is built before textual is imported).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import time
from typing import TYPE_CHECKING, Any

from jaraba_tui.engine import LAYERS, EngineUpdate
from jaraba_tui.engine.process import (
    EngineProcess,
    FrameError,
    FrameReader,
    UpdateDecoder,
    control_line,
)
from jaraba_tui.ui.source import Emit, SourceFactory, engine_source, started_first

if TYPE_CHECKING:
    from jaraba_tui.profile import Profile

log = logging.getLogger(__name__)

READ_CHUNK = 1 << 20
REAP_STEP = 0.01


class EngineProcessStopped(RuntimeError):
    """The engine process ended without being asked to (its reason is the message)."""


def _no_console(update: EngineUpdate) -> None:
    raise RuntimeError("ProcessEngineSource: update delivered before a console attached")


class ProcessEngineSource:
    """The live engine in a child process (see the module's docstring).

    Updates the child sent before the console's loop runs wait in the pipe and are
    delivered, in order, when :meth:`run` starts."""

    def __init__(
        self,
        proc: EngineProcess,
        *,
        profile: str = "",
        environment: str = "",
        emit: Emit = _no_console,
        stop_timeout: float = 0.3,
    ) -> None:
        self.proc = proc
        self.pid = proc.pid
        self.stop_timeout = stop_timeout
        self.layers: tuple[str, ...] = LAYERS
        self._emit = emit
        self._decoder = UpdateDecoder(profile, environment)
        self._frames = FrameReader()
        self._done: asyncio.Future[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._reading = False
        self._closing = False
        self._ended = False  # the child said "end" or "failed", or its pipe closed
        self._failure: str | None = None
        self._exit: int | None = None  # the child's wait status, once reaped
        self.updates = 0
        self.decode_seconds = 0.0

    def attach(self, emit: Emit) -> None:
        self._emit = emit

    # -- the UpdateSource protocol --------------------------------------------------------------
    async def run(self) -> None:
        if self._done is not None:
            raise RuntimeError("ProcessEngineSource.run() called twice")
        loop = asyncio.get_running_loop()
        self._loop = loop
        done: asyncio.Future[None] = loop.create_future()
        self._done = done
        if self._ended:
            self._finish()
        else:
            os.set_blocking(self.proc.updates_fd, False)
            loop.add_reader(self.proc.updates_fd, self._readable)
            self._reading = True
        try:
            await asyncio.shield(done)
        except asyncio.CancelledError:  # the console is closing: :meth:`aclose` follows
            self._request_stop()
            raise
        finally:
            self._stop_reading()

    def refresh_now(self, layer: str | None = None) -> None:
        self._control("refresh", layer)

    def pause(self) -> None:
        self._control("pause")

    def resume(self) -> None:
        self._control("resume")

    def pause_layer(self, layer: str) -> None:
        self._control("pause_layer", layer)

    def resume_layer(self, layer: str) -> None:
        self._control("resume_layer", layer)

    async def aclose(self) -> None:
        """Ask the child to stop; kill it if it has not gone within ``stop_timeout`` (a read
        blocked on a hung endpoint must not hold the console's exit)."""
        self._request_stop()
        try:  # the child closes its connections and exits (it is reaped here)
            for _ in range(max(1, round(self.stop_timeout / REAP_STEP))):
                if self._reap(0) is not None:
                    break
                await asyncio.sleep(REAP_STEP)
        finally:  # also when the console's own close is cut short (QUIT_GRACE)
            self.kill()
            done = self._done
            if done is not None and not done.done():
                done.set_result(None)

    def _request_stop(self) -> None:
        self._closing = True
        self._control("stop")
        self._close_control()  # EOF: the child stops even if it missed the line

    def stop(self) -> None:
        """Without a loop (the console never ran, or has closed): end the child now."""
        self._closing = True
        self._close_control()
        self.kill()
        self._stop_reading()

    def kill(self) -> None:
        """SIGKILL the child (ours, by PID) unless it has been reaped; then reap it."""
        if self._exit is not None:
            return
        if self._reap(0) is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            self._reap(1.0)
        self._close_control()

    # -- the pipes --------------------------------------------------------------------------------
    def _control(self, op: str, layer: str | None = None) -> None:
        fd = self.proc.control_fd
        if fd < 0 or self._ended:
            return
        try:
            os.write(fd, control_line(op, layer))
        except BlockingIOError:
            log.warning("engine process: control %s dropped (its pipe is full)", op)
        except OSError:  # the child is gone: its pipe says so on the update side
            pass

    def _close_control(self) -> None:
        fd = self.proc.control_fd
        if fd >= 0:
            self.proc.control_fd = -1
            with contextlib.suppress(OSError):
                os.close(fd)

    def _stop_reading(self) -> None:
        if self._reading and self._loop is not None:
            self._reading = False
            with contextlib.suppress(Exception):
                self._loop.remove_reader(self.proc.updates_fd)
        fd = self.proc.updates_fd
        if fd >= 0 and (self._ended or self._closing):
            self.proc.updates_fd = -1
            with contextlib.suppress(OSError):
                os.close(fd)

    def _readable(self) -> None:
        """On the UI loop: what the child wrote since (whole messages only)."""
        try:
            data = os.read(self.proc.updates_fd, READ_CHUNK)
        except BlockingIOError:
            return
        except OSError as exc:
            data = b""
            self._failure = self._failure or f"cannot read the engine process: {exc}"
        if not data:
            self._ended = True
            self._stop_reading()
            self._finish()
            return
        t0 = time.perf_counter()
        try:
            messages = self._frames.feed(data)
        except FrameError as exc:
            messages = []
            self._failure = f"a bad message from the engine process ({exc})"[:300]
            self._ended = True
        self.decode_seconds += time.perf_counter() - t0
        for message in messages:
            if not self._ended:
                self._message(message)
        if self._ended:
            self._stop_reading()
            self._finish()

    def _message(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "update":
            t0 = time.perf_counter()
            try:
                update = self._decoder.update(message)
            except (ValueError, TypeError, KeyError) as exc:
                self._failure = f"a bad update from the engine process ({exc})"[:300]
                self._ended = True
                return
            finally:
                self.decode_seconds += time.perf_counter() - t0
            self.updates += 1
            if not self._closing:
                self._emit(update)
        elif kind == "secrets":  # what the child revealed: scrubbed here too (--record)
            from jaraba_tui.secrets import register_secret_value

            for value in message.get("values", ()):
                register_secret_value(str(value))
        elif kind == "hello":
            self.layers = tuple(str(x) for x in message.get("layers", LAYERS))
        elif kind == "failed":
            self._failure = str(message.get("error") or "the engine failed")
            self._ended = True
        elif kind == "end":
            self._ended = True
        else:
            self._failure = f"a bad message from the engine process (type {kind!r})"
            self._ended = True

    def _finish(self) -> None:
        """The child's pipe ended: done (asked to stop) or failed (polling stopped)."""
        done = self._done
        if done is None or done.done():
            return
        if self._closing:
            done.set_result(None)
            return
        reason = self._failure
        if reason is None:
            status = self._reap(0.5)
            reason = _describe(status)
        self.kill()
        log.error("poll engine process stopped: %s", reason)
        done.set_exception(EngineProcessStopped(reason))

    def _reap(self, wait: float) -> int | None:
        """The child's wait status if it has exited (waiting up to ``wait`` s), else None."""
        if self._exit is not None:
            return self._exit
        deadline = time.monotonic() + wait
        while True:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:  # reaped elsewhere
                self._exit = -1
                return self._exit
            if pid == self.pid:
                self._exit = status
                return status
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.01)


def _describe(status: int | None) -> str:
    if status is None:
        return "the engine process closed its pipe"
    if status == -1:
        return "the engine process has gone"
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = f"signal {sig}"
        return f"the engine process was killed ({name})"
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else status
    return f"the engine process exited (code {code})"


def process_engine_source(
    profile: Profile, proc: EngineProcess
) -> tuple[SourceFactory, ProcessEngineSource]:
    """The console's source factory over the forked engine ``proc``, and the source.

    The factory's first call (the console's mount) gets the running child; a later call
    (polling restarted after it stopped) gets the in-process engine thread
    (:func:`~jaraba_tui.ui.source.engine_source`): a second fork from a process whose
    threads are running is not safe."""
    source = ProcessEngineSource(proc, profile=profile.name, environment=profile.environment)
    return started_first(source, engine_source(profile)), source
