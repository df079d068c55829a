"""The console against the lab: a Redis master killed under it, the overview changes.

Other engineers inject faults into the same lab, so every wait is for a state (bounded),
never a fixed sleep, and the lab's Redis is restored in a ``finally``.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from jaraba_tui.collectors.sentinel import norm_addr
from jaraba_tui.profile import load_profile
from jaraba_tui.resources import themes_dir
from jaraba_tui.ui.app import ConsoleInfo, JarabaApp
from jaraba_tui.ui.source import engine_source
from tests.labutil import REPO, require_lab
from tests.ui.helpers import until

pytestmark = pytest.mark.lab

REDIS = (6379, 6380, 6381)
SENTINELS = (26379, 26380, 26381)


async def labctl(*args: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(REPO / "lab" / "labctl.py"),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 300)
    return proc.returncode or 0, out.decode(errors="replace")


async def wait_for(pilot: Pilot[Any], cond: Callable[[], bool], limit: float) -> bool:
    return await until(pilot, cond, limit, every=0.25)


def master(app: JarabaApp) -> str:
    r = app.latest.snapshot.redis if app.latest else None
    return (r.master if r else None) or ""


def card_text(app: JarabaApp, layer: str) -> str:
    return str(app.query_one(f"#card-{layer}").render())


async def test_the_overview_follows_a_redis_failover(tmp_path: Path) -> None:
    require_lab(*REDIS, *SENTINELS)
    profile = load_profile("local")
    app = JarabaApp(
        ConsoleInfo.from_profile(profile),
        engine_source(profile),
        state_path=tmp_path / "ui.json",
        theme_dirs=[themes_dir()],
    )
    async with app.run_test(size=(120, 40)) as pilot:

        def settled_redis() -> bool:
            u = app.latest
            r = u.snapshot.redis if u else None
            return bool(
                u
                and r
                and r.master
                and r.master_source == "sentinel-majority"
                and not r.sentinels_disagree
                and all(i.info is not None for i in r.instances)
                and not u.state("redis").stale
            )

        # someone else's fault may still be healing: wait for a settled Redis first
        assert await wait_for(pilot, settled_redis, 120), "Redis never settled in the lab"
        old = master(app)
        assert f"master {old}" in card_text(app, "redis")
        await pilot.pause(2.0)  # the Sentinel subscriptions are up by now
        try:

            def failed_over() -> bool:
                r = app.latest.snapshot.redis if app.latest else None
                return bool(
                    r
                    and r.master
                    and norm_addr(r.master) != norm_addr(old)
                    and r.master_source == "sentinel-majority"
                    and f"master {r.master}" in card_text(app, "redis")
                )

            # Another engineer's `labctl up` can restart the killed master before the
            # Sentinels' down-after (5 s) elapses: then there is no failover; kill again.
            for _attempt in range(3):
                rc, out = await labctl("fault", "redis-kill-master")
                assert rc == 0, out
                if await wait_for(pilot, failed_over, 45):
                    break
                assert await wait_for(pilot, settled_redis, 60)
                old = master(app) or old
            assert failed_over(), card_text(app, "redis")
            assert app.latest is not None and app.latest.snapshot.redis is not None
            new = app.latest.snapshot.redis.master
            redis_entries = [e for e in app.timeline if e.component == "redis"]
            assert any(
                "failover" in e.message and f"→ {new}" in e.message for e in redis_entries
            ), [e.message for e in redis_entries]
            assert any(e.source == "sentinel" and "switched" in e.message for e in redis_entries), (
                "no +switch-master pushed by the Sentinels"
            )
            await pilot.press("5")
            status = str(app.query_one("#redis-status").render())
            assert f"master {new}" in status
        finally:
            rc, out = await labctl("up", "--only", "redis")
        assert rc == 0, out

        def old_master_is_a_replica() -> bool:
            r = app.latest.snapshot.redis if app.latest else None
            inst = r.instance(old) if r else None
            return bool(inst and inst.info and inst.info.role == "slave")

        assert await wait_for(pilot, old_master_is_a_replica, 120)
        await pilot.press("q")
