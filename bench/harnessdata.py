"""Reading what bench/harness.py wrote (JSON lines) and running it in tmux.

The console's lines are in the ``--stats`` file; in ``process`` mode (the product's: the
engine forked into its own process) the engine child's lines are in
:func:`engine_stats` next to it. :func:`timings` gathers the records of both, and
:func:`updates` joins each poll (engine side) with its way to the screen (console side) on
the update's own stamp (layer, at). Both processes stamp with ``time.time()`` (one clock).
"""

from __future__ import annotations

import json
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from common import BENCH, Tmux, dist

#: The harness's engine modes (see bench/harness.py); ``process`` is the product's.
ENGINES = ("process", "thread")


def engine_stats(stats: Path) -> Path:
    """Where the engine child writes its lines (``OUT.engine.jsonl`` next to ``OUT.jsonl``)."""
    return stats.with_name(f"{stats.stem}.engine.jsonl")


def harness_argv(profile: str, stats: Path, every: float, engine: str = "process") -> list[str]:
    return [
        sys.executable,
        str(BENCH / "harness.py"),
        "--profile",
        profile,
        "--stats",
        str(stats),
        "--every",
        str(every),
        "--engine",
        engine,
    ]


def start(t: Tmux, profile: str, stats: Path, every: float, engine: str = "process") -> int:
    stats.parent.mkdir(parents=True, exist_ok=True)
    for path in (stats, engine_stats(stats)):
        if path.exists():
            path.unlink()
    return t.start(harness_argv(profile, stats, every, engine))


def read(stats: Path) -> list[dict[str, Any]]:
    """The console's lines."""
    if not stats.exists():
        return []
    out = []
    for line in stats.read_text().splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            continue
    return out


def read_engine(stats: Path) -> list[dict[str, Any]]:
    """The engine child's lines (none in ``thread`` mode)."""
    return read(engine_stats(stats))


def wait_samples(stats: Path, n: int, limit: float) -> bool:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if sum(1 for s in read(stats) if "t" in s and "exit" not in s) >= n:
            return True
        time.sleep(0.5)
    return False


def timings(
    samples: list[dict[str, Any]],
    t0: float,
    t1: float,
    engine_samples: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Every record whose wall-clock start is in [t0, t1): ``collect``, ``poll`` (from the
    engine child's lines when there are, else the console's), ``apply``, ``frame``,
    ``decode``; ``ui`` (each update's way to the screen) is kept whole, keyed by (layer, at),
    for :func:`updates` (an update polled near t1 is shown after it)."""
    out: dict[str, Any] = defaultdict(list)
    for s in [*samples, *(engine_samples or [])]:
        for rec in s.get("collect", []):
            if t0 <= rec[1] < t1:
                out["collect"].append(rec)
        for rec in s.get("poll", []):
            if t0 <= rec[2] < t1:
                out["poll"].append(rec)
        for key in ("apply", "frame", "decode"):
            for rec in s.get(key, []):
                if t0 <= rec[0] < t1:
                    out[key].append(rec)
    shown: dict[tuple[str, float], list[Any]] = {}
    for s in samples:
        for rec in s.get("ui", []):
            shown[(rec[0], rec[1])] = rec
    out["ui"] = shown
    return out


def updates(rec: dict[str, Any]) -> list[dict[str, Any]]:
    """Each poll of the window joined with its update's way to the screen (ms):

    - ``poll``: the layer's collect (engine side);
    - ``merge``: collect end -> the engine emits the update (merge, health rules);
    - ``queue``: emitted -> the console's loop read it (process: the pickle, the pipe write
      and the console's loop busy with other work; thread: the UI loop's queue);
    - ``decode``: read -> handed to the app (process: unpickle + rebuild; thread: 0);
    - ``to_apply``: -> the app's handler ran (Textual's message queue);
    - ``draw``: -> the panes were fed (``_draw_updates``; waits for the other queued updates);
    - ``to_screen``: -> the end of the next screen update that painted (0 when the draw left
      nothing to paint);
    - ``e2e``: poll start -> shown: the whole of it (the sum of the parts above);
    - ``handoff`` (not a part: it overlaps ``queue``): the engine's ``on_update`` call
      (process: pickle + pipe write).

    Polls whose update never reached the screen (the console quit, or it was still on its
    way at the end of the run) are left out (``shown`` None)."""
    out = []
    ui = rec.get("ui", {})
    for layer, at, start, poll_s, emit, emitted in rec.get("poll", []):
        # engine side: emit/emitted; console side: read, handed (to the app), applied, ...
        u = ui.get((layer, at))
        row: dict[str, Any] = {"layer": layer, "start": start, "poll": poll_s * 1000}
        if u is None:
            row["shown"] = None
            out.append(row)
            continue
        _l, _a, read, handed, applied, drawn, shown, framed = u
        end = start + poll_s
        row.update(
            merge=(emit - end) * 1000,
            queue=(read - emit) * 1000,
            decode=(handed - read) * 1000,
            to_apply=(applied - handed) * 1000,
            draw=(drawn - applied) * 1000,
            to_screen=(shown - drawn) * 1000,
            e2e=(shown - start) * 1000,
            handoff=(emitted - emit) * 1000,
            shown=shown,
            framed=framed,
        )
        out.append(row)
    return out


def cycles(rec: dict[str, Any], t0: float, t1: float, interval: float) -> list[dict[str, Any]]:
    """Windows of one poll interval (the layers poll concurrently, once per window):

    - ``cycle_ms`` (the budget's "poll + render per cycle"): the slowest of the window's
      polls from its start to its update on the screen (:func:`updates`' e2e): poll, hand-off,
      wait, decode, apply, draw and paint, in whichever process each runs;
    - ``poll_ms``: the slowest layer collect started in the window;
    - ``render_ms``: the console's own work in the window, one after another on its thread:
      decode (process mode) + every update's handling (panes fed) + every screen update;
    - ``sum_ms`` = poll_ms + render_ms: the definition of sessions 1-3 (the poll and the
      render on one interpreter); with the engine in its own process an upper bound, not a
      latency."""
    out = []
    ups = updates(rec)
    w = t0
    while w + interval <= t1 + 1e-6:
        polls = [r[2] for r in rec["collect"] if w <= r[1] < w + interval]
        applies = [r[1] for r in rec["apply"] if w <= r[0] < w + interval]
        frames = [r[1] for r in rec["frame"] if w <= r[0] < w + interval]
        decodes = [r[1] for r in rec["decode"] if w <= r[0] < w + interval]
        window = [u for u in ups if w <= u["start"] < w + interval]
        e2e = [u["e2e"] for u in window if u["shown"] is not None]
        if polls:
            poll = max(polls) * 1000
            render = (sum(decodes) + sum(applies) + sum(frames)) * 1000
            out.append(
                {
                    "cycle_ms": max(e2e) if e2e else None,
                    "poll_ms": poll,
                    "render_ms": render,
                    "decode_ms": sum(decodes) * 1000,
                    "apply_ms": sum(applies) * 1000,
                    "frames_ms": sum(frames) * 1000,
                    "sum_ms": poll + render,
                    "unshown": len(window) - len(e2e),
                }
            )
        w += interval
    return out


PARTS = ("poll", "merge", "queue", "decode", "to_apply", "draw", "to_screen", "e2e", "handoff")


def per_layer(rec: dict[str, Any]) -> dict[str, Any]:
    layers = sorted({r[0] for r in rec["collect"]})
    ups = [u for u in updates(rec) if u["shown"] is not None]
    return {
        "layer_poll_ms": {
            layer: dist([r[2] * 1000 for r in rec["collect"] if r[0] == layer]) for layer in layers
        },
        "layer_e2e_ms": {
            layer: {part: dist([u[part] for u in ups if u["layer"] == layer]) for part in PARTS}
            for layer in sorted({u["layer"] for u in ups})
        },
        "parts_ms": {part: dist([u[part] for u in ups]) for part in PARTS},
        "unframed_updates": sum(1 for u in ups if not u["framed"]),
        "layer_apply_ms": {
            layer: dist([r[1] * 1000 for r in rec["apply"] if r[2] == layer])
            for layer in sorted({r[2] for r in rec["apply"]})
        },
        "frame_ms": dist([r[1] * 1000 for r in rec["frame"]]),
        "decode_ms": dist([r[1] * 1000 for r in rec["decode"]]),
    }
