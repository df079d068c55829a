"""The slow one, done once: every Galera node killed (kill -9) under the running console,
then a Galera bootstrap (a real ``jaraba-ops action galera.bootstrap --yes`` process) whose
bootstrap node is killed mid-way; then ``labctl up`` recovers the cluster and the console
follows by itself."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from lab import galera
from lab.procs import Procs
from tests.faults.conftest import Console, console, detect_limit, labctl, record, write_profile
from tests.faults.test_nothing_lost import audit_lines
from tests.labutil import LAB_DIR, port_open

pytestmark = [pytest.mark.lab, pytest.mark.slow, pytest.mark.usefixtures("lab")]

PORTS = {"node1": 3307, "node2": 3308, "node3": 3309}


def all_down(c: Console) -> bool:
    g = c.app.latest.snapshot.galera if c.app.latest else None
    return bool(
        g
        and all(n.wsrep is None for n in g.nodes)
        and all(c.has(code, name) for name in PORTS for code in ("galera.not_running",))
    )


async def test_all_galera_nodes_killed_then_a_node_dies_during_bootstrap(tmp_path: Path) -> None:
    audit = tmp_path / "audit" / "audit.log"
    profile = write_profile(tmp_path / "p.toml", audit_log=audit)
    async with console(profile, tmp_path) as c:
        ok = await c.wait(lambda: c.all_fresh() and c.has("galera.ok"), 90)
        assert ok is not None, c.describe()
        await labctl("fault", "galera-kill-all")
        limit = detect_limit(c.profile, "galera")
        took = await c.wait(lambda: all_down(c), limit)
        assert took is not None, c.describe()
        key_s = await c.responsive()
        others = ("proxysql", "haproxy", "redis", "alerts", "hosts")
        upd = await c.others_update(others, time.time(), limit)
        record(
            "kill -9 all three Galera nodes",
            "CRIT every node down (mariadbd not running); the other panes keep updating",
            f"all three 'not running' after {took:.1f}s (limit {limit:.0f}s); a key answered "
            f"in {key_s:.2f}s; {', '.join(others)} answered again within {upd:.1f}s",
            detect_s=round(took, 1),
        )

        # the bootstrap, killed under it: its first node dies while it starts
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "jaraba_tui",
            "--profile",
            str(profile),
            "action",
            "galera.bootstrap",
            "galera",
            "--yes",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        first = ""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 180
        while loop.time() < deadline and not first:
            if audit.exists():
                for r in audit_lines(audit):
                    if r["event"] == "started":
                        first = r["plan"]["summary"].split()[2]  # "bootstrap from nodeN at ..."
            assert proc.returncode is None, "the bootstrap ended before it started"
            await c.pilot.pause(0.1)
        assert first in PORTS, f"no bootstrap node in the plan: {first!r}"
        # kill -9 the bootstrap node as soon as the lab records it started: mariadbd needs
        # seconds (InnoDB, wsrep) before it is Synced, so it dies while it starts.
        procs = Procs(LAB_DIR)
        pid = None
        while loop.time() < deadline and pid is None:
            pid = procs.pid(f"galera-{first}")
            if pid is None:
                assert proc.returncode is None, "the bootstrap ended before it started a node"
                await asyncio.sleep(0.05)
        assert pid is not None, f"{first} was never started by the bootstrap"
        os.kill(pid, signal.SIGKILL)
        t_kill = time.time()
        out, _ = await asyncio.wait_for(proc.communicate(), 300)
        text = out.decode(errors="replace")
        assert proc.returncode not in (0, None), text
        records = audit_lines(audit)
        final = records[-1]
        assert final["event"] == "finished", text
        assert final["status"] == "failed", final
        left = final["outcome"]["left_in"]
        steps = [r["step"] for r in records if r["event"] == "step"]
        step_titles = [f"{s['title']}: {s['status']}" for s in steps]
        # it stopped at the start of the bootstrap node: nothing after it ran
        assert steps[-1]["title"].startswith(f"start {first} as a new cluster"), step_titles
        assert steps[-1]["status"] == "failed", step_titles
        assert all(s["status"] != "failed" for s in steps[:-1]), step_titles
        assert not any(s["title"].startswith("wait until") for s in steps), step_titles
        # the real state: no node answers, no mariadbd of the lab runs (none left half-started)
        running = [name for name, port in PORTS.items() if port_open(port)]
        assert running == [], f"the audit says {left!r} but {running} answer"
        assert not [n.name for n in galera.nodes(LAB_DIR) if procs.alive(n.name)]
        assert galera.stray_pids(procs) == []
        # and the final record says so: what was not run, and what was seen
        assert f"not run: {len(steps) + 1}. wait until {first} is Synced" in left, left
        seen = left.split("Seen after the failure:", 1)[-1]
        assert "Seen after the failure" in left and all(
            f"{name}: no SQL answer" in seen for name in PORTS
        ), left
        await c.responsive()
        record(
            "a node dies during a Galera bootstrap (the bootstrap node kill -9 while it starts)",
            "the action stops at that step, starts no other node, and its final audit "
            "record says what it left (checked: no node answers, no mariadbd left)",
            f"failed {time.time() - t_kill:.1f}s after the kill at step "
            f"{len(steps)} ({steps[-1]['title']}: {steps[-1]['detail'][:120]}); later steps "
            f"not run; left_in: {left[:260]}",
        )

        # the fault undone: `labctl up` recovers the cluster, the console follows
        t0 = time.time()
        await labctl("up", "--only", "galera")
        back = await c.wait(lambda: c.has("galera.ok") and c.fresh("galera"), 120)
        assert back is not None, c.describe()
        record(
            "full Galera outage undone (`labctl up`: --wsrep-recover, bootstrap, joins)",
            "the console shows 3/3 Synced by itself",
            f"galera.ok {time.time() - t0:.1f}s after `labctl up` began",
        )
