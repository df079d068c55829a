"""A table of keyed rows with a row cursor and a filter, drawn line by line.

``set_rows([(key, cells), ...])`` states what the table shows, in order: the data is swapped
in one step and only the rows on screen are drawn (each row's line is kept until its cells,
its place under the cursor, the widths or the look change). The cursor follows its row's
key across polls and filters.

It looks and handles like the Textual ``DataTable`` it replaces (same CSS component
classes, header, row cursor, padding, keys, click to highlight, click again to select), and
posts :class:`KeyedTable.RowHighlighted` / :class:`KeyedTable.RowSelected`. DataTable kept
per-cell render caches that every cell update emptied: on a 1000-row HAProxy table each poll
re-measured columns and re-rendered every visible cell through Rich (~0.4 ms a cell).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual._segment_tools import line_crop
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size, Spacing
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from jaraba_tui.ui.widgets.pane import hidden_pane

Cell = str | Text
Row = tuple[str, Sequence[Cell]]

#: Blank cells each side of a cell's text (DataTable's ``cell_padding``).
PADDING = 1


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
    """A cell's width: its widest line."""
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


@dataclass(frozen=True)
class RowKey:
    """A row's key, as DataTable's events carried it (``event.row_key.value``)."""

    value: str


@dataclass
class _Row:
    key: str
    cells: Sequence[Cell]  # as given to set_rows
    texts: list[Text]
    sig: tuple[object, ...]
    widths: tuple[int, ...]
    version: int


class _RowMessage(Message):
    """A row of a :class:`KeyedTable` (DataTable's message attributes)."""

    def __init__(self, table: KeyedTable, cursor_row: int, row_key: str) -> None:
        super().__init__()
        self.data_table = table
        self.cursor_row = cursor_row
        self.row_key = RowKey(row_key)

    @property
    def control(self) -> KeyedTable:
        return self.data_table


class KeyedTable(ScrollView, can_focus=True):
    DEFAULT_CSS = """
    KeyedTable {
        background: $surface;
        color: $foreground;
        height: auto;
        max-height: 100%;

        &:focus {
            background-tint: $foreground 5%;
            & > .datatable--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
            & > .datatable--header {
                background-tint: $foreground 5%;
            }
        }
        & > .datatable--header {
            text-style: bold;
            background: $panel;
            color: $foreground;
        }
        &:ansi > .datatable--header {
            background: ansi_bright_blue;
            color: ansi_default;
        }
        & > .datatable--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
    }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {"datatable--cursor", "datatable--header"}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Select", show=False),
        Binding("up", "cursor_up", "Cursor up", show=False),
        Binding("down", "cursor_down", "Cursor down", show=False),
        Binding("right", "scroll_right", "Scroll right", show=False),
        Binding("left", "scroll_left", "Scroll left", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("ctrl+home", "cursor_top", "Top", show=False),
        Binding("ctrl+end", "cursor_bottom", "Bottom", show=False),
        Binding("home", "scroll_home_x", "Home", show=False),
        Binding("end", "scroll_end_x", "End", show=False),
    ]

    class RowHighlighted(_RowMessage):
        """The cursor is on another row (by key): moved, or the data moved under it."""

    class RowSelected(_RowMessage):
        """Enter (or a click on the highlighted row)."""

    def __init__(
        self,
        columns: Sequence[tuple[str, str]],
        *,
        id: str | None = None,
        classes: str | None = None,
        show_header: bool = True,
        cursor: bool = True,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self._columns_spec = list(columns)
        self._labels = [Text(label) for _, label in columns]
        self._rows: list[Row] = []  # what set_rows was given
        self._view: list[_Row] = []  # shown (filtered), in order
        self._built: dict[str, _Row] = {}  # every row of the last set_rows, filtered or not
        self._by_key: dict[str, _Row] = {}
        self._index: dict[str, int] = {}
        self._widths = [_width(label) for label in self._labels]
        self._terms: list[str] = []
        self._cursor = 0
        self._cursor_key: str | None = None  # the row the cursor is on
        self._versions = 0
        self._lines: dict[tuple[object, ...], Strip] = {}
        self._look: tuple[Style, Style] | None = None  # _current_look
        self.show_header = show_header
        self.show_cursor = cursor
        self.can_focus = cursor

    # -- the data ------------------------------------------------------------------------------
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
    def row_count(self) -> int:
        return len(self._view)

    @property
    def shown_keys(self) -> list[str]:
        return [r.key for r in self._view]

    @property
    def cursor_row(self) -> int:
        return self._cursor

    def cursor_key(self) -> str | None:
        """The key of the highlighted row (None when the table is empty)."""
        if not self._view:
            return None
        return self._view[min(self._cursor, len(self._view) - 1)].key

    def get_row_index(self, key: str) -> int:
        return self._index[key]

    def get_cell(self, key: str, column: str) -> Text:
        return self._by_key[key].texts[self.column_keys.index(column)]

    def set_rows(self, rows: Sequence[Row]) -> None:
        """The rows, in order. A row given the very cells list of the previous call is
        taken as unchanged without comparing its cells: do not change a list in place
        after giving it (give a new one)."""
        self._rows = list(rows)
        self._apply()

    def set_filter(self, text: str) -> None:
        self._terms = text.lower().split()
        self._apply()

    def _apply(self) -> None:
        """Bring the view to ``_rows`` (filtered). A row whose cells show what they showed
        keeps its drawing; the cursor stays on its key."""
        terms = self._terms
        seen: dict[int, object] = {}  # a cell shared by many rows is compared once

        def signature(cell: Cell) -> object:
            if isinstance(cell, str):
                return cell
            found = seen.get(id(cell))
            if found is None:
                found = seen[id(cell)] = _signature(cell)
            return found

        # rows kept whether shown or filtered out: a filter on a 1000-row table must not
        # rebuild the hidden rows at every poll
        old = self._built
        built: dict[str, _Row] = {}
        view: list[_Row] = []
        for key, cells in self._rows:
            row = old.get(key)
            if row is None or cells is not row.cells:
                sig = tuple(signature(c) for c in cells)
                if row is None or row.sig != sig:
                    texts = [_as_text(c) for c in cells]
                    self._versions += 1
                    sizes = tuple(_width(t) for t in texts)
                    row = _Row(key, cells, texts, sig, sizes, self._versions)
                else:
                    row.cells = cells  # the same drawing; the next poll may give this list
            built[key] = row
            if terms and not matches(row.texts, terms):
                continue
            view.append(row)
        self._built = built
        before = self._view
        if len(before) == len(view) and all(a is b for a, b in zip(before, view, strict=True)):
            # the very rows, in the same order (a poll that changed nothing shown): the
            # indexes and the columns' widths are as they were (1000 rows x 8 cells)
            self._view = view
            changed = False
        else:
            drawn = [(r.key, r.version) for r in before]
            self._view = view
            self._by_key = {r.key: r for r in view}
            self._index = {r.key: i for i, r in enumerate(view)}
            changed = drawn != [(r.key, r.version) for r in view]
            widths = [_width(label) for label in self._labels]
            for r in view:
                for i, w in enumerate(r.widths[: len(widths)]):
                    if w > widths[i]:
                        widths[i] = w
            if widths != self._widths:
                self._widths = widths
                self._lines.clear()
                changed = True
        if len(self._lines) > 4 * max(64, len(view)):
            self._lines.clear()  # bounded: lines of rows long gone
        self._follow_cursor()
        self._resize()
        if changed:
            self.refresh()  # only the rows on screen are drawn, from their kept lines

    def _follow_cursor(self) -> None:
        """Keep the cursor on its row's key; a row that is gone leaves it where it was."""
        if not self._view:
            self._cursor = 0
            self._cursor_key = None
            return
        key = self._cursor_key
        index = self._index.get(key) if key is not None else None
        if index is None:
            index = min(self._cursor, len(self._view) - 1)
        self._set_cursor(index, scroll=index != self._cursor)

    def _resize(self) -> None:
        width = sum(w + 2 * PADDING for w in self._widths)
        size = Size(width, len(self._view) + (1 if self.show_header else 0))
        if size != self.virtual_size:
            pane = hidden_pane(self)
            if pane is None:
                self.virtual_size = size
            else:  # no layout pass for a table not on screen: laid out when its pane is shown
                self.set_reactive(KeyedTable.virtual_size, size)
                pane.lay_out_when_shown(self)

    # -- the cursor ----------------------------------------------------------------------------
    def _set_cursor(self, index: int, *, scroll: bool = True) -> None:
        if not self._view:
            return
        index = max(0, min(index, len(self._view) - 1))
        key = self._view[index].key
        moved = index != self._cursor
        self._cursor = index
        if moved:
            self.refresh()
            if scroll:
                self._scroll_cursor_into_view()
        if key != self._cursor_key:
            self._cursor_key = key
            if self.show_cursor:
                self.post_message(self.RowHighlighted(self, index, key))

    def move_cursor(self, *, row: int | None = None, scroll: bool = True) -> None:
        if row is not None:
            self._set_cursor(row, scroll=scroll)

    def _scroll_cursor_into_view(self) -> None:
        header = 1 if self.show_header else 0
        y = self._cursor + header
        self.scroll_to_region(
            Region(int(self.scroll_x), y, 1, 1),
            animate=False,
            spacing=Spacing(header, 0, 0, 0),
            force=True,
        )

    def _page(self) -> int:
        return max(1, self.scrollable_content_region.height - (1 if self.show_header else 0))

    def action_cursor_up(self) -> None:
        if self.show_cursor:
            self._set_cursor(self._cursor - 1)
        else:
            self.scroll_up(animate=False)

    def action_cursor_down(self) -> None:
        if self.show_cursor:
            self._set_cursor(self._cursor + 1)
        else:
            self.scroll_down(animate=False)

    def action_page_up(self) -> None:
        if self.show_cursor:
            self.scroll_relative(y=-self._page(), animate=False, force=True)
            self._set_cursor(self._cursor - self._page(), scroll=False)
            self._scroll_cursor_into_view()
        else:
            self.scroll_page_up(animate=False)

    def action_page_down(self) -> None:
        if self.show_cursor:
            self.scroll_relative(y=self._page(), animate=False, force=True)
            self._set_cursor(self._cursor + self._page(), scroll=False)
            self._scroll_cursor_into_view()
        else:
            self.scroll_page_down(animate=False)

    def action_cursor_top(self) -> None:
        if self.show_cursor:
            self._set_cursor(0)
        else:
            self.scroll_home(animate=False)

    def action_cursor_bottom(self) -> None:
        if self.show_cursor:
            self._set_cursor(len(self._view) - 1)
        else:
            self.scroll_end(animate=False)

    def action_scroll_home_x(self) -> None:
        self.scroll_x = 0

    def action_scroll_end_x(self) -> None:
        self.scroll_x = self.max_scroll_x

    def action_select_cursor(self) -> None:
        key = self.cursor_key()
        if self.show_cursor and key is not None:
            self.post_message(self.RowSelected(self, self._cursor, key))

    async def _on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or not self.show_cursor:
            return
        header = 1 if self.show_header else 0
        if offset.y < header:
            return
        index = offset.y - header + int(self.scroll_y)
        if 0 <= index < len(self._view):
            again = index == self._cursor
            self._set_cursor(index)
            if again:
                self.action_select_cursor()
            event.stop()

    # -- drawing -------------------------------------------------------------------------------
    def notify_style_update(self) -> None:
        """Styles were applied again (a theme, or a pseudo-class: focus moves at every pane
        switch). The kept lines stay: each is keyed by the look it was drawn with, so a
        table shown again with the focus it had finds its lines (clearing them here redrew
        every visible row at each switch)."""
        super().notify_style_update()
        self._look = None

    def _current_look(self) -> tuple[Style, Style]:
        """The cursor's and the header's styles now (with ``rich_style`` and the
        pseudo-classes, what a line's drawing depends on besides its row)."""
        look = self._look
        if look is None:
            look = self._look = (
                self.get_component_rich_style("datatable--cursor"),
                self.get_component_styles("datatable--header").rich_style,
            )
        return look

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        scroll_x, scroll_y = self.scroll_offset
        base = self.rich_style
        if self.show_header:
            if y == 0:
                return self._line(None, -1, scroll_x, width, base)
            y -= 1
        index = y + scroll_y
        if not 0 <= index < len(self._view):
            return Strip.blank(width, base)
        return self._line(self._view[index], index, scroll_x, width, base)

    def _line(self, row: _Row | None, index: int, scroll_x: int, width: int, base: Style) -> Strip:
        cursor = self.show_cursor and row is not None and index == self._cursor
        state = self.get_pseudo_class_state()
        key = (
            row.key if row else None,
            row.version if row else 0,
            index,
            cursor,
            scroll_x,
            width,
            base,
            state,
            self._current_look(),
        )
        line = self._lines.get(key)
        if line is None:
            line = self._lines[key] = self._draw(row, index, cursor, scroll_x, width, base)
        return line

    def _draw(
        self, row: _Row | None, index: int, cursor: bool, scroll_x: int, width: int, base: Style
    ) -> Strip:
        """One line as DataTable drew it: each cell padded, on the row's style (the header's
        for the header) and the cursor's, then the rest of the width in the same style."""
        cursor_style, header_style = self._current_look()
        if row is None:
            row_style = header_style
            texts = self._labels
        else:
            row_style = base
            texts = row.texts
        component = cursor_style if cursor else Style()
        post = Style.from_color(color=component.color) + Style.null()
        console = self.app.console
        segments: list[Segment] = []
        for column, (text, w) in enumerate(zip(texts, self._widths, strict=False)):
            pre = row_style + Style.from_meta({"row": index, "column": column}) + component
            if "\n" in text.plain:
                text = text.split("\n")[0]
            cell = [Segment(" " * PADDING)]
            # the text's own style under its spans' (as Rich lays a cell out)
            own = console.get_style(text.style) if text.style else None
            cell += [s for s in Segment.apply_style(text.render(console, end=""), own) if s.text]
            cell.append(Segment(" " * (w - text.cell_len + PADDING)))
            segments += Segment.apply_style(cell, pre, post)
        used = sum(w + 2 * PADDING for w in self._widths)
        extend = row_style + component
        extend += Style.from_meta({"row": index, "column": 0, "out_of_bounds": True})
        segments.append(Segment(" " * max(0, width - used), extend))
        cropped = line_crop(segments, scroll_x, scroll_x + width, width)
        return Strip(cropped).adjust_cell_length(width, base).simplify()
