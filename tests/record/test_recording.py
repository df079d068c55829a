"""Record then read back: the same updates, audit records, no secrets; truncated files
replay up to the cut; bad files are refused with one clear sentence."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from jaraba_tui.model.snapshot import LAYERS
from jaraba_tui.record import RecordingError, load_recording
from jaraba_tui.record.writer import AuditFollower, Recorder
from jaraba_tui.secrets import register_secret_value
from tests.record.helpers import audit_record, updates, write_recording


def lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(x) for x in gzip.open(path).read().splitlines()]


def test_round_trip_gives_the_updates_the_console_saw(tmp_path: Path) -> None:
    ups = updates()
    path = tmp_path / "r.jsonl.gz"
    write_recording(path, ups)
    rec = load_recording(path)
    assert not rec.truncated and rec.damage is None
    assert rec.profile == "local" and rec.environment == "lab"
    got = [f.update for f in rec.frames if f.update is not None]
    assert len(got) == len(ups)
    for want, have in zip(ups, got, strict=True):
        assert have is not None
        assert have.layer == want.layer
        assert have.at == pytest.approx(want.at, abs=1e-3)
        assert have.findings == want.findings
        assert have.events == want.events
        assert dict(have.states) == dict(want.states)
        for layer in LAYERS:
            assert getattr(have.snapshot, layer) == getattr(want.snapshot, layer), layer
        assert have.snapshot.failures == want.snapshot.failures
    actions = rec.audit_records
    assert [r["event"] for r in actions] == ["started", "finished"]
    assert actions[0]["who"]["user"] == "alice"  # type: ignore[index]


def test_header_names_format_version_profile_and_tool(tmp_path: Path) -> None:
    from jaraba_tui import __version__

    path = tmp_path / "r.jsonl.gz"
    write_recording(path)
    first = lines(path)[0]
    assert first["type"] == "header" and first["format"] == "jaraba-ops-recording"
    assert first["version"] == 1 and first["tool_version"] == __version__
    assert first["profile"] == "local"
    assert lines(path)[-1]["type"] == "end"


def test_no_secret_reaches_the_file(tmp_path: Path) -> None:
    secret = "s3cr3t-for-the-recorder-test"
    register_secret_value(secret)
    ups = updates()
    # A message holding a secret (as an error from a driver might) and an audit record.
    from dataclasses import replace

    from jaraba_tui.model.findings import Finding, Severity

    leaky = replace(
        ups[-1],
        findings=(Finding(Severity.CRIT, "redis", "r1", f"redis: auth failed for {secret}"),),
    )
    path = tmp_path / "r.jsonl.gz"
    rec = Recorder(path, profile="local", environment="lab")
    rec.update(ups[0])
    rec.update(leaky)
    rec.audit([audit_record("started", ups[0].at, note=f"password={secret}")])
    rec.close()
    with gzip.open(path) as f:
        text = f.read().decode()
    assert secret not in text
    assert "auth failed for ***" in text and "password=***" in text


def test_thinning_keeps_every_event_and_change_but_fewer_lines(tmp_path: Path) -> None:
    ups = updates()
    full, thin = tmp_path / "full.jsonl.gz", tmp_path / "thin.jsonl.gz"
    write_recording(full, ups)
    r = write_recording(thin, ups, min_interval=3600.0)
    assert r.skipped > 0
    a, b = load_recording(full), load_recording(thin)
    assert len(b.updates) < len(a.updates)
    events = [e for f in a.updates for e in f.update.events]  # type: ignore[union-attr]
    assert events, "the fixture has events"
    assert [e for f in b.updates for e in f.update.events] == events  # type: ignore[union-attr]
    assert b.updates[-1].update.findings == a.updates[-1].update.findings  # type: ignore[union-attr]
    assert b.updates[-1].update.states == a.updates[-1].update.states  # type: ignore[union-attr]


def test_an_unclosed_recorder_replays_what_it_flushed(tmp_path: Path) -> None:
    """A crash: no end line, but everything flushed before it is there."""
    path = tmp_path / "crash.jsonl.gz"
    ups = updates()
    write_recording(path, ups, close=False)
    rec = load_recording(path)
    assert rec.truncated and rec.damage is not None and "did not stop cleanly" in rec.damage
    assert len(rec.updates) == len(ups)


@pytest.mark.parametrize("keep", [0.97, 0.8, 0.5, 0.2])
def test_a_cut_file_replays_up_to_the_cut(tmp_path: Path, keep: float) -> None:
    path = tmp_path / "r.jsonl.gz"
    ups = updates()
    rec = Recorder(path, profile="local", environment="lab", flush_interval=0.0)
    for u in ups:
        rec.update(u)  # flush_interval 0: a sync point after every line
    rec.close()
    data = path.read_bytes()
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(data[: int(len(data) * keep)])
    got = load_recording(cut)
    assert got.truncated and got.damage
    assert 0 < len(got.updates) < len(ups)
    n = len(got.updates)
    assert got.updates[-1].update.findings == ups[n - 1].findings  # type: ignore[union-attr]


def _gz(path: Path, *text_lines: str) -> Path:
    with gzip.open(path, "wb") as f:
        f.write("".join(x + "\n" for x in text_lines).encode())
    return path


HEADER = json.dumps({"type": "header", "format": "jaraba-ops-recording", "version": 1})


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda p: p, "cannot read"),
        (lambda p: (p.write_bytes(b""), p)[1], "is empty"),
        (lambda p: (p.write_text('{"type": "header"}\n'), p)[1], "not gzip"),
        (lambda p: _gz(p), "holds no data"),
        (lambda p: _gz(p, "hello world"), "line 1: not JSON"),
        (lambda p: _gz(p, '{"type": "update"}'), "not a jaraba-ops recording"),
        (
            lambda p: _gz(p, HEADER.replace('"version": 1', '"version": 99')),
            "format version 99",
        ),
        (lambda p: _gz(p, HEADER, "garbage {"), "line 2: not JSON"),
        (
            lambda p: _gz(p, HEADER, '{"type": "update", "t": 1, "layer": "nope", "data": {}}'),
            "line 2",
        ),
        (lambda p: _gz(p, HEADER, '{"type": "mystery"}'), "unknown line type"),
        (lambda p: (p.write_bytes(b"\x1f\x8b" + b"\x00" * 40), p)[1], "not valid gzip"),
    ],
    ids=[
        "missing",
        "empty",
        "not-gzip",
        "empty-gzip",
        "garbage-first-line",
        "no-header",
        "wrong-version",
        "garbage-line",
        "bad-layer",
        "unknown-type",
        "damaged-gzip",
    ],
)
def test_bad_recordings_are_refused_with_a_clear_sentence(
    tmp_path: Path, make: object, words: str
) -> None:
    path = make(tmp_path / "bad.jsonl.gz")  # type: ignore[operator]
    with pytest.raises(RecordingError) as err:
        load_recording(path)
    assert words in str(err.value)
    assert str(path) in str(err.value)


def test_recorder_refuses_an_unwritable_path(tmp_path: Path) -> None:
    with pytest.raises(RecordingError, match="cannot write"):
        Recorder(tmp_path / "no" / "such" / "dir" / "r.gz", profile="p", environment="lab")


def test_audit_follower_reads_only_new_records_of_its_profile(tmp_path: Path) -> None:
    log = tmp_path / "audit.log"
    log.write_text(json.dumps(audit_record("started", 1.0)) + "\n")
    follower = AuditFollower(log, "local")
    assert follower.read_new() == []  # what was there before the recording is not news
    other = {**audit_record("started", 2.0), "profile": "prod"}
    with log.open("a") as f:
        f.write(json.dumps(audit_record("finished", 2.0)) + "\n")
        f.write(json.dumps(other) + "\n")
        f.write('{"half a line')
    got = follower.read_new()
    assert [r["event"] for r in got] == ["finished"]
    with log.open("a") as f:
        f.write(' never ends"}\n')
    assert follower.read_new() == []  # the completed line is not JSON: skipped
