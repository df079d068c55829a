"""`up` is idempotent and `down` leaves no lab process behind (then the lab is brought back).

Named test_zz_* so it runs after the other lab tests in this directory.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.labutil import LAB_DIR, REPO, port_open, require_lab

pytestmark = [pytest.mark.lab, pytest.mark.slow]

LABCTL = [sys.executable, str(REPO / "lab" / "labctl.py")]
LAB_PORTS = (3307, 3308, 3309, 6032, 8080, 8404, 6379, 6380, 6381, 26379, 9090, 9093, 2222)


def recorded_pids() -> dict[str, int]:
    pids = {}
    for f in (LAB_DIR / "pids").glob("*.json"):
        pids[f.stem] = json.loads(f.read_text())["pid"]
    return pids


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def test_up_twice_is_a_no_op_then_down_leaves_nothing_then_up_again() -> None:
    require_lab(*LAB_PORTS)
    before = recorded_pids()
    assert len(before) >= 20
    out = subprocess.run([*LABCTL, "up"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert recorded_pids() == before  # nothing restarted, nothing added

    down = subprocess.run([*LABCTL, "down"], capture_output=True, text=True, timeout=300)
    assert down.returncode == 0, down.stderr
    assert [name for name, pid in before.items() if alive(pid)] == []
    assert [p for p in LAB_PORTS if port_open(p)] == []
    assert list((LAB_DIR / "pids").glob("*.json")) == []

    again = subprocess.run([*LABCTL, "up"], capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stdout + again.stderr
    assert [p for p in LAB_PORTS if not port_open(p)] == []
