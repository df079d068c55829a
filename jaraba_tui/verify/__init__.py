"""``jaraba-ops verify``: the seed's Production Deployment Checklist, automated, read-only.

For a screen (no textual here)::

    from jaraba_tui.verify import plan, run_checklist
    rows = plan(profile, "all")                       # ItemSpec per row, keyed by .id
    async for result in run_checklist(profile, transports, "all"):
        update_row(result.id, result)                 # ItemResult as each item finishes

or ``await run_all(profile, transports, "post")`` for a whole :class:`Checklist`.
Items, definitions and the JSON schema: jaraba_tui/verify/README.md.

Names are imported lazily: ``from jaraba_tui.verify.cli import add_arguments`` (what the
top-level CLI needs to build its parser) imports no network library and not the profile layer.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jaraba_tui.verify.cli import main
    from jaraba_tui.verify.items import ITEM_IDS, ITEMS
    from jaraba_tui.verify.model import (
        VERIFY_JSON_VERSION,
        Checklist,
        ItemResult,
        ItemSpec,
        Outcome,
        Status,
        Which,
    )
    from jaraba_tui.verify.runner import plan, run_all, run_checklist, run_item

_WHERE = {
    "main": "cli",
    "ITEMS": "items",
    "ITEM_IDS": "items",
    "VERIFY_JSON_VERSION": "model",
    "Checklist": "model",
    "ItemResult": "model",
    "ItemSpec": "model",
    "Outcome": "model",
    "Status": "model",
    "Which": "model",
    "plan": "runner",
    "run_all": "runner",
    "run_checklist": "runner",
    "run_item": "runner",
}

__all__ = [
    "ITEMS",
    "ITEM_IDS",
    "VERIFY_JSON_VERSION",
    "Checklist",
    "ItemResult",
    "ItemSpec",
    "Outcome",
    "Status",
    "Which",
    "main",
    "plan",
    "run_all",
    "run_checklist",
    "run_item",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'jaraba_tui.verify' has no attribute {name!r}")
    return getattr(importlib.import_module(f"jaraba_tui.verify.{module}"), name)
