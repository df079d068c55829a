"""Theme files (``themes/*.toml``, or ``.yaml``) -> Textual ``Theme`` objects.

Loaded at start from the shipped ``themes/`` and then ``~/.config/jaraba-ops/themes/`` (a
user file of the same name wins). A broken file never stops the console: it is skipped
with a one-line problem that names the file, and the console falls back to jaraba-dark.
"""

from __future__ import annotations

import importlib
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from textual.color import Color, ColorParseError
from textual.theme import Theme

DEFAULT_THEME = "jaraba-dark"
_COLOURS = (
    "primary",
    "secondary",
    "accent",
    "foreground",
    "background",
    "surface",
    "panel",
    "boost",
    "success",
    "warning",
    "error",
)
_OTHER = {"name", "dark", "variables", "luminosity_spread", "text_alpha"}


class ThemeError(ValueError):
    pass


@dataclass
class ThemeSet:
    themes: dict[str, Theme] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def user_themes_dir() -> Path:
    from platformdirs import user_config_dir

    return Path(user_config_dir("jaraba-ops")) / "themes"


def theme_dirs() -> list[Path]:
    from jaraba_tui.resources import themes_dir

    return [themes_dir(), user_themes_dir()]


def _read(path: Path) -> Mapping[str, Any]:
    if path.suffix == ".toml":
        try:
            return tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ThemeError(f"not valid TOML: {exc}") from None
    try:
        yaml: Any = importlib.import_module("yaml")
    except ImportError:
        raise ThemeError("a .yaml theme needs PyYAML installed (or write it as .toml)") from None
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ThemeError(f"not valid YAML: {' '.join(str(exc).split())}") from None
    if not isinstance(data, dict):
        raise ThemeError("expected a mapping of theme fields")
    return data


def theme_from_mapping(data: Mapping[str, Any], *, default_name: str) -> Theme:
    unknown = sorted(set(data) - set(_COLOURS) - _OTHER)
    if unknown:
        raise ThemeError(f"unknown key(s) {', '.join(unknown)} (known: {', '.join(_COLOURS)})")
    name = data.get("name", default_name)
    if not isinstance(name, str) or not name.strip():
        raise ThemeError("`name` must be a non-empty string")
    if "primary" not in data:
        raise ThemeError('`primary` is required, e.g. primary = "#4C9AFF"')
    colours: dict[str, str] = {}
    for key in _COLOURS:
        if key not in data:
            continue
        value = data[key]
        try:
            Color.parse(value)
        except (ColorParseError, TypeError, ValueError):
            raise ThemeError(f'`{key}` = {value!r} is not a colour (e.g. "#0D1117")') from None
        colours[key] = str(value)
    dark = data.get("dark", True)
    if not isinstance(dark, bool):
        raise ThemeError("`dark` must be true or false")
    variables = data.get("variables", {})
    if not isinstance(variables, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in variables.items()
    ):
        raise ThemeError("[variables] must map names to strings")
    return Theme(
        name=name,
        dark=dark,
        variables=dict(variables),
        **colours,  # type: ignore[arg-type]
    )


def load_theme_file(path: Path) -> Theme:
    return theme_from_mapping(_read(path), default_name=path.stem)


def load_themes(dirs: Iterable[Path]) -> ThemeSet:
    out = ThemeSet()
    for directory in dirs:
        if not directory.is_dir():
            continue
        files = sorted(
            p for p in directory.iterdir() if p.suffix in (".toml", ".yaml", ".yml") and p.is_file()
        )
        for path in files:
            try:
                theme = load_theme_file(path)
            except (ThemeError, OSError, UnicodeDecodeError) as exc:
                out.problems.append(f"theme {path}: {exc} — skipped")
                continue
            out.themes[theme.name] = theme
    return out


def choose_theme(
    available: Mapping[str, Theme], wanted: str | None, remembered: str | None
) -> tuple[str, str | None]:
    """(theme to use, a notice or None). ``--theme`` beats the remembered one; an unknown or
    broken theme falls back to jaraba-dark (or Textual's own dark theme) with a notice."""
    fallback = DEFAULT_THEME if DEFAULT_THEME in available else "textual-dark"
    if wanted:
        if wanted in available:
            return wanted, None
        known = ", ".join(sorted(available)) or "none"
        return fallback, f"theme {wanted!r} is not available (known: {known}); using {fallback}"
    if remembered and remembered in available:
        return remembered, None
    return fallback, None
