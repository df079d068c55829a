"""KeyedTable: the cursor follows its key, only changed rows are redrawn, columns fit."""

from __future__ import annotations

from rich.text import Text
from textual.app import App, ComposeResult

from jaraba_tui.ui.widgets.table import KeyedTable


class TableApp(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.highlighted: list[str] = []
        self.selected: list[str] = []

    def compose(self) -> ComposeResult:
        yield KeyedTable([("name", "Name"), ("state", "State")], id="t")

    def on_keyed_table_row_highlighted(self, event: KeyedTable.RowHighlighted) -> None:
        self.highlighted.append(event.row_key.value)

    def on_keyed_table_row_selected(self, event: KeyedTable.RowSelected) -> None:
        self.selected.append(event.row_key.value)


def rows(*names: str, state: str = "UP") -> list[tuple[str, list[str | Text]]]:
    return [(n, [n, Text(state, style="bold red")]) for n in names]


async def test_cursor_follows_its_key_and_highlights_only_on_a_new_row() -> None:
    app = TableApp()
    async with app.run_test(size=(40, 10)) as pilot:
        t = app.query_one(KeyedTable)
        t.set_rows(rows("a", "b", "c"))
        await pilot.pause()
        assert app.highlighted == ["a"]
        t.focus()
        await pilot.press("down")
        assert t.cursor_key() == "b" and app.highlighted == ["a", "b"]
        t.set_rows(rows("c", "a", "b"))  # reordered: the cursor stays on b
        await pilot.pause()
        assert t.cursor_key() == "b" and t.cursor_row == 2
        assert app.highlighted == ["a", "b"]
        t.set_rows(rows("c", "a"))  # b gone: the cursor stays at its place, on a new row
        await pilot.pause()
        assert t.cursor_key() == "a" and app.highlighted[-1] == "a"
        await pilot.press("enter")
        assert app.selected == ["a"]


async def test_filter_and_widths() -> None:
    app = TableApp()
    async with app.run_test(size=(40, 10)) as pilot:
        t = app.query_one(KeyedTable)
        t.set_rows([*rows("alpha", "beta"), ("a-very-long-name", ["a-very-long-name", "UP"])])
        await pilot.pause()
        assert t.virtual_size.width == len("a-very-long-name") + 2 + len("State") + 2
        t.set_filter("!long")
        await pilot.pause()
        assert t.shown_keys == ["alpha", "beta"] and t.total_rows == 3
        assert t.virtual_size.width == len("alpha") + 2 + len("State") + 2
        assert t.filter_text == "!long"


async def test_unchanged_rows_keep_their_line_and_changed_ones_redraw() -> None:
    app = TableApp()
    async with app.run_test(size=(40, 10)) as pilot:
        t = app.query_one(KeyedTable)
        t.set_rows(rows("a", "b"))
        await pilot.pause()
        line_a, line_b = t.render_line(1), t.render_line(2)
        assert "a" in line_a.text and "UP" in line_b.text
        t.set_rows([*rows("a"), ("b", ["b", Text("DOWN", style="bold red")])])
        await pilot.pause()
        assert t.render_line(1) is line_a
        assert "DOWN" in t.render_line(2).text
        assert t.get_cell("b", "state").plain == "DOWN"


async def test_rows_hidden_by_the_filter_are_not_rebuilt_at_each_update() -> None:
    app = TableApp()
    async with app.run_test(size=(40, 10)) as pilot:
        t = app.query_one(KeyedTable)
        t.set_rows(rows("alpha", "beta", "gamma"))
        t.set_filter("alpha")
        await pilot.pause()
        assert t.shown_keys == ["alpha"]
        hidden = {k: t._built[k] for k in ("beta", "gamma")}
        t.set_rows(rows("alpha", "beta", "gamma"))  # the same poll again
        t.set_rows([*rows("alpha", "beta"), *rows("gamma", state="DOWN")])
        assert t._built["beta"] is hidden["beta"]  # unchanged: kept as it was
        assert t._built["gamma"] is not hidden["gamma"]  # changed: rebuilt
        t.set_filter("")
        await pilot.pause()
        assert t.shown_keys == ["alpha", "beta", "gamma"]
        assert t.get_cell("gamma", "state").plain == "DOWN"


async def test_a_row_given_its_previous_cells_list_is_kept_without_comparing() -> None:
    app = TableApp()
    async with app.run_test(size=(40, 10)) as pilot:
        t = app.query_one(KeyedTable)
        given = rows("a", "b")
        t.set_rows(given)
        await pilot.pause()
        kept = dict(t._built)
        line_a = t.render_line(1)
        # the same lists again (what a pane's row memo hands back for unchanged servers)
        t.set_rows([(key, cells) for key, cells in given])
        assert t._built["a"] is kept["a"] and t._built["b"] is kept["b"]
        assert t.render_line(1) is line_a
        # a new list whose only change is a style: compared, and redrawn
        t.set_rows([given[0], ("b", ["b", Text("UP", style="green")])])
        await pilot.pause()
        assert t._built["b"] is not kept["b"]
        assert t.get_cell("b", "state").style == "green"
        # an equal new list: compared, kept
        t.set_rows([("a", ["a", Text("UP", style="bold red")]), ("b", t._built["b"].cells)])
        assert t._built["a"] is kept["a"]


async def test_lines_are_kept_across_focus_changes_and_drawn_per_look() -> None:
    app = TableApp()
    async with app.run_test(size=(40, 10)) as pilot:
        t = app.query_one(KeyedTable)
        t.set_rows(rows("a", "b"))
        t.focus()
        await pilot.pause()
        focused = t.render_line(1)  # the cursor's row, focused
        app.set_focus(None)
        await pilot.pause()
        blurred = t.render_line(1)
        assert blurred is not focused and list(blurred) != list(focused)  # its own look
        t.focus()
        await pilot.pause()
        assert t.render_line(1) is focused  # kept across the two focus changes
