"""The merge: per-layer poll results -> the live snapshot, health, events, staleness.

Pure and synchronous (no I/O, no tasks): :class:`~jaraba_tui.engine.poll.PollEngine` calls
:class:`StackMerger` from its poll tasks; ``replay`` and the UI's tests call it (through
:func:`replay_updates`) with recorded snapshots.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from jaraba_tui.collectors.common import error_from, is_fatal
from jaraba_tui.model.events import Event, diff
from jaraba_tui.model.findings import Finding
from jaraba_tui.model.health import combine, failure_findings, layer_findings
from jaraba_tui.model.history import History
from jaraba_tui.model.snapshot import LAYERS, LayerFailure, StackSnapshot
from jaraba_tui.model.thresholds import Thresholds

Clock = Callable[[], float]


@dataclass(frozen=True)
class LayerState:
    """Freshness of one layer. ``error`` set = the last poll failed and the layer's data
    (if any) is from ``last_ok_at``; ``stale_since`` is when the failures started."""

    last_ok_at: float | None = None
    error: str | None = None
    stale_since: float | None = None

    @property
    def stale(self) -> bool:
        return self.error is not None

    def age(self, now: float) -> float | None:
        """Seconds since the layer last answered (None: never)."""
        return None if self.last_ok_at is None else max(0.0, now - self.last_ok_at)


@dataclass(frozen=True)
class EngineUpdate:
    """One fact from the engine: ``layer`` was polled (or "sentinel" pushed events).

    ``snapshot`` is what panes show: every layer's newest *good* data (a stale layer keeps
    its last one). ``findings`` (worst first) and ``events`` come from what the polls really
    saw. ``history`` is the engine's live, bounded history (read it, do not write it).
    """

    layer: str
    at: float
    snapshot: StackSnapshot
    findings: tuple[Finding, ...]
    events: tuple[Event, ...]
    states: Mapping[str, LayerState]
    history: History = field(compare=False, repr=False)

    def state(self, layer: str) -> LayerState:
        return self.states.get(layer, LayerState())


def _layer_of(failure: LayerFailure) -> str:
    return failure.layer.split(":", 1)[0]


def layer_problem(layer: str, data: Any) -> str | None:
    """Why a layer's fresh data is no data at all (nothing answered), else None.

    Partial answers are data (one Galera node down is news, not staleness); so are Galera
    host-side facts when SQL is down everywhere (grastate.dat is what a bootstrap needs).
    """
    if data is None:
        return None
    if layer == "galera":
        nodes = data.nodes
        if any(n.wsrep is not None or n.grastate is not None or n.process for n in nodes):
            return None
        errs = [n.sql_error for n in nodes if n.sql_error is not None]
        return errs[0].sentence() if errs else None
    if layer == "proxysql":
        fatal = next((e for e in data.errors if is_fatal(e)), None)
        return fatal.sentence() if fatal is not None and not data.servers else None
    if layer == "haproxy":
        if data.has_stats or not data.errors:
            return None
        fatal = next((e for e in data.errors if is_fatal(e)), data.errors[0])
        return str(fatal.sentence())
    if layer == "redis":
        if any(i.info is not None for i in data.instances) or any(
            s.reachable for s in data.sentinels
        ):
            return None
        errs = [i.error for i in data.instances if i.error is not None]
        errs += [e for s in data.sentinels for e in s.errors]
        return errs[0].sentence() if errs else None
    if layer == "alerts":
        p, a = data.prometheus, data.alertmanager
        p_dead = p is None or p.error is not None
        a_dead = a is None or any(is_fatal(e) for e in a.errors)
        if not (p_dead and a_dead):
            return None
        err = (p.error if p is not None else None) or next(
            (e for e in (a.errors if a is not None else ())), None
        )
        return err.sentence() if err is not None else None
    if layer == "hosts":
        if not data or any(h.reachable for h in data):
            return None
        errs = [e for h in data for e in h.errors]
        return errs[0].sentence() if errs else None
    return None


# -- the merge: pure and synchronous -------------------------------------------------------


class StackMerger:
    """Folds per-layer poll results into the live snapshot: health, events, history, staleness.

    Pure (no I/O, no tasks): the engine calls it from its poll tasks, replay and tests call
    it with recorded snapshots.
    """

    def __init__(
        self,
        thresholds: Thresholds | None = None,
        *,
        profile: str = "",
        environment: str = "",
        history: History | None = None,
        clock: Clock = time.time,
    ) -> None:
        self.thresholds = thresholds or Thresholds()
        self.history = history if history is not None else History()
        self._clock = clock
        start = StackSnapshot(collected_at=0.0, profile=profile, environment=environment)
        self.current = start  #: what the polls saw (health and events come from it)
        self.view = start  #: what panes show (stale layers keep their last good data)
        self._rate_prev: dict[str, Any] = {}  # layer -> its data one poll before
        self._good: dict[str, Any] = {}
        self.states: dict[str, LayerState] = {}
        self.findings: tuple[Finding, ...] = ()
        self._layer_findings: dict[str, list[Finding]] = {}  # layer -> its rules' findings

    def merge(self, layer: str, result: StackSnapshot | BaseException) -> EngineUpdate:
        """Fold one poll of ``layer`` (its snapshot, or the exception the poll raised)."""
        now = self._clock()
        prev = self.current
        attr = layer
        old_data = getattr(prev, attr)
        if isinstance(result, BaseException):
            err = error_from(result, layer, "poll")
            failures: tuple[LayerFailure, ...] = (LayerFailure(layer, err.kind, err.message),)
            data: Any = () if layer == "hosts" else None
            problem: str | None = err.message
        else:
            data = getattr(result, attr)
            failures = tuple(f for f in result.failures if _layer_of(f) == layer)
            problem = failures[0].message if failures and not data else layer_problem(layer, data)
            if failures and problem is None and layer != "hosts":
                problem = failures[0].message
        others = tuple(f for f in prev.failures if _layer_of(f) != layer)
        self._rate_prev[layer] = old_data
        self.current = replace(prev, **{attr: data}, failures=others + failures, collected_at=now)
        state = self.states.get(layer, LayerState())
        if problem is None:
            self._good[layer] = data
            self.states[layer] = LayerState(last_ok_at=now)
            self.history.record(StackSnapshot(collected_at=data_stamp(data, now), **{attr: data}))
        else:
            self.states[layer] = LayerState(
                last_ok_at=state.last_ok_at,
                error=problem,
                stale_since=state.stale_since if state.stale else now,
            )
        shown = self._good.get(layer, data) if problem is not None else data
        self.view = replace(
            self.view, **{attr: shown}, failures=self.current.failures, collected_at=now
        )
        events = tuple(diff(prev, self.current)) if prev.collected_at else ()
        return self._update(layer, now, events)

    def push(self, events: Sequence[Event], layer: str = "sentinel") -> EngineUpdate:
        """Events that arrived between polls (Sentinel pub/sub)."""
        return self._update(layer, self._clock(), tuple(events), reevaluate=False)

    def snapshot_update(self, layer: str = "") -> EngineUpdate:
        """The current state, without new events."""
        return self._update(layer, self._clock(), (), reevaluate=False)

    def _update(
        self, layer: str, now: float, events: tuple[Event, ...], *, reevaluate: bool = True
    ) -> EngineUpdate:
        if reevaluate:
            # Only the polled layer's data changed: only its rules run again (with 1000
            # HAProxy servers and 300 alerts, every layer's rules on every poll add up).
            prev_data = self._rate_prev.get(layer) if layer != "hosts" else None
            rate_prev = StackSnapshot(
                collected_at=0.0, **({layer: prev_data} if prev_data is not None else {})
            )
            self._layer_findings[layer] = layer_findings(
                layer, self.current, self.thresholds, rate_prev
            )
            self.findings = tuple(
                combine(
                    [
                        *(self._layer_findings.get(name, ()) for name in LAYERS),
                        failure_findings(self.current),
                    ]
                )
            )
        return EngineUpdate(
            layer=layer,
            at=now,
            snapshot=self.view,
            findings=self.findings,
            events=events,
            states=dict(self.states),
            history=self.history,
        )


def data_stamp(data: Any, default: float) -> float:
    """When a layer's data was collected (its newest host for per-host tuples), else ``default``."""
    stamp = getattr(data, "collected_at", None)
    if isinstance(stamp, int | float) and stamp > 0:
        return float(stamp)
    if isinstance(data, tuple) and data:
        return max(float(getattr(h, "collected_at", default)) for h in data)
    return default


def replay_updates(
    snapshots: Sequence[StackSnapshot],
    thresholds: Thresholds | None = None,
    *,
    layers: Sequence[str] = LAYERS,
) -> list[EngineUpdate]:
    """EngineUpdates for recorded whole-stack snapshots, as if each layer had been polled
    at the snapshot's time (``replay`` and the UI's snapshot tests)."""
    if not snapshots:
        return []
    first = snapshots[0]
    now = [first.collected_at]
    merger = StackMerger(
        thresholds, profile=first.profile, environment=first.environment, clock=lambda: now[0]
    )
    out: list[EngineUpdate] = []
    for snap in snapshots:
        now[0] = snap.collected_at
        for layer in layers:
            if getattr(snap, layer) in (None, ()) and snap.failure(layer) is None:
                continue
            out.append(merger.merge(layer, snap))
    return out
