"""Galera parsers on real captured output (healthy cluster, node3 stopped)."""

from __future__ import annotations

import pytest

from jaraba_tui.collectors.galera import (
    WSREP_POLL_QUERY,
    WSREP_VARS,
    GaleraParseError,
    decide_process,
    parse_grastate,
    parse_log_tail,
    parse_pgrep,
    parse_repl_latency,
    parse_wsrep_status,
    status_map,
)
from jaraba_tui.collectors.hosts import parse_df
from tests.collectors.captured import load, text


@pytest.mark.parametrize("node", [1, 2, 3])
def test_healthy_node_reads_synced_primary_size_3(node: int) -> None:
    ws = parse_wsrep_status(load("healthy", f"galera_node{node}_wsrep_status.json"))
    assert ws.cluster_status == "Primary"
    assert ws.cluster_size == 3
    assert ws.local_state_comment == "Synced"
    assert ws.local_state == 4
    assert ws.ready is True and ws.connected is True
    assert ws.in_primary and ws.synced
    assert ws.provider_name == "Galera"
    assert ws.provider_version is not None and ws.provider_version.startswith("4.")
    assert ws.cluster_state_uuid == "7563ca9a-e9e8-11f1-a8e8-627d7470b612"
    assert ws.local_recv_queue == 0 and ws.local_send_queue == 0
    assert ws.flow_control_paused == 0.0 and ws.flow_control_paused_ns == 0
    assert ws.local_cert_failures == 0
    assert ws.desync_count == 0
    assert ws.last_committed is not None and ws.last_committed > 0
    assert ws.evs_repl_latency is not None
    assert ws.local_index in (0, 1, 2)


def test_all_healthy_nodes_agree_on_the_cluster() -> None:
    nodes = [
        parse_wsrep_status(load("healthy", f"galera_node{i}_wsrep_status.json")) for i in (1, 2, 3)
    ]
    assert len({n.cluster_state_uuid for n in nodes}) == 1
    assert len({n.cluster_conf_id for n in nodes}) == 1


def test_node_stopped_shrinks_the_others_to_size_2() -> None:
    for i in (1, 2):
        ws = parse_wsrep_status(load("galera_stopped", f"galera_node{i}_wsrep_status.json"))
        assert ws.cluster_size == 2
        assert ws.cluster_status == "Primary"
        assert ws.synced
    # The latency figures got samples once the membership changed.
    ws1 = parse_wsrep_status(load("galera_stopped", "galera_node1_wsrep_status.json"))
    lat = ws1.evs_repl_latency
    assert lat is not None and lat.samples > 0 and lat.max_s >= lat.avg_s >= lat.min_s
    err = load("galera_stopped", "galera_node3_wsrep_status.json.error.json")
    assert err["kind"] == "refused"


def test_grastate_running_and_cleanly_stopped() -> None:
    running = parse_grastate(text("healthy", "galera_node1_grastate.dat"))
    assert running.uuid == "7563ca9a-e9e8-11f1-a8e8-627d7470b612"
    assert running.seqno == -1  # a running node does not write its position
    assert running.safe_to_bootstrap is False
    assert running.version == "2.1"
    stopped = parse_grastate(text("galera_stopped", "galera_node3_grastate.dat"))
    assert stopped.seqno > 0
    assert stopped.safe_to_bootstrap is False


def test_grastate_missing_fields_is_a_parse_error() -> None:
    with pytest.raises(GaleraParseError):
        parse_grastate("# GALERA saved state\nversion: 2.1\n")
    g = parse_grastate(
        "uuid: 00000000-0000-0000-0000-000000000000\nseqno: 42\nsafe_to_bootstrap: 1\n"
    )
    assert g.safe_to_bootstrap is True and g.seqno == 42


def test_process_by_working_directory_on_captured_pids() -> None:
    pids = parse_pgrep(text("healthy", "galera_pgrep.txt"))
    assert len(pids) == 3
    cwds = {p: text("healthy", f"galera_readlink_cwd_{p}.txt").strip() for p in pids}
    for i in (1, 2, 3):
        st = decide_process(pids, cwds, f"/tmp/jaraba-lab/galera/node{i}/data/")
        assert st.running is True and len(st.pids) == 1
    stopped_pids = parse_pgrep(text("galera_stopped", "galera_pgrep.txt"))
    stopped_cwds = {
        p: text("galera_stopped", f"galera_readlink_cwd_{p}.txt").strip() for p in stopped_pids
    }
    st3 = decide_process(stopped_pids, stopped_cwds, "/tmp/jaraba-lab/galera/node3/data")
    assert st3.running is False
    assert decide_process((), {}, "/x").running is False
    assert decide_process((7,), {7: None}, "/x").running is None  # could not tell
    assert decide_process((7,), {}, None).running is True


def test_error_log_tail_and_df() -> None:
    lines = parse_log_tail(text("galera_stopped", "galera_node3_error_log_tail.txt"))
    assert lines and "Shutdown complete" in lines[-1]
    (disk,) = parse_df(text("healthy", "galera_node1_df.txt"))
    assert disk.mount == "/" and disk.total_kb > disk.used_kb > 0
    assert 0 < disk.used_pct < 100


def test_unknown_state_and_missing_variables_do_not_crash() -> None:
    ws = parse_wsrep_status(
        [
            {"Variable_name": "wsrep_local_state_comment", "Value": "Frobnicating"},
            {"Variable_name": "wsrep_cluster_size", "Value": "not-a-number"},
        ]
    )
    assert ws.local_state_comment == "Frobnicating"
    assert ws.cluster_size is None and ws.cluster_status is None


def test_information_schema_column_names_are_accepted() -> None:
    rows = [{"VARIABLE_NAME": "WSREP_CLUSTER_SIZE", "VARIABLE_VALUE": "3"}]
    assert status_map(rows) == {"wsrep_cluster_size": "3"}
    assert parse_wsrep_status(rows).cluster_size == 3


def test_no_wsrep_rows_is_a_parse_error() -> None:
    with pytest.raises(GaleraParseError):
        parse_wsrep_status([])
    with pytest.raises(GaleraParseError):
        parse_wsrep_status([{"x": 1}])


def test_repl_latency_formats() -> None:
    assert parse_repl_latency("0/0/0/0/0") is not None
    assert parse_repl_latency("garbage") is None
    assert parse_repl_latency("1/2/x/4/5") is None


@pytest.mark.parametrize(
    ("case", "node"), [("healthy", 1), ("healthy", 3), ("galera_stopped", 1), ("galera_stopped", 2)]
)
def test_the_poll_query_asks_every_variable_the_parser_reads(case: str, node: int) -> None:
    """The poll asks for WSREP_VARS only (WSREP_POLL_QUERY): parsed, those rows give what
    every wsrep% row gives, on the captured nodes."""
    rows = load(case, f"galera_node{node}_wsrep_status.json")
    wanted = {f"wsrep_{name}" for name in WSREP_VARS}
    asked = [r for r in rows if r["Variable_name"].lower() in wanted]
    assert len(asked) < len(rows)
    assert parse_wsrep_status(asked) == parse_wsrep_status(rows)
    assert all(f"'{name}'" in WSREP_POLL_QUERY for name in wanted)
