"""Galera actions on the lab's real MariaDB Galera cluster: stop/start/restart one node,
force a surviving node Primary, and bootstrap after a full outage from the node that only
``--wsrep-recover`` shows to be the most advanced. Every test leaves the cluster Synced with
3 nodes (the actions under test bring it back; ``labctl up`` is the fallback)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pymysql
import pytest

from jaraba_tui.actions import (
    ActionContext,
    ActionRefused,
    TypedConfirmer,
    prepare,
    run_action,
)
from tests.actions.labkit import labctl, wait_until
from tests.labutil import require_lab

pytestmark = [pytest.mark.lab, pytest.mark.slow]
PORTS = {"node1": 3307, "node2": 3308, "node3": 3309}
TABLE = "drupal.jaraba_ops_action_test"


def sql(port: int, statement: str) -> Any:
    conn = pymysql.connect(
        host="127.0.0.1",
        port=port,
        user="root",
        password="jaraba_root_dev",  # the seed's public lab credential
        connect_timeout=3,
        read_timeout=20,
        autocommit=True,
    )
    try:
        with conn.cursor() as cur:
            cur.execute(statement)
            return cur.fetchall()
    finally:
        conn.close()


def status(port: int) -> tuple[str, str, int] | None:
    try:
        rows = dict(sql(port, "SHOW GLOBAL STATUS LIKE 'wsrep_%'"))
    except pymysql.MySQLError:
        return None
    return (
        rows.get("wsrep_local_state_comment", "?"),
        rows.get("wsrep_cluster_status", "?"),
        int(rows.get("wsrep_cluster_size", 0)),
    )


def healthy() -> bool:
    return all(status(p) == ("Synced", "Primary", 3) for p in PORTS.values())


@pytest.fixture
def cluster() -> Iterator[None]:
    require_lab(*PORTS.values(), 2222)
    if not wait_until(healthy, 60):
        labctl("up", "--only", "galera", timeout=600)
    assert healthy(), {n: status(p) for n, p in PORTS.items()}
    yield
    if not wait_until(healthy, 20):
        labctl("up", "--only", "galera", timeout=600)  # the fallback
    assert wait_until(healthy, 120), {n: status(p) for n, p in PORTS.items()}
    sql(PORTS["node1"], f"DROP TABLE IF EXISTS {TABLE}")


async def test_stop_refuses_bootstrap_then_start(lab_ctx: ActionContext, cluster: None) -> None:
    stopped = await run_action(lab_ctx, "galera.stop", "node3", confirmer=TypedConfirmer(["node3"]))
    assert stopped.status == "verified", stopped.left_in
    assert status(PORTS["node3"]) is None
    assert status(PORTS["node1"]) == ("Synced", "Primary", 2)

    with pytest.raises(ActionRefused) as info:
        await run_action(
            lab_ctx, "galera.bootstrap", "galera", confirmer=TypedConfirmer(["galera"])
        )
    text = str(info.value)
    assert "no node in a Primary component" in text and "split brain" in text
    assert "node1: Synced, Primary, size 2" in text

    started = await run_action(
        lab_ctx, "galera.start", "node3", confirmer=TypedConfirmer(["node3"])
    )
    assert started.status == "verified", started.left_in
    assert healthy()
    runs = {stopped.run_id, started.run_id}
    events = [r["event"] for r in lab_ctx.audit.records() if r["run_id"] in runs]
    assert events.count("started") == 2 and events.count("finished") == 2
    assert len(lab_ctx.audit.records()) == len(events), "the refused bootstrap wrote nothing"


async def test_start_of_a_running_node_and_forcing_a_primary_node_are_refused(
    lab_ctx: ActionContext, cluster: None
) -> None:
    with pytest.raises(ActionRefused, match="node verifiably down"):
        await run_action(lab_ctx, "galera.start", "node2", confirmer=TypedConfirmer(["node2"]))
    with pytest.raises(ActionRefused, match="not Primary"):
        await run_action(
            lab_ctx, "galera.force-primary", "node2", confirmer=TypedConfirmer(["node2"])
        )


async def test_restart_verified(lab_ctx: ActionContext, cluster: None) -> None:
    outcome = await run_action(
        lab_ctx, "galera.restart", "node2", confirmer=TypedConfirmer(["node2"])
    )
    assert outcome.status == "verified", outcome.left_in
    assert [s.status for s in outcome.steps] == ["ok"] * 4


async def test_bootstrap_from_the_node_only_recovery_shows_ahead(
    lab_ctx: ActionContext, cluster: None
) -> None:
    """Stop node1 and node2 cleanly, keep writing to node3, kill -9 it: grastate.dat says
    node2 is the most advanced (node3: -1); only --wsrep-recover shows node3 is."""
    sql(PORTS["node3"], f"CREATE TABLE IF NOT EXISTS {TABLE} (id INT AUTO_INCREMENT PRIMARY KEY)")
    for n in (1, 2):
        assert labctl("fault", "galera-stop", str(n)).returncode == 0
    for _ in range(25):
        sql(PORTS["node3"], f"INSERT INTO {TABLE} VALUES ()")
    assert labctl("fault", "galera-kill", "3").returncode == 0
    assert wait_until(lambda: status(PORTS["node3"]) is None, 10)

    prepared = await prepare(lab_ctx, "galera.bootstrap", "galera")
    try:
        assert not prepared.blocked, [c for c in prepared.checks if c.blocks]
        assert prepared.plan is not None
        (table,) = prepared.plan.tables
        rows = {r[0]: r for r in table.rows}
        g1, g2 = (int(rows[n][1].rsplit(":", 1)[1]) for n in ("node1", "node2"))
        assert rows["node3"][1].endswith(":-1"), "grastate.dat of the killed node says -1"
        assert g2 > g1, "node2 left last: grastate alone would choose it"
        recovered = int(rows["node3"][4].split()[0])
        assert recovered >= g2 + 25 and rows["node3"][4].endswith("(recovered)")
        assert rows["node3"][5] == "BOOTSTRAP"
        titles = [s.title for s in prepared.plan.steps]
        if rows["node3"][2] == "0":
            assert titles.pop(0) == "set safe_to_bootstrap: 1 in node3's grastate.dat"
        # (Galera itself may have set it when node3 was left alone in the component.)
        assert titles[0].startswith("start node3 as a new cluster at ")
        assert titles[0].endswith(f":{recovered}")
        assert titles[2:] == [
            "start node1 (joins, IST/SST from a running node)",
            "wait until node1 is Synced in a Primary component of size >= 2",
            "start node2 (joins, IST/SST from a running node)",
            "wait until node2 is Synced in a Primary component of size >= 3",
        ]
        outcome = None
        async for event in prepared.execute():
            outcome = event
    finally:
        prepared.release()
    assert outcome is not None and getattr(outcome, "status", None) == "verified", outcome
    assert healthy()
    assert sql(PORTS["node1"], f"SELECT COUNT(*) FROM {TABLE}")[0][0] == 25, "no write lost"


async def test_force_primary_on_the_survivor_then_rejoin(
    lab_ctx: ActionContext, cluster: None
) -> None:
    for n in (2, 3):
        assert labctl("fault", "galera-kill", str(n)).returncode == 0
    assert wait_until(lambda: (status(PORTS["node1"]) or ("", "", 0))[1] == "non-Primary", 30)
    outcome = await run_action(
        lab_ctx, "galera.force-primary", "node1", confirmer=TypedConfirmer(["node1"])
    )
    assert outcome.status == "verified", outcome.left_in
    assert status(PORTS["node1"]) == ("Synced", "Primary", 1)
    for name in ("node2", "node3"):
        done = await run_action(lab_ctx, "galera.start", name, confirmer=TypedConfirmer([name]))
        assert done.status == "verified", done.left_in
    assert healthy()


async def test_bootstrap_after_every_node_was_killed(lab_ctx: ActionContext, cluster: None) -> None:
    assert labctl("fault", "galera-kill-all").returncode == 0
    assert wait_until(lambda: all(status(p) is None for p in PORTS.values()), 10)
    outcome = await run_action(
        lab_ctx, "galera.bootstrap", "galera", confirmer=TypedConfirmer(["galera"])
    )
    assert outcome.status == "verified", outcome.left_in
    started = next(
        r
        for r in lab_ctx.audit.records()
        if r["run_id"] == outcome.run_id and r["event"] == "started"
    )
    (table,) = started["plan"]["tables"]
    assert all(row[4].endswith("(recovered)") for row in table["rows"]), table
    assert healthy()
