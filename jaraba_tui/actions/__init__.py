"""Guarded actions: preflight checks -> plan -> typed confirmation -> execution (streamed)
-> verification -> audit, one action at a time per stack.

Public API (no textual here; the console's modal implements :class:`Confirmer`)::

    ctx = ActionContext.create(profile, read_only=False)
    available_actions(snapshot, profile)          # (action, target) pairs for keys/palette
    prepared = await prepare(ctx, "haproxy.drain", "bk_app_blue/app1")
    prepared.checks, prepared.plan, prepared.blocked
    request = prepared.confirm_request()          # ConfirmRequest -> a Confirmer
    async for event in prepared.execute(): ...    # StepStarted, StepResult, ..., Outcome
    prepared.release()
    await run_action(ctx, name, target, params, confirmer=...)   # all of it (CLI, tests)
"""

from jaraba_tui.actions.audit import AuditLog, Who, default_audit_path
from jaraba_tui.actions.base import Action, Assessment
from jaraba_tui.actions.confirm import (
    CliConfirmer,
    Confirmer,
    ConfirmPhrase,
    ConfirmRequest,
    DenyConfirmer,
    TypedConfirmer,
    render_request,
)
from jaraba_tui.actions.context import ActionContext
from jaraba_tui.actions.lock import ActionLock, LockHeld, LockHolder
from jaraba_tui.actions.registry import (
    ActionInfo,
    AvailableAction,
    all_actions,
    available_actions,
    get_action,
    list_actions,
)
from jaraba_tui.actions.runner import Prepared, prepare, run_action
from jaraba_tui.actions.settings import ActionSettings, BlueGreenSettings, GaleraNodeCommands
from jaraba_tui.actions.types import (
    ActionDeclined,
    ActionError,
    ActionRef,
    ActionRefused,
    Check,
    CheckResult,
    ExecutionEvent,
    Outcome,
    ParamSpec,
    Plan,
    PlanTable,
    Probe,
    Step,
    StepResult,
    StepStarted,
    TargetKind,
    Verification,
    VerifyAttempt,
)

__all__ = [
    "Action",
    "ActionContext",
    "ActionDeclined",
    "ActionError",
    "ActionInfo",
    "ActionLock",
    "ActionRef",
    "ActionRefused",
    "ActionSettings",
    "Assessment",
    "AuditLog",
    "AvailableAction",
    "BlueGreenSettings",
    "Check",
    "CheckResult",
    "CliConfirmer",
    "ConfirmPhrase",
    "ConfirmRequest",
    "Confirmer",
    "DenyConfirmer",
    "ExecutionEvent",
    "GaleraNodeCommands",
    "LockHeld",
    "LockHolder",
    "Outcome",
    "ParamSpec",
    "Plan",
    "PlanTable",
    "Prepared",
    "Probe",
    "Step",
    "StepResult",
    "StepStarted",
    "TargetKind",
    "TypedConfirmer",
    "Verification",
    "VerifyAttempt",
    "Who",
    "all_actions",
    "available_actions",
    "default_audit_path",
    "get_action",
    "list_actions",
    "prepare",
    "render_request",
    "run_action",
]
