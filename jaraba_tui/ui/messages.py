"""Messages are past-tense facts the panes react to (tests collect them with
``run_test(message_hook=...)``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

from jaraba_tui.actions.types import Outcome, StepResult
from jaraba_tui.engine import EngineUpdate

if TYPE_CHECKING:
    from jaraba_tui.verify.model import ItemResult


class LayerPolled(Message):
    """A layer answered; ``update`` holds the merged stack."""

    def __init__(self, update: EngineUpdate) -> None:
        super().__init__()
        self.update = update
        self.layer = update.layer


class CollectorFailed(Message):
    """A layer's poll failed: its last data stays on screen, marked stale."""

    def __init__(self, update: EngineUpdate, error: str) -> None:
        super().__init__()
        self.update = update
        self.layer = update.layer
        self.error = error


class SentinelEventsReceived(Message):
    """Sentinel pub/sub events arrived between polls."""

    def __init__(self, update: EngineUpdate) -> None:
        super().__init__()
        self.update = update


class PollingPaused(Message):
    pass


class PollingResumed(Message):
    pass


class RefreshRequested(Message):
    def __init__(self, layer: str | None) -> None:
        super().__init__()
        self.layer = layer


class PollingStopped(Message):
    """The engine's worker ended with an error: every pane goes stale with this reason."""

    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error


def message_for(update: EngineUpdate) -> Message:
    """The fact an EngineUpdate reports."""
    if update.layer == "sentinel":
        return SentinelEventsReceived(update)
    state = update.state(update.layer)
    if state.stale:
        return CollectorFailed(update, state.error or "")
    return LayerPolled(update)


# -- guarded actions (the confirmation modal posts these to the app) -------------------------
class ActionConfirmed(Message):
    """The engineer typed every confirmation phrase: execution starts."""

    def __init__(self, action: str, target: str) -> None:
        super().__init__()
        self.action = action
        self.target = target


class ActionNotConfirmed(Message):
    """A wrong or empty confirmation: nothing ran."""

    def __init__(self, action: str, target: str) -> None:
        super().__init__()
        self.action = action
        self.target = target


class ActionStepFinished(Message):
    def __init__(self, result: StepResult) -> None:
        super().__init__()
        self.result = result


class ActionFinished(Message):
    """Execution ended: verified, not verified, or failed (``outcome.left_in`` says how)."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__()
        self.outcome = outcome


class ActionVerified(Message):
    def __init__(self, outcome: Outcome) -> None:
        super().__init__()
        self.outcome = outcome


class ChecklistItemChecked(Message):
    """One item of the deployment checklist finished."""

    def __init__(self, result: ItemResult) -> None:
        super().__init__()
        self.result = result
