"""Which node a Galera bootstrap starts from: examples and properties (hypothesis)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from jaraba_tui.actions.galera_choice import (
    ZERO_UUID,
    NodePosition,
    choose_bootstrap_node,
    parse_recovered,
)

U1 = "7563ca9a-e9e8-11f1-a8e8-627d7470b612"
U2 = "11111111-2222-3333-4444-555555555555"


def pos(
    name: str, seqno: int, *, safe: bool = False, recovered: int | None = None, uuid: str = U1
) -> NodePosition:
    return NodePosition(
        name, uuid, seqno, safe, (uuid, recovered) if recovered is not None else None
    )


def test_the_node_behind_in_grastate_but_ahead_by_recovery_is_chosen() -> None:
    # node1 and node2 stopped cleanly (node2 later), node3 kept writing and was killed.
    nodes = [pos("node1", 10), pos("node2", 12), pos("node3", -1, recovered=15)]
    choice = choose_bootstrap_node(nodes)
    assert choice.ok and choice.node == "node3" and choice.position == f"{U1}:15"
    assert "most advanced: seqno 15 (recovered), next best 12" in choice.reason
    # Without the recovery, the position of node3 is unknown: no choice is safe.
    blind = choose_bootstrap_node([pos("node1", 10), pos("node2", 12), pos("node3", -1)])
    assert not blind.ok and any("node3: position unknown" in p for p in blind.problems)


def test_tie_goes_to_safe_to_bootstrap_then_profile_order() -> None:
    tie = [pos("node1", 7), pos("node2", 7, safe=True), pos("node3", 7)]
    assert choose_bootstrap_node(tie).node == "node2"
    no_flag = [pos("node1", 7), pos("node2", 7), pos("node3", 5)]
    choice = choose_bootstrap_node(no_flag)
    assert choice.node == "node1" and "first in the profile" in choice.reason


def test_other_cluster_uuid_blocks_and_is_never_compared() -> None:
    nodes = [pos("node1", 5), pos("node2", 6), pos("node3", 900, uuid=U2)]
    choice = choose_bootstrap_node(nodes)
    assert choice.node == "node2", "the higher seqno of another cluster is not comparable"
    assert not choice.ok and "node3 belongs to cluster" in choice.problems[0]
    split = choose_bootstrap_node([pos("node1", 5), pos("node2", 6, uuid=U2)])
    assert split.node is None and "no majority cluster UUID" in split.problems[0]


def test_an_empty_node_does_not_block() -> None:
    empty = NodePosition("node3", ZERO_UUID, -1, False, (ZERO_UUID, -1))
    choice = choose_bootstrap_node([pos("node1", 5), pos("node2", 3), empty])
    assert choice.ok and choice.node == "node1"


def test_parse_recovered_from_mariadbd_and_galera_recovery() -> None:
    log = (
        "2024-05-01 10:00:00 0 [Note] InnoDB: Starting crash recovery\n"
        f"2024-05-01 10:00:01 0 [Note] WSREP: Recovered position: {U1}:1234\n"
    )
    assert parse_recovered(log) == (U1, 1234)
    assert parse_recovered(f"--wsrep_start_position={U1}:42\n") == (U1, 42)
    assert parse_recovered("nothing here") is None
    assert parse_recovered(f"Recovered position: {U1}:-1") == (U1, -1)


nodes_strategy = st.lists(
    st.tuples(
        st.integers(min_value=-1, max_value=50),  # grastate seqno
        st.booleans(),  # safe_to_bootstrap
        st.integers(min_value=0, max_value=50),  # recovered seqno when grastate is -1
    ),
    min_size=1,
    max_size=6,
)


def build(raw: list[tuple[int, bool, int]]) -> list[NodePosition]:
    return [
        pos(f"n{i}", g, safe=s, recovered=(r if g < 0 else None)) for i, (g, s, r) in enumerate(raw)
    ]


@given(nodes_strategy)
def test_property_most_advanced_wins_tie_prefers_safe(raw: list[tuple[int, bool, int]]) -> None:
    nodes = build(raw)
    choice = choose_bootstrap_node(nodes)
    assert choice.ok
    best = max(n.seqno or 0 for n in nodes)
    chosen = next(n for n in nodes if n.name == choice.node)
    assert chosen.seqno == best
    assert choice.position == f"{U1}:{best}"
    top = [n for n in nodes if n.seqno == best]
    if any(n.safe_to_bootstrap for n in top):
        assert chosen.safe_to_bootstrap
    else:
        assert chosen is top[0]
    # The choice never depends on anything but positions, flags and order.
    assert choose_bootstrap_node(list(nodes)) == choice


@given(nodes_strategy, st.integers(min_value=0, max_value=5))
def test_property_an_unknown_position_always_blocks(
    raw: list[tuple[int, bool, int]], which: int
) -> None:
    nodes = [
        pos(f"n{i}", g, safe=s, recovered=(r if g < 0 else None)) for i, (g, s, r) in enumerate(raw)
    ]
    k = which % len(nodes)
    nodes[k] = NodePosition(nodes[k].name, U1, -1, nodes[k].safe_to_bootstrap, None, "failed")
    assert not choose_bootstrap_node(nodes).ok
