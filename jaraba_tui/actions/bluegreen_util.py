"""Pure and small I/O helpers of the blue/green switch: the map file, frontend samples."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field

from jaraba_tui.actions.haproxy import runtime_command
from jaraba_tui.actions.types import StepOutcome
from jaraba_tui.collectors.haproxy import HAProxyParseError, parse_info, parse_map, parse_stat_csv
from jaraba_tui.transport.base import HAProxyRuntime, TransportError

HEADER = "# Blue/green routing state for the frontend. Managed by jaraba-ops / blue-green-deploy.sh"
COLOUR_HEADER = "x-jaraba-colour"


def parse_map_file(text: str) -> dict[str, str]:
    """``key value`` lines of an HAProxy map file (comments and blank lines skipped)."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        key, _, value = s.partition(" ")
        out[key] = value.strip()
    return out


def render_map(existing: str, values: Mapping[str, str], *, who: str, when: str) -> str:
    """``existing`` with ``values`` set: keys replaced in place, missing ones appended, other
    lines kept; our two header lines refreshed."""
    out: list[str] = [
        HEADER + "; keys: live, canary, canary_pct.",
        f"# Last change: {when} by {who}",
    ]
    seen: set[str] = set()
    for line in existing.splitlines():
        s = line.strip()
        if s.startswith(("# Last change:", "# Blue/green routing state")):
            continue
        if s and not s.startswith("#"):
            key = s.split()[0]
            if key in values:
                if key not in seen:
                    out.append(f"{key} {values[key]}")
                    seen.add(key)
                continue
        out.append(line)
    out += [f"{k} {v}" for k, v in values.items() if k not in seen]
    return "\n".join(out) + "\n"


async def set_map(rt: HAProxyRuntime, map_path: str, key: str, value: str) -> StepOutcome:
    """``set map``; ``add map`` when the key is missing; then read it back."""
    out = await runtime_command(rt, f"set map {map_path} {key} {value}")
    if not out.ok:
        out = await runtime_command(rt, f"add map {map_path} {key} {value}")
    if not out.ok:
        return out
    now = parse_map(await rt.command(f"show map {map_path}")).get(key)
    if now != value:
        return StepOutcome(False, f"the runtime map says {key} {now!r} after setting {value!r}")
    return StepOutcome(True, f"{key} is {value}")


async def converge_runtime(
    rt: HAProxyRuntime,
    map_path: str,
    values: Mapping[str, str],
    *,
    settle: float,
    timeout: float,
    sleep: Callable[[float], Awaitable[None]],
    interval: float = 0.5,
) -> StepOutcome:
    """Make HAProxy's runtime map say ``values``, and see it stay so.

    Called once the map file says ``values``. A reload that began before the file was
    written loads the old file into a new worker, and reloads are asynchronous: the old
    worker may still answer the runtime API with the new colour for a while, then the new
    worker answers with the old one. So: read the answering worker (``show info``: Pid,
    Stopping) and the map until the same, not stopping, worker has shown ``values`` for
    ``settle`` seconds, setting again whatever differs; give up after ``timeout`` seconds
    and say what the runtime map and the worker were then.
    """
    t0 = time.monotonic()
    stable_since: float | None = None
    last_pid: int | None = None
    reapplied: list[str] = []
    seen = "nothing read yet"
    while True:
        now = time.monotonic()
        try:
            info = parse_info(await rt.command("show info"))
            current = parse_map(await rt.command(f"show map {map_path}"))
        except (TransportError, HAProxyParseError) as exc:
            stable_since, seen = None, f"runtime API: {exc}"
        else:
            diff = {k: v for k, v in values.items() if current.get(k) != v}
            shown = ", ".join(f"{k}={current.get(k)}" for k in values)
            seen = f"runtime map {shown} (worker pid {info.pid}" + (
                ", stopping)" if info.stopping else ")"
            )
            if info.stopping:
                stable_since = None  # an old worker on its way out: wait for the new one
            elif diff:
                stable_since = None
                reapplied.append(
                    f"worker {info.pid} said "
                    + ", ".join(f"{k} {current.get(k)}" for k in diff)
                    + ": set again"
                )
                for key, value in diff.items():
                    out = await set_map(rt, map_path, key, value)
                    if not out.ok:
                        return StepOutcome(False, f"{out.detail}; {'; '.join(reapplied)}")
            elif stable_since is None or info.pid != last_pid:
                stable_since = now
            last_pid = info.pid
        if stable_since is not None and now - stable_since >= settle:
            note = f"; {'; '.join(reapplied)}" if reapplied else ""
            return StepOutcome(True, f"{seen}, unchanged for {settle:g}s{note}")
        if now - t0 >= timeout:
            note = f"; {'; '.join(reapplied)}" if reapplied else ""
            return StepOutcome(
                False, f"runtime map not steady after {timeout:g}s: last seen {seen}{note}"
            )
        await sleep(interval)


async def backend_counters(rt: HAProxyRuntime, backends: Sequence[str]) -> tuple[int, int]:
    """(requests, 5xx answers) summed over ``backends`` (cumulative HAProxy counters)."""
    rows = parse_stat_csv(await rt.command("show stat")).rows
    mine = [r for r in rows if r.kind == "backend" and r.proxy in backends]
    return sum(r.req_tot or 0 for r in mine), sum(r.hrsp_5xx or 0 for r in mine)


@dataclass
class FrontendSample:
    total: int = 0
    ok_2xx: int = 0
    errors_5xx: int = 0
    limited_429: int = 0
    other: int = 0
    failed: int = 0
    colours: Counter[str] = field(default_factory=Counter)

    @property
    def answered(self) -> int:
        return self.ok_2xx + self.errors_5xx + self.other

    def describe(self) -> str:
        cols = ", ".join(f"{c} {n}" for c, n in sorted(self.colours.items())) or "no colour"
        extra = f", {self.limited_429} rate-limited (429)" if self.limited_429 else ""
        extra += f", {self.failed} without answer" if self.failed else ""
        extra += f", {self.other} other" if self.other else ""
        return f"{self.total} GET: {self.ok_2xx} 2xx ({cols}), {self.errors_5xx} 5xx{extra}"


async def sample_frontend(url: str, n: int, timeout: float) -> FrontendSample:
    """``n`` GETs through the frontend, each without cookies (no affinity), one at a time."""
    import httpx  # here: the console's process imports this module for its first frame

    s = FrontendSample()
    limits = httpx.Timeout(timeout)
    async with httpx.AsyncClient(timeout=limits, trust_env=False, follow_redirects=False) as c:
        for _ in range(n):
            c.cookies.clear()
            s.total += 1
            try:
                resp = await c.get(url)
            except httpx.HTTPError:
                s.failed += 1
                continue
            code = resp.status_code
            if code == 429:
                s.limited_429 += 1
            elif 200 <= code < 300:
                s.ok_2xx += 1
                s.colours[resp.headers.get(COLOUR_HEADER, "?")] += 1
            elif code >= 500:
                s.errors_5xx += 1
            else:
                s.other += 1
            await asyncio.sleep(0)
    return s
