"""``jaraba-ops verify [--pre|--post] [--json]``: run the checklist once, print, exit.

Exit codes: 0 every item passed or was skipped; 1 some item failed; 2 bad usage or a bad
profile (one clear message on stderr, no traceback).
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jaraba_tui.verify.model import Which

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``verify`` (for the top-level CLI's subparser)."""
    phase = parser.add_mutually_exclusive_group()
    phase.add_argument("--pre", action="store_true", help="only the pre-deployment items")
    phase.add_argument("--post", action="store_true", help="only the post-deployment items")
    parser.add_argument(
        "--json", action="store_true", help="machine-readable (jaraba_tui/verify/README.md)"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jaraba-ops verify",
        description=(
            "The seed's Production Deployment Checklist, automated and read-only: a passed/"
            "failed/skipped mark and evidence per item. Exit 0 all passed or skipped, 1 some "
            "failed, 2 bad profile."
        ),
    )
    parser.add_argument("--profile", metavar="NAME|PATH", help="profile (default: local)")
    add_arguments(parser)
    return parser


def which_of(args: argparse.Namespace) -> Which:
    if getattr(args, "pre", False):
        return "pre"
    if getattr(args, "post", False):
        return "post"
    return "all"


def main(argv: list[str], *, profile_name: str | None) -> int:
    """``argv`` are the words after ``verify``; ``--profile`` there wins over
    ``profile_name`` (the top-level option)."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # argparse printed the usage message
        return EXIT_OK if exc.code == 0 else EXIT_USAGE
    return run(args, profile_name=args.profile or profile_name)


def run(args: argparse.Namespace, *, profile_name: str | None) -> int:
    """Run with parsed options (``--pre``/``--post``/``--json``)."""
    import asyncio

    from jaraba_tui.profile import ProfileError, load_profile
    from jaraba_tui.secrets import scrub
    from jaraba_tui.verify.render import render_text, to_json
    from jaraba_tui.verify.runner import run_all

    try:
        profile = load_profile(profile_name)
        checklist = asyncio.run(run_all(profile, which=which_of(args)))
    except ProfileError as exc:
        print(scrub(str(exc)), file=sys.stderr)  # noqa: T201
        return EXIT_USAGE
    if args.json:
        sys.stdout.write(to_json(checklist) + "\n")
    else:
        import shutil

        width = shutil.get_terminal_size((100, 24)).columns if sys.stdout.isatty() else 100
        sys.stdout.write(render_text(checklist, width=width, color=sys.stdout.isatty()))
    sys.stdout.flush()
    return checklist.exit_code
