"""The poll engine: every layer on its own interval, merged into one live StackSnapshot.

No textual here. The console runs :class:`PollEngine` in an async worker and receives one
:class:`EngineUpdate` per poll; ``replay`` and tests build the same updates from recorded
snapshots with :func:`replay_updates` (or a :class:`StackMerger` of their own).

- ``poll``: the scheduler (own interval per layer, no overlap, back-off, Sentinel push).
- ``merge``: pure folding of poll results into the snapshot, health, events, staleness.
"""

from typing import TYPE_CHECKING, Any

from jaraba_tui.engine.merge import (
    EngineUpdate,
    LayerState,
    StackMerger,
    layer_problem,
    replay_updates,
)
from jaraba_tui.model.snapshot import LAYERS

if TYPE_CHECKING:
    from jaraba_tui.engine.poll import (
        SENTINEL_TRIGGERS,
        LayerStats,
        PollEngine,
        layer_intervals,
        layer_targets,
        sentinel_event,
    )

#: Imported on first use (PEP 562): the scheduler pulls in every transport (asyncssh, redis,
#: httpx), which the console's process does not need when the engine runs in its own.
_POLL = frozenset(
    {
        "SENTINEL_TRIGGERS",
        "LayerStats",
        "PollEngine",
        "layer_intervals",
        "layer_targets",
        "sentinel_event",
    }
)


def __getattr__(name: str) -> Any:
    if name in _POLL:
        from jaraba_tui.engine import poll

        return getattr(poll, name)
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
