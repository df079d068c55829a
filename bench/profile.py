"""Profile the console where a budget is missed: py-spy samples the real ``jaraba-ops`` running
in tmux (120x40), optionally while keys are pressed, and prints the hottest functions (self
and inclusive share of the samples). Not a benchmark; evidence for one.

    python bench/profile.py --profile PATH [--seconds 30] [--keys 23456781 --every 0.4]
                            [--rate 200] [--read-only] [--out /tmp/jaraba-bench/profile.txt]
    python bench/profile.py --summarise FILE.collapsed   # summarise an earlier recording

Needs py-spy (``pip install py-spy``; not a project dependency) and root or ptrace rights.
"""

from __future__ import annotations

import argparse
import collections
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import WORK, jaraba_ops, layers_with_data, loadavg, tmux_session


def samples(collapsed: str) -> Iterator[tuple[list[str], int]]:
    """(frames, count) for each line of py-spy's collapsed stacks; malformed lines skipped."""
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            yield [_short(f) for f in stack.split(";")], int(count)


def top(collapsed: str, n: int = 30) -> str:
    """Self and inclusive sample shares per function from py-spy's collapsed stacks."""
    incl: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    total = 0
    for frames, c in samples(collapsed):
        total += c
        for f in set(frames):
            incl[f] += c
        own[frames[-1]] += c
    if not total:
        return "no samples"
    out = [f"{total} samples", "", "inclusive  self   function"]
    for f, c in incl.most_common(n):
        out.append(f"{100 * c / total:6.1f}%  {100 * own[f] / total:5.1f}%  {f}")
    out += ["", "self-time top:"]
    for f, c in own.most_common(n):
        out.append(f"{100 * c / total:6.1f}%  {f}")
    return "\n".join(out)


#: Where a sample's time goes, by the first marker found in its stack (order matters).
CATEGORIES = (
    ("Widget.recompose", "widget recompose (Footer on bindings/focus change)"),
    ("Screen._refresh_layout", "layout refresh + repaint"),
    ("Compositor.render_update", "compositor repaint"),
    ("Stylesheet.update_nodes", "stylesheet update (classes, pseudo-classes)"),
    ("JarabaApp._apply", "_apply: panes fed an update"),
    ("JarabaApp._on_tick", "_on_tick: 1 s clock"),
    ("Pane.on_show", "Pane.on_show: lazy redraw"),
    ("JarabaApp.action_goto", "action_goto"),
    ("StackMerger.merge", "engine: merge + health rules"),
    ("collect_stack", "collectors on the event loop"),
    ("DaemonWorker._loop", "SQL worker threads"),
    ("WriterThread", "Textual writer thread"),
    ("run_input_thread", "Textual input thread"),
    ("_find_and_load", "imports"),
    ("select (selectors.py)", "waiting in select"),
)


def categories(collapsed: str) -> str:
    cat: collections.Counter[str] = collections.Counter()
    total = 0
    for frames, c in samples(collapsed):
        total += c
        label = next((name for key, name in CATEGORIES if any(key in f for f in frames)), "other")
        cat[label] += c
    if not total:
        return ""
    return "\n".join(f"{100 * v / total:6.1f}%  {k}" for k, v in cat.most_common())


def ours(collapsed: str, n: int = 40) -> str:
    """The package's own functions, inclusive share."""
    lines = top(collapsed, 2000).split("self-time top:")[0].splitlines()
    mine = [ln for ln in lines if "jaraba_tui/" in ln and "cli.py" not in ln]
    return "\n".join(mine[:n])


def summary(collapsed: str) -> str:
    return "\n".join(
        [
            "where the samples go (first marker in the stack):",
            categories(collapsed),
            "",
            "jaraba_tui functions (inclusive, self):",
            ours(collapsed),
            "",
            top(collapsed, 40),
        ]
    )


def _short(frame: str) -> str:
    m = re.match(r"(.*) \((.*?):(\d+)\)$", frame.strip())
    if not m:
        return frame.strip()
    func, path, _line = m.groups()
    for marker in ("site-packages/", "lib/python3.11/", "/work/main/"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{func} ({path})"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--summarise", metavar="COLLAPSED", help="only summarise a py-spy raw file")
    ap.add_argument("--profile", default="local")
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--rate", type=int, default=200)
    ap.add_argument("--keys", default="", help="pane keys pressed in turn while sampling")
    ap.add_argument("--every", type=float, default=0.4)
    ap.add_argument("--idle", action="store_true", help="also sample idle threads")
    ap.add_argument("--read-only", action="store_true", help="pass --read-only to the console")
    ap.add_argument("--out", default=str(WORK / "profile.txt"))
    args = ap.parse_args()
    if args.summarise:
        print(summary(Path(args.summarise).read_text()))
        return 0
    if shutil.which("py-spy") is None:
        raise SystemExit("py-spy not found: pip install py-spy")
    raw = Path(args.out).with_suffix(".collapsed")
    raw.parent.mkdir(parents=True, exist_ok=True)
    with tmux_session("profile") as t:
        argv = [jaraba_ops(), "--profile", args.profile]
        pid = t.start(argv + (["--read-only"] if args.read_only else []))
        t.wait_screen(lambda s: len(layers_with_data(s)) >= 5, 40, 0.2)
        time.sleep(2)
        load0 = loadavg()
        cmd = ["py-spy", "record", "-p", str(pid), "-d", str(int(args.seconds))]
        cmd += ["-r", str(args.rate), "-f", "raw", "-o", str(raw), "--nonblocking"]
        if args.idle:
            cmd.append("--idle")
        spy = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        stop = threading.Event()

        def press() -> None:
            i = 0
            while args.keys and not stop.is_set():
                t.send(args.keys[i % len(args.keys)])
                i += 1
                stop.wait(args.every)

        presser = threading.Thread(target=press, daemon=True)
        presser.start()
        spy.wait(args.seconds + 60)
        stop.set()
        t.quit_and_wait()
    ro = " --read-only" if args.read_only else ""
    report = [
        f"py-spy {' '.join(cmd)}",
        f"profile {args.profile}{ro}, keys {args.keys or '-'} every {args.every}s, load {load0}",
        summary(raw.read_text() if raw.exists() else ""),
    ]
    text = "\n".join(report)
    Path(args.out).write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
