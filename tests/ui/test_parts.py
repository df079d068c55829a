"""Pure parts of the console: theme files, key map, remembered state, formatting, headlines."""

from __future__ import annotations

from pathlib import Path

import pytest

from jaraba_tui.resources import themes_dir
from jaraba_tui.ui.commands import COMMANDS, LAYER_COMMANDS, PANES, visible
from jaraba_tui.ui.format import age, ellipsize, spark, where
from jaraba_tui.ui.settings import load_keymap, load_state, save_state
from jaraba_tui.ui.summaries import headline
from jaraba_tui.ui.themes import ThemeError, choose_theme, load_themes, theme_from_mapping
from jaraba_tui.ui.widgets.timeline import TimelineEntry, newest_first
from tests.engine.fakes import recorded


def test_the_four_shipped_themes_load() -> None:
    found = load_themes([themes_dir()])
    assert found.problems == []
    assert set(found.themes) == {
        "jaraba-dark",
        "jaraba-light",
        "jaraba-high-contrast",
        "jaraba-colourblind",
    }
    assert found.themes["jaraba-light"].dark is False


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"name": "x"}, "`primary` is required"),
        ({"name": "x", "primary": "#fff", "colour": "#000"}, "unknown key(s) colour"),
        ({"name": "x", "primary": "blurple"}, "is not a colour"),
        ({"name": "x", "primary": "#fff", "dark": "yes"}, "`dark` must be true or false"),
        ({"name": "", "primary": "#fff"}, "`name` must be a non-empty string"),
    ],
)
def test_bad_theme_files_say_what_is_wrong(data: dict[str, object], problem: str) -> None:
    with pytest.raises(ThemeError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        theme_from_mapping(data, default_name="x")


def test_yaml_themes_load_too(tmp_path: Path) -> None:
    (tmp_path / "ocean.yaml").write_text("primary: '#00AAFF'\nbackground: '#001122'\n")
    found = load_themes([tmp_path])
    assert found.problems == [] and "ocean" in found.themes


def test_theme_choice_order_and_fallback() -> None:
    themes = load_themes([themes_dir()]).themes
    assert choose_theme(themes, "jaraba-light", "jaraba-dark") == ("jaraba-light", None)
    assert choose_theme(themes, None, "jaraba-light") == ("jaraba-light", None)
    assert choose_theme(themes, None, "gone") == ("jaraba-dark", None)
    chosen, notice = choose_theme(themes, "nope", None)
    assert chosen == "jaraba-dark" and notice is not None and "'nope'" in notice


def test_keymap_file_forms_and_problems(tmp_path: Path) -> None:
    ids = [c.id for c in COMMANDS]
    path = tmp_path / "keymap.toml"
    assert load_keymap(path, ids) == ({}, [])
    path.write_text('goto-galera = "g"\nrefresh = "f5,r"\nbogus = "x"\nhelp = 3\n')
    keymap, problems = load_keymap(path, ids)
    assert keymap == {"goto-galera": "g", "refresh": "f5,r"}
    assert any("bogus" in p for p in problems) and any("help" in p for p in problems)
    path.write_text('[keymap]\nquit = "ctrl+q"\n')
    assert load_keymap(path, ids) == ({"quit": "ctrl+q"}, [])
    path.write_text("not [toml")
    keymap, problems = load_keymap(path, ids)
    assert keymap == {} and "unreadable" in problems[0]


def test_state_is_merged_and_unreadable_state_is_forgotten(tmp_path: Path) -> None:
    path = tmp_path / "state" / "ui.json"
    save_state(path, theme="jaraba-light")
    save_state(path, other=1)
    assert load_state(path) == {"theme": "jaraba-light", "other": 1}
    path.write_text("{broken")
    assert load_state(path) == {}
    assert load_state(None) == {}


def test_registry_ids_are_unique_and_every_pane_has_a_key() -> None:
    ids = [c.id for c in (*COMMANDS, *LAYER_COMMANDS)]
    assert len(ids) == len(set(ids))
    keyed = {c.id for c in COMMANDS if c.key}
    assert {f"goto-{p}" for p in PANES} <= keyed
    writes = [c for c in COMMANDS if c.requires_write]
    assert writes and all(c.capability for c in writes)  # the guarded actions, nothing else
    assert visible(COMMANDS, read_only=True) == [c for c in COMMANDS if not c.requires_write]


def test_formatting_helpers() -> None:
    assert age(5) == "5s" and age(600) == "10m" and age(7300) == "2h01m" and age(None) == "never"
    assert ellipsize("abcdef", 4) == "abc…" and ellipsize("abc", 4) == "abc"
    assert spark([], 3) == "···"
    assert spark([1, 1], 4) == "  ▄▄"
    assert spark([0, 1, 2], 3) == "▁▅█"
    assert where("prometheus prometheus http://127.0.0.1:9090") == "http://127.0.0.1:9090"


def test_headlines_from_recorded_snapshots() -> None:
    healthy = recorded("healthy")[-1]
    assert headline("galera", healthy) == "3/3 Synced · size 3"
    assert headline("haproxy", healthy).startswith("LIVE BLUE")
    assert "Sentinels agree" in headline("redis", healthy)
    degraded = recorded("degraded")[-1]
    assert headline("galera", degraded) == "2/3 Synced · size 2 · node3 down"


def test_timeline_is_newest_first_and_later_arrivals_first_on_ties() -> None:
    from jaraba_tui.model.findings import Severity

    a = TimelineEntry(10.0, Severity.OK, "redis", "a")
    b = TimelineEntry(10.0, Severity.OK, "redis", "b")
    c = TimelineEntry(5.0, Severity.OK, "redis", "c")
    assert [e.message for e in newest_first([c, a, b])] == ["b", "a", "c"]


def test_server_rows_hand_back_the_same_cells_for_unchanged_servers_only() -> None:
    from dataclasses import replace

    from jaraba_tui.ui.format import Palette
    from jaraba_tui.ui.widgets.haproxy import KeptRow, server_rows
    from jaraba_tui.ui.widgets.layers import CellMemo
    from tests.ui.helpers import degraded_updates

    update = next(u for u in reversed(degraded_updates()) if u.snapshot.haproxy is not None)
    h = update.snapshot.haproxy
    assert h is not None and len(h.servers) >= 2
    pal = Palette()
    kept: dict[str, KeptRow] = {}
    memo = CellMemo(pal)
    first = server_rows(h, update, pal, {}, kept, memo)
    plain = server_rows(h, update, pal, {})  # no memo: the same cells, built anew
    assert [(k, [str(c) for c in cs]) for k, cs in first] == [
        (k, [str(c) for c in cs]) for k, cs in plain
    ]
    one = h.servers[0]
    busier = replace(one, scur=(one.scur or 0) + 7)
    h2 = replace(h, servers=(busier, *h.servers[1:]))
    again = server_rows(h2, update, pal, {}, kept, memo)
    assert again[0][1] is not first[0][1] and again[0][1][4] == str((one.scur or 0) + 7)
    assert all(a[1] is b[1] for a, b in zip(again[1:], first[1:], strict=True))
