"""The live poll engine in a child process (issue 6: start-up and key->screen latency).

``jaraba-ops`` forks this child before any thread exists and before textual is imported,
and before the profile is loaded (:func:`fork_engine_loading`): the child loads and
validates the profile and tells the console what it needs of it (:class:`ProfileFacts`),
then its imports, connections and first polls run on another core while the console builds
its first frame, and the engine's parsing never holds the console's GIL. No textual here.

The pipes:

- **updates** (child -> console): length-prefixed pickles (:func:`frame`) of plain
  messages. An ``update`` carries what changed in the update's snapshot since the last
  one (by identity: a stale layer keeps its data object, so it is not sent again), the
  changed layer states, the findings when they changed, and the events;
  :class:`UpdateDecoder` rebuilds the EngineUpdate exactly (its sparklines' history fed by
  the fresh polls, as the merger feeds its own). Pickle, not the recording's JSON: on the
  large setup (1000 HAProxy servers) decoding one HAProxy update as JSON costs ~165 ms of
  the console's thread, as a pickle ~12 ms. The console only unpickles its own child's
  pipe, and only the model's classes (:class:`_ModelUnpickler`). Also: ``hello`` (the
  polled layers), ``secrets`` (values the child revealed: the console's own scrubbing,
  e.g. ``--record``, must know them), ``failed`` (the engine's error), ``end`` (stopped).
- **control** (console -> child): JSON lines ``{"op": "refresh", "layer": null}``,
  ``pause``, ``resume``, ``pause_layer``, ``resume_layer``, ``stop``. EOF (the console
  closed it or died) stops the engine too.

The child never touches the terminal: it starts its own session (no controlling
terminal), its stdin/stdout/stderr are /dev/null, and it dies with the console
(``PR_SET_PDEATHSIG``) even when the console is killed with SIGKILL.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import operator
import os
import pickle
import signal
import struct
import sys
import threading
from dataclasses import dataclass, field, fields, is_dataclass, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jaraba_tui.engine.merge import EngineUpdate
    from jaraba_tui.profile import Profile
    from jaraba_tui.transport.ssh import SshPool

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
    engine, _ = _fork(profile, None)
    return engine


#: One thread builds a ProfileFacts' profile; another asking meanwhile waits for it (the
#: console prepares its guarded actions on a thread, a key may ask on the main thread).
_FACTS_BUILDING = threading.Lock()


@dataclass
class ProfileFacts:
    """What the console needs of its profile before its first frame, taken by the engine
    child from the profile it validated (:func:`fork_engine_loading`): the header's and the
    decoder's names, read-only, the key map. :meth:`profile` validates the same parsed file
    again, with the same validator, when the console first needs the whole profile (its
    guarded actions, after the first full frame): the console's start neither imports the
    profile's validator nor builds the profile (issue 6, start-up)."""

    name: str
    environment: str
    description: str
    read_only: bool
    keymap: dict[str, str]
    path: str
    data: dict[str, Any] = field(repr=False)
    _profile: Profile | None = field(default=None, init=False, repr=False, compare=False)

    def profile(self) -> Profile:
        """The validated profile (built once, by whichever thread asks first while the
        other waits; ProfileError if it no longer validates)."""
        with _FACTS_BUILDING:
            if self._profile is None:
                from jaraba_tui.profile import profile_from_mapping

                self._profile = profile_from_mapping(self.data, path=self.path)
            return self._profile


def fork_engine_loading(name: str | None) -> tuple[EngineProcess, int]:
    """Fork the engine child before the profile is loaded: the child loads and validates
    profile ``name`` (as :func:`jaraba_tui.profile.load_profile` does) and writes its verdict
    to the returned pipe (:func:`read_profile_verdict`) before it starts polling. A profile
    that does not load ends the child at once: nothing connects, nothing runs. The console
    imports its UI meanwhile, on the other core. OSError if the pipes or the fork fail."""
    return _fork(None, name)


def read_profile_verdict(fd: int) -> ProfileFacts | None:
    """The child's verdict (blocks until it is written; closes ``fd``): the profile's
    facts, or None when the profile did not load (or the child died first): the console
    then loads it itself, which gives the real error, message and exit code."""
    chunks = []
    try:
        while True:
            try:
                chunk = os.read(fd, 1 << 16)
            except InterruptedError:
                continue
            if not chunk:
                break
            chunks.append(chunk)
    except OSError:
        return None
    finally:
        with contextlib.suppress(OSError):
            os.close(fd)
    try:
        facts = pickle.loads(b"".join(chunks))  # noqa: S301 (our own child's pipe)
    except Exception:
        return None
    return facts if isinstance(facts, ProfileFacts) else None


def _loaded_facts(name: str | None) -> tuple[Profile, ProfileFacts] | None:
    """The child's side: the profile loaded and validated, and its facts (None: it does
    not load; the console reports why)."""
    try:
        from jaraba_tui.profile.loader import load_profile_and_data

        profile, data, path = load_profile_and_data(name)
        facts = ProfileFacts(
            name=profile.name,
            environment=profile.environment,
            description=profile.description,
            read_only=profile.read_only,
            keymap=dict(profile.keymap),
            path=str(path),
            data=data,
        )
    except Exception:
        return None
    return profile, facts


def _fork(profile: Profile | None, name: str | None) -> tuple[EngineProcess, int]:
    up_r, up_w = os.pipe()
    ctl_r, ctl_w = os.pipe()
    verdict_r, verdict_w = os.pipe() if profile is None else (-1, -1)
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
        for fd in (up_r, up_w, ctl_r, ctl_w, verdict_r, verdict_w):
            if fd >= 0:
                os.close(fd)
        raise
    if pid == 0:  # the child
        code = EXIT_CRASHED
        try:
            os.close(up_r)
            os.close(ctl_w)
            _detach(parent)
            if profile is None:
                os.close(verdict_r)
                loaded = _loaded_facts(name)
                with os.fdopen(verdict_w, "wb") as verdict:
                    verdict.write(pickle.dumps(loaded[1] if loaded else None, protocol=5))
                if loaded is None:
                    os._exit(EXIT_FAILED)
                profile = loaded[0]
            # no asyncio.run(): its teardown waits for executor threads (a read blocked on
            # a hung endpoint); the process ends right after with os._exit
            code = asyncio.new_event_loop().run_until_complete(serve(profile, up_w, ctl_r))
        except BaseException:  # nothing may reach the console's terminal
            code = EXIT_CRASHED
        finally:
            os._exit(code)
    os.close(up_w)
    os.close(ctl_r)
    if verdict_w >= 0:
        os.close(verdict_w)
    os.set_blocking(ctl_w, False)
    return EngineProcess(pid, up_r, ctl_w), verdict_r


def kill_engine(pid: int) -> None:
    """SIGKILL our engine child ``pid`` if it is still running (never a PID that has been
    reaped already: it may have been reused)."""
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:  # reaped: not ours any more
        return
    if done == 0:  # running (the console exits right after: no wait for its end)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


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
    # SSH first (issue 6, start-up): the handshakes and the remote login shells' start are
    # the slowest part of the first poll. They begin now, on this loop, while the rest of
    # the engine (every other transport's library, ~0.25 s of imports) is imported on a
    # thread.
    from jaraba_tui import gcpause

    # forked while the CLI paused cyclic collection for the start: back on once started
    asyncio.get_running_loop().call_later(GC_PAUSE_AT_MOST, gcpause.resume)
    _import_asyncssh()
    ssh, warming = _warm_ssh(profile)
    await asyncio.to_thread(_import_engine)
    from jaraba_tui.engine.poll import PollEngine
    from jaraba_tui.secrets import known_secret_values
    from jaraba_tui.transport.factory import Transports

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    pipe = os.fdopen(updates_fd, "wb", buffering=0)
    out, proto = await loop.connect_write_pipe(lambda: _Pipe(stop), pipe)
    encoder = UpdateEncoder()
    told: frozenset[str] = frozenset()

    def send(obj: dict[str, Any]) -> None:
        nonlocal told
        if out.is_closing():
            return
        known = known_secret_values()
        if known != told:  # before the message that could hold them
            out.write(frame({"type": "secrets", "values": sorted(known - told)}))
            told = known
        out.write(frame(obj))

    def on_update(update: EngineUpdate) -> None:
        send(encoder.message(update))

    try:
        transports = Transports(profile, ssh=ssh)
        engine = PollEngine(profile, transports, on_update, close_transports=True)
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
    for task in warming:  # done by now, unless a host is still answering its first connect
        task.cancel()
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


#: Seconds after its start when the engine child turns cyclic collection back on, if the CLI
#: paused it for the start (:mod:`jaraba_tui.gcpause`): its imports and first polls are done.
GC_PAUSE_AT_MOST = 3.0

#: The libraries asyncssh's import looks for first: liboqs (post-quantum key exchanges,
#: under two names) and nettle (UMAC).
_ASYNCSSH_FINDS = ("oqs", "liboqs", "nettle")


def _import_asyncssh() -> None:
    """Import asyncssh with its ``ctypes.util.find_library`` look-ups run on threads, both
    at once and alongside the rest of its import: where the library is missing (as
    usual), each runs ldconfig, gcc and ld (~0.1 s of waiting apiece, one after the
    other). Same look-ups, same answers: only when they run changes."""
    if "asyncssh" in sys.modules:
        return
    import ctypes.util
    from concurrent.futures import ThreadPoolExecutor

    real = ctypes.util.find_library
    pool = ThreadPoolExecutor(len(_ASYNCSSH_FINDS), thread_name_prefix="find-library")
    ahead = {name: pool.submit(real, name) for name in _ASYNCSSH_FINDS}

    def find_library(name: str) -> str | None:
        found = ahead.get(name)
        return found.result() if found is not None else real(name)

    ctypes.util.find_library = find_library
    try:
        import asyncssh  # noqa: F401
    finally:
        ctypes.util.find_library = real
        pool.shutdown(wait=False)


def _warm_ssh(profile: Profile) -> tuple[SshPool | None, list[asyncio.Task[None]]]:
    """The profile's SSH pool, its connections and probe shells opening (the tasks)."""
    if not profile.ssh.hosts:
        return None, []
    from jaraba_tui.transport.ssh import ssh_pool

    pool = ssh_pool(profile)
    return pool, [
        asyncio.create_task(pool.warm(name), name=f"ssh warm {name}") for name in profile.ssh.hosts
    ]


def _import_engine() -> None:
    """The scheduler, the collectors and every transport (on a thread: see :func:`serve`)."""
    import jaraba_tui.engine.poll  # noqa: F401


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


# -- the update stream's codec (both sides; pure) ------------------------------------------

_LEN = struct.Struct(">I")
_MISSING = object()


def frame(message: dict[str, Any]) -> bytes:
    """One message of the updates pipe: its length, then its pickle."""
    body = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return _LEN.pack(len(body)) + body


class FrameError(ValueError):
    """A message on the updates pipe that is not one (the console stops polling)."""


class _ModelUnpickler(pickle.Unpickler):
    """Only classes: the builtin types and the model's own (defence in depth: the pipe is
    our own child's). A module's functions (``builtins.eval``, ``os.system``) are refused."""

    ALLOWED = frozenset({"builtins", "datetime", "enum", "collections"})

    def find_class(self, module: str, name: str) -> Any:
        if module in self.ALLOWED or module.startswith("jaraba_tui."):
            found = super().find_class(module, name)
            if isinstance(found, type):
                return found
        raise FrameError(f"the engine process sent a {module}.{name}")


class FrameReader:
    """Messages out of the bytes read from the updates pipe (whole frames only)."""

    MAX = 256 << 20

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[dict[str, Any]]:
        self._buf += data
        out: list[dict[str, Any]] = []
        pos = 0
        buf = self._buf
        while len(buf) - pos >= _LEN.size:
            (size,) = _LEN.unpack_from(buf, pos)
            if size > self.MAX:
                raise FrameError(f"a message of {size} bytes from the engine process")
            end = pos + _LEN.size + size
            if end > len(buf):
                break
            try:
                message = _ModelUnpickler(io.BytesIO(buf[pos + _LEN.size : end])).load()
            except FrameError:
                raise
            except Exception as exc:
                raise FrameError(f"{type(exc).__name__}: {str(exc)[:160]}") from None
            if not isinstance(message, dict):
                raise FrameError(f"a {type(message).__name__} from the engine process")
            out.append(message)
            pos = end
        del buf[:pos]
        return out


#: Parts of a layer's data that stay the same objects from one poll to the next while
#: the servers' answers do not change (the alerts collector hands back the alerts it
#: parsed before for an equal answer), though the layer's data around them is new (its
#: time, its elapsed_ms). Sent once; while the same object, an ``update`` names it in
#: ``same`` (layer -> paths) and carries an empty tuple in its place: 300 + 300 alerts
#: are not pickled by the engine and unpickled by the console on every alerts poll, and
#: the console gets the very objects it already holds.
KEPT_PARTS: dict[str, tuple[tuple[str, ...], ...]] = {
    "alerts": (("prometheus", "alerts"), ("alertmanager", "alerts"), ("alertmanager", "silences")),
}


def _part(data: Any, path: tuple[str, ...]) -> Any:
    for name in path:
        if data is None:
            return None
        data = getattr(data, name, None)
    return data


def _with_part(data: Any, path: tuple[str, ...], value: Any) -> Any:
    """``data`` (frozen dataclasses) with the object at ``path`` replaced by ``value``."""
    if not path:
        return value
    inner = getattr(data, path[0])
    return replace(data, **{path[0]: _with_part(inner, path[1:], value)})


#: Tuples of rows that change only in a few columns from one poll to the next: HAProxy's
#: ``show stat`` rows, where ``lastchg`` (seconds since the last state change) moves for
#: every one of 1000 servers at every poll, and ``downtime`` for each server that is down.
#: A row whose other columns are as last sent crosses the pipe as those columns' values
#: only (``rows`` in the message); the console makes it from the row it holds. The large
#: setup's HAProxy update: ~210 kB pickled, ~7 ms for the console to unpickle; ~10 kB now.
ROW_PARTS: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "haproxy": (
        ("servers", ("lastchg", "downtime")),
        ("backends", ("lastchg", "downtime")),
        ("frontends", ("lastchg", "downtime")),
    ),
}


def _fixed_getter(row: Any, volatile: tuple[str, ...]) -> Any:
    """A getter of a row's columns other than ``volatile`` (None: not a dataclass row that
    has them all, or a slotted one: sent whole)."""
    if not is_dataclass(row) or not hasattr(row, "__dict__"):
        return None
    names = [f.name for f in fields(row)]
    if any(v not in names for v in volatile):
        return None
    fixed = [n for n in names if n not in volatile]
    return operator.attrgetter(*fixed) if len(fixed) > 1 else None


def _with_columns(
    rows: tuple[Any, ...], changed: dict[int, Any], columns: dict[str, tuple[Any, ...]]
) -> tuple[Any, ...]:
    """``rows`` with row ``i`` replaced by ``changed[i]``, the others with their ``columns``
    set to ``columns[name][i]`` (``replace()`` of a frozen dataclass, without running its
    ``__init__``: 1000 rows per update)."""
    new = object.__new__
    set_state = object.__setattr__
    cols = list(columns.items())
    out = []
    for i, row in enumerate(rows):
        made = changed.get(i)
        if made is None:
            state = row.__dict__.copy()
            for name, values in cols:
                state[name] = values[i]
            made = new(type(row))
            set_state(made, "__dict__", state)
        out.append(made)
    return tuple(out)


class UpdateEncoder:
    """EngineUpdate -> an ``update`` message holding only what changed since the last one
    (snapshot fields by identity, their :data:`KEPT_PARTS` by identity too, layer states
    and findings by value)."""

    def __init__(self) -> None:
        self._view: dict[str, Any] = {}
        self._states: dict[str, Any] = {}
        self._findings: Any = _MISSING
        self._parts: dict[tuple[str, tuple[str, ...]], Any] = {}  # the last ones sent
        # (layer, part) -> the rows last sent and their fixed columns (:data:`ROW_PARTS`)
        self._rows: dict[tuple[str, str], tuple[tuple[Any, ...], list[Any]]] = {}
        self._getters: dict[tuple[type, tuple[str, ...]], Any] = {}

    def message(self, update: EngineUpdate) -> dict[str, Any]:
        snap = update.snapshot
        view = {}
        for f in fields(snap):
            value = getattr(snap, f.name)
            if self._view.get(f.name, _MISSING) is not value:
                view[f.name] = value
                self._view[f.name] = value
        states = {k: v for k, v in update.states.items() if self._states.get(k) != v}
        self._states.update(states)
        message: dict[str, Any] = {
            "type": "update",
            "layer": update.layer,
            "at": update.at,
            "view": view,
            "states": states,
            "events": update.events,
        }
        same = self._same_parts(view)
        if same:
            message["same"] = same
        rows = self._row_deltas(view)
        if rows:
            message["rows"] = rows
        findings = update.findings
        if findings is not self._findings and findings != self._findings:
            message["findings"] = findings
        self._findings = findings
        return message

    def _same_parts(self, view: dict[str, Any]) -> dict[str, list[tuple[str, ...]]]:
        """Put an empty tuple in ``view`` for each kept part sent before as this object."""
        same: dict[str, list[tuple[str, ...]]] = {}
        for layer, paths in KEPT_PARTS.items():
            if layer not in view:
                continue
            data = view[layer]
            for path in paths:
                part = _part(data, path)
                before = self._parts.get((layer, path))
                self._parts[(layer, path)] = part
                if part and part is before:  # (not an empty tuple: one object for all)
                    same.setdefault(layer, []).append(path)
            for path in same.get(layer, ()):
                view[layer] = _with_part(view[layer], path, ())
        return same

    def _row_deltas(self, view: dict[str, Any]) -> dict[str, dict[str, Any]]:
        """Replace each :data:`ROW_PARTS` tuple in ``view`` whose rows are mostly as last
        sent by an empty tuple; return, per layer and part, ``(length, {index: row} for the
        rows that changed, {column: values for every row})``."""
        out: dict[str, dict[str, Any]] = {}
        for layer, parts in ROW_PARTS.items():
            if layer not in view:
                continue  # not sent: the console holds what was last sent
            data = view[layer]
            if data is None:  # the console holds no rows now
                for part, _ in parts:
                    self._rows.pop((layer, part), None)
                continue
            for part, volatile in parts:
                rows = getattr(data, part, None)
                if not isinstance(rows, tuple) or not rows:
                    self._rows.pop((layer, part), None)
                    continue
                key = (type(rows[0]), volatile)
                getter = self._getters.get(key, _MISSING)
                if getter is _MISSING:
                    getter = self._getters[key] = _fixed_getter(rows[0], volatile)
                if getter is None or any(type(r) is not key[0] for r in rows):
                    self._rows.pop((layer, part), None)
                    continue
                fixed = [getter(r) for r in rows]
                before = self._rows.get((layer, part))
                self._rows[(layer, part)] = (rows, fixed)
                if before is None or len(before[1]) != len(rows):
                    continue
                old = before[1]
                changed = {i: rows[i] for i, f in enumerate(fixed) if f != old[i]}
                if len(changed) * 2 > len(rows):
                    continue  # mostly new: sent whole
                columns = {v: tuple([getattr(r, v) for r in rows]) for v in volatile}
                out.setdefault(layer, {})[part] = (len(rows), changed, columns)
            for part in out.get(layer, {}):
                data = replace(data, **{part: ()})
            if layer in out:
                view[layer] = data
        return out


class UpdateDecoder:
    """``update`` messages -> EngineUpdates, as the engine built them; the history (the
    sparklines) is fed by each good poll, as the merger feeds its own."""

    def __init__(self, profile: str = "", environment: str = "") -> None:
        from jaraba_tui.model.history import History
        from jaraba_tui.model.snapshot import StackSnapshot

        self.view = StackSnapshot(collected_at=0.0, profile=profile, environment=environment)
        self.states: dict[str, Any] = {}
        self.findings: tuple[Any, ...] = ()
        self.history = History()

    def update(self, message: dict[str, Any]) -> EngineUpdate:
        from jaraba_tui.engine.merge import EngineUpdate, data_stamp
        from jaraba_tui.model.snapshot import LAYERS, StackSnapshot

        layer = str(message["layer"])
        at = float(message["at"])
        view = message["view"]
        for name, paths in message.get("same", {}).items():
            data = view[name]
            for path in paths:  # the object this console holds already
                kept = _part(getattr(self.view, name, None), tuple(path))
                if not kept:
                    raise FrameError(f"the engine process referred to a {name} part never sent")
                try:
                    data = _with_part(data, tuple(path), kept)
                except (AttributeError, TypeError) as exc:
                    raise FrameError(f"a {name} part where there is none ({exc})") from None
            view[name] = data
        for name, parts in message.get("rows", {}).items():
            view[name] = self._rows(name, view.get(name), parts)
        if view:
            self.view = replace(self.view, **view)
        self.states.update(message["states"])
        if "findings" in message:
            self.findings = tuple(message["findings"])
        update = EngineUpdate(
            layer=layer,
            at=at,
            snapshot=self.view,
            findings=self.findings,
            events=tuple(message["events"]),
            states=dict(self.states),
            history=self.history,
        )
        if layer in LAYERS and layer in view and not update.state(layer).stale:
            data = view[layer]
            self.history.record(StackSnapshot(collected_at=data_stamp(data, at), **{layer: data}))
        return update

    def _rows(self, layer: str, data: Any, parts: dict[str, Any]) -> Any:
        """``data`` with each part sent as a row delta made from the rows held
        (:meth:`UpdateEncoder._row_deltas`)."""
        held_data = getattr(self.view, layer, None)
        try:
            for part, (length, changed, columns) in parts.items():
                held = getattr(held_data, part, None)
                if not isinstance(held, tuple) or len(held) != length:
                    raise FrameError(
                        f"the engine process sent {layer} {part} as changes to rows never sent"
                    )
                if any(len(v) != length for v in columns.values()):
                    raise FrameError(f"bad {layer} {part} row changes (lengths)")
                rows = _with_columns(held, changed, columns)
                data = replace(data, **{part: rows})
        except FrameError:
            raise
        except (AttributeError, TypeError, ValueError, IndexError) as exc:
            raise FrameError(f"bad {layer} row changes ({exc})") from None
        return data


def control_line(op: str, layer: str | None = None) -> bytes:
    """One control line for the child."""
    if op not in OPS:
        raise ValueError(f"unknown engine control {op!r}")
    return json.dumps({"op": op, "layer": layer}).encode() + b"\n"
