"""Fixtures of the transport tests: the lab's profile, its SSH target, a tarpit port."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator

import pytest

from jaraba_tui.profile import Profile, load_profile
from jaraba_tui.transport._common import Timeouts
from jaraba_tui.transport.ssh import SshTarget
from tests.labutil import LAB_DIR, REPO, require_lab

#: Our own tarpit port (not the lab's default 3399, which other tests may (un)hang).
TARPIT_PORT = 3391


@pytest.fixture
def timeouts() -> Timeouts:
    return Timeouts(connect=2.0, read=3.0)


@pytest.fixture
def lab_profile() -> Profile:
    return load_profile("local")


@pytest.fixture
def lab_target() -> SshTarget:
    require_lab(2222)
    return SshTarget(
        name="lab",
        host="127.0.0.1",
        port=2222,
        user="root",
        key_file=str(LAB_DIR / "ssh" / "id_ed25519"),
        use_agent=False,
        known_hosts=str(LAB_DIR / "ssh" / "known_hosts"),
    )


@pytest.fixture
def closed_port() -> int:
    """A loopback port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _labctl(*args: str) -> None:
    subprocess.run(
        [sys.executable, str(REPO / "lab" / "labctl.py"), *args],
        check=True,
        cwd=REPO,
        timeout=60,
        capture_output=True,
    )


@pytest.fixture
def tarpit() -> Iterator[int]:
    """The lab's fault: a port that accepts TCP and never answers (undone afterwards)."""
    require_lab(3307)
    _labctl("fault", "hang", "--port", str(TARPIT_PORT))
    try:
        yield TARPIT_PORT
    finally:
        _labctl("fault", "unhang", "--port", str(TARPIT_PORT))
