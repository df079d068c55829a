"""Fixtures of the hostile suite: a listening socket that must see no connection, a canary
directory where no file may appear, and the forking CLI driver (clidriver.py)."""

from __future__ import annotations

import json
import os
import select
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent.parent


def cli_env(**extra: str) -> dict[str, str]:
    """The environment of a CLI run: this one (XDG dirs are the test's own), the repo importable
    (the console script of this checkout's editable install may point elsewhere)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + (
        os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else ""
    )
    env.pop("JARABA_DEBUG", None)
    env.update(extra)
    return env


class Listener:
    """A TCP socket on 127.0.0.1 that records every connection attempt."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.sock.setblocking(False)
        self.port: int = self.sock.getsockname()[1]

    def connections(self) -> int:
        """Connections accepted since the last call (each is closed at once)."""
        n = 0
        while select.select([self.sock], [], [], 0)[0]:
            try:
                conn, _ = self.sock.accept()
            except BlockingIOError:
                break
            conn.close()
            n += 1
        return n

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    lst = Listener()
    try:
        yield lst
    finally:
        lst.close()


@dataclass
class Run:
    rc: int
    stdout: str
    stderr: str
    timed_out: bool

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


class CliDriver:
    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.hostile.clidriver"],
            cwd=REPO,
            env=cli_env(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def run(self, argv: list[str], *, env: dict[str, str], cwd: Path, timeout: float = 30) -> Run:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        job: dict[str, Any] = {"argv": argv, "env": env, "cwd": str(cwd), "timeout": timeout}
        self.proc.stdin.write(json.dumps(job) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the CLI driver died")
        return Run(**json.loads(line))

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture(scope="session")
def cli_driver() -> Iterator[CliDriver]:
    driver = CliDriver()
    try:
        yield driver
    finally:
        driver.close()
