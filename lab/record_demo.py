#!/usr/bin/env python3
"""Record the demo incident shipped with jaraba-ops (``jaraba-ops demo``), from the lab.

Runs the console's own poll engine on the lab profile with recording on (the same
``RecordingSource`` as ``jaraba-ops --record``), and drives a real incident through the
lab's fault injection and the guarded actions' CLI, in order:

1. a Galera node lost (``labctl fault galera-kill 2``) and rejoined (``galera-start 2``);
2. a Redis failover (``labctl fault redis-kill-master``; Sentinel promotes a replica), and
   the old master restarted (it comes back as a replica);
3. an HAProxy server down (``labctl fault app-stop blue2``), then back;
4. a blue/green switch (``jaraba-ops action bluegreen.switch green --yes``) and its
   rollback (``bluegreen.switch blue --yes``), both audited: the recording holds the actions.

Each step waits until the console's engine has *seen* its effect (bounded waits: the
script fails with a clear message when the lab does not behave), then lets the stack settle.

Usage (inside a lab; it injects faults, so use your own lab, e.g. in a private netns)::

    python3 lab/labctl.py up
    python3 lab/record_demo.py [-o jaraba_tui/record/data/demo-incident.jsonl.gz]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from jaraba_tui.actions.audit import default_audit_path  # noqa: E402
from jaraba_tui.engine import EngineUpdate  # noqa: E402
from jaraba_tui.model.snapshot import LAYERS, StackSnapshot  # noqa: E402
from jaraba_tui.profile import load_profile  # noqa: E402
from jaraba_tui.record.live import RecordingSource  # noqa: E402
from jaraba_tui.record.writer import Recorder  # noqa: E402
from jaraba_tui.ui.source import engine_source  # noqa: E402

DEFAULT_OUT = REPO / "jaraba_tui" / "record" / "data" / "demo-incident.jsonl.gz"


class Scenario:
    def __init__(self, settle: float) -> None:
        self.latest: EngineUpdate | None = None
        self.settle = settle
        self.t0 = time.monotonic()

    def on_update(self, update: EngineUpdate) -> None:
        self.latest = update

    def say(self, text: str) -> None:
        print(f"[{time.monotonic() - self.t0:6.1f}s] {text}", flush=True)

    @property
    def snap(self) -> StackSnapshot | None:
        return self.latest.snapshot if self.latest is not None else None

    async def until(
        self, what: str, pred: Callable[[StackSnapshot], bool], timeout: float = 120.0
    ) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            snap = self.snap
            if snap is not None:
                try:
                    if pred(snap):
                        self.say(f"seen: {what}")
                        return
                except (AttributeError, TypeError):
                    pass
            await asyncio.sleep(0.5)
        raise SystemExit(f"record_demo: the console never saw {what} within {timeout:.0f}s")

    async def run(self, *argv: str, check: bool = True) -> None:
        self.say("$ " + " ".join(argv))
        proc = await asyncio.create_subprocess_exec(
            *argv,
            cwd=REPO,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await proc.communicate()
        text = out.decode(errors="replace").strip()
        for line in text.splitlines()[-6:]:
            print(f"    {line}", flush=True)
        if check and proc.returncode != 0:
            raise SystemExit(f"record_demo: {' '.join(argv)} failed (exit {proc.returncode})")

    async def pause(self, seconds: float | None = None) -> None:
        await asyncio.sleep(self.settle if seconds is None else seconds)


def labctl(*args: str) -> tuple[str, ...]:
    return (sys.executable, str(REPO / "lab" / "labctl.py"), *args)


def action(name: str, target: str) -> tuple[str, ...]:
    return (sys.executable, "-m", "jaraba_tui", "action", name, target, "--yes")


def galera_size(s: StackSnapshot) -> int | None:
    return s.galera.primary_size if s.galera is not None else None


def server(s: StackSnapshot, backend: str, name: str) -> str:
    assert s.haproxy is not None
    return next(x.status for x in s.haproxy.servers if x.proxy == backend and x.name == name)


def healthy(s: StackSnapshot) -> bool:
    assert s.haproxy is not None and s.redis is not None
    return (
        galera_size(s) == 3
        and all(x.status == "UP" for x in s.haproxy.servers)
        and s.redis.master is not None
        and s.haproxy.live_colour == "blue"
    )


async def incident(sc: Scenario) -> None:
    await sc.until("a healthy stack (Galera 3/3, every server UP, blue live)", healthy, 90)
    await sc.pause()

    sc.say("1. Galera: node2 is lost (kill -9) and rejoins")
    await sc.run(*labctl("fault", "galera-kill", "2"))
    await sc.until("Galera size 2", lambda s: galera_size(s) == 2)
    await sc.pause()
    await sc.run(*labctl("fault", "galera-start", "2", "--wait"), check=True)
    await sc.until("Galera size 3 again", lambda s: galera_size(s) == 3, 180)
    await sc.pause()

    sc.say("2. Redis: the master is killed; Sentinel fails over")
    assert sc.snap is not None and sc.snap.redis is not None
    old_master = sc.snap.redis.master
    await sc.run(*labctl("fault", "redis-kill-master"))
    await sc.until(
        f"a new Redis master (was {old_master})",
        lambda s: s.redis is not None and s.redis.master not in (None, old_master),
        120,
    )
    await sc.pause()
    await sc.run(*labctl("start", "redis"))
    await sc.until(
        "every Redis instance answering again",
        lambda s: s.redis is not None and all(i.info is not None for i in s.redis.instances),
        90,
    )
    await sc.pause()

    sc.say("3. HAProxy: app server blue2 stops")
    await sc.run(*labctl("fault", "app-stop", "blue2"))
    await sc.until("bk_app_blue/app2 DOWN", lambda s: server(s, "bk_app_blue", "app2") != "UP")
    await sc.pause()
    await sc.run(*labctl("start", "apps"))
    await sc.until("bk_app_blue/app2 UP again", lambda s: server(s, "bk_app_blue", "app2") == "UP")
    await sc.pause()

    sc.say("4. Blue/green: switch to green, then roll back to blue (guarded actions)")
    await sc.run(*action("bluegreen.switch", "green"))
    await sc.until(
        "green live", lambda s: s.haproxy is not None and s.haproxy.live_colour == "green"
    )
    await sc.pause()
    await sc.run(*action("bluegreen.switch", "blue"))
    await sc.until(
        "blue live again", lambda s: s.haproxy is not None and s.haproxy.live_colour == "blue"
    )
    await sc.until("a healthy stack again", healthy, 120)
    await sc.pause()


async def main_async(args: argparse.Namespace) -> int:
    profile = load_profile(args.profile)
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    recorder = Recorder(
        tmp,
        profile=profile.name,
        environment=profile.environment,
        description=profile.description,
        layers=LAYERS,
        min_interval=args.min_interval,
    )
    sc = Scenario(args.settle)
    source = RecordingSource(
        engine_source(profile),
        sc.on_update,
        recorder,
        audit_path=default_audit_path(profile),
        profile=profile.name,
    )
    runner = asyncio.create_task(source.run())
    try:
        await incident(sc)
    finally:
        await source.aclose()
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)
    size = publish(tmp, out)
    sc.say(f"recorded {recorder.lines} lines ({recorder.skipped} thinned) to {out} ({size} KiB)")
    return 0


def publish(tmp: Path, out: Path) -> int:
    """The finished recording replaces the old one (a failed run leaves the old one)."""
    tmp.replace(out)
    return round(out.stat().st_size / 1024)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("-o", "--output", default=str(DEFAULT_OUT), help=f"default {DEFAULT_OUT}")
    p.add_argument("--profile", default="local", help="the lab's profile (default local)")
    p.add_argument(
        "--min-interval",
        type=float,
        default=8.0,
        help="seconds between two recorded polls of one layer when nothing changed (default 8)",
    )
    p.add_argument("--settle", type=float, default=12.0, help="seconds between steps (default 12)")
    args = p.parse_args()
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    raise SystemExit(main())
