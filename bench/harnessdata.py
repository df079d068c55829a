"""Reading what bench/harness.py wrote (JSON lines) and running it in tmux."""

from __future__ import annotations

import json
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from common import BENCH, Tmux, dist


def harness_argv(profile: str, stats: Path, every: float) -> list[str]:
    return [
        sys.executable,
        str(BENCH / "harness.py"),
        "--profile",
        profile,
        "--stats",
        str(stats),
        "--every",
        str(every),
    ]


def start(t: Tmux, profile: str, stats: Path, every: float) -> int:
    stats.parent.mkdir(parents=True, exist_ok=True)
    if stats.exists():
        stats.unlink()
    return t.start(harness_argv(profile, stats, every))


def read(stats: Path) -> list[dict[str, Any]]:
    if not stats.exists():
        return []
    out = []
    for line in stats.read_text().splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            continue
    return out


def wait_samples(stats: Path, n: int, limit: float) -> bool:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if sum(1 for s in read(stats) if "t" in s and "exit" not in s) >= n:
            return True
        time.sleep(0.5)
    return False


def timings(samples: list[dict[str, Any]], t0: float, t1: float) -> dict[str, list[Any]]:
    """Every collect/apply/frame/queue record whose wall-clock start is in [t0, t1)."""
    out: dict[str, list[Any]] = defaultdict(list)
    for s in samples:
        for rec in s.get("collect", []):
            if t0 <= rec[1] < t1:
                out["collect"].append(rec)
        for key in ("apply", "frame"):
            for rec in s.get(key, []):
                if t0 <= rec[0] < t1:
                    out[key].append(rec)
        if t0 <= s.get("wall", 0) < t1:
            out["queue"].extend(s.get("queue", []))
    return out


def cycles(
    rec: dict[str, list[Any]], t0: float, t1: float, interval: float
) -> list[dict[str, float]]:
    """Windows of one poll interval: poll = the slowest layer poll that started in it (the
    layers poll concurrently); render = every update's handling plus every screen update in
    it (one thread: they add up); cycle = poll + render."""
    out = []
    w = t0
    while w + interval <= t1 + 1e-6:
        polls = [r[2] for r in rec["collect"] if w <= r[1] < w + interval]
        applies = [r[1] for r in rec["apply"] if w <= r[0] < w + interval]
        frames = [r[1] for r in rec["frame"] if w <= r[0] < w + interval]
        if polls:
            poll = max(polls) * 1000
            render = (sum(applies) + sum(frames)) * 1000
            out.append(
                {
                    "poll_ms": poll,
                    "render_ms": render,
                    "apply_ms": sum(applies) * 1000,
                    "frames_ms": sum(frames) * 1000,
                    "cycle_ms": poll + render,
                }
            )
        w += interval
    return out


def per_layer(rec: dict[str, list[Any]]) -> dict[str, Any]:
    layers = sorted({r[0] for r in rec["collect"]})
    return {
        "layer_poll_ms": {
            layer: dist([r[2] * 1000 for r in rec["collect"] if r[0] == layer]) for layer in layers
        },
        "layer_apply_ms": {
            layer: dist([r[1] * 1000 for r in rec["apply"] if r[2] == layer])
            for layer in sorted({r[2] for r in rec["apply"]})
        },
        "frame_ms": dist([r[1] * 1000 for r in rec["frame"]]),
        "queue_wait_ms": dist([q[1] * 1000 for q in rec["queue"]]),
    }
