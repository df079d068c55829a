"""RAM ratio of the InnoDB buffer pool / Redis maxmemory."""

from __future__ import annotations

import pytest

from jaraba_tui.verify import sizing
from jaraba_tui.verify.model import Status

GIB = 1024**3


@pytest.mark.parametrize(
    ("n", "text"),
    [(512, "512 B"), (64 * 1024**2, "64 MiB"), (16 * GIB, "16 GiB"), (int(11.2 * GIB), "11.2 GiB")],
)
def test_human_bytes(n: int, text: str) -> None:
    assert sizing.human_bytes(n) == text


def test_band_is_in_percentage_points() -> None:
    assert sizing.within(70, 70, 10) and sizing.within(60, 70, 10) and sizing.within(80, 70, 10)
    assert not sizing.within(59.9, 70, 10) and not sizing.within(80.1, 70, 10)


def group(members: tuple[str, ...], configured: float, ram: float) -> sizing.SizingGroup:
    return sizing.SizingGroup("db", members, int(configured), int(ram))


def test_dedicated_node_at_70_percent_passes() -> None:
    out = sizing.evaluate(
        [group(("node1",), 11.2 * GIB, 16 * GIB)], what="buffer pool", target=70, tolerance=10
    )
    assert out.status is Status.PASSED
    assert out.evidence == (
        "node1 on db: buffer pool 11.2 GiB = 70.0 % of 16 GiB RAM (target 70 % ± 10)",
    )


def test_colocated_nodes_are_judged_on_their_sum() -> None:
    # Three 64 MiB pools on a 23.5 GiB host (the lab): far below the band.
    g = group(("node1", "node2", "node3"), 3 * 64 * 1024**2, 23.5 * GIB)
    out = sizing.evaluate([g], what="buffer pool", target=70, tolerance=10)
    assert out.status is Status.FAILED
    assert "node1+node2+node3 at 0.8 %" in out.summary
    assert "buffer pools 192 MiB = 0.8 % of 23.5 GiB RAM" in out.evidence[0]
    # Three pools of 25 % each on one host add up to 75 %: within the band.
    ok = group(("a", "b", "c"), 0.75 * 16 * GIB, 16 * GIB)
    assert sizing.evaluate([ok], what="buffer pool", target=70, tolerance=10).status is (
        Status.PASSED
    )


def test_unlimited_and_unmeasured_fail() -> None:
    out = sizing.evaluate(
        [group(("redis1",), 0, 8 * GIB)], what="maxmemory", target=70, tolerance=10
    )
    assert out.status is Status.FAILED and "unlimited" in out.summary
    out = sizing.evaluate(
        [], what="maxmemory", target=70, tolerance=10, problems=["redis2: no `ssh` host"]
    )
    assert out.status is Status.FAILED and "1 could not be measured" in out.summary
    assert sizing.evaluate([], what="maxmemory", target=70, tolerance=10).status is Status.FAILED
