"""Where a key's time goes: benchmark 3's pane keys pressed into the harness's console
(``bench/harness.py --trace``) on the large setup or a given profile, each press split into
what the console's main thread did between the key and the screen that showed its pane.

    python bench/harnesskeys.py [--profile PATH] [--presses 40] [--out FILE.json]

Without ``--profile`` the large setup is started (bench/largesetup.py, ``large-9``) and
stopped afterwards. Per press (ms; all on the monotonic clock the tmux key and Textual's
events share):

- ``wall``: ``tmux send-keys`` -> ``capture-pane`` shows the pane's title (benchmark 3's
  figure, the same loop);
- ``to_made``: send -> the console's input thread made the Key event (tmux, the pty, the
  input thread's turn at the interpreter lock);
- ``to_dispatch``: made -> the main loop dispatched it (what the main thread was busy with:
  ``before`` lists the spans that ran in that gap);
- ``key``: the key's own handling (bindings, the pane switch: ``goto``);
- ``to_frame``: the end of the handling -> the end of the screen update that painted;
- ``to_seen``: that screen update's end -> tmux's capture showed it (the writer thread,
  the terminal, the capture loop);
- ``cpu``: the main thread's CPU in the spans from the key's dispatch to that frame's end
  (key + frame + whatever ran between), and ``busy``: the same spans' wall time.

The summary gives p50/p95 per part and the most frequent spans that delayed a key.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harnessdata as hd
import largesetup
from common import WORK, dist, layers_with_data, loadavg, tmux_session, wait_lab_healthy
from responsiveness import SEQUENCE, _row3


def traces(stats: Path) -> list[list[Any]]:
    """Every ``trace`` record of the console's lines, in start order."""
    out: list[list[Any]] = []
    for line in hd.read(stats):
        out += line.get("trace", [])
    return sorted(out, key=lambda r: r[0])


def press_parts(press: dict[str, Any], spans: list[list[Any]]) -> dict[str, Any]:
    """One press (``key``, ``sent``, ``seen`` monotonic) joined with the console's spans."""
    key, sent, seen = press["key"], press["sent"], press["seen"]
    made = next(
        (r for r in spans if r[3] == "key-made" and r[4] == key and sent - 0.01 <= r[0] <= seen),
        None,
    )
    out: dict[str, Any] = {"key": key, "wall": (seen - sent) * 1000}
    if made is None:
        return out
    created, dispatched = made[0], made[1]
    handled = next(
        (r for r in spans if r[3] == "key" and r[4] == key and abs(r[0] - dispatched) < 1e-4),
        None,
    )
    if handled is None:
        return out
    frame = next((r for r in spans if r[3] == "frame" and r[0] >= handled[1]), None)
    if frame is None or frame[1] > seen + 0.05:
        return out
    between = [
        r
        for r in spans
        if r[3] not in ("key-made",) and r[0] >= dispatched - 1e-5 and r[1] <= frame[1] + 1e-5
    ]
    # spans nested in another (a redraw inside a draw, a gc inside anything) counted once
    top = [
        r for r in between if not any(o is not r and o[0] <= r[0] and r[1] <= o[1] for o in between)
    ]
    before = [
        r
        for r in spans
        if r[3] not in ("key-made",) and r[1] > created and r[0] < dispatched and r is not made
    ]
    out.update(
        to_made=(created - sent) * 1000,
        to_dispatch=(dispatched - created) * 1000,
        key_ms=(handled[1] - handled[0]) * 1000,
        key_cpu=handled[2] * 1000,
        to_frame=(frame[1] - handled[1]) * 1000,
        frame_ms=(frame[1] - frame[0]) * 1000,
        frame_cpu=frame[2] * 1000,
        frame_runq=frame[4][1] if isinstance(frame[4], list) else 0.0,
        to_seen=(seen - frame[1]) * 1000,
        cpu=sum(r[2] for r in top) * 1000,
        busy=sum(r[1] - r[0] for r in top) * 1000,
        between=[[r[3], r[4], round((r[1] - r[0]) * 1000, 1), round(r[2] * 1000, 1)] for r in top],
        before=[[r[3], r[4], round((r[1] - r[0]) * 1000, 1)] for r in before],
    )
    gotos = [r for r in between if r[3] == "goto"]
    if gotos:
        out["goto_cpu"] = gotos[0][2] * 1000
    return out


def summary(parts: list[dict[str, Any]]) -> dict[str, Any]:
    names = ("wall", "to_made", "to_dispatch", "key_ms", "key_cpu", "goto_cpu", "to_frame")
    names += ("frame_ms", "frame_cpu", "frame_runq", "to_seen", "cpu", "busy")
    out: dict[str, Any] = {n: dist([p[n] for p in parts if n in p]) for n in names}
    delays: Counter[str] = Counter()
    for p in parts:
        for kind, detail, _ms in p.get("before", []):
            delays[f"{kind} {detail}" if detail is not None else kind] += 1
    out["delayed_by"] = delays.most_common(10)
    out["per_key_wall_p50"] = {
        k: statistics.median([p["wall"] for p in parts if p["key"] == k])
        for k in SEQUENCE
        if any(p["key"] == k for p in parts)
    }
    return out


@contextlib.contextmanager
def _profile(path: str | None) -> Iterator[str]:
    if path is not None:
        yield path
        return
    with largesetup.running() as info:
        yield str(info["profiles"]["large-9"])  # type: ignore[index]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--profile", help="a profile (default: the large setup's large-9)")
    ap.add_argument("--presses", type=int, default=40)
    ap.add_argument("--out", help="write the presses and the summary here (JSON)")
    ap.add_argument("--gap", type=float, nargs=2, default=(0.2, 0.5), help="s between presses")
    ap.add_argument("--step", type=float, default=0.003, help="s between two captures")
    args = ap.parse_args()
    import random

    wait_lab_healthy()
    stats = WORK / "harnesskeys" / "console.jsonl"
    presses: list[dict[str, Any]] = []
    with _profile(args.profile) as profile, tmux_session("harnesskeys") as t:
        argv = hd.harness_argv(profile, stats, 1.0)
        stats.parent.mkdir(parents=True, exist_ok=True)
        for path in (stats, hd.engine_stats(stats)):
            path.unlink(missing_ok=True)
        t.start([*argv, "--trace"])
        ok, _, screen = t.wait_screen(lambda s: len(layers_with_data(s)) >= 6, 30, 0.2)
        if not ok:
            raise SystemExit(f"no data on screen in 30 s:\n{screen[-1500:]}")
        time.sleep(3.0)
        load0 = loadavg()
        rng = random.Random(6)
        for i in range(args.presses):
            key = SEQUENCE[i % len(SEQUENCE)]
            sent = time.monotonic()
            t.send(key)
            ok, seen, _ = t.wait_screen(lambda s, k=key: _row3(s, k), 15, args.step)
            presses.append({"key": key, "sent": sent, "seen": seen, "ok": ok})
            time.sleep(rng.uniform(*args.gap))
        load1 = loadavg()
        time.sleep(1.5)  # the last lines of the stats
        t.quit_and_wait()
    spans = traces(stats)
    parts = [press_parts(p, spans) for p in presses if p["ok"]]
    summ = summary(parts)
    summ["load"] = [load0, load1]
    for name, d in summ.items():
        print(f"{name:16} {d}")
    if args.out:
        Path(args.out).write_text(json.dumps({"summary": summ, "presses": parts}, indent=1))


if __name__ == "__main__":
    main()
