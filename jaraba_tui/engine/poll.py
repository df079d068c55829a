"""The scheduler: every layer on its own interval, never overlapping itself.

- Each layer (galera, proxysql, haproxy, redis+sentinel, alerts, hosts) is one task that
  polls, then re-arms its timer when the poll *ends* (dolphie): a layer never overlaps
  itself, and a slow or hung layer never delays another.
- ``refresh_now()`` while that layer's poll is in flight is dropped (k9s): no queue of
  polls piles up behind a hung endpoint. A slow (longer than its interval) or failed poll
  backs off: interval x2, x4, ... up to a cap; one good poll resets it.
- Sentinel pub/sub events arrive between polls; ``+switch-master`` (and ``+odown``,
  ``+failover-end``, a resubscription) trigger an immediate Redis poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from jaraba_tui.collectors.sentinel_events import PubSubSource, SentinelEvent, sentinel_events
from jaraba_tui.collectors.stack import StackTargets, collect_stack
from jaraba_tui.engine.merge import Clock, EngineUpdate, StackMerger
from jaraba_tui.model.events import Event, EventKind
from jaraba_tui.model.findings import Severity
from jaraba_tui.model.history import History
from jaraba_tui.model.snapshot import LAYERS, StackSnapshot
from jaraba_tui.profile import PollConfig, Profile
from jaraba_tui.transport.factory import Transports
from jaraba_tui.transport.redis import RESUBSCRIBED

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]
#: Polls one layer: returns a StackSnapshot with that layer filled (or a LayerFailure).
LayerCollector = Callable[[str], Awaitable[StackSnapshot]]

#: Sentinel events after which the Redis layer is re-polled at once.
SENTINEL_TRIGGERS = frozenset(
    {"+switch-master", "+odown", "-odown", "+failover-end", "+failover-end-for-timeout"}
)


@dataclass
class LayerStats:
    """Counters of one layer's loop (tests and the debug view read them)."""

    polls: int = 0
    failures: int = 0
    skipped: int = 0
    backoff: int = 0
    in_flight: bool = False
    last_delay: float = 0.0
    delays: list[float] = field(default_factory=list)


# -- pure helpers ----------------------------------------------------------------------------

_TARGET_FIELDS: dict[str, tuple[str, ...]] = {
    "galera": ("galera",),
    "proxysql": ("proxysql",),
    "haproxy": ("haproxy",),
    "redis": ("redis", "sentinels"),
    "alerts": ("prometheus", "alertmanager"),
    "hosts": ("hosts",),
}


def layer_targets(targets: StackTargets, layer: str) -> StackTargets | None:
    """The subset of ``targets`` one layer polls; None when the layer is not configured."""
    picked = {f: getattr(targets, f) for f in _TARGET_FIELDS[layer]}
    if not any(v not in (None, ()) for v in picked.values()):
        return None
    return StackTargets(
        **picked,
        master_name=targets.master_name,
        profile=targets.profile,
        environment=targets.environment,
    )


def layer_intervals(poll: PollConfig) -> dict[str, float]:
    """Seconds between polls per layer; a layer with two services takes the shorter one."""
    return {
        "galera": poll.galera,
        "proxysql": poll.proxysql,
        "haproxy": poll.haproxy,
        "redis": min(poll.redis, poll.sentinel),
        "alerts": min(poll.prometheus, poll.alertmanager),
        "hosts": poll.hosts,
    }


_SENTINEL_SEVERITY = {
    "+switch-master": (EventKind.FAILOVER, Severity.WARN),
    "+sdown": (EventKind.STATE_CHANGED, Severity.WARN),
    "-sdown": (EventKind.STATE_CHANGED, Severity.OK),
    "+odown": (EventKind.STATE_CHANGED, Severity.CRIT),
    "-odown": (EventKind.STATE_CHANGED, Severity.OK),
    "+try-failover": (EventKind.STATE_CHANGED, Severity.WARN),
    "+selected-slave": (EventKind.STATE_CHANGED, Severity.WARN),
    "+promoted-slave": (EventKind.STATE_CHANGED, Severity.WARN),
    "+failover-end": (EventKind.STATE_CHANGED, Severity.OK),
    "+failover-end-for-timeout": (EventKind.STATE_CHANGED, Severity.WARN),
    "-failover-abort-not-elected": (EventKind.STATE_CHANGED, Severity.WARN),
    "-failover-abort-no-good-slave": (EventKind.STATE_CHANGED, Severity.CRIT),
    "+convert-to-slave": (EventKind.STATE_CHANGED, Severity.OK),
    "+tilt": (EventKind.STATE_CHANGED, Severity.WARN),
    "-tilt": (EventKind.STATE_CHANGED, Severity.OK),
}


def sentinel_event(ev: SentinelEvent) -> Event | None:
    """A timeline event for the Sentinel events an engineer cares about; None for chatter
    (``+new-epoch``, ``+vote-for-leader``, ``+failover-state-*``...)."""
    kind_sev = _SENTINEL_SEVERITY.get(ev.kind)
    if kind_sev is None:
        return None
    kind, sev = kind_sev
    target = ev.master_name or ev.address or ev.sentinel
    return Event(ev.received_at, "redis", target, kind, ev.sentence(), sev)


# -- the scheduler ---------------------------------------------------------------------------


class PollEngine:
    """Polls each layer of ``profile`` on its own interval; calls ``on_update`` after each.

    ``collect`` (tests) replaces the real per-layer collector; ``sleep`` (tests) replaces
    ``asyncio.sleep`` between polls; ``clock`` is the wall clock of timestamps.
    Run it with ``await engine.run()`` (returns after :meth:`aclose`).
    """

    def __init__(
        self,
        profile: Profile,
        transports: Transports | None,
        on_update: Callable[[EngineUpdate], None],
        *,
        collect: LayerCollector | None = None,
        layers: Sequence[str] | None = None,
        intervals: Mapping[str, float] | None = None,
        clock: Clock = time.time,
        sleep: Sleep = asyncio.sleep,
        event_sources: Mapping[str, PubSubSource] | None = None,
        close_transports: bool = False,
        max_backoff: float = 30.0,
        poll_deadline: float | None = None,
        history: History | None = None,
    ) -> None:
        from jaraba_tui.wiring import build_targets, layer_timeout, model_thresholds

        self.profile = profile
        self.transports = transports
        self.on_update = on_update
        self._clock = clock
        self._sleep = sleep
        self._close_transports = close_transports
        self.max_backoff = max_backoff
        self.intervals = {**layer_intervals(profile.poll), **(intervals or {})}
        poll = profile.poll
        self.poll_deadline = poll_deadline or (layer_timeout(profile) + poll.read_timeout)
        self.merger = StackMerger(
            model_thresholds(profile),
            profile=profile.name,
            environment=profile.environment,
            history=history,
            clock=clock,
        )
        if collect is None:
            if transports is None:
                raise ValueError("PollEngine needs transports or a collect function")
            targets = build_targets(profile, transports)
            subsets = {name: layer_targets(targets, name) for name in LAYERS}
            configured = [name for name, sub in subsets.items() if sub is not None]
            step = poll.connect_timeout + poll.read_timeout
            deadline = layer_timeout(profile)

            async def collect_real(layer: str) -> StackSnapshot:
                sub = subsets[layer]
                assert sub is not None
                return await collect_stack(sub, clock=clock, timeout=step, layer_timeout=deadline)

            collect = collect_real
            if event_sources is None and profile.sentinel is not None and "redis" in configured:
                event_sources = {
                    s.name: transports.sentinel(s.name) for s in profile.sentinel.instances
                }
        else:
            configured = list(LAYERS)
        self._collect = collect
        self.layers: tuple[str, ...] = tuple(
            name for name in (layers or configured) if name in LAYERS
        )
        self._event_sources = dict(event_sources or {})
        self.stats = {name: LayerStats() for name in self.layers}
        self._wake = {name: asyncio.Event() for name in self.layers}
        self._forced: set[str] = set()
        self._paused = False
        self._paused_layers: set[str] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self._closed = asyncio.Event()
        self._recent_push: dict[tuple[str, str], float] = {}
        self.listener_errors: dict[str, str] = {}

    # -- control (call from the loop the engine runs on) ------------------------------------
    def refresh_now(self, layer: str | None = None) -> None:
        """Poll ``layer`` (None: every layer) now, even when paused; dropped for a layer
        whose poll is in flight (its answer is on the way)."""
        for name in self.layers if layer is None else (layer,):
            if name not in self._wake:
                continue
            if self.stats[name].in_flight:
                self.stats[name].skipped += 1
                continue
            self._forced.add(name)
            self._wake[name].set()

    def pause(self) -> None:
        self._paused = True

    def resume(self) -> None:
        self._paused = False
        for ev in self._wake.values():
            ev.set()

    def pause_layer(self, layer: str) -> None:
        """Hold one layer (e.g. while a confirmation modal shows its state)."""
        self._paused_layers.add(layer)

    def resume_layer(self, layer: str) -> None:
        self._paused_layers.discard(layer)
        if layer in self._wake:
            self._wake[layer].set()

    def is_paused(self, layer: str | None = None) -> bool:
        return self._paused or (layer is not None and layer in self._paused_layers)

    # -- running ------------------------------------------------------------------------------
    async def run(self) -> None:
        """Poll until :meth:`aclose` (or cancellation)."""
        self._tasks = [
            asyncio.create_task(self._layer_loop(name), name=f"poll {name}") for name in self.layers
        ]
        self._tasks += [
            asyncio.create_task(self._listen(name, src), name=f"sentinel events {name}")
            for name, src in self._event_sources.items()
        ]
        try:
            await self._closed.wait()
        finally:
            await self._stop_tasks()

    async def aclose(self, timeout: float = 1.0) -> None:
        """Stop polling; close the transports if the engine owns them (bounded: a thread
        blocked in a read must not hold the console's exit)."""
        self._closed.set()
        await self._stop_tasks()
        if self._close_transports and self.transports is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.transports.aclose(), timeout)

    async def _stop_tasks(self) -> None:
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    def _emit(self, update: EngineUpdate) -> None:
        try:
            self.on_update(update)
        except Exception:  # a broken listener must not stop the polls
            log.exception("on_update failed for %s", update.layer)

    async def _wait(self, layer: str, delay: float | None) -> bool:
        """Sleep ``delay`` (None: until woken); True if woken by :meth:`refresh_now`."""
        wake = self._wake[layer]
        if not wake.is_set():
            waiter = asyncio.ensure_future(wake.wait())
            pending: set[asyncio.Future[Any]] = {waiter}
            if delay is not None:
                pending.add(asyncio.ensure_future(self._sleep(delay)))
            try:
                await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for fut in pending:
                    fut.cancel()
        wake.clear()
        forced = layer in self._forced
        self._forced.discard(layer)
        return forced

    async def _layer_loop(self, layer: str) -> None:
        stats = self.stats[layer]
        delay = 0.0
        while True:
            forced = await self._wait(layer, delay) if delay > 0 else False
            while self.is_paused(layer) and not forced:
                forced = await self._wait(layer, None)
            stats.in_flight = True
            started = time.monotonic()
            try:
                result: StackSnapshot | BaseException
                async with asyncio.timeout(self.poll_deadline):
                    result = await self._collect(layer)
            except asyncio.CancelledError:
                raise
            except BaseException as exc:
                result = exc if isinstance(exc, Exception) else RuntimeError(repr(exc))
            finally:
                stats.in_flight = False
            elapsed = time.monotonic() - started
            stats.polls += 1
            update = self.merger.merge(layer, result)
            ok = not update.state(layer).stale
            stats.failures += 0 if ok else 1
            self._emit(update)
            delay = self._next_delay(layer, elapsed, ok)

    def _next_delay(self, layer: str, elapsed: float, ok: bool) -> float:
        interval = self.intervals[layer]
        stats = self.stats[layer]
        if ok and elapsed <= interval:
            stats.backoff = 0
            delay = interval
        else:
            stats.backoff += 1
            cap = max(interval, min(self.max_backoff, interval * 8))
            delay = min(interval * 2**stats.backoff, cap)
        stats.last_delay = delay
        stats.delays.append(delay)
        del stats.delays[:-50]
        return delay

    async def _listen(self, name: str, source: PubSubSource) -> None:
        try:
            async for ev in sentinel_events(source, sentinel=name, clock=self._clock):
                if ev.kind in SENTINEL_TRIGGERS or ev.kind == RESUBSCRIBED:
                    self.refresh_now("redis")
                event = sentinel_event(ev)
                if event is not None and not self._duplicate(ev):
                    self._emit(self.merger.push([event]))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # auth errors end a subscription: polls carry on
            self.listener_errors[name] = f"{type(exc).__name__}: {exc}"
            log.warning("sentinel events from %s stopped: %s", name, exc)

    def _duplicate(self, ev: SentinelEvent, window: float = 30.0) -> bool:
        """Every Sentinel announces the same switch: keep the first within ``window``."""
        if ev.kind != "+switch-master":
            return False
        key = (ev.kind, f"{ev.master_name} {ev.new_master}")
        last = self._recent_push.get(key)
        self._recent_push[key] = ev.received_at
        return last is not None and ev.received_at - last < window
