"""Helpers of the serve tests: a free loopback port, waiting, a websocket upgrade request."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

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
