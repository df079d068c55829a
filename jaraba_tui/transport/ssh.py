"""SSH with asyncssh: one connection per host (reused, re-opened when it drops), host keys
verified against known_hosts, jump hosts, local port forwarding for ``via`` tunnels, remote
unix sockets (HAProxy's admin socket, no socat needed), and a quoting :class:`SshShell`.

Host keys: an unknown key is refused (unless the host opts in with
``accept_new_host_key``, which then records it in its known_hosts file); a key that differs
from a known one is always refused, loudly. Password and keyboard-interactive logins are
never attempted: the console never prompts.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import secrets
import shlex
import socket
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import asyncssh

from jaraba_tui.profile.errors import ProfileError
from jaraba_tui.secrets import Secret
from jaraba_tui.transport._common import (
    AddressProvider,
    Timeouts,
    error,
    os_error_kind,
    validate_argv,
)
from jaraba_tui.transport.base import CommandResult, TransportError

if TYPE_CHECKING:
    from jaraba_tui.profile import Profile

DEFAULT_KNOWN_HOSTS = "~/.ssh/known_hosts"


@dataclass(frozen=True)
class SshTarget:
    """How to reach one SSH host (built from a profile's ``[ssh.hosts.NAME]``)."""

    name: str
    host: str
    port: int = 22
    user: str | Secret | None = None
    key_file: str | None = None
    use_agent: bool = True
    jump: str | None = None
    known_hosts: str | None = None
    accept_new_host_key: bool = False
    connect_timeout: float | None = None

    @property
    def known_hosts_path(self) -> Path:
        return Path(self.known_hosts or DEFAULT_KNOWN_HOSTS).expanduser()

    @property
    def host_pattern(self) -> str:
        """The known_hosts spelling of this host: ``host`` or ``[host]:port``."""
        return self.host if self.port == 22 else f"[{self.host}]:{self.port}"

    @property
    def label(self) -> str:
        return f"ssh {self.name} ({self.host_pattern})"


def ssh_targets(profile: Profile) -> dict[str, SshTarget]:
    """The profile's ``[ssh.hosts]`` as targets, by name."""
    return {
        name: SshTarget(
            name=name,
            host=h.host,
            port=h.port,
            user=h.user,
            key_file=h.key_file,
            use_agent=h.use_agent,
            jump=h.jump,
            known_hosts=h.known_hosts,
            accept_new_host_key=h.accept_new_host_key,
            connect_timeout=h.connect_timeout,
        )
        for name, h in profile.ssh.hosts.items()
    }


@dataclass
class _Forward:
    conn: asyncssh.SSHClientConnection
    listener: asyncssh.SSHListener
    port: int


@dataclass
class _ProbeSession:
    """A long-lived ``sh`` on the host that runs read-only probes one after another."""

    conn: asyncssh.SSHClientConnection
    proc: asyncssh.SSHClientProcess[bytes]
    synced: bool = False
    #: The end-of-output markers: a random token per session, never printed by a probe (it
    #: exists only in this process and the marker commands), compiled once: a new token per
    #: exchange had cost two regex compilations in asyncssh's readuntil every probe.
    token: str = field(default_factory=lambda: secrets.token_hex(12))

    def __post_init__(self) -> None:
        self._out_mark = f"\n@@@{self.token} ".encode()
        self._err_mark = f"\n@@@{self.token}\n".encode()
        self._out_pat = re.compile(re.escape(self._out_mark))
        self._err_pat = re.compile(re.escape(self._err_mark))
        t = self.token
        self._marks = f"printf '\\n@@@{t} %s\\n' \"$?\"; printf '\\n@@@{t}\\n' >&2\n"

    async def exchange(self, script: str) -> tuple[bytes, bytes, int]:
        """Run one line of ``script`` in the shell: (stdout, stderr, exit status).

        Its end is marked on both streams by the session's random token, which no output
        can forge; the newline printed before each marker is removed, so output is returned
        exactly."""
        self.proc.stdin.write(f"{script}\n{self._marks}".encode())
        out_mark, err_mark = self._out_mark, self._err_mark
        got = await asyncio.gather(
            self.proc.stdout.readuntil(self._out_pat, len(out_mark)),
            self.proc.stderr.readuntil(self._err_pat, len(err_mark)),
            return_exceptions=True,
        )
        for item in got:
            if isinstance(item, BaseException):
                raise item
        out, err = (item for item in got if isinstance(item, bytes))
        status = (await self.proc.stdout.readline()).strip()
        rc = int(status) if status.isdigit() else -1
        return out[: -len(out_mark)], err[: -len(err_mark)], rc

    def usable(self, conn: asyncssh.SSHClientConnection) -> bool:
        return self.conn is conn and not conn.is_closed() and self.proc.exit_status is None

    def close(self) -> None:
        with contextlib.suppress(asyncssh.Error, OSError):
            self.proc.close()


@dataclass
class SshPool:
    """All SSH connections of one profile, opened lazily by host name."""

    targets: Mapping[str, SshTarget]
    timeouts: Timeouts = field(default_factory=Timeouts)
    command_timeout: float = 15.0
    keepalive_interval: float = 15.0
    #: Wrap remote commands in coreutils ``timeout`` so a timed-out command dies remotely too.
    remote_timeout: bool = True
    accepted_keys: list[tuple[str, str]] = field(default_factory=list)
    #: Session channels (commands, SFTP) open at once per host. OpenSSH's MaxSessions
    #: defaults to 10 per connection; more at once fail with "open failed".
    channel_limit: int = 6
    #: Long-lived probe shells per host (:meth:`SshShell.probe`); each holds one channel.
    probe_sessions: int = 2

    def __post_init__(self) -> None:
        self._slots: dict[str, asyncio.Semaphore] = {}
        self._probe_slots: dict[str, asyncio.Semaphore] = {}
        self._probe_idle: dict[str, list[_ProbeSession]] = {}
        self._probe_open: set[int] = set()
        self._conns: dict[str, asyncssh.SSHClientConnection] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        #: host -> (monotonic time, error) of its last failed connection attempt
        self._failed: dict[str, tuple[float, TransportError]] = {}
        self._forwards: dict[tuple[str, str, int], _Forward] = {}
        self._closed = False

    def slot(self, name: str) -> asyncio.Semaphore:
        """The semaphore bounding concurrent session channels on host ``name``."""
        if name not in self._slots:
            self._slots[name] = asyncio.Semaphore(self.channel_limit)
        return self._slots[name]

    # -- connections --------------------------------------------------------------------------
    def target(self, name: str) -> SshTarget:
        try:
            return self.targets[name]
        except KeyError:
            raise KeyError(f"no SSH host named {name!r} in the profile") from None

    async def connect(self, name: str, _depth: int = 0) -> asyncssh.SSHClientConnection:
        """The open connection to ``name`` (opened, or re-opened, on demand)."""
        if self._closed:
            raise error("SSH pool is closed", kind="other", endpoint=f"ssh {name}")
        target = self.target(name)
        if _depth > 8:
            raise error("jump chain too long", kind="other", endpoint=target.label)
        lock = self._locks.setdefault(name, asyncio.Lock())
        asked = time.monotonic()
        async with lock:
            conn = self._conns.get(name)
            if conn is not None and not conn.is_closed():
                return conn
            failed = self._failed.get(name)
            if failed is not None and failed[0] >= asked:
                # the attempt this call waited for has just failed: its error is this
                # call's too (callers that queued behind a hung host do not each wait out
                # another connect timeout)
                raise failed[1]
            tunnel = await self.connect(target.jump, _depth + 1) if target.jump else None
            try:
                conn = await self._open(target, tunnel)
            except TransportError as exc:
                self._failed[name] = (time.monotonic(), exc)
                raise
            self._failed.pop(name, None)
            self._conns[name] = conn
            return conn

    async def warm(self, name: str) -> None:
        """Open the connection to ``name`` and its probe shells now, ahead of the first
        probes (the engine's start: the handshake and the remote login shells' start, most
        of a first probe's time, overlap the engine's other imports). As many shells as
        the first poll would start (``probe_sessions``), no more. Best effort: a failure
        is left to the first poll, which reports it (a probe that waited on this attempt
        gets its error, see :meth:`connect`)."""
        try:
            await self.connect(name)  # a probe asking meanwhile waits for this attempt
        except TransportError:
            return
        async with contextlib.AsyncExitStack() as held:
            # hold every probe slot: a probe asking now waits for a ready shell rather
            # than starting one more
            for _ in range(max(1, self.probe_sessions)):
                await held.enter_async_context(self.probe_slot(name))
            opened = await asyncio.gather(
                *(self._warm_shell(name) for _ in range(max(1, self.probe_sessions))),
                return_exceptions=True,
            )
            for sess in opened:
                if isinstance(sess, _ProbeSession):
                    self.give_back_probe_session(name, sess)
                elif not isinstance(sess, Exception):
                    raise sess  # cancelled (the engine is stopping)

    async def _warm_shell(self, name: str) -> _ProbeSession:
        sess = await self.take_probe_session(name)
        try:
            async with asyncio.timeout(self.command_timeout):
                await sess.exchange(":")  # what the login shell printed is no probe's
            sess.synced = True
        except BaseException:
            self.drop_probe_session(name, sess)
            raise
        return sess

    async def _open(
        self, target: SshTarget, tunnel: asyncssh.SSHClientConnection | None
    ) -> asyncssh.SSHClientConnection:
        ep = target.label
        connect_timeout = target.connect_timeout or self.timeouts.connect
        known_path = target.known_hosts_path
        known = await asyncio.to_thread(_known_keys, target, known_path, tunnel is None)
        record_new = False
        if not known:
            if not target.accept_new_host_key:
                # Ask the host for its key: shows the fingerprint to verify, and reports a host
                # that cannot be reached as such rather than as a key problem.
                offered = await self._fingerprint(target, tunnel, connect_timeout, strict=True)
                raise error(
                    _unknown_key_message(target, known_path, offered), kind="hostkey", endpoint=ep
                )
            record_new = True
        try:
            user = await target.user.areveal() if isinstance(target.user, Secret) else target.user
        except ProfileError as exc:
            raise error(str(exc), kind="auth", endpoint=ep) from None
        options: dict[str, Any] = {
            "username": user,
            "known_hosts": None if record_new else str(known_path),
            "config": [],
            "password_auth": False,
            "kbdint_auth": False,
            "gss_auth": False,
            "connect_timeout": connect_timeout,
            "login_timeout": connect_timeout + self.timeouts.read,
            "keepalive_interval": self.keepalive_interval,
            "keepalive_count_max": 3,
            "encryption_algs": encryption_algs(),
        }
        if target.key_file:
            options["client_keys"] = [target.key_file]
        if not target.use_agent:
            options["agent_path"] = None
        if tunnel is not None:
            options["tunnel"] = tunnel
        try:
            async with asyncio.timeout(connect_timeout + self.timeouts.read + 1.0):
                conn = await asyncssh.connect(target.host, target.port, **options)
        except asyncssh.HostKeyNotVerifiable:
            offered = await self._fingerprint(target, tunnel, connect_timeout)
            raise error(
                _changed_key_message(target, known_path, known, offered),
                kind="hostkey",
                endpoint=ep,
            ) from None
        except asyncssh.PermissionDenied:
            how = f"key {target.key_file}" if target.key_file else "default keys"
            how += " and ssh-agent" if target.use_agent else ""
            raise error(
                f"authentication failed for user {user or '(local user)'} with {how}",
                kind="auth",
                endpoint=ep,
            ) from None
        except asyncssh.KeyImportError:
            raise error(
                f"cannot use key file {target.key_file} (encrypted? load it into "
                "ssh-agent and set use_agent = true)",
                kind="auth",
                endpoint=ep,
            ) from None
        except (asyncssh.DisconnectError, asyncssh.ChannelOpenError) as exc:
            raise error(f"SSH failed: {exc.reason}", kind="protocol", endpoint=ep) from None
        except (TimeoutError, OSError) as exc:
            kind, why = os_error_kind(exc)
            if isinstance(exc, FileNotFoundError | PermissionError) and target.key_file:
                kind, why = "auth", f"cannot read key file {target.key_file}"
            raise error(why, kind=kind, endpoint=ep) from None
        except ValueError as exc:  # asyncssh option errors (bad key file and the like)
            raise error(f"SSH setup failed: {exc}", kind="other", endpoint=ep) from None
        if record_new:
            fingerprint = await asyncio.to_thread(_record_key, conn, target, known_path)
            self.accepted_keys.append((target.name, fingerprint))
        return conn

    async def _fingerprint(
        self,
        target: SshTarget,
        tunnel: asyncssh.SSHClientConnection | None,
        timeout: float,
        *,
        strict: bool = False,
    ) -> str | None:
        """The SHA256 fingerprint of the key the host offers now. Best effort, except that
        with ``strict`` a host that cannot be reached raises that TransportError."""
        try:
            async with asyncio.timeout(timeout + 1.0):
                key = await asyncssh.get_server_host_key(
                    target.host, target.port, tunnel=tunnel or (), config=[]
                )
        except (TimeoutError, OSError) as exc:
            if strict:
                kind, why = os_error_kind(exc)
                raise error(why, kind=kind, endpoint=target.label) from None
            return None
        except Exception:  # a protocol problem: the key question stays the real one
            return None
        return str(key.get_fingerprint()) if key is not None else None

    # -- tunnels and remote sockets -----------------------------------------------------------
    async def forward(self, name: str, host: str, port: int) -> int:
        """Local port on 127.0.0.1 forwarded through SSH host ``name`` to ``host:port``."""
        key = (name, host, port)
        lock = self._locks.setdefault(f"fwd {name} {host} {port}", asyncio.Lock())
        async with lock:
            conn = await self.connect(name)
            current = self._forwards.get(key)
            if current is not None and current.conn is conn:
                return current.port
            if current is not None:
                current.listener.close()
            ep = f"{self.target(name).label} -> {host}:{port}"
            try:
                listener = await conn.forward_local_port("127.0.0.1", 0, host, port)
            except (asyncssh.Error, OSError) as exc:
                raise error(
                    f"cannot open the tunnel: {exc}", kind="protocol", endpoint=ep
                ) from None
            self._forwards[key] = _Forward(conn, listener, listener.get_port())
            return listener.get_port()

    def address_via(self, name: str, host: str, port: int) -> AddressProvider:
        """An address provider for clients: the local end of the tunnel, opened lazily."""

        async def provide() -> tuple[str, int]:
            return "127.0.0.1", await self.forward(name, host, port)

        return provide

    async def open_unix(
        self, name: str, path: str
    ) -> tuple[asyncssh.SSHReader[bytes], asyncssh.SSHWriter[bytes]]:
        """A stream to the unix socket ``path`` on SSH host ``name`` (direct-streamlocal)."""
        conn = await self.connect(name)
        ep = f"{self.target(name).label}:{path}"
        try:
            async with asyncio.timeout(self.timeouts.connect + self.timeouts.read):
                return await conn.open_unix_connection(path, encoding=None)
        except TimeoutError:
            raise error(
                "timed out opening the remote socket", kind="timeout", endpoint=ep
            ) from None
        except asyncssh.ChannelOpenError as exc:
            raise error(
                f"cannot open the remote socket: {exc.reason}", kind="refused", endpoint=ep
            ) from None
        except asyncssh.Error as exc:
            raise error(f"SSH failed: {exc}", kind="protocol", endpoint=ep) from None

    def shell(self, name: str) -> SshShell:
        self.target(name)
        return SshShell(self, name)

    async def server_version(self, name: str) -> str:
        conn = await self.connect(name)
        return str(conn.get_extra_info("server_version") or "")

    # -- probe sessions -----------------------------------------------------------------------
    def probe_slot(self, name: str) -> asyncio.Semaphore:
        if name not in self._probe_slots:
            self._probe_slots[name] = asyncio.Semaphore(max(1, self.probe_sessions))
        return self._probe_slots[name]

    async def take_probe_session(self, name: str) -> _ProbeSession:
        """An idle probe shell on ``name`` (call with :meth:`probe_slot` held), else a new one.

        The shell is started once and then reused: no session set-up per probe (with a
        login shell whose rc files are slow, that set-up is most of a probe's time)."""
        conn = await self.connect(name)
        idle = self._probe_idle.setdefault(name, [])
        while idle:
            sess = idle.pop()
            if sess.usable(conn):
                return sess
            self.drop_probe_session(name, sess)
        ep = f"{self.target(name).label} probe shell"
        await self.slot(name).acquire()  # the shell holds a session channel while it lives
        try:
            proc = await conn.create_process("exec sh", encoding=None)
        except (asyncssh.Error, OSError) as exc:
            self.slot(name).release()
            raise error(f"cannot start the shell: {exc}", kind="protocol", endpoint=ep) from None
        sess = _ProbeSession(conn, proc)
        self._probe_open.add(id(sess))
        return sess

    def give_back_probe_session(self, name: str, sess: _ProbeSession) -> None:
        if self._closed or not sess.usable(sess.conn):
            self.drop_probe_session(name, sess)
        else:
            self._probe_idle.setdefault(name, []).append(sess)

    def drop_probe_session(self, name: str, sess: _ProbeSession) -> None:
        sess.close()
        if id(sess) in self._probe_open:
            self._probe_open.discard(id(sess))
            self.slot(name).release()

    async def close(self) -> None:
        self._closed = True
        for idle in self._probe_idle.values():
            for sess in idle:
                sess.close()
        self._probe_idle.clear()
        for fwd in self._forwards.values():
            fwd.listener.close()
        self._forwards.clear()
        conns = list(self._conns.values())[::-1]
        self._conns.clear()
        for conn in conns:
            conn.close()
        for conn in conns:
            with contextlib.suppress(TimeoutError, asyncssh.Error, OSError):
                await asyncio.wait_for(conn.wait_closed(), timeout=2.0)


def ssh_pool(profile: Profile, timeouts: Timeouts | None = None) -> SshPool:
    """The profile's SSH pool, as :class:`~jaraba_tui.transport.factory.Transports` builds
    it (built on its own, it needs none of the other transports' libraries)."""
    poll = profile.poll
    return SshPool(
        ssh_targets(profile),
        timeouts=timeouts or Timeouts(connect=poll.connect_timeout, read=poll.read_timeout),
        command_timeout=poll.command_timeout,
    )


class SshShell:
    """:class:`~jaraba_tui.transport.base.Shell` on an SSH host: every argument is quoted
    with ``shlex.quote`` for the remote POSIX shell; argv[0] must be a plain program name."""

    def __init__(self, pool: SshPool, name: str) -> None:
        self._pool = pool
        self.host = name

    async def run(self, argv: Sequence[str], *, timeout: float | None = None) -> CommandResult:
        args = validate_argv(argv)
        limit = timeout if timeout is not None else self._pool.command_timeout
        if self._pool.remote_timeout:
            # sshd ignores signal requests and a closed channel does not stop a silent
            # process: coreutils' timeout ends it on the host itself, just after our limit.
            args_sent = ["timeout", "-k", "2", f"{limit + 1:g}", *args]
        else:
            args_sent = args
        command = " ".join(shlex.quote(a) for a in args_sent)
        ep = f"{self._pool.target(self.host).label} {args[0]}"
        async with self._pool.slot(self.host):
            conn = await self._pool.connect(self.host)
            try:
                proc = await conn.create_process(command, encoding="utf-8", errors="replace")
            except (asyncssh.Error, OSError) as exc:
                raise error(
                    f"cannot start the command: {exc}", kind="protocol", endpoint=ep
                ) from None
            try:
                stdout, stderr = await asyncio.wait_for(proc.communicate(), timeout=limit)
            except TimeoutError:
                _stop(proc)
                raise error(
                    f"command did not finish within {limit:g}s", kind="timeout", endpoint=ep
                ) from None
            except (asyncssh.Error, OSError) as exc:
                _stop(proc)
                raise error(f"lost the command: {exc}", kind="protocol", endpoint=ep) from None
        status = proc.exit_status
        return CommandResult(
            exit_status=status if status is not None else -1,
            stdout=str(stdout or ""),
            stderr=str(stderr or ""),
        )

    async def probe(self, argv: Sequence[str], *, timeout: float | None = None) -> CommandResult:
        """Like :meth:`run`, for short read-only probes: run in a long-lived shell on the host
        (a few per host, reused), not in a new SSH session each. A probe that times out or
        is cancelled takes its shell with it (the next probe starts a new one)."""
        args = validate_argv(argv)
        pool = self._pool
        limit = timeout if timeout is not None else pool.command_timeout
        if pool.remote_timeout:
            args = ["timeout", "-k", "2", f"{limit + 1:g}", *args]
        script = " ".join(shlex.quote(a) for a in args) + " </dev/null"
        ep = f"{pool.target(self.host).label} {argv[0]}"
        async with pool.probe_slot(self.host):
            sess = await pool.take_probe_session(self.host)
            try:
                if not sess.synced:  # whatever the login shell printed is no probe's
                    async with asyncio.timeout(limit):
                        await sess.exchange(":")
                    sess.synced = True
                async with asyncio.timeout(limit):
                    out, err, rc = await sess.exchange(script)
            except BaseException as exc:
                pool.drop_probe_session(self.host, sess)
                if isinstance(exc, TimeoutError):
                    raise error(
                        f"command did not finish within {limit:g}s", kind="timeout", endpoint=ep
                    ) from None
                if isinstance(exc, asyncssh.Error | OSError | asyncio.IncompleteReadError):
                    raise error(
                        f"lost the probe shell: {exc}", kind="protocol", endpoint=ep
                    ) from None
                raise
            pool.give_back_probe_session(self.host, sess)
        return CommandResult(
            exit_status=rc,
            stdout=out.decode("utf-8", "replace"),
            stderr=err.decode("utf-8", "replace"),
        )

    async def read_file(self, path: str, *, max_bytes: int = 1_000_000) -> str:
        """The file's text; when it is larger than ``max_bytes``, its last ``max_bytes``
        (log files grow at the end). SFTP, or ``tail -c`` where SFTP is unavailable."""
        if not path.startswith("/") or "\x00" in path:
            raise ValueError("read_file needs an absolute path")
        conn = await self._pool.connect(self.host)
        ep = f"{self._pool.target(self.host).label}:{path}"
        try:
            async with (
                self._pool.slot(self.host),
                asyncio.timeout(self._pool.command_timeout),
                conn.start_sftp_client() as sftp,
                sftp.open(path, "rb") as handle,
            ):
                size = (await handle.stat()).size or 0
                data: Any = await handle.read(max_bytes, max(0, size - max_bytes))
            return data.decode("utf-8", "replace") if isinstance(data, bytes) else str(data)
        except TimeoutError:
            raise error("reading the file timed out", kind="timeout", endpoint=ep) from None
        except asyncssh.SFTPNoSuchFile:
            raise error("no such file", kind="other", endpoint=ep) from None
        except asyncssh.SFTPPermissionDenied:
            raise error("permission denied", kind="auth", endpoint=ep) from None
        except (asyncssh.SFTPError, asyncssh.ChannelOpenError):
            pass  # no SFTP subsystem: fall back to tail
        result = await self.run(["tail", "-c", str(max_bytes), "--", path])
        if result.exit_status != 0:
            why = result.stderr.strip().splitlines()[:1] or ["failed"]
            raise error(f"cannot read: {why[0][:200]}", kind="other", endpoint=ep)
        return result.stdout


#: AES-GCM first: asyncssh's ChaCha20-Poly1305 builds a cipher object per packet in Python
#: (~32 us a packet here against ~5 us for AES-GCM, one call into OpenSSL), and a console
#: exchanges some 60 packets a poll. Both are AEAD ciphers OpenSSH recommends; a server
#: without AES-GCM still gets asyncssh's default list after them.
PREFERRED_CIPHERS = ("aes256-gcm@openssh.com", "aes128-gcm@openssh.com")


def encryption_algs() -> list[str]:
    from asyncssh.encryption import get_default_encryption_algs

    rest = [a.decode() for a in get_default_encryption_algs()]
    return [
        *(a for a in PREFERRED_CIPHERS if a in rest),
        *(a for a in rest if a not in PREFERRED_CIPHERS),
    ]


def _stop(proc: asyncssh.SSHClientProcess[Any]) -> None:
    with contextlib.suppress(asyncssh.Error, OSError):
        proc.kill()  # honoured by OpenSSH for non-pty sessions; closing the channel follows
    proc.close()


# -- known_hosts -----------------------------------------------------------------------------
def _known_keys(target: SshTarget, path: Path, resolve_locally: bool) -> list[str]:
    """Fingerprints of the keys known_hosts holds for this host (by name, and by address)."""
    if not path.is_file():
        return []
    try:
        known = asyncssh.read_known_hosts(str(path))
    except (OSError, ValueError, asyncssh.Error):
        return []
    addrs = {target.host}
    if resolve_locally:
        try:
            infos = socket.getaddrinfo(target.host, target.port, proto=socket.IPPROTO_TCP)
            addrs.update(str(info[4][0]) for info in infos)
        except OSError:
            pass
    found: list[str] = []
    for addr in sorted(addrs):
        try:
            keys = known.match(target.host, addr, target.port)[0]
        except (ValueError, asyncssh.Error):
            continue
        found += [str(k.get_fingerprint()) for k in keys]
    return sorted(set(found))


def _record_key(conn: asyncssh.SSHClientConnection, target: SshTarget, path: Path) -> str:
    key = conn.get_server_host_key()
    if key is None:
        return "unknown"
    line = f"{target.host_pattern} {key.export_public_key('openssh').decode().strip()}\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    existing = path.read_bytes() if path.is_file() else b""
    with open(path, "a", encoding="utf-8") as handle:
        if existing and not existing.endswith(b"\n"):
            handle.write("\n")
        handle.write(line)
    return str(key.get_fingerprint())


def _unknown_key_message(target: SshTarget, path: Path, offered: str | None) -> str:
    port = f"-p {target.port} " if target.port != 22 else ""
    seen = f" (it offers {offered})" if offered else ""
    return (
        f"host key of {target.host_pattern} is not in {path}{seen}: refusing to connect. "
        f"Verify the fingerprint out of band, then add it: `ssh-keyscan {port}{target.host} "
        f">> {path}`, or set accept_new_host_key = true in [ssh.hosts.{target.name}] to record "
        "it on first connect"
    )


def _changed_key_message(
    target: SshTarget, path: Path, known: list[str], offered: str | None
) -> str:
    return (
        f"HOST KEY MISMATCH for {target.host_pattern}: it offers "
        f"{offered or 'a different key'}, {path} expects {', '.join(known) or 'another key'}. "
        "Someone may be intercepting the connection (man in the middle), or the host was "
        "reinstalled. Refusing to connect. Verify the new key out of band; only then remove the "
        f"old entry: `ssh-keygen -R '{target.host_pattern}' -f {path}`"
    )


__all__ = ["SshPool", "SshShell", "SshTarget", "TransportError", "ssh_pool", "ssh_targets"]
