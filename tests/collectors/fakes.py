"""Scripted transports for collector unit tests: answers keyed by query/command, an exception
to raise, or HANG (never answers). Each records the calls it got."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from jaraba_tui.collectors.galera import HOST_PROBE
from jaraba_tui.collectors.hosts import HOST_PROBE as HOSTS_PROBE
from jaraba_tui.transport.base import CommandResult, HttpResponse, Row, TransportError

HANG = object()


async def _answer(script: Mapping[str, Any], key: str, endpoint: str) -> Any:
    if key not in script:
        if "*" in script:
            key = "*"
        else:
            raise TransportError(f"unscripted: {key}", kind="protocol", endpoint=endpoint)
    value = script[key]
    if value is HANG:
        await asyncio.sleep(3600)
    if isinstance(value, BaseException):
        raise value
    return value


def refused(endpoint: str = "") -> TransportError:
    return TransportError("connection refused", kind="refused", endpoint=endpoint)


class FakeSql:
    def __init__(self, endpoint: str, script: Mapping[str, Any]) -> None:
        self.endpoint = endpoint
        self.script = script
        self.calls: list[str] = []

    async def query(self, sql: str, args: Sequence[Any] | None = None) -> list[Row]:
        self.calls.append(sql)
        rows: list[Row] = await _answer(self.script, sql, self.endpoint)
        return rows

    async def execute(self, sql: str, args: Sequence[Any] | None = None) -> int:
        raise AssertionError("collectors never execute")

    async def close(self) -> None:
        pass


class FakeRedis:
    def __init__(self, endpoint: str, script: Mapping[str, Any]) -> None:
        self.endpoint = endpoint
        self.script = script
        self.calls: list[str] = []

    async def command(self, *args: str) -> Any:
        key = " ".join(args)
        self.calls.append(key)
        return await _answer(self.script, key, self.endpoint)

    async def close(self) -> None:
        pass


class FakeHttp:
    def __init__(self, endpoint: str, script: Mapping[str, Any]) -> None:
        self.endpoint = endpoint
        self.script = script
        self.calls: list[str] = []

    async def get(self, path: str, params: Mapping[str, str] | None = None) -> HttpResponse:
        self.calls.append(path)
        value = await _answer(self.script, path, self.endpoint)
        if isinstance(value, HttpResponse):
            return value
        return HttpResponse(200, value)

    async def post(self, path: str, json_body: Any) -> HttpResponse:
        raise AssertionError("collectors never post")

    async def delete(self, path: str) -> HttpResponse:
        raise AssertionError("collectors never delete")

    async def close(self) -> None:
        pass


class FakeRuntime:
    def __init__(self, endpoint: str, script: Mapping[str, Any]) -> None:
        self.endpoint = endpoint
        self.script = script
        self.calls: list[str] = []

    async def command(self, line: str) -> str:
        self.calls.append(line)
        answer: str = await _answer(self.script, line, self.endpoint)
        return answer


class FakeShell:
    """Commands keyed by their argv joined with spaces; files by path."""

    def __init__(
        self, host: str, script: Mapping[str, Any], files: Mapping[str, Any] | None = None
    ) -> None:
        self.host = host
        self.script = script
        self.files = files or {}
        self.calls: list[str] = []

    async def run(self, argv: Sequence[str], *, timeout: float | None = None) -> CommandResult:
        if list(argv[:2]) == ["sh", "-c"] and argv[2] in (HOST_PROBE, HOSTS_PROBE):
            self.calls.append("host probe")
            if set(self.script) <= {"*"}:
                await _answer(self.script, "host probe", self.host)  # raises or hangs
            if argv[2] == HOSTS_PROBE:
                return CommandResult(0, await self._hosts_probe(list(argv[4:])), "")
            return CommandResult(0, await self._probe(*argv[4:7]), "")
        key = " ".join(argv)
        self.calls.append(key)
        value = await _answer(self.script, key, self.host)
        if isinstance(value, CommandResult):
            return value
        return CommandResult(0, value, "")

    async def _step(self, key: str) -> tuple[str, int]:
        try:
            value = await _answer(self.script, key, self.host)
        except TransportError as exc:
            return str(exc), 1
        if isinstance(value, CommandResult):
            return value.stdout + value.stderr, value.exit_status
        return str(value), 0

    async def _probe(self, datadir: str, log: str, lines: str) -> str:
        """What HOST_PROBE prints, composed from the per-command script (as the real one
        composes pgrep, readlink, cat, df and tail on the host)."""
        out = ["@@process"]
        pids, _ = await self._step("pgrep -x mariadbd|mysqld")
        for pid in pids.split():
            cwd, rc = await self._step(f"readlink /proc/{pid}/cwd")
            out.append(f"{pid} {cwd.strip() if rc == 0 else ''}")
        if datadir:
            path = f"{datadir}/grastate.dat"
            try:
                out += ["@@grastate", await _answer(self.files, path, self.host), "@@rc 0"]
            except TransportError:
                out += ["@@grastate", f"cat: {path}: No such file or directory", "@@rc 1"]
            body, rc = await self._step(f"df -P -k -- {datadir}")
            out += ["@@df", body, f"@@rc {rc}"]
        if log:
            body, rc = await self._step(f"tail -n {lines} -- {log}")
            out += ["@@log", body, f"@@rc {rc}"]
        return "\n".join(out) + "\n"

    async def _hosts_probe(self, df: list[str]) -> str:
        out = []
        for name, key in (
            ("load", "cat /proc/loadavg"),
            ("memory", "cat /proc/meminfo"),
            ("cpus", "getconf _NPROCESSORS_ONLN"),
            ("disk", " ".join(df)),
        ):
            body, rc = await self._step(key)
            out += [f"@@{name}", body, f"@@rc {rc}"]
        return "\n".join(out) + "\n"

    async def read_file(self, path: str, *, max_bytes: int = 1_000_000) -> str:
        self.calls.append(f"read {path}")
        answer: str = await _answer(self.files, path, self.host)
        return answer
