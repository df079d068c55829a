"""Labelled sparklines from the bounded history: ``label  ▁▂▃▅▇  latest``, one per line."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rich.text import Text
from textual.widget import Widget

from jaraba_tui.model.history import History
from jaraba_tui.ui.format import Palette, ellipsize, spark
from jaraba_tui.ui.widgets.pane import request_layout


@dataclass(frozen=True)
class Series:
    label: str
    key: str  # History key
    fmt: Callable[[float], str] = lambda v: f"{v:,.0f}"


class SparkPanel(Widget, can_focus=True):
    """Renders a list of :class:`Series` read from a :class:`History`; fits any width."""

    DEFAULT_CSS = """
    SparkPanel { height: auto; }
    SparkPanel:focus { background: $boost; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._rows: list[tuple[str, list[float], str]] = []
        self._palette = Palette()

    def show(self, series: Sequence[Series], history: History, palette: Palette) -> None:
        rows = []
        for s in series:
            values = history.values(s.key)
            latest = s.fmt(values[-1]) if values else "-"
            rows.append((s.label, values, latest))
        if rows != self._rows or palette != self._palette:
            grew = len(rows) != len(self._rows)  # the height is one line per series
            self._rows, self._palette = rows, palette
            self.refresh()
            if grew:
                request_layout(self)

    def get_content_height(self, container: object, viewport: object, width: int) -> int:
        return max(1, len(self._rows))

    def render(self) -> Text:
        if not self._rows:
            return Text(
                "no history yet (sparklines fill as polls arrive)", style=self._palette.muted
            )
        width = self.size.width or 60
        label_w = min(max(len(r[0]) for r in self._rows), max(8, width // 3))
        value_w = max(len(r[2]) for r in self._rows)
        bar_w = max(4, width - label_w - value_w - 2)
        out = Text()
        for i, (label, values, latest) in enumerate(self._rows):
            if i:
                out.append("\n")
            out.append(ellipsize(label, label_w).ljust(label_w) + " ", style=self._palette.muted)
            out.append(spark(values, bar_w), style=self._palette.accent)
            out.append(" " + latest.rjust(value_w))
        return out
