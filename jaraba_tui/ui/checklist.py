"""The Checklist screen: the seed's deployment checklist, run by ``jaraba-ops verify``'s own
code (read-only), each item's mark streamed into a table as it finishes, the highlighted
item's evidence below. Pre, post or all; re-run everything or one item."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Static

from jaraba_tui.profile.errors import ProfileError
from jaraba_tui.ui import messages as msg
from jaraba_tui.ui.format import Palette, clock_time, ellipsize
from jaraba_tui.ui.widgets.table import KeyedTable

if TYPE_CHECKING:
    from jaraba_tui.ui.ops import ChecklistBackend
    from jaraba_tui.verify.model import ItemResult, ItemSpec, Which

COLUMNS = [
    ("mark", "Mark"),
    ("phase", "Phase"),
    ("time", "Time"),
    ("item", "Item"),
    ("summary", "Summary"),
]
WHICH_TITLE = {"all": "pre + post", "pre": "pre-deployment", "post": "post-deployment"}
RUNNING = "… RUNNING"


def mark_text(result: ItemResult | None, pal: Palette) -> Text:
    """Symbol and word (never colour alone)."""
    if result is None:
        return Text(RUNNING, style=pal.muted)
    colour = {"passed": pal.ok, "failed": pal.crit}.get(result.status.value, pal.muted)
    return Text(result.mark, style=f"bold {colour}")


def item_row(spec: ItemSpec, result: ItemResult | None, pal: Palette) -> list[str | Text]:
    return [
        mark_text(result, pal),
        spec.phase,
        f"{result.elapsed_ms / 1000:.1f}s" if result else "",
        ellipsize(spec.title, 44),  # in full, with the evidence, below
        ellipsize(result.summary, 60) if result else "",
    ]


def evidence_text(spec: ItemSpec, result: ItemResult | None, pal: Palette) -> Text:
    out = Text()
    out.append(mark_text(result, pal))
    out.append(f"  {spec.title}", style="bold")
    out.append(f"  ({spec.id})\n", style=pal.muted)
    out.append(f"Seed: {spec.seed}\n", style=pal.muted)
    if result is None:
        out.append("running…", style=pal.muted)
        return out
    out.append(result.summary)
    for line in result.evidence:
        out.append(f"\n  · {line}")
    if not result.evidence:
        out.append("\n  (no evidence lines)", style=pal.muted)
    return out


class ChecklistScreen(Screen[None]):
    BINDINGS: ClassVar = [
        Binding("escape", "close", "close", id="checklist-close"),
        Binding("r", "rerun", "re-run", id="checklist-rerun"),
        Binding("i", "rerun_item", "re-run item", id="checklist-rerun-item"),
        Binding("p", "pick('pre')", "pre", id="checklist-pre"),
        Binding("o", "pick('post')", "post", id="checklist-post"),
        Binding("a", "pick('all')", "all", id="checklist-all"),
    ]

    def __init__(
        self,
        backend: ChecklistBackend,
        *,
        which: Which = "all",
        clock: Callable[[], float] = time.time,
        palette: Palette | None = None,
    ) -> None:
        super().__init__()
        self.backend = backend
        self.which: Which = which
        self.clock = clock
        self._palette = palette
        self.specs: list[ItemSpec] = []
        self.results: dict[str, ItemResult] = {}
        self.running: set[str] = set()
        self.started_at = 0.0
        self.finished_at: float | None = None
        self.error: str | None = None

    @property
    def palette(self) -> Palette:
        if self._palette is not None:
            return self._palette
        pal = getattr(self.app, "palette", None)
        return pal if isinstance(pal, Palette) else Palette()

    def compose(self) -> ComposeResult:
        yield Static(id="checklist-head", classes="pane-status")
        yield KeyedTable(COLUMNS, id="checklist-table", classes="fill")
        yield Static(id="checklist-evidence", classes="detail")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one("#checklist-evidence").border_title = "evidence of the highlighted item"
        self.query_one("#checklist-table").focus()
        self.start(self.which)

    # -- running -----------------------------------------------------------------------------
    def start(self, which: Which, only: Sequence[ItemSpec] | None = None) -> None:
        """Run ``which`` (or just ``only``, keeping the other rows' results)."""
        if only is None:
            self.which = which
            try:
                self.specs = self.backend.plan(which)
            except ProfileError as exc:
                self.specs, self.error = [], str(exc)
                self._draw()
                return
            self.results = {}
        specs = list(only) if only is not None else list(self.specs)
        for spec in specs:
            self.results.pop(spec.id, None)
        self.running = {s.id for s in specs}
        self.error = None
        self.started_at, self.finished_at = self.clock(), None
        self._draw()
        self.run_worker(
            self._run(self.which, specs),
            name="checklist",
            group="checklist",
            exclusive=True,  # a new run cancels the one in flight (its items too)
            exit_on_error=False,
        )

    async def _run(self, which: Which, specs: list[ItemSpec]) -> None:
        stream = self.backend.run(which, specs)
        try:
            async for result in stream:
                self.results[result.id] = result
                self.running.discard(result.id)
                self.app.post_message(msg.ChecklistItemChecked(result))
                self._draw()
        except Exception as exc:
            self.error = f"the checklist stopped: {type(exc).__name__}: {exc}"
        finally:
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:
                await aclose()
        self.running = set()
        self.finished_at = self.clock()
        self._draw()

    # -- drawing -----------------------------------------------------------------------------
    def _draw(self) -> None:
        pal = self.palette
        table = self.query_one("#checklist-table", KeyedTable)
        table.set_rows([(s.id, item_row(s, self.results.get(s.id), pal)) for s in self.specs])
        self.query_one("#checklist-head", Static).update(self._head(pal))
        self._draw_evidence()

    def _head(self, pal: Palette) -> Text:
        out = Text("Deployment checklist", style="bold")
        out.append(f" · {WHICH_TITLE[self.which]} · read-only", style=pal.muted)
        if self.error is not None:
            out.append(f"\n✗ {self.error}", style=f"bold {pal.crit}")
            return out
        done = [self.results[s.id] for s in self.specs if s.id in self.results]
        count = {k: sum(1 for r in done if r.status.value == k) for k in ("passed", "failed")}
        skipped = len(done) - count["passed"] - count["failed"]
        summary = f"{count['passed']} passed, {count['failed']} failed, {skipped} skipped"
        out.append("\n")
        if self.running:
            out.append(f"… running {len(self.running)} item(s) · ", style=f"bold {pal.accent}")
            out.append(summary)
            return out
        verdict = ("✗ FAILED", pal.crit) if count["failed"] else ("✓ PASSED", pal.ok)
        out.append(f" {verdict[0]} ", style=f"bold reverse {verdict[1]}")
        out.append(f" {summary} · finished {clock_time(self.finished_at)}")
        took = (self.finished_at or 0.0) - self.started_at
        out.append(f" in {took:.1f}s", style=pal.muted)
        return out

    def _draw_evidence(self) -> None:
        table = self.query_one("#checklist-table", KeyedTable)
        key = table.cursor_key()
        spec = next((s for s in self.specs if s.id == key), None)
        box = self.query_one("#checklist-evidence", Static)
        if spec is None:
            box.update("")
            return
        box.update(evidence_text(spec, self.results.get(spec.id), self.palette))

    def on_keyed_table_row_highlighted(self, event: KeyedTable.RowHighlighted) -> None:
        self._draw_evidence()

    def on_keyed_table_row_selected(self, event: KeyedTable.RowSelected) -> None:
        event.stop()
        self._rerun_one(str(event.row_key.value))

    def _rerun_one(self, item_id: str | None) -> None:
        spec = next((s for s in self.specs if s.id == item_id), None)
        if spec is not None and spec.id not in self.running:
            self.start(self.which, only=[spec])

    # -- keys --------------------------------------------------------------------------------
    def action_rerun(self) -> None:
        self.start(self.which)

    def action_rerun_item(self) -> None:
        """Enter does the same on the table."""
        self._rerun_one(self.query_one("#checklist-table", KeyedTable).cursor_key())

    def action_pick(self, which: str) -> None:
        if which in ("pre", "post", "all"):
            self.start(which)  # type: ignore[arg-type]

    def action_close(self) -> None:
        self.workers.cancel_group(self, "checklist")
        self.dismiss(None)
