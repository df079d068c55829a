"""Alertmanager's copy of a Prometheus alert (the Alerts pane's "Alertmanager" column and the
silence action's target): the index gives what a scan of every Alertmanager alert gives."""

from __future__ import annotations

from jaraba_tui.collectors.alerts import AmAlert, PromAlert
from jaraba_tui.ui.widgets.alerts import am_by_name, am_match


def prom(name: str, **labels: str) -> PromAlert:
    return PromAlert(name, "firing", "warning", {"alertname": name, **labels}, {}, None, None)


def am(fp: str, name: str, **labels: str) -> AmAlert:
    return AmAlert(
        fp, name, "warning", "active", {"alertname": name, **labels}, {}, None, None, (), ()
    )


def scan(p: PromAlert, ams: list[AmAlert]) -> AmAlert | None:
    return next(
        (
            a
            for a in ams
            if a.name == p.name and all(a.labels.get(k) == v for k, v in p.labels.items())
        ),
        None,
    )


def test_index_matches_a_scan() -> None:
    ams = [
        am("f1", "Up", job="a", cluster="lab"),  # external label: more labels than Prometheus
        am("f2", "Up", job="b"),
        am("f3", "Up", job="b", instance="x"),  # a second holder of job=b: the first wins
        am("f4", "Down", job="a"),
        am("f5", "Up", job="c", instance="y"),
    ]
    index = am_by_name(ams)
    proms = [
        prom("Up", job="a"),
        prom("Up", job="b"),
        prom("Up", job="b", instance="x"),
        prom("Up", job="c"),
        prom("Up", job="c", instance="z"),  # a label differs: no copy
        prom("Down", job="a"),
        prom("Down", job="b"),
        prom("Gone", job="a"),  # no Alertmanager alert of that name
        prom("Up", job="a", cluster="other"),
    ]
    got = [am_match(p, index) for p in proms]
    assert got == [scan(p, ams) for p in proms]
    assert [a.fingerprint if a else None for a in got] == [
        "f1", "f2", "f3", "f5", None, "f4", None, None, None,
    ]  # fmt: skip


def test_many_of_one_name() -> None:
    ams = [am(f"f{i}", "Vec", idx=str(i), cluster="lab") for i in range(300)]
    index = am_by_name(ams)
    for i in (0, 150, 299):
        found = am_match(prom("Vec", idx=str(i)), index)
        assert found is not None and found.fingerprint == f"f{i}"
    assert am_match(prom("Vec", idx="300"), index) is None


def test_kept_rows_are_the_rows() -> None:
    from dataclasses import replace

    from jaraba_tui.collectors.alerts import AlertmanagerState, AlertsSnapshot, PrometheusAlerts
    from jaraba_tui.ui.format import Palette
    from jaraba_tui.ui.widgets.alerts import KeptRow, alert_rows

    proms = tuple(replace(prom("Vec", idx=str(i)), active_at=1000.0 - i * 60) for i in range(5))
    ams = tuple(am(f"f{i}", "Vec", idx=str(i)) for i in range(3))

    def snap(alerts: tuple[PromAlert, ...]) -> AlertsSnapshot:
        return AlertsSnapshot(
            1000.0,
            PrometheusAlerts("p", "http://p", alerts, None),
            AlertmanagerState("a", "http://a", ams, (), 0, ()),
        )

    pal = Palette()
    kept: dict[str, KeptRow] = {}
    first = alert_rows(snap(proms), 1000.0, pal, kept)
    assert first == alert_rows(snap(proms), 1000.0, pal)
    again = alert_rows(snap(proms), 1000.0, pal, kept)
    assert [c for _, c in again] == [c for _, c in first]
    assert all(a is b for (_, a), (_, b) in zip(again, first, strict=True))  # the same lists
    # one alert changes state, the clock moves an age: those rows are rebuilt, and right
    changed = (replace(proms[0], state="pending"), *proms[1:])
    later = alert_rows(snap(changed), 1100.0, pal, kept)
    assert later == alert_rows(snap(changed), 1100.0, pal)
    assert later != first


def test_the_alerts_order_and_matches_are_kept_while_the_alerts_are_the_same_objects() -> None:
    from dataclasses import replace

    from jaraba_tui.collectors.alerts import AlertmanagerState, AlertsSnapshot, PrometheusAlerts
    from jaraba_tui.ui.format import Palette
    from jaraba_tui.ui.widgets.alerts import AlertPlan, KeptRow, alert_rows

    proms = tuple(replace(prom("Vec", idx=str(i)), active_at=1000.0 - i * 60) for i in range(5))
    ams = tuple(am(f"f{i}", "Vec", idx=str(i)) for i in range(3))

    def snap(alerts: tuple[PromAlert, ...], am_alerts: tuple[AmAlert, ...]) -> AlertsSnapshot:
        return AlertsSnapshot(
            1000.0,
            PrometheusAlerts("p", "http://p", alerts, None),
            AlertmanagerState("a", "http://a", am_alerts, (), 0, ()),
        )

    pal = Palette()
    kept: dict[str, KeptRow] = {}
    memo: list[AlertPlan] = []
    first = alert_rows(snap(proms, ams), 1000.0, pal, kept, memo)
    plan = memo[0][2]
    assert first == alert_rows(snap(proms, ams), 1000.0, pal)
    later = alert_rows(snap(proms, ams), 1090.0, pal, kept, memo)  # same objects, a new poll
    assert memo[0][2] is plan
    assert later == alert_rows(snap(proms, ams), 1090.0, pal)  # the ages moved, rightly
    assert later != first
    # another Alertmanager answer (one silenced copy fewer): matched again
    fewer = ams[:2]
    again = alert_rows(snap(proms, fewer), 1090.0, pal, kept, memo)
    assert memo[0][2] is not plan
    assert again == alert_rows(snap(proms, fewer), 1090.0, pal)
    assert again != later
