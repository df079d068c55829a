"""Helpers of the serve tests: a free loopback port, waiting, a websocket upgrade request."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx

from tests.labutil import REPO

#: The headers of a websocket handshake (RFC 6455's sample key): enough for the server to
#: decide on the Origin before any console is started.
WS_UPGRADE = {
    "Connection": "Upgrade",
    "Upgrade": "websocket",
    "Sec-WebSocket-Version": "13",
    "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(cond: Callable[[], bool], timeout: float, every: float = 0.25) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(every)
    return cond()


@contextlib.contextmanager
def serving(*args: str, log: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A real ``jaraba-ops serve --bind 127.0.0.1:<free port> ARGS`` until its page answers:
    (its URL, the process). Stopped with the consoles it started (its session) at the end;
    its stderr in ``log``."""
    port = free_port()
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "jaraba_tui", "serve", "--bind", f"127.0.0.1:{port}", *args],
            env={**os.environ, "PYTHONPATH": str(REPO)},
            stdout=subprocess.DEVNULL,
            stderr=err,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return httpx.get(url + "/", timeout=2).status_code == 200
        except httpx.HTTPError:
            return proc.poll() is not None  # it exited: no use waiting

    try:
        assert wait_for(up, 60) and proc.poll() is None, log.read_text()
        yield url, proc
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
