"""``jaraba-ops verify`` output: a Rich checklist for a terminal, or JSON for pipelines.

Marks are symbol + word (``✓ PASSED``, ``✗ FAILED``, ``– SKIPPED``): colour only adds.
"""

from __future__ import annotations

import json

from rich import box
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from jaraba_tui.secrets import scrub
from jaraba_tui.verify.model import PHASE_TITLES, PHASES, Checklist, ItemResult, Status

_STYLE = {Status.PASSED: "green", Status.FAILED: "bold red", Status.SKIPPED: "yellow"}


def mark_text(result: ItemResult) -> Text:
    return Text(result.mark, style=_STYLE[result.status])


def _item_cell(result: ItemResult) -> Group:
    head = Text(result.title, style="bold")
    head.append(f"  [{result.id}]", style="dim")
    summary = Text(result.summary, style="" if result.status is Status.PASSED else "italic")
    if not result.evidence:
        return Group(head, summary)
    evidence = Table.grid(padding=(0, 1))
    evidence.add_column(width=1)
    evidence.add_column(ratio=1, overflow="fold")
    for line in result.evidence:
        evidence.add_row(Text("·", style="dim"), Text(line, style="dim"))
    return Group(head, summary, evidence)


def render(console: Console, checklist: Checklist) -> None:
    env = checklist.environment
    console.print(
        Text.assemble(
            ("jaraba-ops verify  ", "bold"),
            ("profile ", "dim"),
            (checklist.profile, "bold"),
            ("  environment ", "dim"),
            (f" {env.upper()} ", "bold white on red" if env == "production" else "bold"),
            (
                f"  {_which(checklist)}, {(checklist.finished_at - checklist.started_at):.1f} s",
                "dim",
            ),
        )
    )
    for phase in PHASES:
        rows = [r for r in checklist.items if r.phase == phase]
        if not rows:
            continue
        table = Table(
            title=PHASE_TITLES[phase],
            title_justify="left",
            title_style="bold",
            expand=True,
            box=box.SIMPLE_HEAD,
            show_lines=False,
            show_header=False,
        )
        table.add_column("mark", no_wrap=True)
        table.add_column("item", ratio=1, overflow="fold")
        for r in rows:
            table.add_row(mark_text(r), _item_cell(r))
        console.print(table)
    style = "bold green" if checklist.ok else "bold red"
    console.print(Text(checklist.summary, style=style))


def _which(checklist: Checklist) -> str:
    return {"pre": "pre-deployment", "post": "post-deployment", "all": "pre + post"}[
        checklist.which
    ]


def render_text(checklist: Checklist, *, width: int = 100, color: bool = False) -> str:
    """The Rich rendering as a string (scrubbed of every secret value)."""
    console = Console(width=width, highlight=False, color_system="auto" if color else None)
    with console.capture() as cap:
        render(console, checklist)
    return scrub(cap.get())


def to_json(checklist: Checklist) -> str:
    """The documented JSON document (jaraba_tui/verify/README.md), scrubbed."""
    return scrub(json.dumps(checklist.to_dict(), indent=2, ensure_ascii=False))
