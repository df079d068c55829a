"""The real actions framework (registry, runner, confirmation request, audit, lock) on
scripted I/O: the "fresh poll" returns a given snapshot, HAProxy's runtime API is a recorder
that answers like HAProxy, and the checklist is a script of ItemResults."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jaraba_tui.actions.audit import AuditLog, Who
from jaraba_tui.actions.context import ActionContext
from jaraba_tui.model.snapshot import StackSnapshot
from jaraba_tui.profile import Profile, load_profile
from jaraba_tui.ui.ops import ConsoleOps
from jaraba_tui.verify.model import ItemResult, ItemSpec, Which, failed, passed, skipped

ENDPOINT = "unix:/run/haproxy/admin.sock"
TESTER = Who(user="tester", sudo_user=None, ssh_client=None, host="bastion", pid=os.getpid())


class RecordingRuntime:
    """HAProxy's runtime API: ``set server B/S state X`` and ``show stat`` (CSV)."""

    def __init__(self, servers: dict[str, str], *, refuse: bool = False) -> None:
        self.endpoint = ENDPOINT
        self.servers = dict(servers)  # "backend/server" -> status
        self.commands: list[str] = []
        self.refuse = refuse

    async def command(self, line: str) -> str:
        self.commands.append(line)
        words = line.split()
        if words[:2] == ["set", "server"] and len(words) == 5:
            if self.refuse or words[2] not in self.servers:
                return "No such server.\n"
            self.servers[words[2]] = {"drain": "DRAIN", "ready": "UP", "maint": "MAINT"}[words[4]]
            return ""
        if line == "show stat":
            rows = ["# pxname,svname,scur,status"]
            for key, status in self.servers.items():
                backend, _, server = key.partition("/")
                rows.append(f"{backend},{server},0,{status}")
            return "\n".join(rows) + "\n"
        return f"Unknown command: {line}\n"

    @property
    def changes(self) -> list[str]:
        return [c for c in self.commands if c.startswith("set ")]


@dataclass
class FakeHttp:
    endpoint: str


class FakeTransports:
    def __init__(self, runtime: RecordingRuntime) -> None:
        self.runtime = runtime

    def haproxy_runtime(self) -> RecordingRuntime:
        return self.runtime

    def alertmanager(self) -> FakeHttp:
        return FakeHttp("alertmanager http://127.0.0.1:9093")

    async def aclose(self) -> None:
        return None


@dataclass
class ScriptedContext(ActionContext):
    """An ActionContext whose fresh poll is a given snapshot."""

    fresh: StackSnapshot | None = None
    polls: list[tuple[str, ...]] = field(default_factory=list)
    #: When set, the fresh poll waits for it (a slow layer).
    hold: asyncio.Event | None = None

    async def poll(self, *layers: str) -> StackSnapshot:
        self.polls.append(layers)
        if self.hold is not None:
            await self.hold.wait()
        assert self.fresh is not None
        return self.fresh


async def no_wait(_seconds: float) -> None:
    await asyncio.sleep(0)


def servers_of(snapshot: StackSnapshot) -> dict[str, str]:
    assert snapshot.haproxy is not None
    return {s.key: s.status for s in snapshot.haproxy.servers}


def local_profile(*, production: bool = False, read_only: bool = False) -> Profile:
    profile = load_profile("local")
    update: dict[str, Any] = {"read_only": read_only}
    if production:
        update["environment"] = "production"
    return profile.replace(**update)


def make_ops(
    tmp_path: Path,
    fresh: StackSnapshot,
    *,
    production: bool = False,
    read_only: bool = False,
    refuse: bool = False,
    checklist: Any = None,
) -> tuple[ConsoleOps, RecordingRuntime]:
    runtime = RecordingRuntime(servers_of(fresh), refuse=refuse)
    profile = local_profile(production=production, read_only=read_only)
    ctx = ScriptedContext.create(
        profile,
        transports=FakeTransports(runtime),  # type: ignore[arg-type]
        audit_path=tmp_path / "audit" / "audit.log",
        who=TESTER,
    )
    assert isinstance(ctx, ScriptedContext)
    ctx.fresh = fresh
    ctx.sleep = no_wait
    return ConsoleOps(ctx, checklist=checklist), runtime


def audit_records(ops: ConsoleOps) -> list[dict[str, Any]]:
    return AuditLog(ops.audit_path).records()


# -- the checklist ------------------------------------------------------------------------
OUTCOMES = {
    "no-dev-secrets": skipped("dev credentials are expected in a lab"),
    "tls-certificate": passed(
        "jaraba.io: valid until 2027-01-01, 365 days left",
        ["leaf CN=jaraba.io, SAN jaraba.io, www.jaraba.io", "issuer CN=Jaraba Lab CA"],
    ),
    "dns-records": skipped("no name to resolve (an all-IP profile)"),
    "firewall-closed-ports": skipped("ports are open on loopback by design ([checklist.skip])"),
    "haproxy-backends": failed(
        "1 of 8 servers not UP: bk_app_blue/app2 DOWN",
        ["bk_app_blue/app2: DOWN (L4CON Connection refused)", "bk_app_blue/app1: UP"],
    ),
}


class ScriptedChecklist:
    """The real checklist's rows (verify.plan), scripted results (all passed unless
    :data:`OUTCOMES` says otherwise), in a fixed order; records every run."""

    def __init__(self, profile: Profile, *, hold: asyncio.Event | None = None) -> None:
        self.profile = profile
        self.runs: list[tuple[Which, list[str]]] = []
        self.hold = hold

    def plan(self, which: Which) -> list[ItemSpec]:
        from jaraba_tui.verify import plan

        return plan(self.profile, which)

    async def run(self, which: Which, items: Sequence[ItemSpec]) -> AsyncIterator[ItemResult]:
        self.runs.append((which, [s.id for s in items]))
        for n, spec in enumerate(items):
            if self.hold is not None and n == 2:
                await self.hold.wait()
            outcome = OUTCOMES.get(spec.id) or passed(f"{spec.id}: ok", [f"{spec.id} evidence"])
            yield ItemResult.of(spec, outcome, 10.0 * (n + 1))
