"""Run the checklist: every item concurrently, each bounded in time, results streamed.

The API the CLI and the console's Checklist screen share::

    specs = plan(profile, "all")                  # the rows, in order, before anything runs
    async for result in run_checklist(profile, transports, "all"):
        ...                                        # ItemResult, as each item finishes
    checklist = await run_all(profile, which="post")   # or all at once: a Checklist

Read-only: no item changes anything on any system.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Callable, Sequence

from jaraba_tui.profile import Profile
from jaraba_tui.profile.errors import ProfileError, ProfileIssue, toml_key
from jaraba_tui.transport.factory import Transports
from jaraba_tui.verify.context import Context, short_error
from jaraba_tui.verify.items import ITEM_IDS, ITEMS
from jaraba_tui.verify.model import (
    Checklist,
    ItemResult,
    ItemSpec,
    Outcome,
    Which,
    failed,
    skipped,
)


def plan(profile: Profile, which: Which = "all") -> list[ItemSpec]:
    """The items a run will report, in checklist order. Raises :class:`ProfileError` when
    ``[checklist.skip]`` names an item that does not exist (a typo would silently check)."""
    unknown = [k for k in profile.checklist.skip if k not in ITEM_IDS]
    if unknown:
        issues = [
            ProfileIssue(
                f"checklist.skip.{toml_key(k)}",
                f"no checklist item is called {k!r}",
                "use one of: " + ", ".join(ITEM_IDS),
            )
            for k in unknown
        ]
        raise ProfileError.from_issues(issues, profile.source)
    return [s for s in ITEMS if which == "all" or s.phase == which]


async def run_item(ctx: Context, spec: ItemSpec) -> ItemResult:
    """One item, never raising: a timeout or an unexpected error is a failed item."""
    t0 = time.perf_counter()
    outcome = await _outcome(ctx, spec)
    return ItemResult.of(spec, outcome, (time.perf_counter() - t0) * 1000.0)


async def _outcome(ctx: Context, spec: ItemSpec) -> Outcome:
    reason = ctx.settings.skip.get(spec.id)
    ignored: list[str] = []
    if reason is not None:
        if not (spec.critical and ctx.profile.is_production):
            return skipped(f"{reason} ([checklist.skip] of the profile)")
        ignored.append(
            f"[checklist.skip] ignored: a critical item is never skipped in production ({reason})"
        )
    try:
        async with asyncio.timeout(ctx.item_timeout):
            outcome = await spec.check(ctx)
    except TimeoutError:
        outcome = failed(f"no result within {ctx.item_timeout:g}s")
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        outcome = failed(f"could not check: {short_error(exc)}")
    if ignored:
        outcome = Outcome(outcome.status, outcome.summary, (*ignored, *outcome.evidence))
    return outcome


async def run_checklist(
    profile: Profile,
    transports: Transports,
    which: Which = "all",
    *,
    items: Sequence[ItemSpec] | None = None,
) -> AsyncGenerator[ItemResult, None]:
    """Every item of ``which`` (or the given ``items``) concurrently; yields each
    :class:`ItemResult` as it finishes. Closing the iterator early cancels the rest.

    Raises :class:`ProfileError` before anything runs when ``[checklist.skip]`` is wrong.
    """
    specs = list(items) if items is not None else plan(profile, which)
    ctx = Context(profile, transports)
    tasks = [asyncio.ensure_future(run_item(ctx, s)) for s in specs]
    try:
        for next_done in asyncio.as_completed(tasks):
            yield await next_done
    finally:
        for task in tasks:
            task.cancel()
        ctx.close()
        await asyncio.gather(*tasks, return_exceptions=True)


async def run_all(
    profile: Profile,
    transports: Transports | None = None,
    which: Which = "all",
    *,
    on_result: Callable[[ItemResult], None] | None = None,
) -> Checklist:
    """The whole checklist as a :class:`Checklist` (items in checklist order).
    ``transports`` defaults to a fresh set, closed at the end."""
    specs = plan(profile, which)
    own = transports is None
    tr = transports or Transports(profile)
    started = time.time()
    done: dict[str, ItemResult] = {}
    try:
        async for result in run_checklist(profile, tr, which, items=specs):
            done[result.id] = result
            if on_result is not None:
                on_result(result)
    finally:
        if own:
            await tr.aclose()
    return Checklist(
        profile=profile.name,
        environment=profile.environment,
        which=which,
        started_at=started,
        finished_at=time.time(),
        items=tuple(done[s.id] for s in specs),
    )
