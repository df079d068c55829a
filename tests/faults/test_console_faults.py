"""Faults injected into the lab's real servers while the console (Textual pilot) polls them.

For each fault: the console keeps running (a key still switches panes), the right finding
appears within one poll interval plus the poll's timeout, the other layers keep answering
(their last-good time advances past the moment the fault was seen), and the console
recovers by itself once the fault is undone. Figures go to $JARABA_FAULT_RESULTS.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from jaraba_tui.engine import LAYERS
from tests.faults.conftest import (
    Console,
    console,
    detect_limit,
    labctl,
    record,
    socket_count,
    write_profile,
)

pytestmark = [pytest.mark.lab, pytest.mark.slow, pytest.mark.usefixtures("lab")]

SETTLE = 90.0  # a lab restored by the previous test may still be settling
RECOVER = 120.0


@dataclass(frozen=True)
class Fault:
    name: str
    layer: str  # the layer whose finding must appear
    inject: Sequence[Sequence[str]]  # labctl argument lists
    undo: Sequence[Sequence[str]]
    expected: str
    found: Callable[[Console], bool]
    recovered: Callable[[Console], bool]
    affected: tuple[str, ...]  # layers allowed to stop answering
    #: what the fault must have led to before it is undone (e.g. the Sentinel failover)
    before_undo: Callable[[Console], bool] | None = None


async def run_fault(c: Console, fault: Fault, settled: Callable[[Console], bool]) -> None:
    assert await c.wait(lambda: settled(c), SETTLE) is not None, (
        f"the lab did not settle before {fault.name}: {c.describe()}"
    )
    for args in fault.inject:
        await labctl(*args)
    t_fault = time.time()
    limit = detect_limit(c.profile, fault.layer)
    took = await c.wait(lambda: fault.found(c), limit)
    assert took is not None, f"{fault.name}: no finding within {limit:.0f}s: {c.describe()}"
    key_s = await c.responsive()
    others = tuple(layer for layer in LAYERS if layer not in fault.affected)
    upd = await c.others_update(others, time.time(), limit)
    if fault.before_undo is not None:
        before_undo = fault.before_undo
        assert await c.wait(lambda: before_undo(c), RECOVER) is not None, (
            f"{fault.name}: never reached the state to undo from: {c.describe()}"
        )
    for args in fault.undo:
        await labctl(*args)
    t_undo = time.time()
    back = await c.wait(lambda: fault.recovered(c), RECOVER)
    assert back is not None, f"{fault.name}: no recovery within {RECOVER:.0f}s: {c.describe()}"
    await c.responsive()
    record(
        fault.name,
        fault.expected,
        f"finding after {took:.1f}s (limit {limit:.0f}s); a key answered in {key_s:.2f}s; "
        f"{', '.join(others)} answered again within {upd:.1f}s; recovered {back:.1f}s "
        "after the undo",
        detect_s=round(took, 1),
        recover_s=round(back, 1),
        t_fault=t_fault,
        t_undo=t_undo,
    )


def healthy(c: Console) -> bool:
    return c.all_fresh() and c.has("galera.ok") and c.has("redis.ok") and c.has("haproxy.ok")


async def test_one_galera_node_killed(fast_profile: Path, tmp_path: Path) -> None:
    async with console(fast_profile, tmp_path) as c:
        await run_fault(
            c,
            Fault(
                "kill -9 one Galera node (node3)",
                "galera",
                [["fault", "galera-kill", "3"]],
                [["fault", "galera-start", "3", "--wait"]],
                "CRIT galera node3 down / cluster size 2/3; the rest keeps polling",
                lambda c: (
                    any(
                        c.has(code, "node3")
                        for code in ("galera.not_running", "galera.unreachable")
                    )
                    or c.has("galera.size", text="node3")
                ),
                lambda c: c.has("galera.ok") and c.fresh("galera"),
                affected=(),
            ),
            healthy,
        )


async def test_redis_master_killed_failover_mid_poll(fast_profile: Path, tmp_path: Path) -> None:
    async with console(fast_profile, tmp_path) as c:
        assert await c.wait(lambda: healthy(c) and c.has("redis.ok"), SETTLE) is not None
        r = c.app.latest.snapshot.redis if c.app.latest else None
        old = r.master if r else None
        assert old

        def new_master(c: Console) -> bool:
            rr = c.app.latest.snapshot.redis if c.app.latest else None
            return bool(rr and rr.master and rr.master != old and c.fresh("redis"))

        await run_fault(
            c,
            Fault(
                "kill -9 the Redis master (Sentinel fails over mid-poll)",
                "redis",
                [["fault", "redis-kill-master"]],
                [["up", "--only", "redis"]],
                f"CRIT redis master {old} down, then the new master named by the Sentinels; "
                "back to 3 linked instances after the restart",
                lambda c: (
                    any(
                        f.component == "redis"
                        and f.target in (old, "redis1", "jaraba-master")
                        and f.code
                        in ("redis.down", "redis.master_down", "redis.sdown", "redis.odown")
                        for f in c.findings
                    )
                    or any(f.code == "redis.down" for f in c.findings)
                ),
                lambda c: new_master(c) and c.has("redis.ok"),
                affected=(),
                # the old master restarted before the Sentinels failed over would simply be
                # master again: undo only once the console shows the new master
                before_undo=new_master,
            ),
            healthy,
        )
        # the failover itself, seen by the console while it kept polling
        assert any(e.component == "redis" and "failover" in e.message for e in c.app.timeline)


@pytest.mark.parametrize(
    ("component", "layer", "codes", "expected"),
    [
        (
            "proxysql",
            "proxysql",
            ("proxysql.unreachable", "stack.collector"),
            "ProxySQL admin (stand-in) stopped: proxysql unreachable, pane STALE",
        ),
        (
            "haproxy",
            "haproxy",
            ("haproxy.runtime", "haproxy.down", "stack.collector"),
            "HAProxy stopped: runtime API and stats unreachable, pane STALE",
        ),
        (
            "sshd",
            "hosts",
            ("host.unreachable",),
            "SSH host down: host unreachable; Galera host checks UNKNOWN, SQL still read",
        ),
    ],
)
async def test_a_service_stopped(
    fast_profile: Path,
    tmp_path: Path,
    component: str,
    layer: str,
    codes: tuple[str, ...],
    expected: str,
) -> None:
    async with console(fast_profile, tmp_path) as c:
        await run_fault(
            c,
            Fault(
                f"{component} stopped",
                layer,
                [["fault", "ssh-down"] if component == "sshd" else ["stop", component]],
                [["up", "--only", component]],
                expected,
                lambda c: (
                    c.app.latest is not None
                    and c.app.latest.state(layer).stale
                    and any(f.code in codes for f in c.findings)
                ),
                lambda c: c.fresh(layer) and c.all_fresh(),
                affected=(layer,),
            ),
            healthy,
        )


async def test_prometheus_and_alertmanager_stopped(fast_profile: Path, tmp_path: Path) -> None:
    async with console(fast_profile, tmp_path) as c:
        await run_fault(
            c,
            Fault(
                "Prometheus and Alertmanager stopped",
                "alerts",
                [["stop", "prometheus"], ["stop", "alertmanager"]],
                [["up", "--only", "alertmanager", "--only", "prometheus"]],
                "alerts pane STALE: Prometheus and Alertmanager unreachable",
                lambda c: (
                    c.app.latest is not None
                    and c.app.latest.state("alerts").stale
                    and any(f.component == "alerts" for f in c.findings if f.severity.rank > 0)
                ),
                lambda c: c.fresh("alerts") and c.has("alerts.ok"),
                affected=("alerts",),
            ),
            healthy,
        )


async def test_a_port_that_accepts_and_never_answers(fast_profile: Path, tmp_path: Path) -> None:
    """The ProxySQL admin port frozen (SIGSTOP: the kernel still accepts, nothing answers),
    and a profile whose Galera node3 points at the lab's tarpit (``fault hang``)."""
    hung = write_profile(
        tmp_path / "hung.toml",
        audit_log=tmp_path / "audit.log",
        replace=lambda t: t.replace("port = 3309", "port = 3399"),
    )
    await labctl("fault", "hang", "--port", "3399")
    try:
        async with console(hung, tmp_path) as c:

            def node3_timed_out(c: Console) -> bool:
                return any(
                    f.target == "node3" and "timed out" in f.message.lower() for f in c.findings
                )

            def settled(c: Console) -> bool:
                return node3_timed_out(c) and all(
                    c.fresh(layer) for layer in ("proxysql", "haproxy", "redis", "hosts")
                )

            # the tarpit: node3 times out on every poll, the others keep coming
            took = await c.wait(lambda: node3_timed_out(c), detect_limit(c.profile, "galera"))
            assert took is not None, c.describe()
            await c.responsive()
            await run_fault(
                c,
                Fault(
                    "a port that accepts and never answers (ProxySQL admin frozen; Galera "
                    "node3 on the lab tarpit)",
                    "proxysql",
                    [["fault", "freeze", "proxysql"]],
                    [["fault", "thaw", "proxysql"]],
                    "proxysql: timed out (connect + read timeout), pane STALE; node3: timed "
                    "out on every poll; the other panes keep updating; q still quits",
                    lambda c: (
                        c.app.latest is not None
                        and c.app.latest.state("proxysql").stale
                        and "timed out" in (c.app.latest.state("proxysql").error or "")
                    ),
                    lambda c: c.fresh("proxysql"),
                    affected=("proxysql",),
                ),
                settled,
            )
            record(
                "Galera node3 pointed at the tarpit",
                "node3 finding 'timed out' within one interval + the timeout",
                f"finding after {took:.1f}s",
                detect_s=round(took, 1),
            )
    finally:
        await labctl("fault", "unhang", "--port", "3399")
        await labctl("fault", "thaw", "proxysql")


async def test_wrong_passwords(tmp_path: Path) -> None:
    """A profile copy whose Galera node1, ProxySQL admin and Redis secrets are wrong."""

    def wrong(text: str) -> str:
        text = text.replace(
            'password = { env = "MYSQL_ROOT_PASSWORD", default_for_lab = "jaraba_root_dev" }',
            'password = { env = "JFAULT_WRONG_MYSQL" }',
            1,
        )
        text = text.replace(
            '{ env = "PROXYSQL_ADMIN_PASSWORD", default_for_lab = "admin_dev" }',
            '{ env = "JFAULT_WRONG_ADMIN" }',
        )
        return text.replace(
            '{ env = "REDIS_PASSWORD", default_for_lab = "redis_dev" }',
            '{ env = "JFAULT_WRONG_REDIS" }',
        )

    path = write_profile(tmp_path / "wrong.toml", audit_log=tmp_path / "audit.log", replace=wrong)
    with pytest.MonkeyPatch.context() as mp:
        for var in ("JFAULT_WRONG_MYSQL", "JFAULT_WRONG_ADMIN", "JFAULT_WRONG_REDIS"):
            mp.setenv(var, "not-the-password")
        t0 = time.time()
        async with console(path, tmp_path) as c:

            def denied(c: Console) -> bool:
                msgs = [f.message.lower() for f in c.findings]
                return (
                    any("node1" in m and "denied" in m for m in msgs)
                    and any(m.startswith("proxysql") and "denied" in m for m in msgs)
                    and any(m.startswith("redis") and ("auth" in m or "pass" in m) for m in msgs)
                )

            limit = detect_limit(c.profile, "galera") + 5.0  # the first poll opens everything
            took = await c.wait(lambda: denied(c), limit)
            assert took is not None, c.describe()
            await c.responsive()
            # node2/node3 (right password) and the layers without a wrong secret keep updating
            upd = await c.others_update(("galera", "haproxy", "alerts", "hosts"), time.time(), 15)
            g = c.app.latest.snapshot.galera if c.app.latest else None
            assert g is not None
            answered = sorted(n.name for n in g.nodes if n.wsrep is not None)
            assert answered == ["node2", "node3"], c.describe()
            text = c.describe()
            assert "not-the-password" not in text
    record(
        "wrong passwords (profile copy: Galera node1, ProxySQL admin, Redis)",
        "access denied / authentication findings naming each endpoint; no secret shown; "
        "the other endpoints keep updating (recovery = the right secret and a restart: "
        "secrets are resolved once per process)",
        f"all three findings after {took:.1f}s from start; node2/node3, HAProxy, alerts, "
        f"hosts answered again within {upd:.1f}s",
        detect_s=round(took, 1),
        t_start=t0,
    )


async def test_servers_restarted_connections_reconnect(fast_profile: Path, tmp_path: Path) -> None:
    """A Galera node and the ProxySQL admin restarted (twice): reads succeed again and the
    console's socket count comes back to its level before the restarts."""
    async with console(fast_profile, tmp_path) as c:
        assert await c.wait(lambda: healthy(c), SETTLE) is not None, c.describe()
        await c.pilot.pause(3.0)
        before = socket_count()
        for rnd in (1, 2):
            t0 = time.time()
            await labctl("fault", "galera-stop", "3")
            await labctl("stop", "proxysql")
            assert (
                await c.wait(
                    lambda: c.app.latest is not None and c.app.latest.state("proxysql").stale, 20
                )
                is not None
            )
            await labctl("up", "--only", "proxysql")
            await labctl("fault", "galera-start", "3", "--wait")

            def reads_again(c: Console, t0: float = t0) -> bool:
                g = c.app.latest.snapshot.galera if c.app.latest else None
                node3 = g.node("node3") if g else None
                return bool(
                    c.has("galera.ok")
                    and node3 is not None
                    and node3.wsrep is not None
                    and c.last_ok("galera") > t0
                    and c.fresh("proxysql")
                    and c.last_ok("proxysql") > t0
                )

            back = await c.wait(lambda: reads_again(c), RECOVER)
            assert back is not None, f"round {rnd}: {c.describe()}"
        await c.pilot.pause(5.0)  # idle pools settle
        after = socket_count()
        record(
            "servers restarted (Galera node3 and the ProxySQL admin, twice)",
            "reads succeed again by themselves; no dead socket kept (socket count stable)",
            f"reads back {back:.1f}s after the restart; sockets {before} before, {after} after",
            sockets_before=before,
            sockets_after=after,
        )
        assert after <= before + 2, f"sockets grew from {before} to {after}"
