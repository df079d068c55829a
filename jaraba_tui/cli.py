"""Command-line entry point.

Kept import-light on purpose: ``jaraba-ops --help`` and ``--version`` must not import
textual (nor any network library). Subcommands import what they need when they run.

Exit codes: 0 OK; 2 bad usage or a bad profile (one clear message, no traceback);
``check`` uses the monitoring-plugin codes (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from jaraba_tui import __version__

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_INTERNAL = 3


def _add_common(p: argparse.ArgumentParser, *, top: bool) -> None:
    # Accepted before or after the subcommand: `jaraba-ops --profile X status` and
    # `jaraba-ops status --profile X`.
    default: Any = None if top else argparse.SUPPRESS
    p.add_argument(
        "--profile",
        metavar="NAME|PATH",
        default=default,
        help="profile name (profiles/, ~/.config/jaraba-ops/profiles/) or path; default: local",
    )
    p.add_argument(
        "--read-only",
        action="store_true",
        default=False if top else argparse.SUPPRESS,
        help="refuse every action, whatever the profile says",
    )
    p.add_argument(
        "--debug",
        action="store_true",
        default=False if top else argparse.SUPPRESS,
        help="show tracebacks of internal errors",
    )


def _add_replay_options(p: argparse.ArgumentParser, *, speed: float = 1.0) -> None:
    p.add_argument(
        "--speed",
        type=float,
        default=speed,
        help=f"replay speed (0.25 to 64; default {speed:g}); -/+ change it in the console",
    )
    p.add_argument("--paused", action="store_true", help="start paused (space plays)")
    p.add_argument(
        "--at", metavar="TIME", help="start at TIME: HH:MM[:SS], T+5m (from the start), 50%%"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jaraba-ops",
        description=(
            "Operations console for the Jaraba HA stack: MariaDB Galera, ProxySQL, "
            "HAProxy (blue/green), Redis + Sentinel, Prometheus/Alertmanager. "
            "Without a command, opens the console."
        ),
    )
    parser.add_argument("--version", action="version", version=f"jaraba-ops {__version__}")
    _add_common(parser, top=True)
    parser.add_argument("--theme", help="console theme (a name from themes/)")
    parser.add_argument(
        "--record",
        metavar="FILE",
        help="record what the console sees (snapshots, events, actions) to FILE "
        "(gzipped JSON lines, no secrets); replay it with `jaraba-ops replay FILE`",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    st = sub.add_parser("status", help="poll every layer once and print the state, problems first")
    _add_common(st, top=False)
    st.add_argument("--json", action="store_true", help="machine-readable (documented schema)")
    st.add_argument("-v", "--verbose", action="store_true", help="details of healthy layers too")

    ck = sub.add_parser("check", help="one poll; monitoring-plugin output and exit code (0/1/2/3)")
    _add_common(ck, top=False)

    pr = sub.add_parser("profile", help="profiles: `profile check [NAME]`, `profile list`")
    _add_common(pr, top=False)
    pr_sub = pr.add_subparsers(dest="profile_command", metavar="SUBCOMMAND", required=True)
    pc = pr_sub.add_parser("check", help="validate a profile and try every endpoint")
    pc.add_argument("name", nargs="?", metavar="NAME|PATH")
    pc.add_argument("--json", action="store_true")
    pr_sub.add_parser("list", help="the profiles jaraba-ops can find")

    vf = sub.add_parser(
        "verify",
        help="the seed's deployment checklist, automated: verify [--pre|--post] [--json]",
        add_help=False,
    )
    _add_common(vf, top=False)
    ac = sub.add_parser(
        "action",
        help="run a guarded action: action NAME TARGET [--dry-run] [--yes]; action --list",
        add_help=False,
    )
    _add_common(ac, top=False)

    rp = sub.add_parser(
        "replay", help="open the console on a recording (--record): pause, step, seek, speed"
    )
    rp.add_argument("file", metavar="FILE", help="a recording made with --record")
    _add_replay_options(rp)
    dm = sub.add_parser(
        "demo",
        help="the console on a real incident recorded in the lab (no servers, no root needed)",
    )
    _add_replay_options(dm, speed=2.0)
    rt = sub.add_parser(
        "report",
        help="write a Markdown incident report (timeline, findings, every layer): "
        "report [--from-recording FILE] [-o FILE]",
    )
    _add_common(rt, top=False)
    rt.add_argument(
        "--from-recording",
        metavar="FILE",
        help="from a recording (its events, actions and final state) instead of a live poll",
    )
    rt.add_argument(
        "-o", "--output", metavar="FILE", help="write to FILE ('-' for stdout; default: stdout)"
    )
    rt.add_argument(
        "--since",
        metavar="HOURS",
        type=float,
        default=24.0,
        help="live report: the actions of the last HOURS from the audit log (default 24)",
    )

    sv = sub.add_parser(
        "serve",
        help="the console read-only in a browser (textual-serve): serve [--bind 127.0.0.1:PORT]",
    )
    _add_common(sv, top=False)
    sv.add_argument(
        "--bind",
        metavar="HOST:PORT",
        default="127.0.0.1:8765",
        help="the one address to serve on (default 127.0.0.1:8765; [::1]:PORT for IPv6)",
    )
    sv.add_argument(
        "--allow-remote",
        action="store_true",
        help="accept a non-loopback address (no TLS, no login: put a reverse proxy in front)",
    )
    sv.add_argument(
        "--public-url",
        metavar="URL",
        help="behind a reverse proxy: the address the browser uses, e.g. "
        "https://ops.example.com/console (the page's websocket and the allowed origin)",
    )
    sv.add_argument(
        "--max-sessions",
        type=int,
        default=4,
        metavar="N",
        help="browser tabs served at once, one console process each (default 4)",
    )

    sub.add_parser(
        "lab",
        help="run the local lab (the whole stack on loopback); same as lab/labctl.py",
        add_help=False,
    )
    return parser


def _run_lab(args: Sequence[str]) -> int:
    from pathlib import Path

    labctl = Path(__file__).resolve().parent.parent / "lab" / "labctl.py"
    if not labctl.is_file():
        print(
            "jaraba-ops: the lab ships with the source repository (lab/labctl.py), "
            "not with an installed package.",
            file=sys.stderr,
        )
        return EXIT_USAGE
    import runpy

    sys.argv = [str(labctl), *args]
    try:
        runpy.run_path(str(labctl), run_name="__main__")
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    return EXIT_OK


def _load(args: argparse.Namespace) -> Any:
    from jaraba_tui.profile import load_profile

    return load_profile(args.profile)


def _poll(profile: Any) -> tuple[Any, list[Any]]:
    import asyncio

    from jaraba_tui.model.health import evaluate
    from jaraba_tui.wiring import model_thresholds, poll_once

    snap = asyncio.run(poll_once(profile))
    return snap, evaluate(snap, model_thresholds(profile))


def cmd_status(args: argparse.Namespace) -> int:
    import json

    from jaraba_tui.secrets import scrub
    from jaraba_tui.status_view import render_status, status_json

    profile = _load(args)
    snap, findings = _poll(profile)
    if args.json:
        print(scrub(json.dumps(status_json(snap, findings), indent=2, default=str)))
        return EXIT_OK
    from rich.console import Console

    console = Console(highlight=False)
    with console.capture() as cap:
        render_status(console, snap, findings, verbose=args.verbose)
    sys.stdout.write(scrub(cap.get()))
    return EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    from jaraba_tui.secrets import scrub
    from jaraba_tui.status_view import check_lines

    profile = _load(args)
    _snap, findings = _poll(profile)
    code, lines = check_lines(findings)
    print(scrub("\n".join(lines)))
    return code


#: ``JARABA_ENGINE=thread`` runs the console's poll engine on a thread of the console's
#: process (diagnosis; the default is a child process, see jaraba_tui.engine.process).
ENGINE_ENV = "JARABA_ENGINE"


def cmd_console(args: argparse.Namespace) -> int:
    from pathlib import Path

    from jaraba_tui import gcpause

    gcpause.pause()  # while the console and its engine start (resumed by each of them)
    profile, engine = _profile_and_engine(args)
    try:
        from jaraba_tui.record import RecordingError
        from jaraba_tui.ui import run

        record = Path(args.record) if args.record else None
        try:
            code = run(
                profile, theme=args.theme, read_only=args.read_only, record=record, engine=engine
            )
        except RecordingError as exc:
            print(f"jaraba-ops: {exc}", file=sys.stderr)
            return EXIT_USAGE
    finally:
        if engine is not None:
            from jaraba_tui.engine.process import kill_engine

            kill_engine(engine.pid)  # a no-op once the console has closed (and reaped) it
    _exit_at_once(code)


def _profile_and_engine(args: argparse.Namespace) -> tuple[Any, Any]:
    """The console's profile and its engine process (None: the engine runs on a thread).

    With an engine process (the default), it is forked first, before the profile is loaded:
    the child loads and validates the profile and tells the console the facts it needs
    (:class:`~jaraba_tui.engine.process.ProfileFacts`), while the console imports its UI on
    the other core (issue 6, start-up: validating the profile is CPU the console's first
    frame does not need). The console waits for that verdict before its
    screen opens: a profile that does not load is then loaded here, which reports it as
    ever (the same message and exit code), and the child has already ended."""
    forked = _fork_engine_loading(args.profile)
    if forked is not None:
        from jaraba_tui.engine.process import kill_engine, read_profile_verdict
        from jaraba_tui.ui import import_console

        engine, verdict_fd = forked
        import_console()
        facts = read_profile_verdict(verdict_fd)
        if facts is not None:
            return facts, engine
        kill_engine(engine.pid)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(engine.pid, 0)
        for fd in (engine.updates_fd, engine.control_fd):
            with contextlib.suppress(OSError):
                os.close(fd)
        profile = _load(args)  # the profile's error, as without the child
        return profile, None  # (it loads here: the child died) the engine on a thread
    profile = _load(args)
    return profile, _fork_engine(profile)


def _engine_may_fork() -> bool:
    """The engine gets a process of its own: not asked to run on a thread
    (``JARABA_ENGINE=thread``), and forking is safe here (:func:`can_fork`)."""
    if os.environ.get(ENGINE_ENV, "process") == "thread":
        return False
    from jaraba_tui.engine.process import can_fork

    return can_fork() is None


def _fork_engine_loading(name: str | None) -> tuple[Any, int] | None:
    """The engine process forked before the profile is loaded, and its verdict's pipe (None:
    the engine will run on a thread; the caller loads the profile)."""
    if not _engine_may_fork():
        return None
    # What both processes need (the model's and collectors' classes: the engine builds
    # them, the console unpickles them) built once, here: the child inherits them.
    import jaraba_tui.engine.merge  # noqa: F401
    from jaraba_tui.engine.process import fork_engine_loading

    try:
        return fork_engine_loading(name)
    except OSError:
        return None


def _fork_engine(profile: Any) -> Any:
    """The console's engine process, forked now: right after the profile is loaded, before
    any thread and before textual (None: the engine will run on a thread instead)."""
    if not _engine_may_fork():
        return None
    from jaraba_tui.engine.process import fork_engine

    try:
        return fork_engine(profile)
    except OSError:
        return None


def _exit_at_once(code: int) -> NoReturn:
    """The console has closed (terminal restored; the recording closed; audit records are
    written as they happen): leave without the interpreter's teardown, which waits behind
    threads blocked in reads of a hung endpoint and frees every object one by one (seconds
    on a loaded machine; issue 6: quit at once)."""
    import contextlib
    import logging

    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)


def cmd_profile(args: argparse.Namespace) -> int:
    if args.profile_command == "list":
        from jaraba_tui.profile.loader import available_profiles

        for name, path in sorted(available_profiles().items()):
            print(f"{name:<24} {path}")
        return EXIT_OK
    from jaraba_tui import profile_check

    argv = [args.name] if args.name else ([args.profile] if args.profile else [])
    if args.json:
        argv.append("--json")
    return profile_check.main(argv)


def _replay(path: Any, args: argparse.Namespace, *, demo: bool) -> int:
    from jaraba_tui.record import RecordingError, ReplayPlayer, load_recording
    from jaraba_tui.record.player import SPEEDS

    try:
        recording = load_recording(path)
    except RecordingError as exc:
        print(f"jaraba-ops: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if not recording.updates:
        print(f"jaraba-ops: {path} holds no update: nothing to replay", file=sys.stderr)
        return EXIT_USAGE
    if not SPEEDS[0] <= args.speed <= SPEEDS[-1]:
        print(
            f"jaraba-ops: --speed must be between {SPEEDS[0]:g} and {SPEEDS[-1]:g}", file=sys.stderr
        )
        return EXIT_USAGE
    start_at = None
    if args.at:
        try:
            start_at = ReplayPlayer(recording).parse_time(args.at)
        except ValueError as exc:
            print(f"jaraba-ops: --at: {exc}", file=sys.stderr)
            return EXIT_USAGE
    from jaraba_tui.ui.replay import run_replay

    return run_replay(
        recording,
        speed=args.speed,
        paused=args.paused,
        demo=demo,
        theme=args.theme,
        start_at=start_at,
    )


def cmd_replay(args: argparse.Namespace) -> int:
    return _replay(args.file, args, demo=False)


def cmd_demo(args: argparse.Namespace) -> int:
    from jaraba_tui.record.demo import demo_recording

    path = demo_recording()
    if path is None:
        print("jaraba-ops: the demo recording is missing from this installation", file=sys.stderr)
        return EXIT_USAGE
    return _replay(path, args, demo=True)


def cmd_report(args: argparse.Namespace) -> int:
    from pathlib import Path

    from jaraba_tui.record import RecordingError

    if args.from_recording:
        from jaraba_tui.report import report_from_recording

        try:
            text = report_from_recording(args.from_recording)
        except RecordingError as exc:
            print(f"jaraba-ops: {exc}", file=sys.stderr)
            return EXIT_USAGE
    else:
        if args.since <= 0:
            print("jaraba-ops: --since must be a positive number of hours", file=sys.stderr)
            return EXIT_USAGE
        from jaraba_tui.report import live_report

        text = live_report(_load(args), since=args.since * 3600.0)
    if not args.output or args.output == "-":
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return EXIT_OK
    from jaraba_tui.report import write_report

    try:
        written = write_report(text, Path(args.output))
    except OSError as exc:
        print(f"jaraba-ops: cannot write {args.output}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    print(f"jaraba-ops: report written to {written}", file=sys.stderr)
    return EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    """The console read-only in a browser; bad --bind: one message, exit 2."""
    from jaraba_tui.serve import BindError, parse_bind, parse_public_url, serve

    try:
        bind = parse_bind(args.bind, allow_remote=args.allow_remote)
        public = parse_public_url(args.public_url) if args.public_url else None
    except BindError as exc:
        print(f"jaraba-ops serve: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.max_sessions < 1:
        print("jaraba-ops serve: --max-sessions must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    import socket

    profile = _load(args)  # a bad profile fails here (exit 2), not in each browser tab
    family = socket.AF_INET6 if ":" in bind.host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((bind.host, bind.port))
        except OSError as exc:
            print(
                f"jaraba-ops serve: cannot listen on {bind.netloc}: {exc.strerror}", file=sys.stderr
            )
            return EXIT_USAGE
    try:
        import textual_serve  # noqa: F401
    except ImportError:
        print("jaraba-ops serve: needs textual-serve (pip install textual-serve)", file=sys.stderr)
        return EXIT_USAGE
    print(
        f"jaraba-ops serve: {profile.name} read-only on {bind.url}"
        + (f", reached at {public.url}" if public is not None else "")
        + " (Ctrl+C stops)",
        file=sys.stderr,
    )
    serve(
        bind,
        args.profile,
        title=f"jaraba-ops {profile.name} (read-only)",
        theme=args.theme,
        max_sessions=args.max_sessions,
        public=public,
    )
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["lab"]:
        return _run_lab(argv[1:])
    parser = build_parser()
    # verify and action parse their own options (they have their own --help).
    args, extra = parser.parse_known_args(argv)
    if extra and args.command not in ("verify", "action"):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if getattr(args, "record", None) and args.command is not None:
        parser.error("--record records the console: use it without a command")
    handlers = {
        "status": cmd_status,
        "check": cmd_check,
        "profile": cmd_profile,
        "replay": cmd_replay,
        "demo": cmd_demo,
        "report": cmd_report,
    }
    try:
        if args.command is None:
            return cmd_console(args)
        if args.command == "verify":
            from jaraba_tui.verify.cli import main as verify_main

            return verify_main(extra, profile_name=args.profile)
        if args.command == "serve":
            return cmd_serve(args)
        if args.command == "action":
            from jaraba_tui.actions.cli import main as action_main

            return action_main(extra, profile_name=args.profile, read_only=args.read_only)
        return handlers[args.command](args)
    except KeyboardInterrupt:
        print("jaraba-ops: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # one clear message and exit code, never a traceback
        return _report_error(exc, args, command=args.command)


def _report_error(exc: Exception, args: argparse.Namespace, *, command: str | None) -> int:
    from jaraba_tui.profile import ProfileError
    from jaraba_tui.secrets import scrub

    if isinstance(exc, ProfileError):
        print(scrub(str(exc)), file=sys.stderr)
        return EXIT_USAGE
    if getattr(args, "debug", False) or os.environ.get("JARABA_DEBUG") == "1":
        import traceback

        print(scrub("".join(traceback.format_exception(exc))), file=sys.stderr)
    print(
        scrub(f"jaraba-ops: internal error: {exc.__class__.__name__}: {exc}")
        + " (run with --debug for details)",
        file=sys.stderr,
    )
    return EXIT_INTERNAL


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
