"""The typed-confirmation modal (DESIGN 8): parameters -> fresh preflight -> checks and plan
-> typed names -> execution streamed -> verification.

Nothing runs until every phrase of the :class:`~jaraba_tui.actions.ConfirmRequest` is typed
exactly (the target's name; in production also the environment's name). A failed check
shows no input at all (the console has no override). Escape, a wrong or an empty text
change nothing. The runner (``Prepared.execute``) writes the audit records; this screen
only drives it and shows what it streams. The app pauses the action's layers while this
screen is open.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from rich.console import RenderableType
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from jaraba_tui.actions.base import Action
from jaraba_tui.actions.confirm import ConfirmRequest
from jaraba_tui.actions.lock import LockHeld
from jaraba_tui.actions.registry import get_action
from jaraba_tui.actions.runner import Prepared
from jaraba_tui.actions.types import ActionError, ActionRef, Outcome, StepResult, parse_params
from jaraba_tui.ui import messages as msg
from jaraba_tui.ui.format import Palette
from jaraba_tui.ui.plan_view import Progress, checks_text, head_text, outcome_text, plan_text
from jaraba_tui.ui.widgets.params import ParamsForm

if TYPE_CHECKING:
    from jaraba_tui.ui.ops import ConsoleOps

Phase = Literal["params", "preparing", "ready", "blocked", "refused", "running", "done"]


@dataclass(frozen=True)
class ActionResult:
    """How the modal closed. ``undo``: the engineer asked to undo at once (its own modal)."""

    action: str
    target: str
    executed: bool
    outcome: Outcome | None = None
    undo: ActionRef | None = None


class ConfirmInput(Input):
    """Where a confirmation phrase is typed (never pre-filled)."""


class ActionScreen(ModalScreen[ActionResult]):
    AUTO_FOCUS = None
    BINDINGS: ClassVar = [
        Binding("escape,q", "cancel", "Cancel", id="action-cancel", show=False),
        Binding("enter", "close", "Close", id="action-close", show=False),
        Binding("u", "undo", "Undo", id="action-undo", show=False),
        # the plan scrolls while the focus is in a confirmation field
        Binding("pageup", "scroll_body(-1)", "Scroll up", id="action-page-up", show=False),
        Binding("pagedown", "scroll_body(1)", "Scroll down", id="action-page-down", show=False),
        Binding("up", "scroll_body(-0.2)", "Scroll up", id="action-up", show=False),
        Binding("down", "scroll_body(0.2)", "Scroll down", id="action-down", show=False),
    ]

    def __init__(
        self,
        ops: ConsoleOps,
        action: str,
        target: str,
        params: Mapping[str, object] | None = None,
        *,
        palette: Palette | None = None,
    ) -> None:
        super().__init__()
        self.ops = ops
        self.action_name = action
        self.target = target
        self.given: dict[str, object] = dict(params or {})
        self.palette = palette or Palette()
        self.spec: Action = get_action(action)
        self.phase: Phase = "params"
        self.prepared: Prepared | None = None
        self.request: ConfirmRequest | None = None
        self.outcome: Outcome | None = None
        self.progress = Progress()

    # -- layout ------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        with Vertical(id="action-box") as box:
            box.border_title = f"{self.spec.title} · Esc cancels"
            if self.spec.dangerous:
                box.add_class("-dangerous")
            if self.ops.profile.is_production:
                box.add_class("-production")
            yield Static(id="action-head")
            with VerticalScroll(id="action-body"):
                if self.spec.params:
                    yield ParamsForm(self.spec.params, self.given)
                    yield Static(id="action-params-summary")
                yield Static(id="action-checks")
                yield Static(id="action-plan")
                yield Static(id="action-progress")
                yield Static(id="action-result")
            yield Vertical(id="action-confirm")
            yield Static(id="action-status")

    def on_mount(self) -> None:
        for part in ("#action-checks", "#action-plan", "#action-progress", "#action-result"):
            self.query_one(part).display = False
        p = self.ops.profile
        self.query_one("#action-head", Static).update(
            head_text(
                self.spec.title,
                self.target,
                dangerous=self.spec.dangerous,
                profile=p.name,
                environment=p.environment,
                production=p.is_production,
                pal=self.palette,
            )
        )
        if self.spec.params:
            self.query_one("#action-params-summary").display = False
            self._status("Set the parameters, then run the preflight checks (Enter).")
            self.query_one(ParamsForm).first_field().focus()
        else:
            self._start_prepare({})

    def _show(self, selector: str, content: RenderableType) -> None:
        """Parts of the body appear when they have something to say."""
        part = self.query_one(selector, Static)
        part.update(content)
        part.display = True

    def _status(self, text: str | Text, style: str = "") -> None:
        line = text if isinstance(text, Text) else Text(text, style=style)
        self.query_one("#action-status", Static).update(line)

    # -- parameters and the preflight --------------------------------------------------------
    def _submit_params(self) -> None:
        if self.phase != "params":
            return
        values = self.query_one(ParamsForm).values()
        try:
            parse_params(self.spec.params, values)
        except ValueError as exc:
            self._status(f"✗ {exc}", f"bold {self.palette.crit}")
            return
        form = self.query_one(ParamsForm)
        form.freeze()
        form.display = False
        shown = " · ".join(f"{k} {v}" for k, v in values.items() if v != "")
        summary = self.query_one("#action-params-summary", Static)
        summary.update(Text.assemble(("Parameters: ", "bold"), shown or "defaults"))
        summary.display = True
        self._start_prepare(values)

    def _start_prepare(self, params: Mapping[str, object]) -> None:
        self.phase = "preparing"
        layers = ", ".join(self.spec.layers) or "nothing to poll"
        self._status(f"… running the preflight checks on a fresh poll ({layers})")
        self.run_worker(
            self._prepare(dict(params)), name="action-prepare", group="action", exit_on_error=False
        )

    async def _prepare(self, params: dict[str, object]) -> None:
        try:
            prepared = await self.ops.prepare(self.action_name, self.target, params)
        except LockHeld as exc:
            self._refused("The stack's action lock is held: nothing was run.", str(exc))
            return
        except ActionError as exc:
            self._refused("Refused: nothing was run.", str(exc))
            return
        except Exception as exc:
            self._refused("The preflight could not run.", f"{type(exc).__name__}: {exc}")
            return
        if not self.is_attached:  # closed meanwhile
            prepared.release()
            return
        self.prepared = prepared
        self._show_prepared(prepared)

    def _refused(self, headline: str, detail: str) -> None:
        self.phase = "refused"
        pal = self.palette
        text = Text(f"✗ {headline}\n", style=f"bold {pal.crit}")
        text.append(detail)
        self._show("#action-checks", text)
        self._status("Esc or Enter closes.", pal.muted)
        self.refresh_bindings()

    def _show_prepared(self, prepared: Prepared) -> None:
        pal = self.palette
        self._show("#action-checks", checks_text(prepared.checks, pal))
        if prepared.plan is not None:
            self._show("#action-plan", plan_text(prepared.plan, pal))
        self.query_one("#action-body", VerticalScroll).scroll_home(animate=False)
        if prepared.blocked:
            prepared.release()  # nothing will run: do not keep others waiting
            self.phase = "blocked"
            bad = sum(1 for c in prepared.checks if c.blocks)
            self._status(
                f"✗ {bad} preflight check(s) FAILED: this action cannot run. The console has "
                "no override. Esc or Enter closes; nothing was changed.",
                f"bold {pal.crit}",
            )
            self.refresh_bindings()
            return
        self.phase = "ready"
        self.request = prepared.confirm_request()
        box = self.query_one("#action-confirm", Vertical)
        for i, phrase in enumerate(self.request.phrases):
            box.mount(Label(phrase.prompt, classes="confirm-prompt"))
            box.mount(ConfirmInput(placeholder="type it here", compact=True, id=f"confirm-{i}"))
        self.call_after_refresh(self._focus_first_input)
        self._status(
            "✓ Every blocking check passed. Read the plan (PgUp/PgDn), type "
            + ("both names" if len(self.request.phrases) > 1 else "the name")
            + ", Enter runs it. Esc cancels: nothing changes.",
            f"bold {pal.ok}",
        )

    def _focus_first_input(self) -> None:
        inputs = list(self.query(ConfirmInput))
        if inputs:
            inputs[0].focus(scroll_visible=False)

    # -- confirmation ------------------------------------------------------------------------
    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "params-go":
            event.stop()
            self._submit_params()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if isinstance(event.input, ConfirmInput):
            self._submit_confirm(event.input)
        elif self.phase == "params":
            self._submit_params()

    def _submit_confirm(self, current: ConfirmInput) -> None:
        if self.phase != "ready" or self.request is None or self.prepared is None:
            return
        inputs = list(self.query(ConfirmInput))
        at = inputs.index(current)
        if at < len(inputs) - 1 and any(not i.value.strip() for i in inputs[at + 1 :]):
            inputs[at + 1].focus()
            return
        typed = [i.value for i in inputs]
        if not self.request.accepts(typed):
            wrong = []
            for phrase, text in zip(self.request.phrases, typed, strict=True):
                if not phrase.matches(text):
                    seen = f"{text.strip()!r}" if text.strip() else "nothing"
                    wrong.append(f"{seen} is not {phrase.expected!r}")
            self._status(
                "✗ Not confirmed: " + "; ".join(wrong) + ". Nothing was changed. "
                "Type it again, or Esc.",
                f"bold {self.palette.crit}",
            )
            self.app.post_message(msg.ActionNotConfirmed(self.action_name, self.target))
            return
        self._execute(self.prepared)

    # -- execution ---------------------------------------------------------------------------
    def _execute(self, prepared: Prepared) -> None:
        self.phase = "running"
        for inp in self.query(ConfirmInput):
            inp.disabled = True
        self.query_one("#action-confirm").display = False  # confirmed: the typing is done
        self.query_one("#action-body", VerticalScroll).focus()
        self._status(
            "… executing: each step's result appears above; it stops at the first failure. "
            "Esc is disabled until it ends.",
            f"bold {self.palette.warn}",
        )
        self.app.post_message(msg.ActionConfirmed(self.action_name, self.target))
        self.run_worker(self._run(prepared), name="action-execute", exit_on_error=False)

    async def _run(self, prepared: Prepared) -> None:
        try:
            async for event in prepared.execute(confirmation="typed"):
                self.progress.add(event, self.palette)
                self._show_progress()
                if isinstance(event, StepResult):
                    self.app.post_message(msg.ActionStepFinished(event))
                elif isinstance(event, Outcome):
                    self._finished(event)
        except ActionError as exc:
            self._broken(str(exc))
        except Exception as exc:
            self._broken(f"internal error: {type(exc).__name__}: {exc}")
        finally:
            prepared.release()

    def _show_progress(self) -> None:
        self._show("#action-progress", self.progress.render(self.palette))
        self.query_one("#action-body", VerticalScroll).scroll_end(animate=False)

    def _finished(self, outcome: Outcome) -> None:
        self.phase = "done"
        self.outcome = outcome
        self._show("#action-result", outcome_text(outcome, self.palette))
        self.query_one("#action-body", VerticalScroll).scroll_end(animate=False)
        undo = " · u: undo now (its own checks and confirmation)" if outcome.undo_action else ""
        self._status(f"{outcome.status.upper()}. Enter or Esc closes{undo}.", "bold")
        self.app.post_message(msg.ActionFinished(outcome))
        if outcome.status == "verified":
            self.app.post_message(msg.ActionVerified(outcome))
        self.refresh_bindings()

    def _broken(self, reason: str) -> None:
        self.phase = "done"
        text = Text("✗ The action stopped: ", style=f"bold {self.palette.crit}")
        text.append(reason)
        text.append("\nCheck the audit log and the panes for the state it left.")
        self._show("#action-result", text)
        self._status("Enter or Esc closes.", "bold")
        self.refresh_bindings()

    # -- keys --------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "close":
            return self.phase in ("done", "blocked", "refused")
        if action == "undo":
            return self.phase == "done" and bool(self.outcome and self.outcome.undo_action)
        return True

    def action_scroll_body(self, pages: float) -> None:
        body = self.query_one("#action-body", VerticalScroll)
        step = max(1, int(body.size.height * abs(pages)))
        body.scroll_relative(y=step if pages > 0 else -step, animate=False)

    def action_cancel(self) -> None:
        if self.phase == "running":
            self.notify(
                "The action is running: it stops at the first failed step or when "
                "verification ends. Its result stays on this screen.",
                severity="warning",
                timeout=5,
            )
            return
        self._close()

    def action_close(self) -> None:
        self._close()

    def action_undo(self) -> None:
        if self.outcome is not None and self.outcome.undo_action is not None:
            self._close(undo=self.outcome.undo_action)

    def _close(self, undo: ActionRef | None = None) -> None:
        self.workers.cancel_group(self, "action")  # a preflight still running
        if self.prepared is not None and self.phase != "running":
            self.prepared.release()
        self.dismiss(
            ActionResult(
                self.action_name,
                self.target,
                executed=self.phase == "done",
                outcome=self.outcome,
                undo=undo,
            )
        )

    def on_unmount(self) -> None:
        if self.prepared is not None and self.phase != "running":
            self.prepared.release()

    def snapshot_state(self) -> dict[str, Any]:
        """What tests look at."""
        return {"phase": self.phase, "inputs": len(self.query(ConfirmInput))}
