"""Hosts: load, memory and disk through a :class:`Shell` (``/proc`` and ``df``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from jaraba_tui.collectors.common import (
    Clock,
    EndpointError,
    ParseError,
    Serialisable,
    Stopwatch,
    guarded,
    is_uint,
    run_probe,
    split_probe,
)
from jaraba_tui.transport.base import CommandResult, Shell, TransportError

T = TypeVar("T")

#: Filesystem types that never fill up in a way an on-call engineer acts on.
PSEUDO_FS = ("tmpfs", "devtmpfs", "squashfs", "overlay", "efivarfs")


class HostParseError(ParseError):
    pass


@dataclass(frozen=True)
class LoadAvg(Serialisable):
    load1: float
    load5: float
    load15: float
    running: int
    total: int


@dataclass(frozen=True)
class MemInfo(Serialisable):
    total_kb: int
    available_kb: int
    swap_total_kb: int
    swap_free_kb: int

    @property
    def used_pct(self) -> float:
        if self.total_kb <= 0:
            return 0.0
        return round(100.0 * (self.total_kb - self.available_kb) / self.total_kb, 1)

    @property
    def swap_used_pct(self) -> float:
        if self.swap_total_kb <= 0:
            return 0.0
        return round(100.0 * (self.swap_total_kb - self.swap_free_kb) / self.swap_total_kb, 1)


@dataclass(frozen=True)
class DiskUsage(Serialisable):
    filesystem: str
    mount: str
    total_kb: int
    used_kb: int
    available_kb: int

    @property
    def used_pct(self) -> float:
        """Like df's Capacity: used / (used + available), reserved blocks excluded."""
        denom = self.used_kb + self.available_kb
        return 0.0 if denom <= 0 else round(100.0 * self.used_kb / denom, 1)


@dataclass(frozen=True)
class HostTarget:
    name: str
    shell: Shell
    #: Paths whose filesystems to report; empty = every real (non-pseudo) filesystem.
    disk_paths: tuple[str, ...] = ()


@dataclass(frozen=True)
class HostSnapshot(Serialisable):
    name: str
    host: str
    collected_at: float
    load: LoadAvg | None
    cpus: int | None
    memory: MemInfo | None
    disks: tuple[DiskUsage, ...]
    errors: tuple[EndpointError, ...]
    elapsed_ms: float = 0.0

    @property
    def reachable(self) -> bool:
        return not (self.load is None and self.memory is None and not self.disks and self.errors)


# -- pure parsers ----------------------------------------------------------------------------


def parse_loadavg(text: str) -> LoadAvg:
    """``/proc/loadavg``: ``0.25 0.35 0.21 4/230 17180``."""
    parts = text.split()
    if len(parts) < 4 or "/" not in parts[3]:
        raise HostParseError(f"/proc/loadavg: expected 5 fields, got {text[:60]!r}")
    try:
        run, total = parts[3].split("/", 1)
        return LoadAvg(float(parts[0]), float(parts[1]), float(parts[2]), int(run), int(total))
    except ValueError as exc:
        raise HostParseError(f"/proc/loadavg: {exc}") from None


def parse_meminfo(text: str) -> MemInfo:
    """``/proc/meminfo`` (values in kB). Kernels before 3.14 lack MemAvailable."""
    values: dict[str, int] = {}
    for line in text.splitlines():
        key, sep, rest = line.partition(":")
        if not sep:
            continue
        num = rest.split()
        if num and is_uint(num[0]):
            values[key.strip()] = int(num[0])
    if "MemTotal" not in values:
        raise HostParseError("/proc/meminfo: no MemTotal line")
    available = values.get("MemAvailable")
    if available is None:
        available = sum(values.get(k, 0) for k in ("MemFree", "Buffers", "Cached"))
    return MemInfo(
        total_kb=values["MemTotal"],
        available_kb=available,
        swap_total_kb=values.get("SwapTotal", 0),
        swap_free_kb=values.get("SwapFree", 0),
    )


def parse_df(text: str) -> tuple[DiskUsage, ...]:
    """``df -P -k`` output (POSIX format: one line per filesystem, 1024-byte blocks)."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines or not lines[0].startswith("Filesystem"):
        raise HostParseError(f"df: no header line in {text[:60]!r}")
    out: list[DiskUsage] = []
    for ln in lines[1:]:
        parts = ln.split()
        # Filesystem and mount point may contain spaces; "N N N P%" between them never does.
        for i in range(1, len(parts) - 4):
            nums, cap = parts[i : i + 3], parts[i + 3]
            if all(is_uint(n) for n in nums) and cap.endswith("%"):
                total, used, avail = (int(n) for n in nums)
                fs, mount = " ".join(parts[:i]), " ".join(parts[i + 4 :])
                out.append(DiskUsage(fs, mount, total, used, avail))
                break
        else:
            raise HostParseError(f"df: unreadable line {ln[:80]!r}")
    return tuple(out)


def parse_nproc(text: str) -> int | None:
    s = text.strip()
    return int(s) if is_uint(s) else None


# -- I/O -------------------------------------------------------------------------------------


def _ok(result: CommandResult, what: str) -> str:
    if result.exit_status != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        why = detail[0] if detail else f"exit status {result.exit_status}"
        raise TransportError(f"{what} failed: {why}", kind="other")
    return result.stdout


#: Load, memory, CPUs and disks in one remote command (one SSH session, not four). The
#: script is a constant; the df argv (built by :func:`df_argv`) arrives as quoted "$@".
#: /proc/loadavg and /proc/meminfo are read with the shell's ``read`` (``cat`` only to say
#: why one cannot be read), and the output is written once (one SSH packet, not a dozen):
#: the probes' processes had been the largest CPU cost of a whole-stack poll (issue 6).
HOST_PROBE = r"""
out=$(
echo '@@load'
if read -r l < /proc/loadavg; then printf '%s\n' "$l"; echo '@@rc 0'
else cat /proc/loadavg 2>&1; echo "@@rc $?"; fi
echo '@@memory'
if [ -r /proc/meminfo ]; then
  while IFS= read -r l; do printf '%s\n' "$l"; done < /proc/meminfo; echo '@@rc 0'
else cat /proc/meminfo 2>&1; echo "@@rc $?"; fi
echo '@@cpus'; getconf _NPROCESSORS_ONLN 2>&1; echo "@@rc $?"
echo '@@disk'; "$@" 2>&1; echo "@@rc $?"
)
printf '%s\n' "$out"
exit 0
"""


def df_argv(paths: tuple[str, ...]) -> list[str]:
    if paths:
        return ["df", "-P", "-k", "--", *paths]
    argv = ["df", "-P", "-k"]
    for fs in PSEUDO_FS:
        argv += ["-x", fs]
    return argv


async def collect(
    target: HostTarget, *, clock: Clock = time.time, timeout: float | None = None
) -> HostSnapshot:
    """Load, memory and disk of one host; each command's failure is recorded, not raised."""
    sw = Stopwatch()
    sh = target.shell
    ep = sh.host

    errors: list[EndpointError] = []
    argv = ["sh", "-c", HOST_PROBE, "jaraba-probe", *df_argv(target.disk_paths)]

    async def probe() -> str:
        res = await run_probe(sh, argv, timeout)
        if res.exit_status != 0:
            raise TransportError(f"host probe failed: {res.stderr.strip()[:120]}", kind="other")
        return res.stdout

    raw, err = await guarded(ep, "host probe", probe, timeout)
    sections = split_probe(raw) if raw is not None else {}
    if err is not None:
        errors.append(err)

    def step(name: str, parse: Callable[[str], T]) -> T | None:
        if err is not None:
            return None
        body, rc = sections.get(name, ("", -1))
        if rc != 0:
            why = body.strip().splitlines()[:1] or ["no answer"]
            errors.append(EndpointError(ep, "other", f"{name}: {why[0][:160]}", name))
            return None
        try:
            return parse(body)
        except ParseError as exc:
            errors.append(EndpointError(ep, "parse", f"{name}: {exc}", name))
            return None

    ld = step("load", parse_loadavg)
    mm = step("memory", parse_meminfo)
    dk = step("disk", parse_df)
    nc = step("cpus", parse_nproc)
    return HostSnapshot(
        name=target.name,
        host=ep,
        collected_at=clock(),
        load=ld,
        cpus=nc,
        memory=mm,
        disks=dk or (),
        errors=tuple(errors),
        elapsed_ms=sw.ms(),
    )
