"""ProxySQL: drain a backend so that it stays drained, and undo it.

In a ``mysql_galera_hostgroups`` setup, ProxySQL 2.x's Galera monitor puts a manual
OFFLINE_SOFT back ONLINE within a check or two (sysown/proxysql#2098, #5169). What sticks is
``SET GLOBAL wsrep_reject_queries=ALL`` on the node itself: the monitor then moves it to the
offline hostgroup and keeps it there (see lab/proxysql_standin/README.md). Outside a Galera
hostgroup the classic OFFLINE_SOFT + LOAD + SAVE holds and is used. Either way the
verification watches the backend for twice the monitor's interval, so a drain that does not
stick is reported as not verified. Never the last writer.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from jaraba_tui.actions.base import Action, Assessment
from jaraba_tui.actions.proxysql_util import (
    Backend,
    backend_view,
    conn_used,
    healthcheck_interval_s,
    node_state,
    resolve_backend,
)
from jaraba_tui.actions.registry import register
from jaraba_tui.actions.types import (
    ActionRef,
    CheckResult,
    ParamSpec,
    Plan,
    Probe,
    RunState,
    Step,
    StepOutcome,
    check,
    failed,
    passed,
)
from jaraba_tui.model.snapshot import StackSnapshot
from jaraba_tui.transport.base import SqlClient, TransportError

if TYPE_CHECKING:
    from jaraba_tui.actions.context import ActionContext
    from jaraba_tui.profile import Profile

_HOST = re.compile(r"^[A-Za-z0-9.:_-]{1,255}$")


def _sql_step(
    title: str,
    client: SqlClient,
    sql: str,
    if_failed: str,
    timeout: float,
    args: Sequence[Any] | None = None,
) -> Step:
    """A statement run as is (``args`` bound by the driver, never pasted into ``sql``)."""

    async def run(state: RunState) -> StepOutcome:
        n = await client.execute(sql, args)
        return StepOutcome(True, f"done ({n} row(s))")

    shown = sql if not args else f"{sql}   -- with {list(args)!r}"
    return Step(title, client.endpoint, shown, "sql", timeout, if_failed, run)


SOFT_SQL = "UPDATE mysql_servers SET status=%s WHERE hostname=%s AND port=%s"


def _soft_step(title: str, admin: SqlClient, b: Backend, status: str, timeout: float) -> Step:
    if not _HOST.match(b.host):
        raise ValueError(f"unexpected host name {b.host!r}")
    return _sql_step(title, admin, SOFT_SQL, "nothing changed", timeout, [status, b.host, b.port])


def _shown_query(table: str, what: str, b: Backend, host_col: str, port_col: str) -> str:
    """A polling query as the plan shows it (display only: the queries bind their values)."""
    return f"SELECT {what} FROM {table} WHERE {host_col}='{b.host}' AND {port_col}={b.port}"  # noqa: S608


async def _common_checks(
    ctx: ActionContext, target: str, snapshot: StackSnapshot
) -> tuple[list[CheckResult], Backend | None]:
    px = snapshot.proxysql
    if px is None:
        return [failed("proxysql", "the profile has no [proxysql] or it was not polled")], None
    if not px.reachable:
        return [failed("proxysql", "; ".join(e.sentence() for e in px.errors))], None
    checks = [
        passed("proxysql", f"{px.endpoint} answered" + (" (STAND-IN)" if px.is_standin else ""))
    ]
    b = resolve_backend(ctx.profile, px, target)
    if b is None:
        checks.append(failed("backend", f"no ProxySQL backend or Galera node {target!r}"))
        return checks, None
    checks.append(passed("backend", b.describe()))
    return checks, b


@register
class ProxySQLDrain(Action):
    name = "proxysql.drain"
    title = "Drain ProxySQL backend"
    target_kind = "proxysql-backend"
    key = "d"
    description = (
        "Take a backend out of ProxySQL's rotation so that it stays out "
        "(Galera: wsrep_reject_queries=ALL on the node; else OFFLINE_SOFT)."
    )
    layers = ("proxysql",)
    params = (
        ParamSpec("kill", "bool", "ALL_KILL: also close the node's open connections", "no"),
        ParamSpec("wait", "duration", "how long to wait for ConnUsed to reach 0", "60s"),
    )
    verify_timeout = 60.0
    verify_interval = 1.0

    def targets(self, snapshot: StackSnapshot, profile: Profile) -> tuple[str, ...]:
        px = snapshot.proxysql
        if px is None:
            return ()
        offline = {g.offline_hostgroup for g in px.galera_hostgroups if g.active}
        out: dict[str, None] = {}
        for s in px.servers:
            if s.status == "ONLINE" and s.hostgroup not in offline:
                out[s.address] = None
        return tuple(out)

    async def assess(
        self, ctx: ActionContext, target: str, params: Mapping[str, Any], snapshot: StackSnapshot
    ) -> Assessment:
        checks, b = await _common_checks(ctx, target, snapshot)
        if b is None:
            return Assessment(tuple(checks), None)
        view = b.view
        if b.galera is not None:
            checks.append(
                check(
                    "not already drained",
                    view.serving,
                    f"serving in hostgroup(s) {view.hostgroups_text}",
                    f"not serving: {view.hostgroups_text}",
                )
            )
            others = view.other_writers
            checks.append(
                check(
                    "not the last writer",
                    bool(others),
                    f"other writer candidates ONLINE: {', '.join(others)}",
                    f"{b.address} is the last writer of hostgroup {b.galera.writer_hostgroup}: "
                    "draining it leaves no node for writes",
                )
            )
            if b.node is None:
                checks.append(
                    failed(
                        "Galera node",
                        f"no [[galera.nodes]] entry with {b.address}: "
                        "wsrep_reject_queries must be set on the node itself",
                    )
                )
                return Assessment(tuple(checks), None)
            try:
                ns = await node_state(ctx.transports.galera(b.node))
                checks.append(
                    check(
                        "node synced",
                        ns.synced and ns.reject == "NONE",
                        f"{b.node}: {ns.describe()}",
                        f"{b.node}: {ns.describe()}",
                    )
                )
            except TransportError as exc:
                checks.append(failed("node synced", f"{b.node} unreachable: {exc}"))
            interval = await healthcheck_interval_s(ctx.transports.proxysql())
            return Assessment(tuple(checks), self._galera_plan(ctx, b, params, interval))
        others = view.other_online_same_groups
        checks.append(
            check(
                "not already drained",
                view.serving,
                f"ONLINE in {view.hostgroups_text}",
                f"not ONLINE: {view.hostgroups_text}",
            )
        )
        checks.append(
            check(
                "not the last server",
                bool(others),
                f"still ONLINE in its hostgroup(s): {', '.join(others)}",
                f"{b.address} is the last ONLINE server of hostgroup(s) {view.hostgroups_text}",
            )
        )
        return Assessment(tuple(checks), self._soft_plan(ctx, b, params))

    def _galera_plan(
        self, ctx: ActionContext, b: Backend, params: Mapping[str, Any], interval: float
    ) -> Plan:
        assert b.galera is not None and b.node is not None
        node = ctx.transports.galera(b.node)
        admin = ctx.transports.proxysql()
        mode = "ALL_KILL" if params["kill"] else "ALL"
        offline = b.galera.offline_hostgroup
        wait_s = float(params["wait"])

        async def moved(state: RunState) -> StepOutcome:
            deadline = time.monotonic() + 3 * interval + 10
            while True:
                v = await backend_view(admin, b)
                if v.only_offline(offline):
                    return StepOutcome(True, f"{b.address}: {v.hostgroups_text}")
                if time.monotonic() > deadline:
                    return StepOutcome(False, f"after {3 * interval + 10:g}s: {v.hostgroups_text}")
                await ctx.sleep(0.5)

        async def drained(state: RunState) -> StepOutcome:
            deadline = time.monotonic() + wait_s
            while True:
                used = await conn_used(admin, b, exclude=offline)
                if used == 0:
                    return StepOutcome(True, "ConnUsed 0 outside the offline hostgroup")
                if time.monotonic() > deadline:
                    return StepOutcome(False, f"ConnUsed still {used} after {wait_s:g}s")
                await ctx.sleep(1.0)

        writer_note = (
            f"{b.address} is the current writer: ProxySQL promotes "
            f"{b.view.other_writers[0] if b.view.other_writers else '?'} within one check "
            f"({interval:g}s); writes in flight to it fail and are retried by clients"
            if b.view.is_writer
            else "it is not the writer: writes are not affected"
        )
        return Plan(
            action=self.name,
            target=b.address,
            summary=f"drain {b.address} ({b.node}) from ProxySQL: wsrep_reject_queries={mode}",
            steps=(
                _sql_step(
                    f"make {b.node} reject queries",
                    node,
                    f"SET GLOBAL wsrep_reject_queries={mode}",
                    "nothing changed on the node",
                    ctx.timeout,
                ),
                Step(
                    f"wait until ProxySQL moves it to hostgroup {offline} only",
                    admin.endpoint,
                    _shown_query(
                        "runtime_mysql_servers", "hostgroup_id, status", b, "hostname", "port"
                    )
                    + "  (every 0.5s)",
                    "wait",
                    3 * interval + 10 + 2 * ctx.timeout,
                    f"{b.node} rejects queries but ProxySQL still routes to it: clients get "
                    f"errors. Undo NOW: proxysql.undrain {b.address}",
                    moved,
                ),
                Step(
                    "wait until its connections are released",
                    admin.endpoint,
                    _shown_query(
                        "stats_mysql_connection_pool", "SUM(ConnUsed)", b, "srv_host", "srv_port"
                    )
                    + f" AND hostgroup<>{offline}  (every 1s)",
                    "wait",
                    wait_s + 2 * ctx.timeout,
                    f"{b.address} is out of rotation; some connections are still in use",
                    drained,
                ),
            ),
            blast_radius=(
                f"{b.address} takes no new queries through ProxySQL; other nodes take its share",
                writer_note,
                "ALL also rejects new queries on connections already open to the node"
                + (
                    " (ALL_KILL closes them)"
                    if mode == "ALL_KILL"
                    else "; ProxySQL retries outside transactions"
                ),
                "the node stays Synced in the cluster; not persistent across a node restart",
            ),
            expected=(
                f"{b.address} only in offline hostgroup {offline}, held for {2 * interval + 1:g}s",
                f"{b.node}: wsrep_reject_queries={mode}",
            ),
            undo=(f"SET GLOBAL wsrep_reject_queries=NONE on {b.node}",),
            undo_action=ActionRef("proxysql.undrain", b.address),
            notes=(
                "OFFLINE_SOFT is not used: ProxySQL 2.x's Galera monitor reverts it "
                "within seconds (sysown/proxysql#2098)",
            ),
            verify_hold=2 * interval + 1,
            verify_timeout=3 * interval + 30,
        )

    def _soft_plan(self, ctx: ActionContext, b: Backend, params: Mapping[str, Any]) -> Plan:
        admin = ctx.transports.proxysql()
        wait_s = float(params["wait"])

        async def drained(state: RunState) -> StepOutcome:
            deadline = time.monotonic() + wait_s
            while True:
                used = await conn_used(admin, b, exclude=None)
                if used == 0:
                    return StepOutcome(True, "ConnUsed 0")
                if time.monotonic() > deadline:
                    return StepOutcome(False, f"ConnUsed still {used} after {wait_s:g}s")
                await ctx.sleep(1.0)

        return Plan(
            action=self.name,
            target=b.address,
            summary=f"drain {b.address}: OFFLINE_SOFT in mysql_servers, load, save",
            steps=(
                _soft_step("mark it OFFLINE_SOFT", admin, b, "OFFLINE_SOFT", ctx.timeout),
                _sql_step(
                    "load the servers to runtime",
                    admin,
                    "LOAD MYSQL SERVERS TO RUNTIME",
                    "OFFLINE_SOFT is in memory only: not applied",
                    ctx.timeout,
                ),
                Step(
                    "wait until its connections are released",
                    admin.endpoint,
                    _shown_query(
                        "stats_mysql_connection_pool", "SUM(ConnUsed)", b, "srv_host", "srv_port"
                    )
                    + "  (every 1s)",
                    "wait",
                    wait_s + 2 * ctx.timeout,
                    f"{b.address} is OFFLINE_SOFT; connections still in use",
                    drained,
                ),
                _sql_step(
                    "save the servers to disk",
                    admin,
                    "SAVE MYSQL SERVERS TO DISK",
                    "drained at runtime but not saved: a ProxySQL restart undoes it",
                    ctx.timeout,
                ),
            ),
            blast_radius=(f"{b.address} takes no new connections; open ones finish",),
            expected=(f"{b.address} OFFLINE_SOFT in runtime_mysql_servers, held",),
            undo=(
                _soft_step("", admin, b, "ONLINE", ctx.timeout).command,
                "LOAD MYSQL SERVERS TO RUNTIME",
                "SAVE MYSQL SERVERS TO DISK",
            ),
            undo_action=ActionRef("proxysql.undrain", b.address),
            verify_hold=5.0,
        )

    async def verify(
        self, ctx: ActionContext, plan: Plan, params: Mapping[str, Any], state: RunState
    ) -> Probe:
        px = await ctx.poll("proxysql")
        assert px.proxysql is not None
        b = resolve_backend(ctx.profile, px.proxysql, plan.target)
        if b is None:
            return Probe(False, f"{plan.target} is no longer a ProxySQL backend")
        if b.galera is None:
            ok = bool(b.view.statuses) and set(b.view.statuses) == {"OFFLINE_SOFT"}
            return Probe(ok, f"{b.address}: {b.view.hostgroups_text}")
        parts = [f"{b.address}: {b.view.hostgroups_text}"]
        ok = b.view.only_offline(b.galera.offline_hostgroup)
        if b.node is not None:
            ns = await node_state(ctx.transports.galera(b.node))
            parts.append(f"{b.node}: {ns.describe()}")
            ok = ok and ns.reject != "NONE"
        return Probe(ok, "; ".join(parts))


@register
class ProxySQLUndrain(Action):
    name = "proxysql.undrain"
    title = "Return ProxySQL backend to service"
    target_kind = "proxysql-backend"
    key = "r"
    description = "Undo a drain (wsrep_reject_queries=NONE on the node, or ONLINE)."
    layers = ("proxysql",)
    verify_timeout = 60.0

    def targets(self, snapshot: StackSnapshot, profile: Profile) -> tuple[str, ...]:
        px = snapshot.proxysql
        if px is None:
            return ()
        offline = {g.offline_hostgroup for g in px.galera_hostgroups if g.active}
        serving = {
            s.address for s in px.servers if s.status == "ONLINE" and s.hostgroup not in offline
        }
        out = {s.address: None for s in px.servers if s.address not in serving}
        return tuple(out)

    async def assess(
        self, ctx: ActionContext, target: str, params: Mapping[str, Any], snapshot: StackSnapshot
    ) -> Assessment:
        checks, b = await _common_checks(ctx, target, snapshot)
        if b is None:
            return Assessment(tuple(checks), None)
        admin = ctx.transports.proxysql()
        if b.galera is not None and b.node is not None:
            node = ctx.transports.galera(b.node)
            try:
                ns = await node_state(node)
            except TransportError as exc:
                checks.append(failed("node", f"{b.node} unreachable: {exc}"))
                return Assessment(tuple(checks), None)
            checks.append(
                check(
                    "node rejects queries",
                    ns.reject != "NONE",
                    f"{b.node}: {ns.describe()}",
                    f"{b.node}: {ns.describe()}: not drained this way",
                )
            )
            checks.append(
                check(
                    "node synced",
                    ns.synced,
                    ns.describe(),
                    f"{b.node} is not Synced: ProxySQL would not use it anyway",
                )
            )
            plan = Plan(
                action=self.name,
                target=b.address,
                summary=f"return {b.address} ({b.node}) to ProxySQL's rotation",
                steps=(
                    _sql_step(
                        f"let {b.node} accept queries",
                        node,
                        "SET GLOBAL wsrep_reject_queries=NONE",
                        "the node still rejects queries",
                        ctx.timeout,
                    ),
                ),
                blast_radius=(
                    f"ProxySQL routes to {b.address} again from its next Galera check",
                    "a higher-weight node takes the writer role back",
                ),
                expected=(f"{b.address} ONLINE in a writer, backup-writer or reader hostgroup",),
                undo=(f"proxysql.drain {b.address}",),
                undo_action=ActionRef("proxysql.drain", b.address),
            )
            return Assessment(tuple(checks), plan)
        checks.append(
            check(
                "OFFLINE_SOFT",
                "OFFLINE_SOFT" in b.view.statuses,
                b.view.hostgroups_text,
                f"not OFFLINE_SOFT: {b.view.hostgroups_text}",
            )
        )
        plan = Plan(
            action=self.name,
            target=b.address,
            summary=f"set {b.address} ONLINE, load, save",
            steps=(
                _soft_step("mark it ONLINE", admin, b, "ONLINE", ctx.timeout),
                _sql_step(
                    "load the servers to runtime",
                    admin,
                    "LOAD MYSQL SERVERS TO RUNTIME",
                    "ONLINE in memory only",
                    ctx.timeout,
                ),
                _sql_step(
                    "save the servers to disk",
                    admin,
                    "SAVE MYSQL SERVERS TO DISK",
                    "ONLINE at runtime, not saved",
                    ctx.timeout,
                ),
            ),
            blast_radius=(f"{b.address} takes new connections",),
            expected=(f"{b.address} ONLINE",),
            undo=(f"proxysql.drain {b.address}",),
            undo_action=ActionRef("proxysql.drain", b.address),
        )
        return Assessment(tuple(checks), plan)

    async def verify(
        self, ctx: ActionContext, plan: Plan, params: Mapping[str, Any], state: RunState
    ) -> Probe:
        px = await ctx.poll("proxysql")
        assert px.proxysql is not None
        b = resolve_backend(ctx.profile, px.proxysql, plan.target)
        if b is None:
            return Probe(False, f"{plan.target} is no longer a ProxySQL backend")
        return Probe(b.view.serving, f"{b.address}: {b.view.hostgroups_text}")
