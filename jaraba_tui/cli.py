"""Command-line entry point.

Kept import-light on purpose: ``jaraba-ops --help`` and ``--version`` must not import
textual (nor any network library). Subcommands import what they need when they run.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from jaraba_tui import __version__

EXIT_OK = 0
EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jaraba-ops",
        description=(
            "Operations console for the Jaraba HA stack: MariaDB Galera, ProxySQL, "
            "HAProxy (blue/green), Redis + Sentinel, Prometheus/Alertmanager."
        ),
    )
    parser.add_argument("--version", action="version", version=f"jaraba-ops {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    lab = sub.add_parser(
        "lab",
        help="run the local lab (the whole stack on loopback); same as lab/labctl.py",
        add_help=False,
    )
    lab.add_argument("lab_args", nargs=argparse.REMAINDER)
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


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["lab"]:
        return _run_lab(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_OK
    parser.error(f"unknown command {args.command!r}")


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
