"""Small per-user state (the chosen theme) and the optional key map.

- ``ui.json`` in platformdirs' user state dir (``~/.local/state/jaraba-ops/``): what the
  console remembers between runs. Unreadable = forgotten, never an error.
- ``keymap.toml`` in the user config dir (``~/.config/jaraba-ops/keymap.toml``): binding id
  -> key(s), e.g. ``goto-galera = "g"`` or ``refresh = "f5,r"`` (a ``[keymap]`` table works
  too). Profiles have no key map field yet, so the key map is per user, not per profile.
"""

from __future__ import annotations

import contextlib
import json
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any


def state_file() -> Path:
    from platformdirs import user_state_dir

    return Path(user_state_dir("jaraba-ops")) / "ui.json"


def keymap_file() -> Path:
    from platformdirs import user_config_dir

    return Path(user_config_dir("jaraba-ops")) / "keymap.toml"


def load_state(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def save_state(path: Path | None, **values: Any) -> None:
    """Merge ``values`` into the state file (atomic replace; failures are ignored)."""
    if path is None:
        return
    data = {**load_state(path), **values}
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        tmp.replace(path)


def load_keymap(path: Path | None, known_ids: Iterable[str]) -> tuple[dict[str, str], list[str]]:
    """(binding id -> keys, problems). A missing file is an empty key map."""
    if path is None or not path.is_file():
        return {}, []
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return {}, [f"key map {path}: unreadable ({exc}); using the default keys"]
    table = data.get("keymap", data)
    if not isinstance(table, dict):
        return {}, [f"key map {path}: [keymap] must be a table; using the default keys"]
    known = set(known_ids)
    keymap: dict[str, str] = {}
    problems: list[str] = []
    for binding_id, keys in table.items():
        if binding_id not in known:
            problems.append(
                f"key map {path}: unknown binding id {binding_id!r} (see the help screen, ?)"
            )
        elif not isinstance(keys, str) or not keys.strip():
            problems.append(f'key map {path}: {binding_id} must be a key string like "g"')
        else:
            keymap[binding_id] = keys.strip()
    return keymap, problems
