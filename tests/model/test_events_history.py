"""Event diff between consecutive snapshots, and the bounded history."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from jaraba_tui.collectors.common import EndpointError
from jaraba_tui.model.events import Event, EventKind, diff
from jaraba_tui.model.findings import Severity
from jaraba_tui.model.history import History, series_of
from jaraba_tui.model.snapshot import LayerFailure, StackSnapshot
from tests.model.snapshots import (
    alerts_snap,
    galera_snap,
    haproxy_snap,
    healthy_stack,
    proxysql_snap,
    redis_snap,
)


def kinds(events: Sequence[Event]) -> list[tuple[str, str]]:
    return [(e.kind.value, e.target) for e in events]


async def test_no_events_on_first_poll_or_without_change() -> None:
    s = await healthy_stack()
    assert diff(None, s) == []
    assert diff(s, replace(s, collected_at=1010.0)) == []


async def test_galera_node_left_and_joined() -> None:
    s = await healthy_stack()
    down = replace(s, collected_at=1010.0, galera=await galera_snap("galera_stopped"))
    ev = diff(s, down)
    assert ("node_left", "node3") in kinds(ev) and ("endpoint_failed", "node3") in kinds(ev)
    left = next(e for e in ev if e.kind is EventKind.NODE_LEFT)
    assert left.message == "galera: node3 left the cluster: connection refused (size 3 → 2)"
    assert left.severity is Severity.CRIT and left.timestamp == 1010.0
    back = diff(down, replace(s, collected_at=1020.0))
    assert ("node_joined", "node3") in kinds(back) and ("endpoint_recovered", "node3") in kinds(
        back
    )


async def test_galera_state_change() -> None:
    s = await healthy_stack()
    assert s.galera is not None
    nodes = tuple(
        replace(n, wsrep=replace(n.wsrep, local_state_comment="Donor/Desynced"))
        if n.name == "node2" and n.wsrep
        else n
        for n in s.galera.nodes
    )
    ev = diff(s, replace(s, galera=replace(s.galera, nodes=nodes)))
    assert [(e.kind, e.message) for e in ev] == [
        (EventKind.STATE_CHANGED, "galera: node2 Synced → Donor/Desynced")
    ]


async def test_haproxy_server_down_up_and_colour_switch() -> None:
    s = await healthy_stack()
    down = replace(s, haproxy=await haproxy_snap("app_stopped"))
    ev = diff(s, down)
    assert kinds(ev) == [("server_down", "bk_app_blue/app2")]
    assert "went DOWN (was UP, check L4CON)" in ev[0].message
    assert kinds(diff(down, s)) == [("server_up", "bk_app_blue/app2")]
    assert s.haproxy is not None
    green = replace(s, haproxy=replace(s.haproxy, live_colour="green", live_backend="bk_app_green"))
    (e,) = diff(s, green)
    assert (
        e.kind is EventKind.COLOUR_SWITCHED
        and e.message == "haproxy: live colour switched blue → green"
    )


async def test_redis_failover_and_role_changes() -> None:
    s = await healthy_stack()
    after = replace(s, redis=await redis_snap("redis_failover/after_failover"))
    ev = diff(s, after)
    fo = next(e for e in ev if e.kind is EventKind.FAILOVER)
    assert fo.message == (
        "redis: failover of jaraba-master: master 127.0.0.1:6379 → 127.0.0.1:6380 "
        "(per the Sentinels)"
    )
    assert ("endpoint_failed", "r6379") in kinds(ev)
    assert ("state_changed", "r6380") in kinds(ev)  # slave -> master


async def test_proxysql_backend_out_and_back() -> None:
    s = await healthy_stack()
    out = replace(s, proxysql=await proxysql_snap("proxysql_node_stopped"))
    ev = diff(s, out)
    assert ("server_down", "127.0.0.1:3309") in kinds(ev)
    assert ("server_up", "127.0.0.1:3309") in kinds(diff(out, s))


async def test_alert_fired_and_resolved_but_not_when_prometheus_is_down() -> None:
    s = await healthy_stack()
    firing = replace(s, alerts=await alerts_snap("alerts"))
    ev = diff(s, firing)
    fired = [e for e in ev if e.kind is EventKind.ALERT_FIRED]
    assert {e.target for e in fired} == {"CaptureAlwaysFiring", "CaptureWarning"}
    assert next(e for e in fired if e.target == "CaptureAlwaysFiring").severity is Severity.CRIT
    assert {e.target for e in diff(firing, s) if e.kind is EventKind.ALERT_RESOLVED} == {
        "CaptureAlwaysFiring",
        "CaptureWarning",
    }
    assert firing.alerts is not None and firing.alerts.prometheus is not None
    blind = replace(
        firing,
        alerts=replace(
            firing.alerts,
            prometheus=replace(
                firing.alerts.prometheus,
                alerts=(),
                error=EndpointError("p", "refused", "connection refused"),
            ),
        ),
    )
    ev = diff(firing, blind)
    assert not any(e.kind is EventKind.ALERT_RESOLVED for e in ev)
    assert ("endpoint_failed", "prometheus") in kinds(ev)


async def test_layer_failure_is_an_endpoint_event() -> None:
    s = await healthy_stack()
    broken = replace(s, galera=None, failures=(LayerFailure("galera", "internal", "boom"),))
    (e,) = diff(s, broken)
    assert (e.kind, e.target, e.message) == (
        EventKind.ENDPOINT_FAILED,
        "galera",
        "galera: galera stopped answering: boom",
    )
    (back,) = diff(broken, s)
    assert back.kind is EventKind.ENDPOINT_RECOVERED


async def test_history_bounded_series_and_counter_reset() -> None:
    h = History(maxlen=3)
    for t in range(10):
        h.add("g", float(t), float(t * 2))
    assert h.values("g") == [14.0, 16.0, 18.0]
    h.add("g", 1.0, 99.0)  # older than the newest sample: ignored
    assert h.latest("g") == 18.0
    assert h.add_counter("c", 0.0, 100) is None
    assert h.add_counter("c", 10.0, 200) == 10.0
    assert h.add_counter("c", 20.0, 50) == 5.0  # reset: 50 counted from zero
    assert h.add_counter("c", 20.0, 60) is None  # no time passed
    assert h.values("c") == [10.0, 5.0]


async def test_history_records_standard_series_from_snapshots() -> None:
    h = History(maxlen=60)
    s = await healthy_stack()
    h.record(s)
    keys = set(h.keys())
    assert {"galera.node1.recv_queue", "redis.r6379.used_memory", "host.lab.load1"} <= keys
    assert "haproxy.bk_app_blue.req_per_s" not in keys  # a counter needs two samples
    assert s.haproxy is not None
    later = replace(
        s,
        collected_at=s.collected_at + 5,
        haproxy=replace(
            s.haproxy,
            backends=tuple(replace(b, req_tot=(b.req_tot or 0) + 50) for b in s.haproxy.backends),
        ),
    )
    h.record(later)
    assert h.latest("haproxy.bk_app_blue.req_per_s") == 10.0
    assert all(isinstance(v, float) for _, _, v in ((k, t, float(v)) for k, t, v in series_of(s)))


def test_history_rejects_zero_maxlen() -> None:
    import pytest

    with pytest.raises(ValueError):
        History(maxlen=0)


async def test_empty_stack_has_no_events() -> None:
    assert diff(StackSnapshot(collected_at=1.0), StackSnapshot(collected_at=2.0)) == []
