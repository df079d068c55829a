"""Drain a Galera backend from ProxySQL on the lab (the stand-in, or a real ProxySQL when on
PATH) with the approach that sticks, undo it, never the last writer; and the verification
noticing a drain that does not hold. Every node accepts queries again in teardown."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from typing import Any

import pymysql
import pytest

from jaraba_tui.actions import (
    ActionContext,
    ActionRefused,
    StepResult,
    TypedConfirmer,
    run_action,
)
from tests.actions.labkit import wait_until
from tests.labutil import require_lab

pytestmark = pytest.mark.lab
NODES = {"node1": 3307, "node2": 3308, "node3": 3309}


def sql(port: int, statement: str, user: str = "root", password: str = "jaraba_root_dev") -> Any:
    conn = pymysql.connect(
        host="127.0.0.1",
        port=port,
        user=user,
        password=password,
        connect_timeout=5,
        read_timeout=10,
    )
    try:
        with conn.cursor() as cur:
            cur.execute(statement)
            return cur.fetchall()
    finally:
        conn.close()


def placement() -> dict[int, set[int]]:
    """Port -> hostgroups where the backend is ONLINE (ProxySQL runtime)."""
    rows = sql(
        6032,
        "SELECT hostgroup_id, port, status FROM runtime_mysql_servers",
        user="admin",
        password="admin_dev",
    )
    out: dict[int, set[int]] = {p: set() for p in NODES.values()}
    for hg, port, status in rows:
        if status == "ONLINE":
            out.setdefault(int(port), set()).add(int(hg))
    return out


def writer() -> int:
    return next(p for p, hgs in placement().items() if 10 in hgs)


def all_serving() -> bool:
    return all(hgs and hgs != {9999} for hgs in placement().values())


def settled() -> bool:
    """Every node serving, for three monitor checks in a row (a node that just rejoined the
    cluster can flap through the offline hostgroup while it catches up)."""
    for _ in range(3):
        if not all_serving():
            return False
        time.sleep(2.0)
    return True


@pytest.fixture
def galera_in_proxysql() -> Iterator[None]:
    require_lab(6032, *NODES.values())
    assert wait_until(settled, 60), placement()
    yield
    for port in NODES.values():
        with contextlib.suppress(pymysql.MySQLError):
            sql(port, "SET GLOBAL wsrep_reject_queries=NONE")
    assert wait_until(all_serving, 30), f"not every node back in ProxySQL: {placement()}"


async def test_drain_sticks_then_undrain(lab_ctx: ActionContext, galera_in_proxysql: None) -> None:
    port = next(p for p in NODES.values() if p != writer())
    target = f"127.0.0.1:{port}"
    outcome = await run_action(
        lab_ctx, "proxysql.drain", target, confirmer=TypedConfirmer([target])
    )
    assert outcome.status == "verified", outcome.left_in
    assert outcome.steps[0].command == "SET GLOBAL wsrep_reject_queries=ALL"
    assert outcome.verification is not None and "held" in outcome.verification.seen
    assert placement()[port] == {9999}
    back = await run_action(lab_ctx, "proxysql.undrain", target, confirmer=TypedConfirmer([target]))
    assert back.status == "verified", back.left_in
    assert placement()[port] - {9999}


async def test_draining_the_writer_moves_the_writer_role(
    lab_ctx: ActionContext, galera_in_proxysql: None
) -> None:
    old = writer()
    name = next(n for n, p in NODES.items() if p == old)
    outcome = await run_action(lab_ctx, "proxysql.drain", name, confirmer=TypedConfirmer([name]))
    assert outcome.status == "verified", outcome.left_in
    assert writer() != old


async def test_never_the_last_writer(lab_ctx: ActionContext, galera_in_proxysql: None) -> None:
    w = writer()
    others = [p for p in NODES.values() if p != w]
    for port in others:
        t = f"127.0.0.1:{port}"
        done = await run_action(lab_ctx, "proxysql.drain", t, confirmer=TypedConfirmer([t]))
        assert done.status == "verified", done.left_in
    last = f"127.0.0.1:{w}"
    with pytest.raises(ActionRefused, match="is the last writer of hostgroup 10"):
        await run_action(lab_ctx, "proxysql.drain", last, confirmer=TypedConfirmer([last]))
    assert writer() == w
    started = [r for r in lab_ctx.audit.records() if r["event"] == "started"]
    assert len(started) == 2, "the refused drain wrote no record"


async def test_verification_notices_a_drain_that_does_not_stick(
    lab_ctx: ActionContext, galera_in_proxysql: None
) -> None:
    port = next(p for p in NODES.values() if p != writer())
    target = f"127.0.0.1:{port}"

    def undo_behind_our_back(event: object) -> None:
        # Someone (or a node restart) clears the setting just after the drain completed.
        if isinstance(event, StepResult) and event.index == 3:
            threading.Thread(
                target=sql, args=(port, "SET GLOBAL wsrep_reject_queries=NONE")
            ).start()

    outcome = await run_action(
        lab_ctx,
        "proxysql.drain",
        target,
        confirmer=TypedConfirmer([target]),
        on_event=undo_behind_our_back,
    )
    assert outcome.status == "not verified"
    assert outcome.verification is not None
    assert "wsrep_reject_queries=NONE" in outcome.verification.seen
