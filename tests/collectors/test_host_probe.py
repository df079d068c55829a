"""The Galera host probe: one shell command, run for real here; its parser fuzzed."""

from __future__ import annotations

import contextlib
import subprocess
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from jaraba_tui.collectors.common import ParseError, split_probe
from jaraba_tui.collectors.galera import HOST_PROBE, parse_probe_process


def run_probe(datadir: str, log: str, lines: int = 5) -> str:
    out = subprocess.run(
        ["sh", "-c", HOST_PROBE, "jaraba-probe", datadir, log, str(lines)],
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
    split_probe(run_probe(hostile, hostile))
    assert not marker.exists()


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
