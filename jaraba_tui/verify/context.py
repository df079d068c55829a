"""What every check gets: the profile, its transports, timeouts, and shared lookups.

A lookup several items need (the HAProxy snapshot, a host's RAM) runs once per checklist
run: :meth:`Context.once` shares one task between the items that ask for it.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, TypeVar

from jaraba_tui.collectors import haproxy
from jaraba_tui.collectors.hosts import MemInfo, parse_meminfo
from jaraba_tui.profile import Profile
from jaraba_tui.profile.models import Checklist as ChecklistSettings
from jaraba_tui.transport.base import TransportError
from jaraba_tui.transport.factory import NotConfigured, Transports

T = TypeVar("T")


@dataclass
class Context:
    profile: Profile
    transports: Transports
    _memo: dict[str, asyncio.Task[Any]] = field(default_factory=dict)

    @property
    def settings(self) -> ChecklistSettings:
        return self.profile.checklist

    @property
    def connect_timeout(self) -> float:
        return self.profile.poll.connect_timeout

    @property
    def call_timeout(self) -> float:
        """An outer bound for one network call (connect + read + slack)."""
        poll = self.profile.poll
        return poll.connect_timeout + poll.read_timeout + 1.0

    @property
    def command_timeout(self) -> float:
        return self.profile.poll.command_timeout

    @property
    def item_timeout(self) -> float:
        """An outer bound for one whole item (a few sequential calls and a command)."""
        poll = self.profile.poll
        return poll.connect_timeout + 2 * poll.read_timeout + poll.command_timeout + 2.0

    async def once(self, key: str, make: Callable[[], Awaitable[T]]) -> T:
        """``make()`` run once per context; concurrent askers share its task. An item that
        times out does not cancel the shared task for the others."""
        task = self._memo.get(key)
        if task is None:

            async def run() -> T:
                return await make()

            task = asyncio.ensure_future(run())
            self._memo[key] = task
        result: T = await asyncio.shield(task)
        return result

    def close(self) -> None:
        for task in self._memo.values():
            task.cancel()

    # -- shared lookups -----------------------------------------------------------------------
    async def haproxy_snapshot(self) -> haproxy.HAProxySnapshot:
        hp = self.profile.haproxy
        if hp is None:
            raise NotConfigured("the profile has no [haproxy] section")
        tr = self.transports

        async def collect() -> haproxy.HAProxySnapshot:
            target = haproxy.HAProxyTarget(
                name="haproxy",
                runtime=tr.haproxy_runtime() if hp.runtime is not None else None,
                map_path=hp.map_file,
                stats_http=tr.haproxy_stats() if hp.stats_url is not None else None,
            )
            return await haproxy.collect(target, timeout=self.call_timeout)

        return await self.once("haproxy", collect)

    async def meminfo(self, ssh_host: str) -> MemInfo:
        """``/proc/meminfo`` of an SSH host of the profile."""

        async def read() -> MemInfo:
            shell = self.transports.shell(ssh_host)
            res = await shell.run(["cat", "/proc/meminfo"], timeout=self.command_timeout)
            if res.exit_status != 0:
                why = (res.stderr or res.stdout).strip().splitlines()[:1] or ["failed"]
                raise TransportError(f"cat /proc/meminfo on {ssh_host}: {why[0][:160]}")
            return parse_meminfo(res.stdout)

        return await self.once(f"meminfo/{ssh_host}", read)


# -- DNS without a hung thread keeping the process alive -------------------------------------
def _resolve_sync(name: str) -> list[str]:
    infos = socket.getaddrinfo(name, None, type=socket.SOCK_STREAM)
    seen: list[str] = []
    for info in infos:
        addr = str(info[4][0])
        if addr not in seen:
            seen.append(addr)
    return seen


async def resolve(name: str, timeout: float) -> list[str]:
    """The addresses ``name`` resolves to (the system resolver, in a daemon thread so a
    hung lookup can neither block the event loop nor the process exit).

    Raises ``socket.gaierror`` when it does not resolve, ``TimeoutError`` after ``timeout``.
    """
    fut: Future[list[str]] = Future()

    def work() -> None:
        try:
            fut.set_result(_resolve_sync(name))
        except BaseException as exc:
            fut.set_exception(exc)

    threading.Thread(target=work, name=f"resolve {name}", daemon=True).start()
    async with asyncio.timeout(timeout):
        return await asyncio.wrap_future(fut)


def short_error(exc: BaseException) -> str:
    """One secret-free phrase for an exception met while checking."""
    if isinstance(exc, TransportError):
        return str(exc) or exc.kind
    if isinstance(exc, NotConfigured):
        return str(exc)
    if isinstance(exc, TimeoutError):
        return "no answer before the deadline"
    if isinstance(exc, socket.gaierror):
        return f"does not resolve ({exc.strerror or exc})"
    if isinstance(exc, OSError):
        return exc.strerror or type(exc).__name__
    return f"{type(exc).__name__}: {exc}"
