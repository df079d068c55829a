"""Helpers for tests that use the lab: ``from tests.labutil import require_lab``.

Tests marked ``lab`` talk to the lab's real servers. They skip with a reason when the lab
is not up, except under ``make test`` (``JARABA_REQUIRE_LAB=1``), where a missing lab is a
failure: CI must never pass by skipping what it was meant to test.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def _lab_dir() -> Path:
    """The lab's state directory, found as lab/procs.py finds it."""
    explicit = os.environ.get("JARABA_LAB_DIR")
    if explicit:
        return Path(explicit).resolve()
    xdg = os.environ.get("XDG_STATE_HOME")
    return (Path(xdg).resolve() / "jaraba-lab") if xdg else Path("/tmp/jaraba-lab")


LAB_DIR = _lab_dir()


def port_open(port: int, host: str = "127.0.0.1", timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def require_lab(*ports: int) -> None:
    """Skip (or, under ``make test``, fail) unless every given lab port answers."""
    closed = [p for p in ports if not port_open(p)]
    if not closed:
        return
    reason = f"lab not up: 127.0.0.1:{', '.join(map(str, closed))} closed (run `make lab-up`)"
    if os.environ.get("JARABA_REQUIRE_LAB") == "1":
        pytest.fail(reason)
    pytest.skip(reason)
