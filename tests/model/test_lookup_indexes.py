"""The per-snapshot indexes behind hot lookups give what a linear scan gives."""

from __future__ import annotations

from dataclasses import replace

from jaraba_tui.model.health.alerts import _matches, alert_findings
from tests.model.snapshots import alerts_snap, haproxy_snap


async def test_haproxy_servers_and_backends_by_name_equal_a_scan() -> None:
    snap = await haproxy_snap()
    assert snap.backends and snap.servers
    for b in snap.backends:
        want = tuple(s for s in snap.servers if s.proxy == b.proxy)
        assert snap.servers_of(b.proxy) == want
        assert snap.backend(b.proxy) == next(x for x in snap.backends if x.proxy == b.proxy)
    assert snap.servers_of("no-such-backend") == ()
    assert snap.backend("no-such-backend") is None
    assert replace(snap) == snap  # the cached index is no field: equality unchanged


async def test_alerts_twins_found_by_name_match_a_scan() -> None:
    snap = await alerts_snap("alerts")
    assert snap.prometheus is not None and snap.alertmanager is not None
    am_alerts = snap.alertmanager.alerts
    assert any(a.silenced_by for a in am_alerts)
    f = alert_findings(snap)
    for a in snap.prometheus.firing:
        twin = next((x for x in am_alerts if _matches(a.labels, x.labels)), None)
        code = (
            "alerts.silenced"
            if twin is not None and twin.silenced_by
            else "alerts.inhibited"
            if twin is not None and twin.inhibited_by
            else "alerts.firing"
        )
        assert any(x.target == a.name and x.code == code for x in f), (a.name, code)
    # a Prometheus alert without an alertname label still finds its twin (full scan)
    first = snap.prometheus.firing[0]
    nameless = replace(first, labels={k: v for k, v in first.labels.items() if k != "alertname"})
    prom = replace(snap.prometheus, alerts=(nameless,))
    twin = next((x for x in am_alerts if _matches(nameless.labels, x.labels)), None)
    got = alert_findings(replace(snap, prometheus=prom))
    if twin is not None and twin.silenced_by:
        assert any(x.code == "alerts.silenced" for x in got)
