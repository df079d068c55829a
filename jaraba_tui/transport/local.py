"""A :class:`~jaraba_tui.transport.base.Shell` for the local host: asyncio subprocesses
(never a shell), each in its own process group, killed with the group on timeout."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Sequence
from pathlib import Path

from jaraba_tui.transport._common import error, validate_argv
from jaraba_tui.transport.base import CommandResult


class LocalShell:
    def __init__(self, *, command_timeout: float = 15.0, host: str = "localhost") -> None:
        self.host = host
        self._timeout = command_timeout

    async def run(self, argv: Sequence[str], *, timeout: float | None = None) -> CommandResult:
        args = validate_argv(argv)
        limit = timeout if timeout is not None else self._timeout
        ep = f"local {args[0]}"
        try:
            proc = await asyncio.create_subprocess_exec(
                *args,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                start_new_session=True,
            )
        except FileNotFoundError:
            raise error("program not found", kind="other", endpoint=ep) from None
        except PermissionError:
            raise error("permission denied", kind="auth", endpoint=ep) from None
        except OSError as exc:
            raise error(f"cannot start: {exc.strerror}", kind="other", endpoint=ep) from None
        try:
            stdout, stderr = await asyncio.wait_for(proc.communicate(), timeout=limit)
        except TimeoutError:
            _kill_group(proc.pid)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(proc.wait(), timeout=2.0)
            raise error(
                f"command did not finish within {limit:g}s (killed)", kind="timeout", endpoint=ep
            ) from None
        except asyncio.CancelledError:
            _kill_group(proc.pid)
            raise
        return CommandResult(
            exit_status=proc.returncode if proc.returncode is not None else -1,
            stdout=stdout.decode("utf-8", "replace"),
            stderr=stderr.decode("utf-8", "replace"),
        )

    async def read_file(self, path: str, *, max_bytes: int = 1_000_000) -> str:
        """The file's text; when larger than ``max_bytes``, its last ``max_bytes``."""
        ep = f"local {path}"
        try:
            return await asyncio.to_thread(_tail, Path(path), max_bytes)
        except FileNotFoundError:
            raise error("no such file", kind="other", endpoint=ep) from None
        except PermissionError:
            raise error("permission denied", kind="auth", endpoint=ep) from None
        except OSError as exc:
            raise error(f"cannot read: {exc.strerror}", kind="other", endpoint=ep) from None


def _tail(path: Path, max_bytes: int) -> str:
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        handle.seek(max(0, size - max_bytes))
        return handle.read(max_bytes).decode("utf-8", "replace")


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
