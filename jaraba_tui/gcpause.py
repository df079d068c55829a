"""CPython's cyclic garbage collection paused while the console starts (issue 6, start-up).

Importing the console and the engine builds ~150k objects, nearly all of them for good
(modules, classes, widgets, styles): collecting while they are made runs ~90 collections
that find next to nothing and cost ~10% of the start's CPU in each process. The CLI pauses
collection before the console's imports (:func:`pause`); the console resumes it once its
panes have drawn their first data, just before it freezes that heap
(``JarabaApp._freeze_heap``), or at the latest a few seconds after its start; the engine
child (forked while paused) resumes it a few seconds after its start. Reference counting
frees everything else as ever: only cycles wait.
"""

from __future__ import annotations

import gc

_paused = False


def pause() -> None:
    """Pause cyclic collection (a no-op when it is off already: not ours to turn on)."""
    global _paused
    if gc.isenabled():
        gc.disable()
        _paused = True


def resume() -> None:
    """Turn cyclic collection back on if :func:`pause` turned it off (in this process or
    in the parent this one was forked from); otherwise leave it as it is."""
    global _paused
    if _paused:
        _paused = False
        gc.enable()


def paused() -> bool:
    """Is collection off because of :func:`pause`?"""
    return _paused
