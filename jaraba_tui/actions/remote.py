"""Small things the actions do on hosts through a Shell: every command is an argv list.

Where a shell is needed (to write a file atomically), the script is a constant of this
module and every value reaches it as a positional argument ("$1", "$2"), never pasted
into the script: a path or a value from a profile cannot become shell syntax.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence

from jaraba_tui.transport.base import CommandResult, Shell

#: Write "$2" to "$1" atomically: a temporary file in the same directory, then mv.
WRITE_SCRIPT = (
    'set -eu; dir=$(dirname -- "$1"); tmp=$(mktemp "$dir/.jaraba-ops.XXXXXX"); '
    'printf "%s" "$2" > "$tmp"; chmod "$3" "$tmp"; mv -f -- "$tmp" "$1"'
)


def argv_text(argv: Sequence[str]) -> str:
    """How an argv is shown in a plan (exactly as the remote shell receives it)."""
    return " ".join(shlex.quote(a) for a in argv)


def write_file_argv(path: str, content: str, mode: str = "0644") -> list[str]:
    if not re.fullmatch(r"0[0-7]{3}", mode):
        raise ValueError(f"not a file mode: {mode!r}")
    return ["sh", "-c", WRITE_SCRIPT, "jaraba-ops-write", path, content, mode]


def write_file_command(path: str, mode: str = "0644") -> str:
    """The plan's text for :func:`write_file_argv` (the content is shown separately)."""
    return f"sh -c {shlex.quote(WRITE_SCRIPT)} jaraba-ops-write {shlex.quote(path)} CONTENT {mode}"


async def write_file(shell: Shell, path: str, content: str, *, mode: str = "0644") -> str | None:
    """Write atomically and read back; None on success, else why not."""
    res = await shell.run(write_file_argv(path, content, mode))
    if res.exit_status != 0:
        return f"write failed ({res.exit_status}): {first_line(res)}"
    back = await shell.read_file(path)
    if back != content:
        return "the file read back differs from what was written"
    return None


def first_line(res: CommandResult) -> str:
    for text in (res.stderr, res.stdout):
        for line in text.splitlines():
            if line.strip():
                return line.strip()[:200]
    return "no output"


def curl_argv(url: str, *, host_header: str | None, timeout: float) -> list[str]:
    argv = ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", f"{timeout:g}"]
    if host_header:
        argv += ["-H", f"Host: {host_header}"]
    return [*argv, "--", url]


async def http_status_via(
    shell: Shell, url: str, *, host_header: str | None, timeout: float
) -> tuple[int | None, str]:
    """(HTTP status or None, detail) of one GET sent from the shell's host with curl."""
    res = await shell.run(
        curl_argv(url, host_header=host_header, timeout=timeout), timeout=timeout + 5
    )
    code = res.stdout.strip()
    if res.exit_status != 0 or not code.isdigit() or code == "000":
        return None, f"no answer ({first_line(res)})"
    return int(code), f"HTTP {code}"
