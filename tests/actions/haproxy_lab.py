"""The lab's HAProxy, read and restored synchronously (runtime API over the TCP socket)."""

from __future__ import annotations

import socket
from pathlib import Path

from jaraba_tui.collectors.haproxy import parse_map, parse_stat_csv
from tests.actions.labkit import labctl, wait_until
from tests.labutil import LAB_DIR

MAP = str(LAB_DIR / "haproxy" / "maps" / "bluegreen.map")


def map_file() -> dict[str, str]:
    """The persisted map file's keys (what a reload would apply)."""
    from jaraba_tui.actions.bluegreen_util import parse_map_file

    return parse_map_file(Path(MAP).read_text())


def runtime(line: str) -> str:
    with socket.create_connection(("127.0.0.1", 9999), timeout=5) as s:
        s.sendall(line.encode() + b"\n")
        chunks = []
        while data := s.recv(65536):
            chunks.append(data)
    return b"".join(chunks).decode()


def states(backend: str) -> dict[str, str]:
    rows = parse_stat_csv(runtime("show stat")).rows
    return {r.name: r.state for r in rows if r.kind == "server" and r.proxy == backend}


def routing() -> dict[str, str]:
    return parse_map(runtime(f"show map {MAP}"))


def idle_colour() -> str:
    return "green" if routing().get("live", "blue") == "blue" else "blue"


def all_servers_up(timeout: float = 30.0) -> bool:
    return wait_until(
        lambda: all(set(states(f"bk_app_{c}").values()) == {"UP"} for c in ("blue", "green")),
        timeout,
    )


def restore_servers() -> None:
    """Every app server running and every HAProxy server ready and UP."""
    labctl("start", "apps", timeout=120)
    for colour in ("blue", "green"):
        for name, state in states(f"bk_app_{colour}").items():
            if state in ("DRAIN", "MAINT"):
                runtime(f"set server bk_app_{colour}/{name} state ready")
    assert all_servers_up(), "HAProxy servers did not all come back UP"
