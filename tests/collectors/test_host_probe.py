"""The Galera host probe: one shell command, run for real here; its parser fuzzed."""

from __future__ import annotations

import contextlib
import os
import subprocess
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from jaraba_tui.collectors.common import ParseError, split_probe
from jaraba_tui.collectors.galera import HOST_PROBE, parse_probe_process


def run_probe(datadir: str, log: str, lines: int = 5, hint: str = "") -> str:
    out = subprocess.run(
        ["sh", "-c", HOST_PROBE, "jaraba-probe", datadir, log, str(lines), hint],
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    assert out.returncode in (0, 1), out.stderr
    return out.stdout


def test_probe_reads_grastate_df_and_log(tmp_path: Path) -> None:
    (tmp_path / "grastate.dat").write_text(
        "# GALERA saved state\nversion: 2.1\nuuid: x\nseqno: -1\n"
    )
    log = tmp_path / "error.log"
    log.write_text("".join(f"line {i}\n" for i in range(50)))
    sections = split_probe(run_probe(str(tmp_path), str(log)))
    assert sections["grastate"][1] == 0 and "seqno: -1" in sections["grastate"][0]
    assert sections["df"][1] == 0 and sections["df"][0].startswith("Filesystem")
    assert sections["log"] == ("\n".join(f"line {i}" for i in range(45, 50)), 0)
    assert "process" in sections


def test_missing_files_are_reported_per_section(tmp_path: Path) -> None:
    sections = split_probe(run_probe(str(tmp_path / "nope"), str(tmp_path / "nolog")))
    assert sections["grastate"][1] != 0 and "No such file" in sections["grastate"][0]
    assert sections["df"][1] != 0
    assert sections["log"][1] != 0


def test_hostile_paths_are_data_not_code(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    hostile = f"$(touch {marker}); `touch {marker}`; touch {marker}"
    split_probe(run_probe(hostile, hostile, hint=hostile))
    assert not marker.exists()


def test_a_stale_pid_hint_falls_back_to_the_scan(tmp_path: Path) -> None:
    """The PID of the last poll is checked first; one that is no mariadbd (here a process
    whose cwd is the datadir, but named sleep), or no process at all, answers like no hint."""
    (tmp_path / "grastate.dat").write_text("uuid: x\nseqno: 1")  # no final newline
    plain = split_probe(run_probe(str(tmp_path), ""))
    other = subprocess.Popen(["sleep", "30"], cwd=tmp_path)
    try:
        for hint in (str(other.pid), str(os.getpid()), "1", "x/../1"):
            hinted = split_probe(run_probe(str(tmp_path), "", hint=hint))
            assert {k: hinted[k] for k in ("process", "grastate")} == {
                k: plain[k] for k in ("process", "grastate")
            }
    finally:
        other.kill()
        other.wait()
    assert plain["grastate"] == ("uuid: x\nseqno: 1", 0)
    assert str(other.pid) not in plain["process"][0]


def test_empty_datadir_and_log_skip_their_sections() -> None:
    sections = split_probe(run_probe("", ""))
    assert set(sections) == {"process"}


@given(st.text())
def test_split_probe_never_raises(text: str) -> None:
    for body, rc in split_probe(text).values():
        assert isinstance(body, str) and isinstance(rc, int)


@given(st.text(), st.one_of(st.none(), st.text()))
def test_parse_probe_process_raises_only_parse_errors(text: str, datadir: str | None) -> None:
    with contextlib.suppress(ParseError):
        parse_probe_process(text, datadir)
