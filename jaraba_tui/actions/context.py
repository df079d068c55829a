"""What an action runs with: the profile, its transports, settings, audit log, lock, who."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from jaraba_tui.actions.audit import AuditLog, Who, default_audit_path
from jaraba_tui.actions.lock import ActionLock, lock_path
from jaraba_tui.actions.settings import ActionSettings
from jaraba_tui.collectors.stack import StackTargets, collect_stack
from jaraba_tui.model.snapshot import LAYERS, StackSnapshot

if TYPE_CHECKING:
    from jaraba_tui.profile import Profile

    # at run time only in create(): the transports (asyncssh, redis, httpx) are the heaviest
    # imports of the console, not needed for its first frame (issue 6, start-up)
    from jaraba_tui.transport.factory import Transports

Sleep = Callable[[float], Awaitable[None]]


class _LazyTransports:
    """The profile's :class:`Transports`, built (their modules imported) on first use."""

    def __init__(self, profile: Profile) -> None:
        self._profile = profile
        self._real: Transports | None = None

    def _get(self) -> Transports:
        if self._real is None:
            from jaraba_tui.transport.factory import Transports

            self._real = Transports(self._profile)
        return self._real

    def __getattr__(self, name: str) -> Any:
        return getattr(self._get(), name)

    async def aclose(self) -> None:
        if self._real is not None:
            await self._real.aclose()


@dataclass
class ActionContext:
    profile: Profile
    transports: Transports
    settings: ActionSettings
    audit: AuditLog
    lock: ActionLock
    who: Who
    read_only: bool = False
    sleep: Sleep = asyncio.sleep
    clock: Callable[[], float] = time.time
    _own_transports: bool = field(default=False, repr=False)

    @classmethod
    def create(
        cls,
        profile: Profile,
        *,
        read_only: bool = False,
        transports: Transports | None = None,
        settings: ActionSettings | None = None,
        audit_path: Path | str | None = None,
        who: Who | None = None,
    ) -> ActionContext:
        path = Path(audit_path) if audit_path is not None else default_audit_path(profile)
        if transports is None:
            # built on first use: the console's process (its engine in a child process)
            # does not import asyncssh/redis/httpx before its first frame (issue 6)
            transports = cast("Transports", _LazyTransports(profile))
            own = True
        else:
            own = False
        return cls(
            profile=profile,
            transports=transports,
            settings=settings or ActionSettings.from_profile(profile),
            audit=AuditLog(path),
            lock=ActionLock(lock_path(path, profile.name)),
            who=who or Who.current(),
            read_only=read_only or profile.read_only,
            _own_transports=own,
        )

    async def aclose(self) -> None:
        self.lock.release()
        if self._own_transports:
            await self.transports.aclose()

    async def __aenter__(self) -> ActionContext:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    @property
    def timeout(self) -> float:
        """One network call's bound (connect + read)."""
        poll = self.profile.poll
        return poll.connect_timeout + poll.read_timeout

    async def poll(self, *layers: str) -> StackSnapshot:
        """A fresh poll of the given layers (all when none are given)."""
        from jaraba_tui.wiring import build_targets, layer_timeout

        unknown = set(layers) - set(LAYERS)
        if unknown:
            raise ValueError(f"unknown layer(s): {', '.join(sorted(unknown))}")
        targets = build_targets(self.profile, self.transports)
        if layers:
            targets = _only(targets, set(layers))
        return await collect_stack(
            targets,
            clock=self.clock,
            timeout=self.timeout,
            layer_timeout=layer_timeout(self.profile),
        )


def _only(t: StackTargets, layers: set[str]) -> StackTargets:
    return dataclasses.replace(
        t,
        galera=t.galera if "galera" in layers else (),
        proxysql=t.proxysql if "proxysql" in layers else None,
        haproxy=t.haproxy if "haproxy" in layers else None,
        redis=t.redis if "redis" in layers else (),
        sentinels=t.sentinels if "redis" in layers else (),
        prometheus=t.prometheus if "alerts" in layers else None,
        alertmanager=t.alertmanager if "alerts" in layers else None,
        hosts=t.hosts if "hosts" in layers else (),
    )
