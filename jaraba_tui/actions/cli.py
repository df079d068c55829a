"""``jaraba-ops action ...``: the same checks, plan, confirmation, verification and audit
as the console, from the shell.

    jaraba-ops action NAME TARGET [--param K=V ...] [--dry-run] [--yes] [--force] [--json]
    jaraba-ops action --list                 every action (none when read-only)
    jaraba-ops action --available            poll, then every (action, target) that applies now
    jaraba-ops action --lock-status          who holds the stack's action lock
    jaraba-ops action --clear-stale-lock     remove a lock whose process is gone

Exit codes: 0 verified (or a dry run whose checks pass); 1 executed but a step failed or
the end state was not verified; 2 bad usage or profile; 4 refused (read-only, lock held,
failed check, bad parameter: nothing changed); 5 not confirmed (nothing changed).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable
from typing import Any, TextIO

from jaraba_tui.actions.confirm import CliConfirmer, render_request
from jaraba_tui.actions.context import ActionContext
from jaraba_tui.actions.registry import available_actions, list_actions
from jaraba_tui.actions.runner import Prepared, run_action
from jaraba_tui.actions.types import (
    ActionDeclined,
    ActionRefused,
    ExecutionEvent,
    Outcome,
    StepResult,
    StepStarted,
    VerifyAttempt,
)
from jaraba_tui.secrets import scrub

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_REFUSED = 4
EXIT_DECLINED = 5


def interrupted_run(records: list[dict[str, Any]], run_id: str) -> str:
    """What the audit log says about the run whose lock was stale."""
    if not records:
        return f"its run {run_id} has no audit record here: nothing had been executed"
    steps = [r.get("step") or {} for r in records if r.get("event") == "step"]
    done = "; ".join(f"{s.get('index')}. {s.get('title')} {s.get('status')}" for s in steps)
    finished = [r for r in records if r.get("event") == "finished"]
    if finished:
        return f"its run {run_id} finished: {finished[-1].get('status')}"
    return (
        f"its run {run_id} was interrupted (started {records[0].get('time')}, no finished "
        f"record); steps recorded: {done or 'none'}. The state it left is unknown: look "
        "(jaraba-ops status) before the next action; its plan is in the audit log"
    )


def _err(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="jaraba-ops action",
        description="Run one guarded action: checks, plan, typed confirmation, execution, "
        "verification, audit.",
    )
    p.add_argument("name", nargs="?", help="action name (see --list)")
    p.add_argument("target", nargs="?", help="what it acts on (see --available)")
    p.add_argument(
        "-p",
        "--param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an action parameter (repeatable)",
    )
    p.add_argument("--comment", help="shorthand for --param comment=...")
    p.add_argument("--duration", help="shorthand for --param duration=...")
    p.add_argument("--dry-run", action="store_true", help="print the checks and plan, stop")
    p.add_argument(
        "--yes", action="store_true", help="skip the typed confirmation (not in production)"
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="run despite failed checks, after a second typed confirmation (audited)",
    )
    p.add_argument("--json", action="store_true", help="print the outcome as JSON at the end")
    p.add_argument("--profile", metavar="NAME|PATH", help="profile (also accepted before `action`)")
    p.add_argument("--read-only", action="store_true", help="refuse every action")
    p.add_argument("--list", action="store_true", help="list the actions")
    p.add_argument("--available", action="store_true", help="actions that apply now")
    p.add_argument("--lock-status", action="store_true", help="who holds the action lock")
    p.add_argument(
        "--clear-stale-lock", action="store_true", help="remove a lock whose process is gone"
    )
    return p


def _params(args: argparse.Namespace) -> dict[str, object]:
    out: dict[str, object] = {}
    for item in args.param:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ActionRefused(f"--param needs KEY=VALUE, got {item!r}")
        out[key.strip()] = value
    if args.comment is not None:
        out["comment"] = args.comment
    if args.duration is not None:
        out["duration"] = args.duration
    return out


class Printer:
    def __init__(self, out: TextIO) -> None:
        self.out = out
        self._last_seen = ""

    def line(self, text: str = "") -> None:
        self.out.write(scrub(text) + "\n")
        self.out.flush()

    def event(self, ev: ExecutionEvent) -> None:
        if isinstance(ev, StepStarted):
            self.line(f"[{ev.index}/{ev.total}] {ev.title}  (on {ev.where})")
            self.line(f"      {ev.command}")
        elif isinstance(ev, StepResult):
            word = "ok" if ev.ok else "FAILED"
            self.line(f"      -> {word} in {ev.elapsed_s:.1f}s: {ev.detail}")
        elif isinstance(ev, VerifyAttempt):
            if ev.probe.seen != self._last_seen:
                self._last_seen = ev.probe.seen
                self.line(f"verify ({ev.elapsed_s:.0f}s): {ev.probe.seen}")
        else:
            self.outcome(ev)

    def outcome(self, o: Outcome) -> None:
        self.line("")
        self.line(f"{o.action} {o.target}: {o.status.upper()}")
        self.line(f"  {o.message}")
        self.line(f"  state: {o.left_in}")
        for u in o.undo:
            self.line(f"  undo: {u}")
        if o.undo_action is not None and not o.undo:
            self.line(f"  undo: {o.undo_action.command_line()}")
        self.line(f"  run id {o.run_id}")


def main(
    argv: list[str],
    *,
    profile_name: str | None,
    read_only: bool,
    out: TextIO | None = None,
    ask: Callable[[str], str] | None = None,
) -> int:
    stream = out or sys.stdout
    parser = build_parser()
    args = parser.parse_args(argv)
    pr = Printer(stream)
    from jaraba_tui.profile import ProfileError, load_profile

    try:
        profile = load_profile(args.profile or profile_name)
    except ProfileError as exc:
        _err(scrub(str(exc)))
        return EXIT_USAGE
    ro = read_only or args.read_only or profile.read_only
    if args.list:
        infos = list_actions(profile, read_only=ro)
        if args.json:
            pr.line(json.dumps([i.to_dict() for i in infos], indent=2))
        elif not infos:
            pr.line("read-only: no actions")
        for i in [] if args.json else infos:
            flag = "  [dangerous]" if i.dangerous else ""
            pr.line(f"{i.name:<24} {i.target_kind:<18} {i.title}{flag}")
        return EXIT_OK
    ctx = ActionContext.create(profile, read_only=ro)
    try:
        return asyncio.run(_dispatch(ctx, args, pr, ask))
    except KeyboardInterrupt:
        _err("jaraba-ops action: interrupted")
        return 130


async def _dispatch(
    ctx: ActionContext, args: argparse.Namespace, pr: Printer, ask: Callable[[str], str] | None
) -> int:
    try:
        return await _run(ctx, args, pr, ask)
    except ActionRefused as exc:
        _err(scrub(f"refused: {exc}"))
        return EXIT_REFUSED
    except ActionDeclined as exc:
        _err(scrub(str(exc)))
        return EXIT_DECLINED
    finally:
        await ctx.aclose()


async def _run(
    ctx: ActionContext, args: argparse.Namespace, pr: Printer, ask: Callable[[str], str] | None
) -> int:
    if args.lock_status:
        exists, holder = ctx.lock.read()
        if not exists:
            pr.line(f"no action in progress (lock {ctx.lock.path} absent)")
        elif holder is None:
            pr.line(f"the lock {ctx.lock.path} exists but cannot be read")
        else:
            from jaraba_tui.actions.lock import is_stale

            stale = is_stale(holder)
            tag = {True: " [STALE]", False: "", None: " [other host]"}[stale]
            pr.line(holder.describe() + tag)
        return EXIT_OK
    if args.clear_stale_lock:
        cleared = ctx.lock.clear_stale()
        what = cleared.describe() if cleared is not None else "an unreadable lock"
        pr.line(f"cleared the stale lock of {what}")
        if cleared is not None and cleared.run_id:
            pr.line(interrupted_run(ctx.audit.run_records(cleared.run_id), cleared.run_id))
        return EXIT_OK
    if ctx.read_only:
        raise ActionRefused("read-only: this profile (or --read-only) refuses every action")
    if args.available:
        snap = await ctx.poll()
        for a in available_actions(snap, ctx.profile):
            pr.line(f"{a.action:<24} {a.target}" + ("  [dangerous]" if a.dangerous else ""))
        return EXIT_OK
    if not args.name or not args.target:
        raise ActionRefused("usage: jaraba-ops action NAME TARGET (see --list, --available)")
    if args.force and args.yes:
        raise ActionRefused("--force needs the typed confirmation: it cannot go with --yes")

    blocked: list[bool] = []

    def shown(prepared: Prepared) -> None:
        blocked.append(prepared.blocked)
        if prepared.plan is not None and (args.dry_run or (args.yes and not prepared.blocked)):
            pr.line(render_request(prepared.confirm_request()))
            pr.line("")
        elif prepared.plan is None or (prepared.blocked and not args.force):
            for c in prepared.checks:
                pr.line(f"  [{c.symbol}] {c.name}: {c.reason}")

    outcome = await run_action(
        ctx,
        args.name,
        args.target,
        _params(args),
        confirmer=CliConfirmer(out=pr.out, ask=ask),
        force=args.force,
        assume_yes=args.yes,
        dry_run=args.dry_run,
        on_event=pr.event,
        on_prepared=shown,
    )
    if args.json:
        pr.line(json.dumps(outcome.to_dict(), indent=2, default=str))
    if outcome.status == "dry-run":
        pr.line("")
        pr.line("dry run: nothing was changed")
        return EXIT_REFUSED if any(blocked) else EXIT_OK
    return EXIT_OK if outcome.status == "verified" else EXIT_FAILED
