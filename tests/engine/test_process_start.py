"""The engine process's start: asyncssh imported with its library look-ups run ahead."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import ctypes.util, sys
real = ctypes.util.find_library
calls = []
def spy(name):
    import threading
    calls.append((name, threading.current_thread().name))
    return real(name)
ctypes.util.find_library = spy
from jaraba_tui.engine.process import _import_asyncssh, _ASYNCSSH_FINDS
_import_asyncssh()
import asyncssh.crypto.pq as pq
assert "asyncssh" in sys.modules
assert ctypes.util.find_library is spy, "find_library not restored"
import asyncssh.crypto.umac as umac
expected = next((found for found in map(real, ("oqs", "liboqs")) if found), None)
assert pq._oqs_lib == expected, (pq._oqs_lib, expected)
nettle = next((f for f in map(real, ("nettle", "libnettle", "libnettle-6")) if f), None)
assert umac._nettle_lib == nettle, (umac._nettle_lib, nettle)
ahead = sorted(name for name, thread in calls if thread.startswith("find-library"))
assert ahead == sorted(_ASYNCSSH_FINDS), calls
on_main = {name for name, thread in calls if thread == "MainThread"}
assert not on_main & set(_ASYNCSSH_FINDS), calls
print("ok")
"""


def test_asyncssh_import_finds_what_find_library_finds() -> None:
    """A fresh interpreter (asyncssh not imported yet): the look-ups asyncssh makes are
    the real ones, made on the look-up threads, and ctypes is left as it was."""
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "ok"
