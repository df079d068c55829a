"""ProxySQL between polls: the versions and full monitor-log reads every FULL_READ_EVERY_S,
only the newest log rows in between (issue 6), with the same summaries as a full read."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from jaraba_tui.collectors import proxysql
from jaraba_tui.transport.base import TransportError
from tests.collectors.captured import load
from tests.collectors.fakes import FakeSql, refused
from tests.collectors.scenarios import CLOCK, proxysql_sql

LOGS = (
    ("proxysql_ping_log.json", proxysql.Q_PING_LOG, proxysql.Q_PING_LOG_SINCE),
    ("proxysql_galera_log.json", proxysql.Q_GALERA_LOG, proxysql.Q_GALERA_LOG_SINCE),
)


def newest_first(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda r: int(r["time_start_us"]), reverse=True)


def split(rows: list[dict[str, Any]], new: int) -> tuple[list[dict[str, Any]], int]:
    """(the rows a first poll sees: all but the ``new`` newest, the newest time it saw)."""
    ordered = newest_first(rows)
    return ordered[new:], int(ordered[new]["time_start_us"])


def since(rows: list[dict[str, Any]], newest_seen: int) -> list[dict[str, Any]]:
    """What ProxySQL answers the newest-rows read after a poll that saw ``newest_seen``."""
    floor = newest_seen - proxysql.MONITOR_OVERLAP_US
    return [r for r in newest_first(rows) if int(r["time_start_us"]) > floor]


async def test_newest_rows_only_between_full_reads_same_summaries() -> None:
    full = {name: load("proxysql", name) for name, _, _ in LOGS}
    first: dict[str, object] = {}
    second: dict[str, object] = {}
    for name, q_full, q_since in LOGS:
        seen, newest = split(full[name], 5)
        first[q_full] = seen
        second[q_since.format(since=newest - proxysql.MONITOR_OVERLAP_US)] = since(
            full[name], newest
        )
    sql = proxysql_sql(over=first)
    target = proxysql.ProxySQLTarget("proxysql", sql)
    await proxysql.collect(target, clock=CLOCK)
    assert target.memo.read_at is not None

    # the second poll: only the rows newer than the newest seen (less the overlap)
    assert isinstance(sql.script, dict)
    sql.script.update(second)
    sql.calls.clear()
    snap = await proxysql.collect(target, clock=CLOCK)
    assert proxysql.Q_VERSION_COMMENT not in sql.calls
    assert proxysql.Q_ADMIN_VERSION not in sql.calls
    assert not {q for _, q, _ in LOGS} & set(sql.calls)
    assert all(q in sql.calls for q in second)
    assert snap.errors == ()
    reference = await proxysql.collect(proxysql.ProxySQLTarget("p", proxysql_sql()), clock=CLOCK)
    assert snap.ping == reference.ping and snap.galera_checks == reference.galera_checks
    assert snap.ping is not None and snap.ping.latest
    assert (snap.version, snap.version_comment, snap.is_standin) == (
        reference.version,
        reference.version_comment,
        reference.is_standin,
    )
    # rows kept: at most MONITOR_ROWS, one per (server, start time)
    kept = target.memo.logs["mysql_server_ping_log"]
    assert len(kept) == len(full["proxysql_ping_log.json"]) <= proxysql.MONITOR_ROWS

    # past FULL_READ_EVERY_S: everything is read again
    assert target.memo.read_at is not None
    target.memo.read_at -= proxysql.FULL_READ_EVERY_S + 1
    sql.calls.clear()
    await proxysql.collect(target, clock=CLOCK)
    assert {proxysql.Q_VERSION_COMMENT, proxysql.Q_PING_LOG, proxysql.Q_GALERA_LOG} <= set(
        sql.calls
    )


async def test_an_error_drops_the_memo() -> None:
    sql = proxysql_sql()
    target = proxysql.ProxySQLTarget("proxysql", sql)
    await proxysql.collect(target, clock=CLOCK)
    assert target.memo.logs
    broken = FakeSql(sql.endpoint, {**sql.script, proxysql.Q_SERVERS: [{"nonsense": 1}]})
    target_b = proxysql.ProxySQLTarget("proxysql", broken, memo=target.memo)
    snap = await proxysql.collect(target_b, clock=CLOCK)
    assert snap.errors and target.memo.read_at is None and not target.memo.logs
    broken.calls.clear()
    await proxysql.collect(target_b, clock=CLOCK)
    assert proxysql.Q_PING_LOG in broken.calls and proxysql.Q_VERSION_COMMENT in broken.calls


class FakeBatchSql(FakeSql):
    """FakeSql that also runs statements in one hand-off, like PyMySqlClient.query_many:
    each answered as ``query`` would, stopping after a failure that ends the connection."""

    def __init__(self, endpoint: str, script: Any) -> None:
        super().__init__(endpoint, script)
        self.batches = 0

    async def query_many(self, statements: Any) -> list[Any]:
        self.batches += 1
        out: list[Any] = []
        for sql in statements:
            try:
                out.append(await self.query(sql))
            except TransportError as exc:
                out.append(exc)
                if exc.kind in ("refused", "timeout", "auth"):
                    break
        return out


BATCH_CASES: dict[str, dict[str, object]] = {
    "healthy": {},
    "a table missing": {
        proxysql.Q_GALERA_HG: TransportError("no such table", kind="other"),
    },
    "refused midway": {proxysql.Q_POOL: refused("127.0.0.1:6032")},
    "refused": {"*": refused("127.0.0.1:6032")},
}


@pytest.mark.parametrize("case", sorted(BATCH_CASES))
async def test_one_hand_off_same_snapshot_as_one_by_one(case: str) -> None:
    over = BATCH_CASES[case]
    plain = proxysql_sql(over=over)
    if "*" in over:
        plain.script = dict(over)
    batch = FakeBatchSql(plain.endpoint, plain.script)
    t_one, t_two = proxysql.ProxySQLTarget("p", plain), proxysql.ProxySQLTarget("p", batch)
    for _ in range(2):  # a full read, then (healthy) the newest-rows reads, unscripted here
        one = await proxysql.collect(t_one, clock=CLOCK)
        two = await proxysql.collect(t_two, clock=CLOCK)
        assert replace(two, elapsed_ms=0) == replace(one, elapsed_ms=0)
    assert batch.batches == 2
    assert batch.calls == plain.calls  # the same statements, in the same order
