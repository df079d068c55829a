"""Benchmark 8, detection: how soon the screen shows what happened to Redis.

The console (``jaraba-ops --profile local``, tmux 120x40, the overview) watches the healthy
lab. The benchmark kills the Redis master with ``labctl fault redis-kill-master`` and
  - timestamps the kill itself: a thread polls the master's /proc/PID (from the lab's pid
    file) every millisecond until it is gone;
  - timestamps the Sentinel event: its own subscriber on the three Sentinels records when
    the first ``+switch-master`` arrives;
  - polls capture-pane every ~10 ms until the Redis card says the master is unreachable,
    and until the overview's newest events show the Sentinel's switch.
Then ``labctl up --only redis`` restores the lab, and it waits for a healthy lab.

Budgets (issue 6): master killed -> on screen within one Redis interval + 0.5 s (2.5 s with
local.toml); +switch-master -> on screen within 1 s of the event.
"""

from __future__ import annotations

import json
import os
import statistics
import threading
import time
from pathlib import Path
from typing import Any

from common import (
    Figure,
    card_text,
    jaraba_ops,
    labctl,
    layers_with_data,
    loadavg,
    log,
    result,
    tmux_session,
    wait_lab_healthy,
)

NAME = "detection"
TITLE = "Redis master killed -> screen; Sentinel +switch-master -> screen"
SENTINELS = (26379, 26380, 26381)
MASTER_NAME = "jaraba-master"
REDIS_INTERVAL = 2.0
LAB_DIR = Path(os.environ.get("JARABA_LAB_DIR", "/tmp/jaraba-lab"))


def sentinel_master() -> tuple[str, int] | None:
    import redis

    for port in SENTINELS:
        try:
            r = redis.Redis(port=port, socket_timeout=2)
            addr = r.execute_command("SENTINEL", "get-master-addr-by-name", MASTER_NAME)
            if addr:
                return addr[0].decode(), int(addr[1])
        except Exception:
            continue
    return None


class Subscriber:
    """Our own ear on the Sentinels: monotonic time of each event kind's first arrival."""

    def __init__(self) -> None:
        self.first: dict[str, float] = {}
        self.events: list[tuple[float, str, str]] = []
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for port in SENTINELS:
            th = threading.Thread(target=self._listen, args=(port,), daemon=True)
            th.start()
            self._threads.append(th)
        time.sleep(0.5)

    def _listen(self, port: int) -> None:
        import redis

        try:
            ps = redis.Redis(port=port, socket_timeout=None).pubsub()
            ps.psubscribe("*")
            while not self._stop.is_set():
                msg = ps.get_message(timeout=0.2)
                if not msg or msg["type"] != "pmessage":
                    continue
                t = time.monotonic()
                kind = msg["channel"].decode()
                self.events.append((t, f"sentinel:{port}", kind))
                self.first.setdefault(kind, t)
            ps.close()
        except Exception as exc:
            self.events.append((time.monotonic(), f"sentinel:{port}", f"error {exc}"))

    def stop(self) -> None:
        self._stop.set()


def watch_death(pid: int, out: dict[str, float]) -> threading.Thread:
    def run() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with open(f"/proc/{pid}/stat") as f:
                    state = f.read().rsplit(")", 1)[1].split()[0]
                if state in ("Z", "X"):
                    break
            except (FileNotFoundError, ProcessLookupError):
                break
            time.sleep(0.001)
        out["dead"] = time.monotonic()

    th = threading.Thread(target=run, daemon=True)
    th.start()
    return th


def one_round(i: int) -> dict[str, Any]:
    lab = wait_lab_healthy(180)
    master = sentinel_master()
    if master is None:
        return {"round": i, "error": "no Sentinel names a master", "lab": lab}
    addr = f"{master[0]}:{master[1]}"
    pidfile = LAB_DIR / "pids" / f"redis-{master[1]}.json"
    pid = json.loads(pidfile.read_text())["pid"] if pidfile.exists() else None
    out: dict[str, Any] = {"round": i, "master": addr, "pid": pid, "lab": lab}
    with tmux_session("detect") as t:
        t.start([jaraba_ops(), "--profile", "local"])

        def settled(s: str) -> bool:
            red = card_text(s, "redis")
            return (
                len(layers_with_data(s)) == 6
                and f"master {addr}" in red
                and "3/3 Sentinels agree" in red
            )

        ok, _, screen = t.wait_screen(settled, 60, 0.2)
        if not ok:
            out["error"] = "console never showed a settled Redis"
            out["screen"] = card_text(screen, "redis")
            return out
        time.sleep(3.0)  # the console's Sentinel subscriptions are up by now
        sub = Subscriber()
        sub.start()
        died: dict[str, float] = {}
        if pid is not None:
            watch_death(pid, died)
        out["load"] = loadavg()
        t_cmd = time.monotonic()
        rc, text = labctl("fault", "redis-kill-master", timeout=60)
        t_cmd_end = time.monotonic()
        out["labctl"] = text.strip()[-200:]
        if rc != 0:
            sub.stop()
            out["error"] = f"labctl fault redis-kill-master failed: {text[-300:]}"
            return out
        marks: dict[str, float] = {}
        deadline = time.monotonic() + 45
        while time.monotonic() < deadline and len(marks) < 3:
            s = t.capture()
            now = time.monotonic()
            red = card_text(s, "redis")
            if "down" not in marks and ("unreachable" in red or "down" in red):
                marks["down"] = now
                out["down_text"] = red.splitlines()[:3]
            if "switched" not in marks and "switched" in s:
                marks["switched"] = now
                out["switch_text"] = next(
                    (ln.strip(" │") for ln in s.splitlines() if "switched" in ln), ""
                )
            head = red.splitlines()[0] if red else ""
            moved = head.startswith("master ") and addr not in head and "unknown" not in head
            if "new_master" not in marks and moved:
                marks["new_master"] = now
            time.sleep(0.01)
        sub.stop()
    t_kill = died.get("dead", t_cmd_end)
    out["kill_timestamp"] = "pid watcher" if "dead" in died else "labctl returned"
    out["labctl_s"] = round(t_cmd_end - t_cmd, 3)
    for key, t_m in marks.items():
        out[f"kill_to_{key}_s"] = round(t_m - t_kill, 3)
    ev = sub.first.get("+switch-master")
    if ev is not None:
        out["kill_to_switch_event_s"] = round(ev - t_kill, 3)
        if "switched" in marks:
            out["switch_event_to_screen_s"] = round(marks["switched"] - ev, 3)
    out["sentinel_first"] = {
        k: round(v - t_kill, 3)
        for k, v in sub.first.items()
        if k in ("+sdown", "+odown", "+switch-master", "+failover-end")
    }
    return out


def restore() -> dict[str, Any]:
    rc, text = labctl("up", "--only", "redis", timeout=300)
    return {"rc": rc, "tail": text.strip()[-300:]}


def bench(opts: Any) -> dict[str, Any]:
    rounds = []
    for i in range(1, opts.reps + 1):
        log(f"detection round {i}/{opts.reps}")
        try:
            r = one_round(i)
        finally:
            r_restore = restore()
        r["restore"] = r_restore
        rounds.append(r)
        log(f"  -> { ({k: v for k, v in r.items() if k.endswith('_s')}) }")
    lab = wait_lab_healthy(180)
    down = [r["kill_to_down_s"] for r in rounds if "kill_to_down_s" in r]
    sw = [r["switch_event_to_screen_s"] for r in rounds if "switch_event_to_screen_s" in r]
    loads = [r["load"][0] for r in rounds if "load" in r]
    load = [max(loads)] if loads else loadavg()
    cmd = (
        "labctl fault redis-kill-master; tmux capture-pane every 10 ms (jaraba-ops --profile local)"
    )
    figs = [
        Figure(
            "kill_to_screen_max_s",
            "master killed -> screen (worst round)",
            max(down, default=None),
            "s",
            budget=REDIS_INTERVAL + 0.5,
            load=load,
            command=cmd,
            note=f"{len(down)} rounds; kill timed by /proc/PID watcher",
        ),
        Figure(
            "kill_to_screen_p50_s",
            "master killed -> screen (median)",
            _med(down),
            "s",
            load=load,
            command=cmd,
        ),
        Figure(
            "switch_to_screen_max_s",
            "+switch-master -> screen (worst round)",
            max(sw, default=None),
            "s",
            budget=1.0,
            load=load,
            command=cmd,
            note="event time: our own Sentinel subscriber",
        ),
        Figure(
            "switch_to_screen_p50_s",
            "+switch-master -> screen (median)",
            _med(sw),
            "s",
            load=load,
            command=cmd,
        ),
    ]
    return result(NAME, figs, rounds=rounds, lab_after=lab, redis_interval_s=REDIS_INTERVAL)


def _med(xs: list[float]) -> float | None:
    return round(statistics.median(xs), 3) if xs else None
