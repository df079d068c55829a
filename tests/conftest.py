"""Shared fixtures. Lab helpers live in tests/labutil.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.labutil import LAB_DIR


@pytest.fixture(autouse=True)
def _own_user_dirs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Tests never write the real user's config/state (theme memory, keymap, audit default).

    The lab's state directory is pinned first: profiles/local.toml derives it from
    XDG_STATE_HOME when JARABA_LAB_DIR is unset.
    """
    home = tmp_path_factory.mktemp("user")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JARABA_LAB_DIR", str(LAB_DIR))
        mp.setenv("XDG_STATE_HOME", str(home / "state"))
        mp.setenv("XDG_CONFIG_HOME", str(home / "config"))
        mp.setenv("XDG_CACHE_HOME", str(home / "cache"))
        yield


@pytest.fixture
def lab_dir() -> Path:
    return LAB_DIR
