"""The merger re-evaluates only the polled layer's rules: its findings must be exactly what
evaluating the whole stack (every layer with its previous poll) gives, on recorded runs."""

from __future__ import annotations

from typing import Any

import pytest

from jaraba_tui.engine import StackMerger
from jaraba_tui.model.health import evaluate
from jaraba_tui.model.snapshot import LAYERS, StackSnapshot
from tests.engine.fakes import recorded


@pytest.mark.parametrize("run", ["healthy", "degraded"])
def test_incremental_findings_equal_a_full_evaluation(run: str) -> None:
    snaps = recorded(run)
    now = [snaps[0].collected_at]
    merger = StackMerger(clock=lambda: now[0])
    previous: dict[str, Any] = {}
    checked = 0
    for snap in snaps:
        now[0] = snap.collected_at
        for layer in LAYERS:
            if getattr(snap, layer) in (None, ()) and snap.failure(layer) is None:
                continue
            previous[layer] = getattr(merger.current, layer)
            update = merger.merge(layer, snap)
            rate_prev = StackSnapshot(
                collected_at=0.0,
                **{k: v for k, v in previous.items() if v is not None and k != "hosts"},
            )
            assert list(update.findings) == evaluate(merger.current, merger.thresholds, rate_prev)
            checked += 1
    assert checked > len(snaps)  # several layers per recorded poll


def test_a_failed_layer_keeps_the_other_layers_findings() -> None:
    snaps = recorded("healthy")
    merger = StackMerger(clock=lambda: snaps[0].collected_at)
    for layer in LAYERS:
        merger.merge(layer, snaps[0])
    before = {f for f in merger.findings if f.component != "redis"}
    update = merger.merge("redis", RuntimeError("boom"))
    assert before <= set(update.findings)
    assert any(f.component == "redis" and f.code == "stack.collector" for f in update.findings)
