"""Typed confirmation: what the engineer must type before an action runs.

:class:`ConfirmRequest` is pure data: the plan, the checks and the phrases to type. The CLI
(:class:`CliConfirmer`) asks on the terminal; the TUI's ``ModalScreen`` implements the same
:class:`Confirmer` protocol and renders the same request (title, plan steps, tables, checks,
one input per phrase). Escape or a wrong text changes nothing.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TextIO

from jaraba_tui.actions.types import CheckResult, Plan
from jaraba_tui.collectors.common import Serialisable

FORCE_WORD = "override"


@dataclass(frozen=True)
class ConfirmPhrase(Serialisable):
    """One text the engineer must type exactly: ``prompt`` says which, ``expected`` is it."""

    prompt: str
    expected: str

    def matches(self, typed: str) -> bool:
        return typed.strip() == self.expected


@dataclass(frozen=True)
class ConfirmRequest(Serialisable):
    """Everything a confirmation screen shows, and what it must receive to say yes."""

    action: str
    title: str
    target: str
    dangerous: bool
    profile: str
    environment: str
    production: bool
    plan: Plan
    checks: tuple[CheckResult, ...]
    phrases: tuple[ConfirmPhrase, ...]
    forced: bool = False

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        data["plan"] = self.plan.to_dict()
        return data

    @property
    def failed_checks(self) -> tuple[CheckResult, ...]:
        return tuple(c for c in self.checks if c.blocks)

    def accepts(self, typed: Sequence[str]) -> bool:
        """True only when every phrase was typed exactly, in order."""
        return len(typed) == len(self.phrases) and all(
            p.matches(t) for p, t in zip(self.phrases, typed, strict=True)
        )


def build_request(
    *,
    action: str,
    title: str,
    target: str,
    dangerous: bool,
    profile: str,
    environment: str,
    production: bool,
    plan: Plan,
    checks: Sequence[CheckResult],
    forced: bool = False,
) -> ConfirmRequest:
    phrases = [ConfirmPhrase(f"Type the target's name ({target}) to confirm", target)]
    if production:
        phrases.append(
            ConfirmPhrase(
                f"This is a production profile: type the environment's name ({environment})",
                environment,
            )
        )
    if forced:
        n = sum(1 for c in checks if c.blocks)
        phrases.append(
            ConfirmPhrase(
                f"{n} preflight check(s) FAILED. To run anyway, type '{FORCE_WORD}' "
                "(the audit log records that the checks were overridden)",
                FORCE_WORD,
            )
        )
    return ConfirmRequest(
        action=action,
        title=title,
        target=target,
        dangerous=dangerous,
        profile=profile,
        environment=environment,
        production=production,
        plan=plan,
        checks=tuple(checks),
        phrases=tuple(phrases),
        forced=forced,
    )


class Confirmer(Protocol):
    """Shows a :class:`ConfirmRequest` and returns True only on exact typed confirmation."""

    async def confirm(self, request: ConfirmRequest) -> bool: ...


class DenyConfirmer:
    """Never confirms (read-only views, tests of the refusal path)."""

    async def confirm(self, request: ConfirmRequest) -> bool:
        return False


class TypedConfirmer:
    """Confirms with given answers (tests, scripted use): the same exact-match rule."""

    def __init__(self, answers: Sequence[str]) -> None:
        self.answers = list(answers)
        self.seen: list[ConfirmRequest] = []

    async def confirm(self, request: ConfirmRequest) -> bool:
        self.seen.append(request)
        return request.accepts(self.answers)


def render_request(request: ConfirmRequest) -> str:
    """The plain-text form of a request (CLI, dry-run, logs)."""
    plan = request.plan
    out: list[str] = []
    danger = "  [DANGEROUS]" if request.dangerous else ""
    out.append(f"{request.title}: {request.target}{danger}")
    out.append(f"profile {request.profile} (environment {request.environment})")
    out.append("")
    out.append("Preflight checks:")
    for c in request.checks:
        out.append(f"  [{c.symbol}] {c.name}: {c.reason}")
    out.append("")
    out.append(f"Plan: {plan.summary}")
    for table in plan.tables:
        out.append("")
        out.append(f"  {table.title}")
        widths = [len(c) for c in table.columns]
        for row in table.rows:
            widths = [max(w, len(v)) for w, v in zip(widths, row, strict=False)]
        line = "  ".join(c.ljust(w) for c, w in zip(table.columns, widths, strict=False))
        out.append(f"    {line}")
        for row in table.rows:
            out.append("    " + "  ".join(v.ljust(w) for v, w in zip(row, widths, strict=False)))
    out.append("")
    for n, step in enumerate(plan.steps, 1):
        out.append(f"  {n}. {step.title}")
        out.append(f"       on {step.where}")
        out.append(f"       {step.command}")
    out.append("")
    out.append("Blast radius:")
    out.extend(f"  - {b}" for b in plan.blast_radius)
    out.append("Expected end state:")
    out.extend(f"  - {e}" for e in plan.expected)
    if plan.verify_hold:
        out.append(f"  - verified only if it holds for {plan.verify_hold:g}s")
    out.append("Undo:")
    out.extend(f"  - {u}" for u in plan.undo)
    if plan.undo_action is not None:
        out.append(f"  - {plan.undo_action.command_line()}")
    if plan.notes:
        out.append("Notes:")
        out.extend(f"  - {n}" for n in plan.notes)
    return "\n".join(out)


class CliConfirmer:
    """Prints the request and asks for each phrase on the terminal (no echo tricks)."""

    def __init__(
        self,
        *,
        out: TextIO | None = None,
        ask: Callable[[str], str] | None = None,
    ) -> None:
        self._out = out or sys.stdout
        self._ask = ask or input

    async def confirm(self, request: ConfirmRequest) -> bool:
        self._out.write(render_request(request) + "\n\n")
        self._out.flush()
        for phrase in request.phrases:
            try:
                typed = await asyncio.to_thread(self._ask, f"{phrase.prompt}: ")
            except (EOFError, KeyboardInterrupt):
                self._out.write("\nnot confirmed: nothing was changed\n")
                return False
            if not phrase.matches(typed):
                self._out.write(
                    f"not confirmed ({typed.strip()!r} is not {phrase.expected!r}): "
                    "nothing was changed\n"
                )
                return False
        return True
