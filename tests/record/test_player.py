"""Replay time: advance with speed, pause, step, seek both ways (the history never holds
the future), and the seek syntax."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from jaraba_tui.record import ReplayPlayer, load_recording
from jaraba_tui.record.reader import Recording
from tests.record.helpers import write_recording


@pytest.fixture
def rec(tmp_path: Path) -> Recording:
    path = tmp_path / "r.jsonl.gz"
    write_recording(path)
    return load_recording(path)


def test_advance_moves_replay_time_by_speed(rec: Recording) -> None:
    p = ReplayPlayer(rec, speed=4.0)
    assert p.now == p.start and p.position == 0
    got = p.advance(0.5)  # 2 s of replay time
    assert p.now == pytest.approx(p.start + 2.0)
    assert all(f.t <= p.now for f in got)
    assert p.position == len(got) == sum(1 for f in rec.frames if f.t <= p.now)
    p.paused = True
    assert p.advance(10.0) == [] and p.now == pytest.approx(p.start + 2.0)
    p.paused = False
    p.advance(1e9)
    assert p.ended and p.now == p.end


def test_step_delivers_one_update_at_a_time(rec: Recording) -> None:
    p = ReplayPlayer(rec, paused=True)
    total = len(rec.updates)
    seen = 0
    while True:
        got = p.step()
        if not got:
            break
        assert sum(1 for f in got if f.update is not None) <= 1
        seen += sum(1 for f in got if f.update is not None)
    assert seen == total and p.ended


def test_seek_back_rebuilds_the_history_without_the_future(rec: Recording) -> None:
    p = ReplayPlayer(rec)
    p.seek(p.end)
    assert p.ended
    keys = p.history.keys()
    assert keys, "the recording feeds sparklines"
    newest = max(t for k in keys for t, _ in p.history.points(k))
    mid = p.start + p.duration / 2
    p.seek(mid)
    assert p.now == mid
    assert all(f.t <= mid for f in p.delivered())
    assert p.position == sum(1 for f in rec.frames if f.t <= mid)
    now_keys = p.history.keys()
    after = [t for k in now_keys for t, _ in p.history.points(k)]
    assert all(t <= mid + 1.0 for t in after), "history holds no point from the future"
    assert max(after, default=0) < newest
    latest = p.latest_update()
    assert latest is not None and latest.at <= mid and latest.history is p.history
    p.seek(p.start - 1000)
    assert p.now == p.start
    p.seek(p.end + 1000)
    assert p.now == p.end


def test_speed_steps_are_bounded(rec: Recording) -> None:
    p = ReplayPlayer(rec)
    for _ in range(20):
        p.faster()
    assert p.speed == 64.0
    for _ in range(20):
        p.slower()
    assert p.speed == 0.25


def test_parse_time(rec: Recording) -> None:
    p = ReplayPlayer(rec)
    p.seek(p.start + 30)
    assert p.parse_time("+10s") == pytest.approx(p.now + 10)
    assert p.parse_time("-1m") == pytest.approx(p.now - 60)
    assert p.parse_time("T+5") == pytest.approx(p.start + 5)
    assert p.parse_time("50%") == pytest.approx(p.start + p.duration / 2)
    clock = time.strftime("%H:%M:%S", time.localtime(p.start + 7))
    assert p.parse_time(clock) == pytest.approx(int(p.start + 7), abs=1.0)
    for bad in ("", "soon", "25:00", "12:61"):
        with pytest.raises(ValueError):
            p.parse_time(bad)
