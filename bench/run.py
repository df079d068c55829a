"""jaraba-ops benchmark suite (issue 6): runs the benchmarks, writes bench/results/<name>.json
and prints a summary table: every figure next to its budget, "met" or "missed".

    python bench/run.py                       # everything, full durations (about 45 min)
    python bench/run.py --quick               # everything, short durations (about 12 min)
    python bench/run.py --only cost,startup   # a subset; --skip soak; --list
    python bench/run.py --soak-seconds 120 --cost-seconds 30 --reps 2

Benchmarks are measurements, not tests: nothing here fails on a missed budget (exit 0; 1 only
when a benchmark could not run). Each figure carries the load average at the time and the
command that produced it. Read bench/README.md for what each one measures and how.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import RESULTS, git_state, loadavg, now_iso, write_result

ORDER = (
    "poll_cycle",
    "cost",
    "responsiveness",
    "startup",
    "scale",
    "soak",
    "hung",
    "detection",
)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--only", help="comma-separated benchmarks (see --list)")
    ap.add_argument("--skip", help="comma-separated benchmarks to leave out")
    ap.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    ap.add_argument("--quick", action="store_true", help="short durations everywhere")
    ap.add_argument("--cycles", type=int, help="poll_cycle: cycles (default 50; quick 15)")
    ap.add_argument("--cost-seconds", type=float, help="cost: window (default 60; quick 20)")
    ap.add_argument("--reps", type=int, help="cost/startup/detection repetitions (default 3)")
    ap.add_argument("--presses", type=int, help="responsiveness: presses per case (default 40)")
    ap.add_argument("--scale-seconds", type=float, help="scale: per pane (default 30; quick 12)")
    ap.add_argument("--soak-seconds", type=float, help="soak: duration (default 600; quick 90)")
    ap.add_argument(
        "--engine",
        choices=("process", "thread"),
        default=os.environ.get("JARABA_BENCH_ENGINE", "process"),
        help="scale/soak: the console's poll engine in its own process (the product's "
        "default) or on a thread (JARABA_ENGINE=thread); default $JARABA_BENCH_ENGINE or process",
    )
    ap.add_argument("--no-summary-file", action="store_true", help="do not write summary.md")
    ap.add_argument(
        "--summary-only", action="store_true", help="rebuild summary.md from the result files"
    )
    opts = ap.parse_args(argv)
    q = opts.quick
    defaults: dict[str, Any] = {
        "cycles": 15 if q else 50,
        "cost_seconds": 20.0 if q else 60.0,
        "reps": 1 if q else 3,
        "presses": 16 if q else 40,
        "scale_seconds": 12.0 if q else 30.0,
        "soak_seconds": 90.0 if q else 600.0,
    }
    for key, value in defaults.items():
        if getattr(opts, key) is None:
            setattr(opts, key, value)
    return opts


def selected(opts: argparse.Namespace) -> list[str]:
    names = list(ORDER)
    if opts.only:
        wanted = [n.strip() for n in opts.only.split(",") if n.strip()]
        unknown = [n for n in wanted if n not in ORDER]
        if unknown:
            raise SystemExit(f"unknown benchmark(s): {', '.join(unknown)}; see --list")
        names = [n for n in ORDER if n in wanted]
    if opts.skip:
        skip = {n.strip() for n in opts.skip.split(",")}
        names = [n for n in names if n not in skip]
    return names


def fmt(value: Any, unit: str) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        text = (
            f"{value:.3f}"
            if abs(value) < 1
            else f"{value:.2f}"
            if abs(value) < 100
            else f"{value:.0f}"
        )
    else:
        text = str(value)
    return f"{text} {unit}".strip()


def table(results: list[dict[str, Any]]) -> list[str]:
    rows = [("benchmark", "figure", "value", "budget", "", "load 1m")]
    for res in results:
        name = res.get("benchmark", "?")
        if "error" in res and not res.get("figures"):
            rows.append((name, "ERROR: " + str(res["error"]).splitlines()[-1][:60], "", "", "", ""))
            continue
        for f in res.get("figures", []):
            budget = f"{f['op']} {fmt(f['budget'], f['unit'])}" if f["budget"] is not None else ""
            verdict = {True: "met", False: "MISSED", None: ""}[f["met"]]
            load = f"{f['load'][0]:.2f}" if f.get("load") else ""
            rows.append((name, f["label"], fmt(f["value"], f["unit"]), budget, verdict, load))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out = []
    for i, r in enumerate(rows):
        out.append("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
        if i == 0:
            out.append("  ".join("-" * w for w in widths))
    return out


def summary_file(results: list[dict[str, Any]]) -> Path:
    lines = [
        "# Benchmark summary",
        "",
        f"Written by `bench/run.py` at {now_iso()} from the result files in this directory "
        "(each benchmark's own JSON has the commands, raw samples and load averages).",
        "",
        "```",
        *table(results),
        "```",
        "",
        "| benchmark | when (UTC) | load at start | product commit (start -> end) |",
        "|---|---|---|---|",
    ]
    for res in results:
        g0 = (res.get("git_start") or res.get("git") or {}).get("head", "?")
        g1 = (res.get("git_end") or res.get("git") or {}).get("head", "?")
        commits = g0 if g0 == g1 else f"{g0} -> {g1}"
        lines.append(
            f"| {res.get('benchmark')} | {res.get('when', '?')} | {res.get('load_start', '?')} "
            f"| {commits} |"
        )
    out = RESULTS / "summary.md"
    out.write_text("\n".join(lines) + "\n")
    return out


def main(argv: list[str] | None = None) -> int:
    opts = parse(argv)
    if opts.list:
        for name in ORDER:
            mod = importlib.import_module(name)
            print(f"{name:16} {getattr(mod, 'TITLE', '')}")
        return 0
    if opts.summary_only:
        every = load_results()
        print("\n".join(table(every)))
        print(f"\n{summary_file(every)}")
        return 0
    names = selected(opts)
    ran: list[dict[str, Any]] = []
    failed = False
    for name in names:
        print(f"== {name}  (load {loadavg()})", flush=True)
        started = time.monotonic()
        load0 = loadavg()
        git0 = git_state()
        try:
            mod = importlib.import_module(name)
            res = mod.bench(opts)
        except KeyboardInterrupt:
            raise
        except Exception as exc:
            failed = True
            traceback.print_exc()
            res = {"benchmark": name, "when": now_iso(), "error": f"{type(exc).__name__}: {exc}"}
        git1 = git_state()
        res["git_start"], res["git_end"] = git0, git1
        if git0 != git1:  # the working tree is shared: say when the product changed under us
            res["code_changed_during_run"] = True
            print(f"   !! product code changed during {name}: {git0} -> {git1}", flush=True)
        res["load_start"] = load0
        res["load_end"] = loadavg()
        res["duration_s"] = round(time.monotonic() - started, 1)
        res["options"] = {k: v for k, v in vars(opts).items() if k not in ("list",)}
        out = write_result(name, res)
        print(f"   -> {out.relative_to(Path.cwd()) if out.is_relative_to(Path.cwd()) else out}")
        ran.append(res)
    print()
    print("\n".join(table(ran)))
    if not opts.no_summary_file:
        print(f"\nsummary of every result file: {summary_file(load_results())}")
    return 1 if failed else 0


def load_results() -> list[dict[str, Any]]:
    every = []
    for name in ORDER:
        path = RESULTS / f"{name}.json"
        if path.exists():
            try:
                every.append(json.loads(path.read_text()))
            except ValueError:
                continue
    return every


if __name__ == "__main__":
    sys.exit(main())
