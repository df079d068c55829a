"""What the Galera actions share: a node's live state, its host commands, waits, positions."""

from __future__ import annotations

import posixpath
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from jaraba_tui.actions.galera_choice import NodePosition, parse_recovered
from jaraba_tui.actions.remote import argv_text, first_line
from jaraba_tui.actions.types import RunState, Step, StepOutcome
from jaraba_tui.collectors.galera import (
    WSREP_QUERY,
    GaleraNodeSnapshot,
    WsrepStatus,
    collect_node,
    parse_grastate,
    parse_wsrep_status,
)
from jaraba_tui.transport.base import Shell, TransportError

if TYPE_CHECKING:
    from jaraba_tui.actions.context import ActionContext

SAFE_SED = r"s/^safe_to_bootstrap:[[:space:]]*0[[:space:]]*$/safe_to_bootstrap: 1/"


def node_names(ctx: ActionContext) -> list[str]:
    return [n.name for n in ctx.profile.galera.nodes] if ctx.profile.galera else []


def datadir(ctx: ActionContext, name: str) -> str:
    return ctx.profile.galera_node(name).datadir


def grastate_path(ctx: ActionContext, name: str) -> str:
    return posixpath.join(datadir(ctx, name), "grastate.dat")


def shell_of(ctx: ActionContext, name: str) -> Shell:
    shell = ctx.transports.galera_shell(name)
    if shell is None:
        raise TransportError(f"{name} has no `ssh` host in the profile", kind="other")
    return shell


async def wsrep(ctx: ActionContext, name: str) -> WsrepStatus | None:
    """The node's own wsrep status, or None when it does not answer SQL."""
    try:
        return parse_wsrep_status(await ctx.transports.galera(name).query(WSREP_QUERY))
    except TransportError:
        return None


def describe_wsrep(ws: WsrepStatus | None) -> str:
    if ws is None:
        return "no SQL answer"
    return f"{ws.local_state_comment}, {ws.cluster_status}, size {ws.cluster_size}"


async def fresh_node(ctx: ActionContext, name: str) -> GaleraNodeSnapshot:
    """SQL, process, grastate.dat of one node, now (the collector's own view)."""
    from jaraba_tui.wiring import build_targets

    target = next(t for t in build_targets(ctx.profile, ctx.transports).galera if t.name == name)
    return await collect_node(target, clock=ctx.clock, timeout=ctx.timeout)


async def down_state(ctx: ActionContext, n: GaleraNodeSnapshot) -> tuple[bool, str]:
    """(verifiably down, what was seen): no SQL answer AND no live mariadbd serves its
    datadir. Where the collector could not tell (e.g. pgrep listed a zombie, whose cwd is
    unreadable), look again and skip zombies."""
    if n.wsrep is not None:
        return False, f"answers SQL ({describe_wsrep(n.wsrep)})"
    if n.process is not None and n.process.running is False:
        return True, f"no SQL answer; {n.process.detail}"
    shell = ctx.transports.galera_shell(n.name)
    if shell is None:
        return False, "no SQL answer, and no ssh host to check its process"
    want = posixpath.normpath(datadir(ctx, n.name))
    try:
        res = await shell.run(["pgrep", "-x", "mariadbd|mysqld"])
        pids = [p for p in res.stdout.split() if p.isascii() and p.isdigit()]
        for pid in pids:
            st = await shell.run(["cat", f"/proc/{pid}/stat"])
            state = st.stdout[st.stdout.rfind(")") + 2 :][:1] if st.exit_status == 0 else ""
            if state in ("", "Z", "X"):
                continue  # gone, or a zombie waiting to be reaped
            cwd = await shell.run(["readlink", f"/proc/{pid}/cwd"])
            if cwd.exit_status != 0:
                return False, f"mariadbd pid {pid} runs; its datadir cannot be checked"
            if posixpath.normpath(cwd.stdout.strip()) == want:
                return False, f"mariadbd pid {pid} serves {want}"
    except TransportError as exc:
        return False, f"no SQL answer; its host cannot be checked: {exc}"
    return True, f"no SQL answer; no live mariadbd serves {want}"


def wait_synced_step(ctx: ActionContext, name: str, size: int, timeout: float, note: str) -> Step:
    async def run(state: RunState) -> StepOutcome:
        deadline = time.monotonic() + timeout
        while True:
            ws = await wsrep(ctx, name)
            ok = ws is not None and ws.synced and ws.in_primary and (ws.cluster_size or 0) >= size
            if ok:
                return StepOutcome(True, f"{name}: {describe_wsrep(ws)}")
            if time.monotonic() > deadline:
                return StepOutcome(False, f"after {timeout:g}s {name}: {describe_wsrep(ws)}")
            await ctx.sleep(1.0)

    return Step(
        f"wait until {name} is Synced in a Primary component of size >= {size}",
        ctx.transports.galera(name).endpoint,
        f"{WSREP_QUERY}  (every 1s, up to {timeout:g}s)",
        "wait",
        timeout + 2 * ctx.timeout,
        note,
        run,
    )


def wait_down_step(ctx: ActionContext, name: str, timeout: float, note: str) -> Step:
    async def run(state: RunState) -> StepOutcome:
        deadline = time.monotonic() + timeout
        while True:
            down, seen = await down_state(ctx, await fresh_node(ctx, name))
            if down:
                return StepOutcome(True, f"{name}: {seen}")
            if time.monotonic() > deadline:
                return StepOutcome(False, f"after {timeout:g}s {name}: {seen}")
            await ctx.sleep(1.0)

    return Step(
        f"wait until {name} is down",
        f"{ctx.transports.galera(name).endpoint} + ssh",
        "SQL answers no more; pgrep -x mariadbd|mysqld + /proc/PID/cwd: none serves its datadir",
        "wait",
        timeout + 4 * ctx.timeout,
        note,
        run,
    )


def command_step(
    ctx: ActionContext, name: str, title: str, argv: list[str], timeout: float, note: str
) -> Step:
    async def run(state: RunState) -> StepOutcome:
        shell = shell_of(ctx, name)
        res = await shell.run(argv, timeout=timeout)
        tail = (res.stdout + res.stderr).strip().splitlines()[-2:]
        detail = f"exit {res.exit_status}" + (f": {' | '.join(tail)[:300]}" if tail else "")
        return StepOutcome(res.exit_status == 0, detail)

    host = ctx.profile.galera_node(name).ssh or "?"
    return Step(title, f"ssh {host}", argv_text(argv), "ssh", timeout + 10, note, run)


def set_safe_step(ctx: ActionContext, name: str) -> Step:
    path = grastate_path(ctx, name)
    argv = ["sed", "-i", "-e", SAFE_SED, path]

    async def run(state: RunState) -> StepOutcome:
        shell = shell_of(ctx, name)
        res = await shell.run(argv)
        if res.exit_status != 0:
            return StepOutcome(False, f"sed failed: {first_line(res)}")
        gs = parse_grastate(await shell.read_file(path))
        if gs.safe_to_bootstrap is not True:
            return StepOutcome(False, f"{path} still says safe_to_bootstrap: 0")
        return StepOutcome(True, f"{path}: safe_to_bootstrap: 1 (uuid {gs.uuid}, seqno {gs.seqno})")

    host = ctx.profile.galera_node(name).ssh or "?"
    return Step(
        f"set safe_to_bootstrap: 1 in {name}'s grastate.dat",
        f"ssh {host}",
        argv_text(argv),
        "ssh",
        2 * ctx.timeout + 10,
        "no node was started; grastate.dat unchanged or unreadable",
        run,
    )


@dataclass(frozen=True)
class Recovery:
    position: tuple[str, int] | None
    detail: str


async def recover(ctx: ActionContext, name: str) -> Recovery:
    """Run the node's recover command and read the recovered position."""
    cmds = ctx.settings.node(name)
    shell = shell_of(ctx, name)
    if cmds.recover_log:
        await shell.run(["rm", "-f", "--", cmds.recover_log])
    res = await shell.run(list(cmds.recover), timeout=cmds.recover_timeout)
    text = res.stdout + "\n" + res.stderr
    if cmds.recover_log:
        try:
            text += "\n" + await shell.read_file(cmds.recover_log)
        except TransportError as exc:
            text += f"\n(recover log unreadable: {exc})"
    found = parse_recovered(text)
    if found is None:
        return Recovery(None, f"`{argv_text(cmds.recover)}` exit {res.exit_status}: no position")
    return Recovery(found, f"recovered {found[0]}:{found[1]}")


async def positions(ctx: ActionContext, nodes: list[GaleraNodeSnapshot]) -> list[NodePosition]:
    """grastate.dat of every node (already in the snapshot), recovered where seqno is -1."""
    out: list[NodePosition] = []
    for n in nodes:
        gs = n.grastate
        if gs is None:
            why = "; ".join(e.sentence() for e in n.shell_errors) or "grastate.dat not read"
            out.append(NodePosition(n.name, None, None, False, None, why))
            continue
        recovered: tuple[str, int] | None = None
        error = ""
        if gs.seqno < 0:
            try:
                r = await recover(ctx, n.name)
                recovered, error = r.position, ("" if r.position else r.detail)
            except TransportError as exc:
                error = f"recovery failed: {exc}"
        out.append(
            NodePosition(n.name, gs.uuid, gs.seqno, bool(gs.safe_to_bootstrap), recovered, error)
        )
    return out
