"""Which Galera node to bootstrap from after a full-cluster outage (pure, property-tested).

Each node's position is its grastate.dat seqno, or, where that is -1 (the node did not shut
down cleanly), the position ``mariadbd --wsrep-recover`` reports. Only nodes of the same
cluster state UUID are compared; the most advanced (highest seqno) wins; on a tie, the one
with ``safe_to_bootstrap: 1``; then the first in the profile's order. A node whose position
is unknown, or that belongs to another cluster UUID, blocks the choice: without it nobody can
prove that the chosen node is the most advanced.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

ZERO_UUID = "00000000-0000-0000-0000-000000000000"
_RECOVERED = re.compile(r"Recovered position:\s*([0-9a-fA-F-]{36}):(-?\d+)")
_START_POS = re.compile(r"--wsrep[_-]start[_-]position=([0-9a-fA-F-]{36}):(-?\d+)")


def parse_recovered(text: str) -> tuple[str, int] | None:
    """The last ``Recovered position: uuid:seqno`` (mariadbd --wsrep-recover) or
    ``--wsrep_start_position=uuid:seqno`` (galera_recovery) in ``text``."""
    found = [(m.start(), m.group(1), m.group(2)) for m in _RECOVERED.finditer(text)]
    found += [(m.start(), m.group(1), m.group(2)) for m in _START_POS.finditer(text)]
    if not found:
        return None
    _, uuid, seqno = max(found)
    return uuid.lower(), int(seqno)


@dataclass(frozen=True)
class NodePosition:
    name: str
    grastate_uuid: str | None
    grastate_seqno: int | None
    safe_to_bootstrap: bool
    recovered: tuple[str, int] | None = None
    #: Why the position is unknown (no grastate, recovery failed...), if it is.
    error: str = ""

    @property
    def uuid(self) -> str | None:
        if self.recovered is not None:
            return self.recovered[0]
        return self.grastate_uuid

    @property
    def seqno(self) -> int | None:
        """The position compared: recovered when grastate says -1."""
        if self.grastate_seqno is not None and self.grastate_seqno >= 0:
            return self.grastate_seqno
        if self.recovered is not None and self.recovered[1] >= 0:
            return self.recovered[1]
        return None

    @property
    def source(self) -> Literal["grastate", "recovered", "unknown"]:
        if self.grastate_seqno is not None and self.grastate_seqno >= 0:
            return "grastate"
        if self.recovered is not None and self.recovered[1] >= 0:
            return "recovered"
        return "unknown"

    @property
    def position(self) -> str | None:
        return f"{self.uuid}:{self.seqno}" if self.uuid and self.seqno is not None else None


@dataclass(frozen=True)
class BootstrapChoice:
    node: str | None
    position: str | None
    cluster_uuid: str | None
    reason: str
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return self.node is not None and not self.problems


def choose_bootstrap_node(positions: Sequence[NodePosition]) -> BootstrapChoice:
    problems: list[str] = []
    for p in positions:
        if p.seqno is None and p.uuid != ZERO_UUID:
            why = p.error or "grastate.dat says -1 and no recovered position"
            problems.append(f"{p.name}: position unknown ({why})")
    stateful = [p for p in positions if p.uuid and p.uuid != ZERO_UUID and p.seqno is not None]
    if not stateful:
        return BootstrapChoice(None, None, None, "no node has a known position", tuple(problems))
    counts = Counter(p.uuid for p in stateful)
    ranked = counts.most_common()
    if len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
        groups = "; ".join(
            f"{u}: {', '.join(p.name for p in stateful if p.uuid == u)}" for u, _ in ranked
        )
        problems.append(f"no majority cluster UUID ({groups})")
        return BootstrapChoice(None, None, None, "nodes disagree on the cluster", tuple(problems))
    cluster = ranked[0][0]
    for p in stateful:
        if p.uuid != cluster:
            problems.append(
                f"{p.name} belongs to cluster {p.uuid}, the others to {cluster}: "
                "joining would replace its data by SST; investigate first"
            )
    same = [p for p in stateful if p.uuid == cluster]
    best = max(p.seqno or 0 for p in same)
    top = [p for p in same if p.seqno == best]
    flagged = [p for p in top if p.safe_to_bootstrap]
    chosen = (flagged or top)[0]
    if len(top) == 1:
        runner_up = max((p.seqno or 0 for p in same if p is not chosen), default=None)
        reason = f"{chosen.name} is the most advanced: seqno {best} ({chosen.source})"
        if runner_up is not None:
            reason += f", next best {runner_up}"
    elif flagged:
        reason = (
            f"tie at seqno {best} between {', '.join(p.name for p in top)}; "
            f"{chosen.name} has safe_to_bootstrap: 1"
        )
    else:
        reason = (
            f"tie at seqno {best} between {', '.join(p.name for p in top)}; none has "
            f"safe_to_bootstrap: 1, {chosen.name} is first in the profile"
        )
    return BootstrapChoice(chosen.name, f"{cluster}:{best}", cluster, reason, tuple(problems))
