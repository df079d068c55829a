"""Rich renderings of an action's checks, plan, execution events and outcome for the
confirmation modal: the same content as the CLI's ``render_request``, with symbols and
words (never colour alone)."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Group
from rich.table import Table
from rich.text import Text

from jaraba_tui.actions.types import (
    CheckResult,
    ExecutionEvent,
    Outcome,
    Plan,
    StepResult,
    StepStarted,
    VerifyAttempt,
)
from jaraba_tui.ui.format import Palette

CHECK_MARK = {"PASS": "✓ PASS", "FAIL": "✗ FAIL", "WARN": "! WARN"}


def head_text(
    title: str,
    target: str,
    *,
    dangerous: bool,
    profile: str,
    environment: str,
    production: bool,
    pal: Palette,
) -> Text:
    out = Text()
    out.append(title, style="bold")
    out.append(": ")
    out.append(target, style=f"bold {pal.accent}")
    if dangerous:
        out.append("  ")
        out.append(" ⚠ DANGEROUS ", style=f"bold reverse {pal.crit}")
    out.append("\n")
    out.append(f"profile {profile} (environment {environment})", style=pal.muted)
    if production:
        out.append("  ")
        out.append(" ▲ PRODUCTION ▲ ", style=f"bold reverse {pal.warn}")
    return out


def check_style(c: CheckResult, pal: Palette) -> str:
    return f"bold {pal.ok if c.passed else (pal.crit if c.blocking else pal.warn)}"


def _grid() -> Table:
    """Two columns: a mark, then text that wraps under itself (a hanging indent)."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column(ratio=1, overflow="fold")
    return grid


def checks_text(checks: Sequence[CheckResult], pal: Palette) -> Group:
    grid = _grid()
    for c in checks:
        line = Text.assemble((f"{c.name}: ", "bold"), c.reason)
        grid.add_row(Text(CHECK_MARK.get(c.symbol, c.symbol), style=check_style(c, pal)), line)
    if not checks:
        grid.add_row("", Text("(none)", style=pal.muted))
    return Group(Text("Preflight checks (fresh poll)", style=f"bold {pal.accent}"), grid)


def _section(title: str, lines: Sequence[str], pal: Palette) -> list[Text | Table]:
    grid = _grid()
    for line in lines:
        grid.add_row("  -", Text(line))
    return [Text(""), Text(title, style=f"bold {pal.accent}"), grid]


def plan_text(plan: Plan, pal: Palette) -> Group:
    parts: list[Text | Table] = [
        Text.assemble(("Plan: ", f"bold {pal.accent}"), (plan.summary, "bold"))
    ]
    for table in plan.tables:
        grid = Table(title=table.title, title_justify="left", box=None, padding=(0, 1))
        for column in table.columns:
            grid.add_column(column, style="", header_style=f"bold {pal.muted}")
        for row in table.rows:
            grid.add_row(*row)
        parts += [Text(""), grid]
    steps = _grid()
    for n, step in enumerate(plan.steps, 1):
        body = Text(step.title)
        body.append(f"\non {step.where}", style=pal.muted)
        body.append(f"\n{step.command}", style=pal.primary)
        steps.add_row(Text(f"  {n}.", style="bold"), body)
    parts.append(steps)
    parts += _section("Blast radius", plan.blast_radius, pal)
    expected = list(plan.expected)
    if plan.verify_hold:
        expected.append(f"verified only if it holds for {plan.verify_hold:g}s")
    parts += _section("Expected end state", expected, pal)
    undo = list(plan.undo)
    if plan.undo_action is not None:
        undo.append(plan.undo_action.command_line())
    parts += _section("Undo", undo, pal)
    if plan.notes:
        parts += _section("Notes", plan.notes, pal)
    return Group(*parts)


class Progress:
    """The execution as it streams: one row per step (updated when it ends), verification
    attempts when what they see changes."""

    def __init__(self) -> None:
        self.rows: list[tuple[Text, Text]] = []
        self._step_row: dict[int, int] = {}
        self._seen = ""

    def add(self, event: ExecutionEvent, pal: Palette) -> None:
        if isinstance(event, StepStarted):
            body = Text(event.title)
            body.append(f"  (on {event.where})", style=pal.muted)
            self._step_row[event.index] = len(self.rows)
            self.rows.append((Text(f"[{event.index}/{event.total}] …", style=pal.accent), body))
        elif isinstance(event, StepResult):
            row = step_row(event, pal)
            at = self._step_row.get(event.index)
            if at is None:
                self.rows.append(row)
            else:
                self.rows[at] = row
        elif isinstance(event, VerifyAttempt) and event.probe.seen != self._seen:
            self._seen = event.probe.seen
            mark = "✓" if event.probe.ok else "…"
            style = f"bold {pal.ok if event.probe.ok else pal.accent}"
            body = Text(f"({event.elapsed_s:.0f}s) {event.probe.seen}")
            self.rows.append((Text(f"verify {mark}", style=style), body))

    def render(self, pal: Palette) -> Group:
        grid = _grid()
        for mark, body in self.rows:
            grid.add_row(mark, body)
        return Group(Text("Execution", style=f"bold {pal.accent}"), grid)

    def plain(self) -> str:
        return "\n".join(f"{m.plain} {b.plain}" for m, b in self.rows)


def step_row(r: StepResult, pal: Palette) -> tuple[Text, Text]:
    if r.ok:
        mark = Text(f"[{r.index}] ✓ ok", style=f"bold {pal.ok}")
    else:
        mark = Text(f"[{r.index}] ✗ FAILED", style=f"bold {pal.crit}")
    body = Text(f"{r.title} ({r.elapsed_s:.1f}s): ")
    body.append(r.detail)
    return mark, body


def outcome_seen(o: Outcome) -> str:
    """What verification saw (the outcome's message without its repeated status word)."""
    if o.verification is not None:
        v = o.verification
        return f"{v.seen} ({v.attempts} look(s) in {v.elapsed_s:.0f}s)"
    return o.message


def outcome_text(o: Outcome, pal: Palette) -> Text:
    word = {"verified": "✓ VERIFIED", "not verified": "! NOT VERIFIED", "failed": "✗ FAILED"}
    style = {"verified": pal.ok, "not verified": pal.warn}.get(o.status, pal.crit)
    out = Text()
    out.append(f" {word.get(o.status, o.status.upper())} ", style=f"bold reverse {style}")
    out.append(f" {outcome_seen(o)}\n")
    out.append("State: ", style="bold")
    out.append(f"{o.left_in}\n")
    undo = list(o.undo)
    if o.undo_action is not None:
        undo.append(o.undo_action.command_line())
    for u in undo:
        out.append("Undo: ", style="bold")
        out.append(f"{u}\n")
    out.append(f"run id {o.run_id} · recorded in the audit log", style=pal.muted)
    return out
