"""Pure helpers: the blue/green map file, and writing files on a host without ever building
a shell string from a value (run for real on the local host)."""

from __future__ import annotations

from pathlib import Path

import pytest

from jaraba_tui.actions.bluegreen_util import parse_map_file, render_map
from jaraba_tui.actions.remote import argv_text, curl_argv, write_file, write_file_argv
from jaraba_tui.actions.settings import GaleraNodeCommands, substitute
from jaraba_tui.transport.local import LocalShell


def test_render_map_replaces_in_place_keeps_other_lines_and_appends_missing() -> None:
    existing = "# Blue/green routing state old header\n# a note\nlive blue\nextra x\ncanary green\n"
    out = render_map(
        existing,
        {"live": "green", "canary": "none", "canary_pct": "0"},
        who="alice",
        when="2024-01-01T00:00:00Z",
    )
    lines = out.splitlines()
    assert lines[1] == "# Last change: 2024-01-01T00:00:00Z by alice"
    assert "# a note" in lines and "extra x" in lines
    assert "old header" not in out
    assert parse_map_file(out) == {
        "live": "green",
        "extra": "x",
        "canary": "none",
        "canary_pct": "0",
    }
    assert lines.index("live green") < lines.index("extra x") < lines.index("canary none")
    again = render_map(out, {"live": "blue"}, who="bob", when="t2")
    assert again.count("# Last change") == 1 and parse_map_file(again)["live"] == "blue"


def _written_exactly(path: Path, content: str, root: Path) -> None:
    assert path.read_text() == content
    assert oct(path.stat().st_mode & 0o777) == "0o644"
    assert not list(root.rglob("pwned*")) and not list(Path.cwd().glob("pwned*"))
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".jaraba-ops.")]


async def test_write_file_passes_values_as_arguments_never_as_shell_text(tmp_path: Path) -> None:
    evil_dir = tmp_path / "a dir; $(touch pwned-dir)"
    evil_dir.mkdir()
    path = evil_dir / "map `touch pwned-name`.map"
    content = "live green\n$(touch pwned-content) 'quote' \"dq\" ; rm -rf /nonexistent\n"
    shell = LocalShell(command_timeout=10)
    assert await write_file(shell, str(path), content) is None
    _written_exactly(path, content, tmp_path)
    argv = write_file_argv(str(path), content)
    assert argv[:2] == ["sh", "-c"] and argv[4:6] == [str(path), content]
    with pytest.raises(ValueError):
        write_file_argv(str(path), content, mode="777; id")


def test_argv_texts_are_quoted_exactly() -> None:
    assert argv_text(["systemctl", "start", "mariadb"]) == "systemctl start mariadb"
    assert argv_text(["a", "b c", "$(x)"]) == "a 'b c' '$(x)'"
    assert curl_argv("http://h:1/health", host_header="jaraba.io", timeout=5)[-2:] == [
        "--",
        "http://h:1/health",
    ]


def test_placeholders_are_substituted_and_positions_validated() -> None:
    cmds = GaleraNodeCommands(
        start=("s",),
        stop=("t",),
        bootstrap=("lab", "galera-start", "1", "--position", "{position}"),
        recover=("r",),
    )
    pos = "7563ca9a-e9e8-11f1-a8e8-627d7470b612:42"
    assert cmds.bootstrap_argv(pos)[-1] == pos
    with pytest.raises(ValueError):
        cmds.bootstrap_argv("x; rm -rf /")
    with pytest.raises(ValueError):
        cmds.bootstrap_argv(None)
    plain = GaleraNodeCommands(
        start=("s",), stop=("t",), bootstrap=("galera_new_cluster",), recover=("r",)
    )
    assert plain.bootstrap_argv(None) == ["galera_new_cluster"]
    assert substitute(
        ["deploy", "--colour={colour}", "{ref}"], {"colour": "green", "ref": "v1"}
    ) == ["deploy", "--colour=green", "v1"]


async def test_safe_to_bootstrap_edit_changes_only_that_line(tmp_path: Path) -> None:
    from jaraba_tui.actions.galera_common import SAFE_SED

    grastate = tmp_path / "grastate.dat"
    original = (
        "# GALERA saved state\nversion: 2.1\n"
        "uuid:    7563ca9a-e9e8-11f1-a8e8-627d7470b612\nseqno:   -1\nsafe_to_bootstrap: 0\n"
    )
    grastate.write_text(original)
    res = await LocalShell().run(["sed", "-i", "-e", SAFE_SED, str(grastate)])
    assert res.exit_status == 0
    assert grastate.read_text() == original.replace("safe_to_bootstrap: 0", "safe_to_bootstrap: 1")
