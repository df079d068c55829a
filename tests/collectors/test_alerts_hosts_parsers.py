"""Prometheus/Alertmanager and host parsers on real captured output."""

from __future__ import annotations

import pytest

from jaraba_tui.collectors.alerts import (
    AlertsParseError,
    parse_am_alerts,
    parse_prometheus_alerts,
    parse_silences,
)
from jaraba_tui.collectors.common import parse_timestamp
from jaraba_tui.collectors.hosts import HostParseError, parse_df, parse_loadavg, parse_meminfo
from tests.collectors.captured import text


def test_prometheus_firing_and_pending() -> None:
    alerts = parse_prometheus_alerts(text("alerts", "prometheus_alerts.json"))
    by_name = {a.name: a for a in alerts}
    crit = by_name["CaptureAlwaysFiring"]
    assert crit.state == "firing" and crit.severity == "critical"
    assert crit.labels["component"] == "galera"
    assert crit.summary == "Capture rule that always fires"
    assert crit.active_at is not None and crit.active_at > 1.7e9
    assert by_name["CapturePending"].state == "pending"
    assert by_name["CaptureWarning"].severity == "warning"


def test_prometheus_healthy_lab_has_no_alerts() -> None:
    assert parse_prometheus_alerts(text("healthy", "prometheus_alerts.json")) == ()


def test_alertmanager_alerts_silenced_and_active() -> None:
    alerts = {a.name: a for a in parse_am_alerts(text("alerts", "alertmanager_alerts.json"))}
    silenced = alerts["CaptureWarning"]
    assert silenced.state == "suppressed" and len(silenced.silenced_by) == 1
    assert silenced.labels["environment"] == "capture"  # Prometheus' external label
    active = alerts["CaptureAlwaysFiring"]
    assert active.state == "active" and active.silenced_by == ()
    assert active.starts_at is not None and active.ends_at is not None
    assert active.fingerprint


def test_silences() -> None:
    (s,) = parse_silences(text("alerts", "alertmanager_silences.json"))
    assert s.state == "active" and s.created_by == "capture_lab.py"
    assert s.matchers[0].expr() == 'alertname="CaptureWarning"'
    assert s.ends_at is not None and s.starts_at is not None and s.ends_at > s.starts_at
    assert parse_silences(text("healthy", "alertmanager_silences.json")) == ()


@pytest.mark.parametrize(
    "body", ["", "{", "[]", '{"status": "error"}', '{"status": "success", "data": {}}', "[1]"]
)
def test_prometheus_garbage(body: str) -> None:
    with pytest.raises(AlertsParseError):
        parse_prometheus_alerts(body)


def test_timestamps() -> None:
    assert parse_timestamp("2026-11-26T22:33:04.34401559Z") == pytest.approx(1795732384.344015)
    assert parse_timestamp("2026-11-26T22:33:04+01:00") == pytest.approx(1795732384 - 3600)
    assert parse_timestamp("0001-01-01T00:00:00Z") is None  # Go's zero time
    assert parse_timestamp("yesterday") is None


def test_host_files() -> None:
    load = parse_loadavg(text("healthy", "host_loadavg.txt"))
    assert load.total > 0 and load.load1 >= 0
    mem = parse_meminfo(text("healthy", "host_meminfo.txt"))
    assert mem.total_kb > mem.available_kb > 0 and 0 <= mem.used_pct <= 100
    disks = parse_df(text("healthy", "host_df.txt"))
    assert [d.mount for d in disks] == ["/", "/"]


def test_df_with_spaces_and_old_kernels() -> None:
    out = (
        "Filesystem 1024-blocks Used Available Capacity Mounted on\n"
        "//nas/share x 1000 900 100 90% /mnt/my share\n"
    )
    (d,) = parse_df(out)
    assert d.filesystem == "//nas/share x" and d.mount == "/mnt/my share" and d.used_pct == 90.0
    old = parse_meminfo("MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 50 kB\nCached: 50 kB\n")
    assert old.available_kb == 200
    with pytest.raises(HostParseError):
        parse_df("no header\n")
    with pytest.raises(HostParseError):
        parse_loadavg("1 2")


def test_an_unchanged_alerts_body_gives_back_the_same_alerts_and_a_changed_one_is_parsed() -> None:
    from jaraba_tui.collectors.alerts import AlertsParseError, _Recent, parse_am_alerts

    recent = _Recent()
    body = (
        '[{"fingerprint": "f1", "labels": {"alertname": "A", "severity": "critical"},'
        ' "annotations": {}, "status": {"state": "active"}}]'
    )
    first = recent.parse(parse_am_alerts, body)
    assert first == parse_am_alerts(body)
    assert recent.parse(parse_am_alerts, "".join([body])) is first  # equal text, other object
    changed = recent.parse(parse_am_alerts, body.replace("f1", "f2"))
    assert changed[0].fingerprint == "f2" and changed is not first
    with pytest.raises(AlertsParseError):
        recent.parse(parse_am_alerts, "{not json")
    with pytest.raises(AlertsParseError):  # an error is not kept: raised again
        recent.parse(parse_am_alerts, "{not json")
    for n in range(_Recent.SIZE):  # the oldest bodies are forgotten
        recent.parse(parse_am_alerts, body.replace("f1", f"g{n}"))
    assert recent.parse(parse_am_alerts, body) is not first
    assert recent.parse(parse_am_alerts, body) == first


def test_labels_of_plain_strings_and_of_other_values_read_the_same() -> None:
    from jaraba_tui.collectors.alerts import _str_map

    assert _str_map({"a": "1", "b": "x"}) == {"a": "1", "b": "x"}
    assert _str_map({"a": 1, "b": None, "c": "z"}) == {"a": "1", "b": "", "c": "z"}
    assert _str_map(["a"]) == {}
