"""Helpers the layer panes share: per-target severity cells, empty-layer notes."""

from __future__ import annotations

from rich.text import Text

from jaraba_tui.engine import EngineUpdate
from jaraba_tui.model.findings import Finding, Severity, worst
from jaraba_tui.ui.format import COMPONENTS, Palette, sev_text

#: The findings of the last update asked about, by layer and target (one table of 1000 rows
#: asks 1000 times about the same update).
_index: tuple[EngineUpdate | None, dict[str, dict[str, list[Finding]]]] = (None, {})


def _by_target(update: EngineUpdate, layer: str) -> dict[str, list[Finding]]:
    global _index
    if _index[0] is not update:
        _index = (update, {})
    found = _index[1].get(layer)
    if found is None:
        comps = COMPONENTS[layer]
        found = {}
        for f in update.findings:
            if f.component in comps:
                found.setdefault(f.target, []).append(f)
        _index[1][layer] = found
    return found


def findings_by_target(update: EngineUpdate, layer: str) -> dict[str, list[Finding]]:
    """The layer's findings by target (built once per update; do not change it)."""
    return _by_target(update, layer)


def target_severity(update: EngineUpdate, layer: str, *targets: str) -> Severity:
    """The worst finding about one row's targets. On a stale layer a row with no finding
    of its own is UNKNOWN, never a reassuring OK from old data."""
    index = _by_target(update, layer)
    mine = [f for t in dict.fromkeys(targets) for f in index.get(t, ())]
    if not mine:
        return Severity.UNKNOWN if update.state(layer).stale else Severity.OK
    return worst(mine)


def health_cell(update: EngineUpdate, layer: str, pal: Palette, *targets: str) -> Text:
    """The health of one row (a node, backend, server...): :func:`target_severity`."""
    return sev_text(target_severity(update, layer, *targets), pal, short=True)


class CellMemo:
    """Equal cells built once per table drawing (a 1000-row table has a handful of distinct
    health and state cells). The cells are shared: nothing may change them in place."""

    def __init__(self, pal: Palette) -> None:
        self.pal = pal
        self._health: dict[Severity, Text] = {}
        self._state: dict[tuple[str | None, bool | None], Text] = {}

    def health(self, sev: Severity) -> Text:
        cell = self._health.get(sev)
        if cell is None:
            cell = self._health[sev] = sev_text(sev, self.pal, short=True)
        return cell

    def state(self, word: str | None, good: bool | None) -> Text:
        cell = self._state.get((word, good))
        if cell is None:
            cell = self._state[(word, good)] = state_cell(word, good, self.pal)
        return cell


def state_cell(word: str | None, good: bool | None, pal: Palette) -> Text:
    """A state word coloured by whether it is good (None: unknown, muted)."""
    if word is None:
        return Text("-", style=pal.muted)
    if good is None:
        return Text(word, style=pal.muted)
    return Text(word, style=pal.ok if good else f"bold {pal.crit}")


def note(text: str, pal: Palette) -> Text:
    return Text(text, style=f"italic {pal.muted}")
