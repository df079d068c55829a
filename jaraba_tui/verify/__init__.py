"""``jaraba-ops verify``: the seed's Production Deployment Checklist, automated, read-only.

For a screen (no textual here)::

    from jaraba_tui.verify import plan, run_checklist
    rows = plan(profile, "all")                       # ItemSpec per row, keyed by .id
    async for result in run_checklist(profile, transports, "all"):
        update_row(result.id, result)                 # ItemResult as each item finishes

or ``await run_all(profile, transports, "post")`` for a whole :class:`Checklist`.
Items, definitions and the JSON schema: jaraba_tui/verify/README.md.
"""

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
