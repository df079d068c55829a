"""The poll engine: every layer on its own interval, merged into one live StackSnapshot.

No textual here. The console runs :class:`PollEngine` in an async worker and receives one
:class:`EngineUpdate` per poll; ``replay`` and tests build the same updates from recorded
snapshots with :func:`replay_updates` (or a :class:`StackMerger` of their own).

- ``poll``: the scheduler (own interval per layer, no overlap, back-off, Sentinel push).
- ``merge``: pure folding of poll results into the snapshot, health, events, staleness.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jaraba_tui.engine.merge import (
        EngineUpdate,
        LayerState,
        StackMerger,
        layer_problem,
        replay_updates,
    )
    from jaraba_tui.engine.poll import (
        SENTINEL_TRIGGERS,
        LayerStats,
        PollEngine,
        layer_intervals,
        layer_targets,
        sentinel_event,
    )
    from jaraba_tui.model.snapshot import LAYERS

#: Imported on first use (PEP 562). The scheduler pulls in every transport (asyncssh, redis,
#: httpx), which the console's process does not need when the engine runs in its own; the
#: merge pulls in the model and every collector's types, which both processes need:
#: ``jaraba-ops`` imports them once, just before it forks the engine
#: (:func:`jaraba_tui.cli._fork_engine_loading`), and the child inherits them.
_LAZY = {
    "EngineUpdate": "merge",
    "LayerState": "merge",
    "StackMerger": "merge",
    "layer_problem": "merge",
    "replay_updates": "merge",
    "SENTINEL_TRIGGERS": "poll",
    "LayerStats": "poll",
    "PollEngine": "poll",
    "layer_intervals": "poll",
    "layer_targets": "poll",
    "sentinel_event": "poll",
}


def __getattr__(name: str) -> Any:
    if name == "LAYERS":
        from jaraba_tui.model.snapshot import LAYERS

        return LAYERS
    module = _LAZY.get(name)
    if module is not None:
        import importlib

        return getattr(importlib.import_module(f"jaraba_tui.engine.{module}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "LAYERS",
    "SENTINEL_TRIGGERS",
    "EngineUpdate",
    "LayerState",
    "LayerStats",
    "PollEngine",
    "StackMerger",
    "layer_intervals",
    "layer_problem",
    "layer_targets",
    "replay_updates",
    "sentinel_event",
]
