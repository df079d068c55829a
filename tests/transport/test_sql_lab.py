"""PyMySqlClient against the lab's real MariaDB Galera nodes (and its tarpit)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time

import pytest

from jaraba_tui.secrets import Secret
from jaraba_tui.transport._common import Timeouts, static_address
from jaraba_tui.transport.base import TransportError
from jaraba_tui.transport.sql import PyMySqlClient, resets_counters
from tests.labutil import REPO, require_lab

pytestmark = pytest.mark.lab

ROOT_PW = "JARABA_TEST_SQL_ROOT_PW"


@pytest.fixture(autouse=True)
def _root_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ROOT_PW, "jaraba_root_dev")


def client(port: int, timeouts: Timeouts, env: str = ROOT_PW) -> PyMySqlClient:
    return PyMySqlClient(
        f"galera test 127.0.0.1:{port}",
        static_address("127.0.0.1", port),
        user="root",
        password=Secret(env=env),
        timeouts=timeouts,
    )


async def test_query_returns_dict_rows(timeouts: Timeouts) -> None:
    require_lab(3307)
    sql = client(3307, timeouts)
    try:
        rows = await sql.query("SHOW GLOBAL STATUS LIKE %s", ["wsrep_cluster_size"])
        assert rows and rows[0]["Variable_name"] == "wsrep_cluster_size"
        assert int(rows[0]["Value"]) >= 1
        assert await sql.execute("SET @jaraba_probe = 1") == 0
    finally:
        await sql.close()


async def test_one_connection_reused_and_reopened_after_the_server_drops_it(
    timeouts: Timeouts,
) -> None:
    require_lab(3307)
    sql, killer = client(3307, timeouts), client(3307, timeouts)
    try:
        first = (await sql.query("SELECT CONNECTION_ID() AS id"))[0]["id"]
        assert (await sql.query("SELECT CONNECTION_ID() AS id"))[0]["id"] == first
        await killer.execute(f"KILL {int(first)}")
        await asyncio.sleep(0.2)
        again = (await sql.query("SELECT CONNECTION_ID() AS id"))[0]["id"]  # transparent retry
        assert again != first
    finally:
        await sql.close()
        await killer.close()


async def test_wrong_password_is_an_auth_error_without_the_password(
    monkeypatch: pytest.MonkeyPatch, timeouts: Timeouts
) -> None:
    require_lab(3307)
    monkeypatch.setenv("JARABA_TEST_WRONG_PW", "wrong-Pw-731")
    sql = client(3307, timeouts, env="JARABA_TEST_WRONG_PW")
    with pytest.raises(TransportError) as info:
        await sql.query("SELECT 1")
    await sql.close()
    assert info.value.kind == "auth"
    assert "wrong-Pw-731" not in str(info.value)
    assert info.value.endpoint == sql.endpoint


async def test_refused(closed_port: int, timeouts: Timeouts) -> None:
    sql = client(closed_port, timeouts)
    with pytest.raises(TransportError) as info:
        await sql.query("SELECT 1")
    await sql.close()
    assert info.value.kind == "refused"


async def test_sql_errors_keep_the_connection(timeouts: Timeouts) -> None:
    require_lab(3307)
    sql = client(3307, timeouts)
    try:
        first = (await sql.query("SELECT CONNECTION_ID() AS id"))[0]["id"]
        with pytest.raises(TransportError) as info:
            await sql.query("SELEC nonsense")
        assert info.value.kind == "other" and "1064" in str(info.value)
        assert (await sql.query("SELECT CONNECTION_ID() AS id"))[0]["id"] == first
    finally:
        await sql.close()


async def test_query_many_answers_each_statement_like_query(
    closed_port: int, timeouts: Timeouts
) -> None:
    require_lab(3307)
    sql = client(3307, timeouts)
    try:
        one, bad, two = await sql.query_many(
            ["SELECT CONNECTION_ID() AS id", "SELEC nonsense", "SELECT CONNECTION_ID() AS id"]
        )
        assert isinstance(one, list) and isinstance(two, list) and one == two  # kept
        with pytest.raises(TransportError) as info:
            await sql.query("SELEC nonsense")
        assert isinstance(bad, TransportError)
        assert (bad.kind, str(bad)) == (info.value.kind, str(info.value))
        with pytest.raises(TransportError, match="resets server counters"):
            await sql.query_many(["SELECT 1", "FLUSH STATUS"])  # refused before any I/O
    finally:
        await sql.close()
    gone = client(closed_port, timeouts)
    answers = await gone.query_many(["SELECT 1", "SELECT 2"])  # stops at the lost link
    await gone.close()
    assert len(answers) == 1 and isinstance(answers[0], TransportError)
    assert answers[0].kind == "refused"


async def test_counter_resets_are_refused_before_reaching_the_server(timeouts: Timeouts) -> None:
    sql = client(1, timeouts)  # never connects: refused before any I/O
    for statement in (
        "FLUSH STATUS",
        "flush  global status",
        "FLUSH LOCAL STATUS",
        "SELECT * FROM stats_mysql_query_digest_reset",
        "select * from stats.stats_mysql_connection_pool_reset",
        "FLUSH USER_STATISTICS",
    ):
        assert resets_counters(statement)
        with pytest.raises(TransportError, match="resets server counters"):
            await sql.query(statement)
    assert not resets_counters("SHOW GLOBAL STATUS")
    assert not resets_counters("SELECT * FROM stats_mysql_query_digest")
    await sql.close()


async def test_tarpit_times_out_and_never_blocks_the_loop(tarpit: int) -> None:
    short = Timeouts(connect=1.0, read=1.0)
    hung, healthy = client(tarpit, short), client(3307, Timeouts(connect=2.0, read=3.0))
    answers: list[float] = []
    max_lag = 0.0
    done = asyncio.Event()

    async def measure_lag() -> None:
        nonlocal max_lag
        while not done.is_set():
            before = time.monotonic()
            await asyncio.sleep(0.02)
            max_lag = max(max_lag, time.monotonic() - before - 0.02)

    async def keep_querying() -> None:
        while not done.is_set():
            await healthy.query("SELECT 1 AS one")
            answers.append(time.monotonic())
            await asyncio.sleep(0.05)

    lag_task = asyncio.create_task(measure_lag())
    other_task = asyncio.create_task(keep_querying())
    start = time.monotonic()
    try:
        with pytest.raises(TransportError) as info:
            await hung.query("SELECT 1")
        elapsed = time.monotonic() - start
    finally:
        done.set()
        await asyncio.gather(lag_task, other_task)
        await hung.close()
        await healthy.close()
    assert info.value.kind == "timeout"
    assert elapsed < short.connect + short.read + 1.0, elapsed
    assert max_lag < 0.5, f"event loop blocked for {max_lag:.2f}s"
    assert [t for t in answers if t < start + elapsed], "the other endpoint answered meanwhile"


def test_a_thread_blocked_in_a_read_does_not_delay_exit(tarpit: int) -> None:
    script = (
        "import asyncio, sys\n"
        f"sys.path.insert(0, {str(REPO)!r})\n"
        "from jaraba_tui.transport._common import Timeouts, static_address\n"
        "from jaraba_tui.transport.sql import PyMySqlClient\n"
        "async def main():\n"
        f"    c = PyMySqlClient('t', static_address('127.0.0.1', {tarpit}), user='u',\n"
        "        password=None, timeouts=Timeouts(connect=30, read=60))\n"
        "    try:\n"
        "        await asyncio.wait_for(c.query('SELECT 1'), 0.5)\n"
        "    except (asyncio.TimeoutError, Exception):\n"
        "        pass\n"
        "asyncio.run(main())\n"
        "print('main done', flush=True)\n"
    )
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ},
    )
    assert "main done" in done.stdout, done.stderr
    assert time.monotonic() - start < 10, "a blocked pymysql read kept the interpreter alive"
