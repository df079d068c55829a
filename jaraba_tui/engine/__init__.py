"""The poll engine: every layer on its own interval, merged into one live StackSnapshot.

No textual here. The console runs :class:`PollEngine` in an async worker and receives one
:class:`EngineUpdate` per poll; ``replay`` and tests build the same updates from recorded
snapshots with :func:`replay_updates` (or a :class:`StackMerger` of their own).

- ``poll``: the scheduler (own interval per layer, no overlap, back-off, Sentinel push).
- ``merge``: pure folding of poll results into the snapshot, health, events, staleness.
"""

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
