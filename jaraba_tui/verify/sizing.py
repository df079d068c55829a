"""Memory sizing: InnoDB buffer pool / Redis maxmemory against the RAM of the host.

The seed sizes each to ~70 % of a dedicated node's RAM. Where several instances share one
host (the lab; a consolidated staging box) the rule applies to their sum: 70 % per
instance would promise the host's memory two or three times over.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from jaraba_tui.verify.model import Outcome, verdict


def human_bytes(n: int | float) -> str:
    """``67108864`` -> ``64 MiB``; ``17179869184`` -> ``16.0 GiB``."""
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            if unit in ("B", "KiB", "MiB") or value == int(value):
                return f"{value:.0f} {unit}"
            return f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


@dataclass(frozen=True)
class SizingGroup:
    """The instances configured on one host (``host`` = its SSH host name in the profile)."""

    host: str
    members: tuple[str, ...]
    configured_bytes: int
    ram_bytes: int

    @property
    def percent(self) -> float:
        return 100.0 * self.configured_bytes / self.ram_bytes if self.ram_bytes > 0 else 0.0


def within(percent: float, target: float, tolerance: float) -> bool:
    """``percent`` in ``[target - tolerance, target + tolerance]`` (percentage points)."""
    return abs(percent - target) <= tolerance + 1e-9


def evaluate(
    groups: Sequence[SizingGroup],
    *,
    what: str,
    target: float,
    tolerance: float,
    problems: Sequence[str] = (),
    notes: Sequence[str] = (),
) -> Outcome:
    """``what`` names the setting ("buffer pool", "maxmemory"). ``problems``/``notes`` are
    lines from instances that could not be measured (each a failure) or context."""
    unmeasured = list(problems)
    outside: list[str] = []
    evidence = list(problems)
    band = f"target {target:g} % ± {tolerance:g}"
    for g in groups:
        members = "+".join(g.members)
        plural = "s" if len(g.members) > 1 else ""
        if g.configured_bytes <= 0:
            outside.append(f"{members} unlimited")
            evidence.append(f"{members} on {g.host}: {what} 0 = unlimited ({band})")
            continue
        evidence.append(
            f"{members} on {g.host}: {what}{plural} {human_bytes(g.configured_bytes)} = "
            f"{g.percent:.1f} % of {human_bytes(g.ram_bytes)} RAM ({band})"
        )
        if not within(g.percent, target, tolerance):
            outside.append(f"{members} at {g.percent:.1f} %")
    evidence += list(notes)
    if not groups and not unmeasured:
        unmeasured.append("nothing to measure")
    parts = []
    if outside:
        parts.append(f"{what} outside {band} of RAM: " + "; ".join(outside))
    if unmeasured:
        parts.append(f"{len(unmeasured)} could not be measured")
    return verdict(
        outside + unmeasured,
        f"{what} within {band} of RAM on every host",
        "; ".join(parts),
        evidence,
    )
