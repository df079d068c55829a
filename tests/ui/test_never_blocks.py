"""The console against endpoints that accept and never answer (a tarpit): keys stay
responsive while pymysql threads are blocked in reads, and quitting does not wait for the
reads, also for the interpreter (the SQL threads and the engine's thread are daemons). No lab
needed: the tarpit is local.

These prove "does not wait for the blocked read": the reads block for ``READ_TIMEOUT``
(minutes) and the bounds are far below it but generous (``BOUND``), since the machine is
shared. How fast keys and quit really are is measured by bench/hung.py and
bench/responsiveness.py, not asserted here."""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jaraba_tui.engine import PollEngine
from jaraba_tui.profile import Profile, profile_from_mapping
from jaraba_tui.resources import themes_dir
from jaraba_tui.ui.app import ConsoleInfo, JarabaApp
from jaraba_tui.ui.source import ThreadedEngineSource, engine_source
from tests.labutil import REPO

READ_TIMEOUT = 300.0  # a read blocked in the tarpit holds this long
BOUND = 30.0  # "at once", generously: far below READ_TIMEOUT


@pytest.fixture
def tarpit() -> Iterator[int]:
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(64)
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            held.append(conn)

    threading.Thread(target=accept, daemon=True).start()
    yield srv.getsockname()[1]
    srv.close()
    for conn in held:
        conn.close()


def hung_profile(port: int) -> Profile:
    return profile_from_mapping(
        {
            "name": "tarpit",
            "environment": "lab",
            "galera": {
                "nodes": [{"name": f"node{i}", "host": "127.0.0.1", "port": port} for i in (1, 2)]
            },
            "proxysql": {"host": "127.0.0.1", "port": port},
            "poll": {"connect_timeout": 2.0, "read_timeout": READ_TIMEOUT},
        }
    )


async def test_keys_answer_while_sql_threads_hang_and_quit_is_immediate(
    tarpit: int, tmp_path: Path
) -> None:
    profile = hung_profile(tarpit)
    app = JarabaApp(
        ConsoleInfo.from_profile(profile),
        engine_source(profile),
        state_path=tmp_path / "ui.json",
        theme_dirs=[themes_dir()],
    )
    loop_time: Any = None
    async with app.run_test(size=(100, 30)) as pilot:
        import asyncio

        loop_time = asyncio.get_running_loop().time
        source = app.source
        assert isinstance(source, ThreadedEngineSource)
        engine = source.engine
        assert isinstance(engine, PollEngine)
        for _ in range(200):
            await pilot.pause(0.02)
            if engine.stats["galera"].in_flight and engine.stats["proxysql"].in_flight:
                break
        assert engine.stats["galera"].in_flight
        started = loop_time()
        for key in "23481":
            await pilot.press(key)
        await pilot.pause()
        assert loop_time() - started < BOUND
        assert engine.stats["galera"].in_flight  # still hanging: the keys did not wait
        quit_at = loop_time()
        await pilot.press("q")
    assert loop_time() - quit_at < BOUND
    assert app.return_code == 0


def test_the_process_exits_at_once_with_sql_threads_blocked(tarpit: int) -> None:
    """Headless console in a child process: q while two SQL threads are blocked in reads;
    the interpreter must not wait for them."""
    script = textwrap.dedent(
        f"""
        import asyncio, sys, time
        sys.path.insert(0, {str(REPO)!r})
        from tests.ui.test_never_blocks import hung_profile
        from jaraba_tui.ui.app import ConsoleInfo, JarabaApp
        from jaraba_tui.ui.source import ThreadedEngineSource, engine_source

        profile = hung_profile({tarpit})
        app = JarabaApp(ConsoleInfo.from_profile(profile), engine_source(profile))

        async def auto(pilot):
            for _ in range(500):
                await asyncio.sleep(0.02)
                s = app.source.engine.stats
                if s["galera"].in_flight and s["proxysql"].in_flight:
                    break
            print("QUIT", time.time(), flush=True)
            await pilot.press("q")

        app.run(headless=True, auto_pilot=auto)
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=BOUND * 3,
        cwd=REPO,
    )
    ended = time.time()
    assert proc.returncode == 0, proc.stderr[-2000:]
    quit_line = next(line for line in proc.stdout.splitlines() if line.startswith("QUIT"))
    asked = float(quit_line.split()[1])
    assert ended - asked < BOUND, f"exit took {ended - asked:.1f}s"
