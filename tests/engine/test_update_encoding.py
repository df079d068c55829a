"""The engine process's updates: kept parts (the alerts) cross the pipe once while the same."""

from __future__ import annotations

import json
from typing import Any

import pytest

from jaraba_tui.collectors.alerts import (
    AlertmanagerState,
    AlertsSnapshot,
    PrometheusAlerts,
    parse_am_alerts,
    parse_prometheus_alerts,
)
from jaraba_tui.engine.merge import StackMerger
from jaraba_tui.engine.process import FrameError, FrameReader, UpdateDecoder, UpdateEncoder, frame
from jaraba_tui.model.snapshot import StackSnapshot


def _bodies(n: int, tag: str = "") -> tuple[str, str]:
    labels = [{"alertname": f"A{i}{tag}", "severity": "warning", "i": str(i)} for i in range(n)]
    prom = {
        "status": "success",
        "data": {"alerts": [{"labels": x, "annotations": {}, "state": "firing"} for x in labels]},
    }
    am = [
        {"fingerprint": f"f{i}", "labels": x, "annotations": {}, "status": {"state": "active"}}
        for i, x in enumerate(labels)
    ]
    return json.dumps(prom), json.dumps(am)


def _alerts(at: float, prom_body: str, am_body: str, cache: dict[str, object]) -> StackSnapshot:
    # as the collector does: an equal answer gives back the alerts parsed before
    prom = cache.setdefault(prom_body, parse_prometheus_alerts(prom_body))
    am = cache.setdefault(am_body, parse_am_alerts(am_body))
    snap = AlertsSnapshot(
        at,
        PrometheusAlerts("prom", "http://p", prom, None, 1.0 + at),  # type: ignore[arg-type]
        AlertmanagerState("am", "http://a", am, (), 0, (), 2.0 + at),  # type: ignore[arg-type]
    )
    return StackSnapshot(collected_at=at, alerts=snap)


def test_unchanged_alerts_cross_the_pipe_once_and_the_console_gets_the_same_objects() -> None:
    cache: dict[str, object] = {}
    now = [100.0]
    merger = StackMerger(clock=lambda: now[0])
    same_bodies = _bodies(40)
    polls = [same_bodies, same_bodies, _bodies(40, "x"), _bodies(40, "x")]
    encoder, reader, decoder = UpdateEncoder(), FrameReader(), UpdateDecoder()
    sizes: list[int] = []
    decoded: list[AlertsSnapshot] = []
    sent: list[dict[str, Any]] = []
    for n, (p, a) in enumerate(polls):
        now[0] = 100.0 + 2 * n
        update = merger.merge("alerts", _alerts(now[0], p, a, cache))
        data = frame(encoder.message(update))
        sizes.append(len(data))
        (message,) = reader.feed(data)
        sent.append(message)
        got = decoder.update(message)
        assert got.snapshot == update.snapshot  # exactly what the engine merged
        assert got.findings == update.findings
        assert got.snapshot.alerts is not None
        decoded.append(got.snapshot.alerts)
    assert "same" not in sent[0] and "same" not in sent[2]  # new alerts: sent whole
    assert sorted(sent[1]["same"]["alerts"]) == [
        ("alertmanager", "alerts"),
        ("prometheus", "alerts"),
    ]
    assert sizes[1] < sizes[0] / 4 and sizes[3] < sizes[2] / 4
    prom = [_prom(x) for x in decoded]
    am = [_am(x) for x in decoded]
    assert prom[1].alerts is prom[0].alerts and am[1].alerts is am[0].alerts
    assert prom[1].elapsed_ms != prom[0].elapsed_ms  # the rest is new
    assert prom[2].alerts is not prom[1].alerts and prom[3].alerts is prom[2].alerts


def _prom(snap: AlertsSnapshot) -> PrometheusAlerts:
    assert snap.prometheus is not None
    return snap.prometheus


def _am(snap: AlertsSnapshot) -> AlertmanagerState:
    assert snap.alertmanager is not None
    return snap.alertmanager


def test_a_same_part_the_console_never_got_is_a_bad_update() -> None:
    cache: dict[str, object] = {}
    p, a = _bodies(3)
    update = StackMerger(clock=lambda: 1.0).merge("alerts", _alerts(1.0, p, a, cache))
    message = UpdateEncoder().message(update)
    message["same"] = {"alerts": [("prometheus", "alerts")]}
    with pytest.raises(FrameError):
        UpdateDecoder().update(message)  # a fresh console holds no alerts yet


def _haproxy_polls() -> list[StackSnapshot]:
    """Six polls of a recorded HAProxy: the clock moves (every row's ``lastchg``), a server
    goes down (its state, then its ``downtime``), a server goes away, the layer fails, and
    comes back."""
    from dataclasses import replace

    from tests.engine.fakes import recorded

    h = recorded("healthy")[0].haproxy
    assert h is not None and len(h.servers) > 2

    def later(rows: tuple[Any, ...], dt: int, down: str | None = None) -> tuple[Any, ...]:
        out = []
        for r in rows:
            r = replace(r, lastchg=(r.lastchg or 0) + dt)
            if r.key == down:
                r = replace(r, status="DOWN", state="DOWN", downtime=(r.downtime or 0) + dt)
            out.append(r)
        return tuple(out)

    first = h.servers[0].key
    polls: list[Any] = [h]
    polls.append(replace(h, collected_at=h.collected_at + 2, servers=later(h.servers, 2)))
    polls.append(replace(h, collected_at=h.collected_at + 4, servers=later(h.servers, 4, first)))
    polls.append(replace(h, collected_at=h.collected_at + 6, servers=later(h.servers, 6, first)))
    polls.append(replace(h, collected_at=h.collected_at + 8, servers=later(h.servers, 8)[1:]))
    polls.append(None)
    polls.append(replace(h, collected_at=h.collected_at + 12, servers=later(h.servers, 12)))
    return [StackSnapshot(collected_at=p.collected_at if p else 0.0, haproxy=p) for p in polls]


def test_haproxy_rows_that_only_age_cross_the_pipe_as_their_changing_columns() -> None:
    polls = _haproxy_polls()
    encoder, reader, decoder = UpdateEncoder(), FrameReader(), UpdateDecoder()
    sent: list[dict[str, Any]] = []
    sizes: list[int] = []
    for n, snap in enumerate(polls):
        merger_update = StackMerger(clock=lambda n=n: 100.0 + n).merge("haproxy", snap)
        data = frame(encoder.message(merger_update))
        sizes.append(len(data))
        (message,) = reader.feed(data)
        sent.append(message)
        got = decoder.update(message)
        assert got.snapshot.haproxy == snap.haproxy  # exactly the engine's rows
    rows = [m.get("rows", {}).get("haproxy", {}) for m in sent]
    assert not rows[0]  # the first: whole
    length, changed, columns = rows[1]["servers"]
    assert length == len(polls[1].haproxy.servers) and not changed  # type: ignore[union-attr]
    servers = polls[1].haproxy.servers  # type: ignore[union-attr]
    assert columns["lastchg"] == tuple(s.lastchg for s in servers)
    assert list(rows[2]["servers"][1]) == [0] and not rows[3]["servers"][1]  # went down
    assert "servers" not in rows[4] and "backends" in rows[4]  # a server fewer: sent whole
    assert not rows[5] and not rows[6]  # no HAProxy data; then the console holds no rows
    assert sizes[1] < sizes[0] and sizes[3] < sizes[0]


def test_row_changes_to_rows_the_console_never_got_are_a_bad_update() -> None:
    polls = _haproxy_polls()
    encoder = UpdateEncoder()
    encoder.message(StackMerger(clock=lambda: 1.0).merge("haproxy", polls[0]))
    message = encoder.message(StackMerger(clock=lambda: 2.0).merge("haproxy", polls[1]))
    assert "rows" in message
    with pytest.raises(FrameError):
        UpdateDecoder().update(message)  # a fresh console holds no rows
