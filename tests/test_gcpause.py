"""Cyclic collection paused while the console starts (jaraba_tui.gcpause)."""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator

import pytest

from jaraba_tui import gcpause


@pytest.fixture(autouse=True)
def _gc_restored() -> Iterator[None]:
    was = gc.isenabled()
    yield
    gcpause.resume()
    (gc.enable if was else gc.disable)()


def test_pause_turns_collection_off_and_resume_back_on() -> None:
    gc.enable()
    gcpause.pause()
    assert not gc.isenabled() and gcpause.paused()
    gcpause.resume()
    assert gc.isenabled() and not gcpause.paused()
    gcpause.resume()  # once is enough: a second call changes nothing
    assert gc.isenabled()


def test_collection_someone_else_turned_off_stays_off() -> None:
    gc.disable()
    gcpause.pause()
    assert not gcpause.paused()
    gcpause.resume()
    assert not gc.isenabled()


def test_a_child_forked_while_paused_resumes_its_own() -> None:
    """The engine child is forked while the CLI has collection paused: its resume turns
    collection on in the child, and the parent's stays paused until it resumes too."""
    gc.enable()
    gcpause.pause()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        try:
            before = gc.isenabled()
            gcpause.resume()
            os.write(w, f"{before} {gc.isenabled()}".encode())
        finally:
            os._exit(0)
    os.close(w)
    got = os.read(r, 100).decode()
    os.close(r)
    os.waitpid(pid, 0)
    assert got == "False True"
    assert not gc.isenabled() and gcpause.paused()
