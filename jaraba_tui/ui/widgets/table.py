"""A DataTable updated by stable row keys, with a row filter.

``set_rows([(key, cells), ...])`` states what the table should show, in order. Only what
changed is touched: changed cells are ``update_cell``-ed, vanished rows removed, new ones
added, and the order restored with one ``sort`` when it moved (dolphie's hostgroup panel).
The cursor stays on its row across polls, which a clear-and-rebuild would lose.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import DataTable
from textual.widgets.data_table import CellDoesNotExist

Cell = str | Text
Row = tuple[str, Sequence[Cell]]


class _Ordered(Text):
    """The first cell of a row carries the row's position, for :meth:`DataTable.sort`."""

    order: int = 0


def _as_text(cell: Cell) -> Text:
    return cell if isinstance(cell, Text) else Text(cell)


def _signature(cell: Cell) -> object:
    """What a cell shows (text, style, spans): equal signatures draw the same."""
    if isinstance(cell, str):
        return cell
    if not cell.spans:
        return (cell.plain, str(cell.style))
    spans = tuple((s.start, s.end, str(s.style)) for s in cell.spans)
    return (cell.plain, str(cell.style), spans)


def _width(cell: Text) -> int:
    """What DataTable measures for a cell: its widest line."""
    if "\n" not in cell.plain:
        return cell.cell_len
    return max(cell_len(line) for line in cell.plain.split("\n"))


def matches(cells: Sequence[Text], terms: Sequence[str]) -> bool:
    """Every term (case-insensitive) occurs in the row; ``!term`` must not."""
    line = " ".join(c.plain for c in cells).lower()
    for term in terms:
        if term.startswith("!") and len(term) > 1:
            if term[1:] in line:
                return False
        elif term not in line:
            return False
    return True


class KeyedTable(DataTable[Text]):
    DEFAULT_CSS = """
    KeyedTable { height: auto; max-height: 100%; }
    """

    def __init__(
        self,
        columns: Sequence[tuple[str, str]],
        *,
        id: str | None = None,
        classes: str | None = None,
        show_header: bool = True,
        cursor: bool = True,
    ) -> None:
        super().__init__(
            id=id,
            classes=classes,
            show_header=show_header,
            cursor_type="row" if cursor else "none",
            zebra_stripes=False,
        )
        self._columns_spec = list(columns)
        self._rows: list[tuple[str, list[Cell]]] = []
        self._shown: dict[str, list[Text]] = {}
        self._shown_sig: dict[str, tuple[int, tuple[object, ...]]] = {}
        self._shown_order: list[str] = []
        self._widths: dict[str, tuple[int, ...]] = {}  # each shown row's cell widths
        self._terms: list[str] = []
        self.can_focus = cursor

    def on_mount(self) -> None:
        for key, label in self._columns_spec:
            self.add_column(label, key=key)
        self._apply()

    @property
    def column_keys(self) -> list[str]:
        return [k for k, _ in self._columns_spec]

    @property
    def filter_text(self) -> str:
        return " ".join(self._terms)

    @property
    def total_rows(self) -> int:
        return len(self._rows)

    @property
    def shown_keys(self) -> list[str]:
        return list(self._shown_order)

    def cursor_key(self) -> str | None:
        """The key of the highlighted row (None when the table is empty)."""
        if not self.row_count:
            return None
        try:
            return str(self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value)
        except CellDoesNotExist:
            return None

    def set_rows(self, rows: Sequence[Row]) -> None:
        self._rows = [(key, list(cells)) for key, cells in rows]
        self._apply()

    def set_filter(self, text: str) -> None:
        self._terms = text.lower().split()
        self._apply()

    def _apply(self) -> None:
        """Bring the table to ``_rows`` (filtered): a row whose cells are what it shows is
        not touched (on a 1000-row table most rows are unchanged from one poll to the next);
        changed cells are updated, gone rows removed, new rows added."""
        if not self.is_mounted:
            return
        cols = self.column_keys
        terms = self._terms
        wanted = (
            [(k, cells) for k, cells in self._rows if matches([_as_text(c) for c in cells], terms)]
            if terms
            else self._rows
        )
        keys = {k for k, _ in wanted}
        for key in [k for k in self._shown if k not in keys]:
            self.remove_row(key)
            del self._shown[key]
            del self._shown_sig[key]
            del self._widths[key]
        added = False
        updated = False
        for position, (key, cells) in enumerate(wanted):
            sig = (position, tuple(_signature(c) for c in cells))
            old_sig = self._shown_sig.get(key)
            if old_sig == sig:
                continue  # the row shows this already
            texts = [_as_text(c) for c in cells]
            first = _Ordered(texts[0].plain, style=texts[0].style, spans=list(texts[0].spans))
            first.order = position
            row = [first, *texts[1:]]
            if old_sig is None:
                self.add_row(*row, key=key)
                added = True
            else:
                before_pos, before = old_sig
                for col, (was, now) in enumerate(zip(before, sig[1], strict=False)):
                    if was != now or (col == 0 and before_pos != position):
                        # widths: measured here once per row, not by DataTable per cell
                        # (which re-measures a whole column whenever one cell narrows)
                        self.update_cell(key, cols[col], row[col])
                        updated = True
            self._shown[key] = row
            self._shown_sig[key] = sig
            self._widths[key] = tuple(_width(t) for t in texts)
        if updated:
            self._fit_columns()
        order = [k for k, _ in wanted]
        moved = added or order != self._shown_order
        if moved and order != [k for k in self._ordered_keys() if k in keys]:
            self.sort(cols[0], key=lambda cell: getattr(cell, "order", 0))
        self._shown_order = order

    def _fit_columns(self) -> None:
        """Each column as wide as its label and widest shown cell (what DataTable's
        ``update_width`` computes, at one measure per changed row)."""
        widths = list(self._widths.values())
        changed = False
        for i, column in enumerate(self.ordered_columns):
            widest = max((w[i] for w in widths if i < len(w)), default=0)
            width = max(widest, _width(column.label))
            if column.content_width != width:
                column.content_width = width
                changed = True
        if changed:
            self._require_update_dimensions = True  # virtual size, on idle
            self.check_idle()

    def _ordered_keys(self) -> list[str]:
        return [str(row.key.value) for row in self.ordered_rows]
