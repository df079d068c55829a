"""Bounded numeric history for sparklines, and rates from monotonically increasing counters.

Every series is a ``deque(maxlen=...)`` of ``(timestamp, value)``: memory stays flat however
long the console runs. Counters that go down (a restarted server) are treated as reset to
zero, as Prometheus' ``rate()`` does: the increase is the new value itself.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from jaraba_tui.model.snapshot import StackSnapshot

Point = tuple[float, float]


class History:
    def __init__(self, maxlen: int = 120) -> None:
        if maxlen < 1:
            raise ValueError("maxlen must be at least 1")
        self.maxlen = maxlen
        self._series: dict[str, deque[Point]] = {}
        self._counters: dict[str, Point] = {}

    # -- raw series --------------------------------------------------------------------------

    def add(self, key: str, t: float, value: float) -> None:
        """Append a gauge sample. Samples older than the newest one are ignored."""
        series = self._series.setdefault(key, deque(maxlen=self.maxlen))
        if series and t < series[-1][0]:
            return
        series.append((t, float(value)))

    def add_counter(self, key: str, t: float, value: float) -> float | None:
        """Feed a counter; appends and returns its per-second rate since the previous sample
        (None for the first sample or a non-advancing clock)."""
        last = self._counters.get(key)
        self._counters[key] = (t, float(value))
        if last is None:
            return None
        lt, lv = last
        dt = t - lt
        if dt <= 0:
            return None
        increase = value - lv if value >= lv else value  # reset: counted from zero
        rate = increase / dt
        self.add(key, t, rate)
        return rate

    def points(self, key: str) -> list[Point]:
        return list(self._series.get(key, ()))

    def values(self, key: str) -> list[float]:
        # list() first: one C call, atomic under the GIL (the engine's thread may append)
        return [v for _, v in list(self._series.get(key, ()))]

    def latest(self, key: str) -> float | None:
        s = self._series.get(key)
        return s[-1][1] if s else None

    def keys(self) -> list[str]:
        return sorted(self._series)

    def __len__(self) -> int:
        return len(self._series)

    # -- from snapshots ----------------------------------------------------------------------

    def record(self, snap: StackSnapshot) -> None:
        """Extract the standard series (see :func:`series_of`) from one poll."""
        for key, kind, value in series_of(snap):
            if kind == "counter":
                self.add_counter(key, snap.collected_at, value)
            else:
                self.add(key, snap.collected_at, value)


def series_of(snap: StackSnapshot) -> Iterable[tuple[str, str, float]]:
    """(key, "gauge"|"counter", value) for everything worth a sparkline."""
    g = snap.galera
    if g is not None:
        for n in g.nodes:
            ws = n.wsrep
            if ws is None:
                continue
            if ws.local_recv_queue is not None:
                yield f"galera.{n.name}.recv_queue", "gauge", ws.local_recv_queue
            if ws.local_send_queue is not None:
                yield f"galera.{n.name}.send_queue", "gauge", ws.local_send_queue
            if ws.flow_control_paused_ns is not None:
                # ns paused per second, as a fraction of the second
                yield f"galera.{n.name}.flow_paused", "counter", ws.flow_control_paused_ns / 1e9
            if ws.last_committed is not None:
                yield f"galera.{n.name}.commits_per_s", "counter", ws.last_committed
            if ws.evs_repl_latency is not None:
                yield f"galera.{n.name}.repl_latency_ms", "gauge", ws.evs_repl_latency.avg_s * 1e3
    p = snap.proxysql
    if p is not None:
        if "Questions" in p.counters:
            yield "proxysql.questions_per_s", "counter", p.counters["Questions"]
        if "Client_Connections_connected" in p.counters:
            yield "proxysql.clients", "gauge", p.counters["Client_Connections_connected"]
        for e in p.pool:
            if e.latency_us is not None:
                yield (
                    f"proxysql.hg{e.hostgroup}.{e.address}.latency_ms",
                    "gauge",
                    e.latency_us / 1e3,
                )
            if e.conn_used is not None:
                yield f"proxysql.hg{e.hostgroup}.{e.address}.conn_used", "gauge", e.conn_used
    h = snap.haproxy
    if h is not None:
        for b in (*h.frontends, *h.backends):
            if b.scur is not None:
                yield f"haproxy.{b.proxy}.sessions", "gauge", b.scur
            if b.req_tot is not None:
                yield f"haproxy.{b.proxy}.req_per_s", "counter", b.req_tot
            if b.hrsp_5xx is not None:
                yield f"haproxy.{b.proxy}.5xx_per_s", "counter", b.hrsp_5xx
    r = snap.redis
    if r is not None:
        for i in r.instances:
            info = i.info
            if info is None:
                continue
            if info.instantaneous_ops_per_sec is not None:
                yield f"redis.{i.name}.ops_per_s", "gauge", info.instantaneous_ops_per_sec
            if info.used_memory is not None:
                yield f"redis.{i.name}.used_memory", "gauge", info.used_memory
            if info.connected_clients is not None:
                yield f"redis.{i.name}.clients", "gauge", info.connected_clients
            for rep in info.replicas:
                if rep.lag_bytes is not None:
                    yield f"redis.replica.{rep.address}.lag_bytes", "gauge", rep.lag_bytes
    a = snap.alerts
    if a is not None and a.prometheus is not None and a.prometheus.error is None:
        yield "alerts.firing", "gauge", len(a.prometheus.firing)
    for host in snap.hosts:
        if host.load is not None:
            yield f"host.{host.name}.load1", "gauge", host.load.load1
        if host.memory is not None:
            yield f"host.{host.name}.memory_pct", "gauge", host.memory.used_pct
