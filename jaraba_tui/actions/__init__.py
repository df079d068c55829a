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

Importing the package is cheap (PEP 562): a name is imported from its submodule on first use,
so ``jaraba_tui.actions.types`` (the console's messages) does not pull in the runner, the
context and the transports behind them (start-up cost, issue 6).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

_LAZY: dict[str, str] = {
    "Action": "base",
    "ActionContext": "context",
    "ActionDeclined": "types",
    "ActionError": "types",
    "ActionInfo": "registry",
    "ActionLock": "lock",
    "ActionRef": "types",
    "ActionRefused": "types",
    "ActionSettings": "settings",
    "Assessment": "base",
    "AuditLog": "audit",
    "AvailableAction": "registry",
    "BlueGreenSettings": "settings",
    "Check": "types",
    "CheckResult": "types",
    "CliConfirmer": "confirm",
    "ConfirmPhrase": "confirm",
    "ConfirmRequest": "confirm",
    "Confirmer": "confirm",
    "DenyConfirmer": "confirm",
    "ExecutionEvent": "types",
    "GaleraNodeCommands": "settings",
    "LockHeld": "lock",
    "LockHolder": "lock",
    "Outcome": "types",
    "ParamSpec": "types",
    "Plan": "types",
    "PlanTable": "types",
    "Prepared": "runner",
    "Probe": "types",
    "Step": "types",
    "StepResult": "types",
    "StepStarted": "types",
    "TargetKind": "types",
    "TypedConfirmer": "confirm",
    "Verification": "types",
    "VerifyAttempt": "types",
    "Who": "audit",
    "all_actions": "registry",
    "available_actions": "registry",
    "default_audit_path": "audit",
    "get_action": "registry",
    "list_actions": "registry",
    "prepare": "runner",
    "render_request": "confirm",
    "run_action": "runner",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


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
