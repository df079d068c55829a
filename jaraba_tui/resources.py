"""Where the shipped themes and profiles live.

In a source checkout (and an editable install) they are the repository's top-level
``themes/`` and ``profiles/``. A wheel carries them inside the package as
``jaraba_tui/_data/{themes,profiles}`` (see ``pyproject.toml``).
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _data_dir(name: str) -> Path:
    installed = _PACKAGE / "_data" / name
    if installed.is_dir():
        return installed
    return _PACKAGE.parent / name


def themes_dir() -> Path:
    """Directory of the themes shipped with jaraba-ops."""
    return _data_dir("themes")


def profiles_dir() -> Path:
    """Directory of the profiles shipped with jaraba-ops."""
    return _data_dir("profiles")
