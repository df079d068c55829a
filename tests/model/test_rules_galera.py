"""Galera rules: each triggers on the condition and clears without it."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from jaraba_tui.collectors.common import EndpointError
from jaraba_tui.collectors.galera import GaleraSnapshot, GraState
from jaraba_tui.collectors.hosts import DiskUsage
from jaraba_tui.model.findings import Finding, Severity, worst
from jaraba_tui.model.health.galera import galera_findings
from jaraba_tui.model.thresholds import Thresholds
from tests.model.snapshots import galera_snap

TH = Thresholds()


def codes(findings: list[Finding]) -> dict[str, Severity]:
    out: dict[str, Severity] = {}
    for f in findings:
        if f.code not in out or f.severity.rank > out[f.code].rank:
            out[f.code] = f.severity
    return out


def with_wsrep(snap: GaleraSnapshot, name: str, **changes: Any) -> GaleraSnapshot:
    nodes = []
    for n in snap.nodes:
        if n.name == name:
            assert n.wsrep is not None
            n = replace(n, wsrep=replace(n.wsrep, **changes))
        nodes.append(n)
    return replace(snap, nodes=tuple(nodes))


def with_node(snap: GaleraSnapshot, name: str, **changes: Any) -> GaleraSnapshot:
    return replace(
        snap, nodes=tuple(replace(n, **changes) if n.name == name else n for n in snap.nodes)
    )


async def test_healthy_is_one_ok_line() -> None:
    f = galera_findings(await galera_snap(), TH)
    assert [x.code for x in f] == ["galera.ok"] and worst(f) is Severity.OK
    assert f[0].message == "galera: 3/3 nodes Synced in one Primary component, size 3, conf 3"


async def test_node_stopped_size_2_of_3_names_the_node_and_why() -> None:
    f = galera_findings(await galera_snap("galera_stopped"), TH)
    size = next(x for x in f if x.code == "galera.size")
    assert size.severity is Severity.CRIT
    assert size.message == (
        "galera: cluster size 2/3 — node3 not in the cluster: mariadbd not running "
        "(connection refused)"
    )
    down = next(x for x in f if x.code == "galera.not_running")
    assert down.target == "node3" and down.severity is Severity.CRIT
    assert "galera.ok" not in codes(f)


async def test_unreachable_but_process_unknown() -> None:
    snap = await galera_snap("galera_stopped")
    snap = with_node(snap, "node3", process=None)
    f = galera_findings(snap, TH)
    assert codes(f)["galera.unreachable"] is Severity.CRIT
    assert "node3 not in the cluster: connection refused" in next(
        x.message for x in f if x.code == "galera.size"
    )


async def test_non_primary_triggers_and_clears() -> None:
    base = await galera_snap()
    bad = with_wsrep(base, "node2", cluster_status="non-Primary")
    assert codes(galera_findings(bad, TH))["galera.status"] is Severity.CRIT
    assert "galera.status" not in codes(galera_findings(base, TH))


async def test_all_non_primary_means_no_primary_component() -> None:
    snap = await galera_snap()
    for n in ("node1", "node2", "node3"):
        snap = with_wsrep(snap, n, cluster_status="non-Primary", cluster_size=1)
    c = codes(galera_findings(snap, TH))
    assert c["galera.no_primary"] is Severity.CRIT


async def test_unknown_wsrep_values_are_unknown_findings_not_crashes() -> None:
    snap = with_wsrep(await galera_snap(), "node1", local_state_comment="Frobnicating")
    c = codes(galera_findings(snap, TH))
    assert c["galera.state"] is Severity.UNKNOWN
    snap = with_wsrep(await galera_snap(), "node1", cluster_status="Weird")
    assert codes(galera_findings(snap, TH))["galera.status"] is Severity.UNKNOWN


async def test_state_severity_by_state() -> None:
    base = await galera_snap()
    for state, sev in [
        ("Donor/Desynced", Severity.WARN),
        ("Joining: receiving State Transfer", Severity.WARN),
        ("Joined", Severity.WARN),
        ("Initialized", Severity.CRIT),
        ("Synced", None),
    ]:
        c = codes(galera_findings(with_wsrep(base, "node2", local_state_comment=state), TH))
        assert c.get("galera.state") is sev, state


async def test_ready_and_connected_off() -> None:
    base = await galera_snap()
    assert (
        codes(galera_findings(with_wsrep(base, "node1", ready=False), TH))["galera.ready"]
        is Severity.CRIT
    )
    c = codes(galera_findings(with_wsrep(base, "node1", connected=False), TH))
    assert c["galera.connected"] is Severity.CRIT


async def test_flow_control_server_figure_and_interval_figure() -> None:
    base = await galera_snap()
    assert (
        codes(galera_findings(with_wsrep(base, "node1", flow_control_paused=0.6), TH))[
            "galera.flow"
        ]
        is Severity.CRIT
    )
    assert (
        codes(galera_findings(with_wsrep(base, "node1", flow_control_paused=0.2), TH))[
            "galera.flow"
        ]
        is Severity.WARN
    )
    assert "galera.flow" not in codes(
        galera_findings(with_wsrep(base, "node1", flow_control_paused=0.05), TH)
    )
    # Over the last poll: 3 s paused in 10 s -> 30 % even though the lifetime figure is 0.
    prev = with_wsrep(base, "node1", flow_control_paused_ns=1_000_000_000)
    cur = replace(
        with_wsrep(base, "node1", flow_control_paused_ns=4_000_000_000, flow_control_paused=0.0),
        collected_at=base.collected_at + 10,
    )
    f = galera_findings(cur, TH, prev)
    flow = next(x for x in f if x.code == "galera.flow")
    assert flow.severity is Severity.WARN and "30%" in flow.message and "last poll" in flow.message


async def test_queues_with_thresholds() -> None:
    base = await galera_snap()
    assert (
        codes(galera_findings(with_wsrep(base, "node3", local_recv_queue=50), TH))[
            "galera.recv_queue"
        ]
        is Severity.WARN
    )
    assert (
        codes(galera_findings(with_wsrep(base, "node3", local_recv_queue=500), TH))[
            "galera.recv_queue"
        ]
        is Severity.CRIT
    )
    lenient = Thresholds(galera_recv_queue_warn=1000, galera_recv_queue_crit=2000)
    assert "galera.recv_queue" not in codes(
        galera_findings(with_wsrep(base, "node3", local_recv_queue=500), lenient)
    )
    assert (
        codes(galera_findings(with_wsrep(base, "node3", local_send_queue=20), TH))[
            "galera.send_queue"
        ]
        is Severity.WARN
    )


async def test_datadir_disk() -> None:
    base = await galera_snap()
    full = DiskUsage("/dev/vda", "/var/lib/mysql", 100, 95, 5)
    assert (
        codes(galera_findings(with_node(base, "node1", disk=full), TH))["galera.disk"]
        is Severity.CRIT
    )
    warm = DiskUsage("/dev/vda", "/var/lib/mysql", 100, 85, 15)
    assert (
        codes(galera_findings(with_node(base, "node1", disk=warm), TH))["galera.disk"]
        is Severity.WARN
    )


async def test_whole_cluster_down_points_at_the_node_to_bootstrap() -> None:
    snap = await galera_snap()
    err = EndpointError("x", "refused", "connection refused")
    for i, safe in ((1, False), (2, True), (3, False)):
        snap = with_node(
            snap,
            f"node{i}",
            wsrep=None,
            sql_error=err,
            grastate=GraState("2.1", "u", 17, safe),
        )
    (f,) = [x for x in galera_findings(snap, TH) if x.code == "galera.down"]
    assert f.severity is Severity.CRIT and "node2 has safe_to_bootstrap: 1" in f.message
    for i in (1, 2, 3):
        snap = with_node(snap, f"node{i}", grastate=GraState("2.1", "u", 10 * i, False))
    (f,) = [x for x in galera_findings(snap, TH) if x.code == "galera.down"]
    assert "highest saved seqno 30 on node3" in f.message


async def test_split_brain_and_oversize() -> None:
    base = await galera_snap()
    split = with_wsrep(base, "node3", cluster_state_uuid="00000000-0000-0000-0000-000000000000")
    assert codes(galera_findings(split, TH))["galera.split"] is Severity.CRIT
    big = with_wsrep(base, "node1", cluster_size=4)
    assert codes(galera_findings(big, TH))["galera.size"] is Severity.WARN


async def test_host_check_failures_and_contradictions() -> None:
    from jaraba_tui.collectors.galera import ProcessStatus

    base = await galera_snap()
    err = EndpointError("lab", "unreachable", "ssh: host unreachable", "df")
    assert (
        codes(galera_findings(with_node(base, "node1", shell_errors=(err,)), TH))[
            "galera.host_checks"
        ]
        is Severity.UNKNOWN
    )
    weird = with_node(
        base, "node1", process=ProcessStatus(False, (), "no mariadbd process serves /d")
    )
    assert codes(galera_findings(weird, TH))["galera.process"] is Severity.UNKNOWN
