"""Find, read and validate a profile; every failure becomes one :class:`ProfileError`."""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from jaraba_tui.profile import checks
from jaraba_tui.profile.errors import ProfileError, ProfileIssue, dotted, shown, toml_key
from jaraba_tui.profile.models import Profile
from jaraba_tui.profile.schema import INVALID, Problem
from jaraba_tui.profile.types import check_name

DEFAULT_PROFILE = "local"
MAX_PROFILE_BYTES = 1_000_000
_EXAMPLE = "see profiles/local.toml for an annotated example"


def user_profiles_dir() -> Path:
    """``~/.config/jaraba-ops/profiles`` (platformdirs' user config dir)."""
    from platformdirs import user_config_dir

    return Path(user_config_dir("jaraba-ops")) / "profiles"


def shipped_profiles_dir() -> Path:
    from jaraba_tui.resources import profiles_dir

    return profiles_dir()


def _looks_like_path(text: str) -> bool:
    return "/" in text or text.endswith(".toml") or Path(text).is_file()


def available_profiles() -> dict[str, Path]:
    """Profile names found in the user's dir and the shipped dir (the user's win)."""
    found: dict[str, Path] = {}
    for directory in (shipped_profiles_dir(), user_profiles_dir()):
        if directory.is_dir():
            for path in sorted(directory.glob("*.toml")):
                found[path.stem] = path
    return found


def resolve_profile_path(name_or_path: str | Path | None = None) -> Path:
    """``--profile NAME|PATH`` -> the file: a path as given; a name in the user's config dir,
    then among the shipped profiles. The default is ``local``."""
    if isinstance(name_or_path, Path):
        return name_or_path
    text = DEFAULT_PROFILE if name_or_path in (None, "") else str(name_or_path)
    if _looks_like_path(text):
        return Path(text).expanduser()
    try:
        check_name(text)
    except ValueError:
        raise ProfileError(
            f"{shown(text)} is neither a profile name nor a path",
            key="",
            fix="give a name (letters, digits, . _ -) or a path to a .toml file",
        ) from None
    tried = [user_profiles_dir() / f"{text}.toml", shipped_profiles_dir() / f"{text}.toml"]
    for path in tried:
        if path.is_file():
            return path
    names = sorted(available_profiles())
    close = difflib.get_close_matches(text, names, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise ProfileError(
        f"no profile named {text!r} (looked for {tried[0]} and {tried[1]})",
        fix=f"{hint}create {tried[0]}, or pass a path; available: {', '.join(names) or 'none'}",
    )


def load_profile(name_or_path: str | Path | None = None, *, check_secrets: bool = True) -> Profile:
    """Resolve, read, validate. ``check_secrets`` also requires every ``env`` secret to be
    resolvable now (its variable set); command secrets run only when revealed."""
    return load_profile_and_data(name_or_path, check_secrets=check_secrets)[0]


def load_profile_and_data(
    name_or_path: str | Path | None = None, *, check_secrets: bool = True
) -> tuple[Profile, dict[str, Any], Path]:
    """:func:`load_profile`, with the parsed file and its path: ``profile_from_mapping(data,
    path=path)`` validates the same profile again (the console's engine child validates it
    and hands the console the data: :class:`jaraba_tui.engine.process.ProfileFacts`)."""
    path = resolve_profile_path(name_or_path)
    data = read_profile_file(path)
    return profile_from_mapping(data, path=path, check_secrets=check_secrets), data, path


def read_profile_file(path: Path) -> dict[str, Any]:
    try:
        size = path.stat().st_size
        if size > MAX_PROFILE_BYTES:
            raise ProfileError(
                f"file is too large ({size} bytes) to be a profile", path=path, fix="check the path"
            )
        text = path.read_bytes().decode("utf-8")
    except ProfileError:
        raise
    except FileNotFoundError:
        raise ProfileError(
            "file not found", path=path, fix="check the path, or give a profile name"
        ) from None
    except IsADirectoryError:
        raise ProfileError(
            "is a directory, not a file", path=path, fix="give a .toml file"
        ) from None
    except PermissionError:
        raise ProfileError(
            "permission denied reading the file", path=path, fix="check its owner and mode"
        ) from None
    except UnicodeDecodeError as exc:
        raise ProfileError(
            f"not valid UTF-8 (byte {exc.start})", path=path, fix="save the file as UTF-8"
        ) from None
    except OSError as exc:
        raise ProfileError(
            f"cannot read the file: {exc.strerror or type(exc).__name__}",
            path=path,
            fix="check the path",
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        where = re.search(r"line (\d+), column (\d+)", msg)
        at = f" at line {where[1]}, column {where[2]}" if where else ""
        raise ProfileError(
            f"invalid TOML: {msg}", path=path, fix=f"fix the TOML syntax{at}"
        ) from None
    except RecursionError:
        raise ProfileError(
            "invalid TOML: arrays or tables nested too deeply", path=path, fix=_EXAMPLE
        ) from None


def profile_from_mapping(
    data: Mapping[str, Any], *, path: Path | str | None = None, check_secrets: bool = True
) -> Profile:
    """Validate already-parsed TOML. Anything wrong -> ProfileError (never another error)."""
    errors: list[Problem] = []
    try:
        profile = Profile.validate(dict(data), (), errors)
    except RecursionError:
        raise ProfileError("the profile is nested too deeply", path=path, fix=_EXAMPLE) from None
    if profile is INVALID or errors:
        raise ProfileError.from_issues(validation_issues(errors), path)
    assert isinstance(profile, Profile)
    issues = (
        checks.check_references(profile)
        + checks.check_duplicates(profile)
        + checks.check_thresholds(profile)
        + checks.check_secret_rules(profile)
        + checks.check_local_files(profile)
    )
    if issues:
        raise ProfileError.from_issues(issues, path)
    checks.bind_secrets(profile, str(path) if path is not None else None)
    if check_secrets:
        issues = checks.check_secrets_available(profile)
        if issues:
            raise ProfileError.from_issues(issues, path)
    profile._from_file(Path(path) if path is not None else None)
    return profile


# -- schema problems -> issues -----------------------------------------------------------------
_TYPE_FIX = {
    "int_type": "write a whole number without quotes, e.g. 3306",
    "float_type": "write a number without quotes, e.g. 2.5",
    "string_type": 'write a quoted string, e.g. "node1"',
    "bool_type": "write true or false (no quotes)",
    "list_type": "write a list, e.g. [ ... ] or [[...]] tables",
    "model_type": "write a table, e.g. [section] or { key = ... }",
    "dict_type": "write a table, e.g. [section] or { key = ... }",
    "too_short": "add at least one entry",
}


def validation_issues(errors: Sequence[Problem]) -> list[ProfileIssue]:
    """The schema's problems (:mod:`jaraba_tui.profile.schema`) as issues: the dotted key,
    the problem in words, the fix."""
    issues: list[ProfileIssue] = []
    for loc_, kind, message, given_fix in errors:
        loc = list(loc_)
        is_table_name = bool(loc) and loc[-1] == "[key]"
        if is_table_name:
            loc = loc[:-1]
        key = dotted(loc)
        problem = message
        if kind in ("jaraba", "jaraba_secret"):
            fix = given_fix or _EXAMPLE
        elif kind == "missing":
            problem = "required key is missing"
            fix = f"add {toml_key(str(loc[-1]))} = ..." if loc else _EXAMPLE
        elif kind == "extra_forbidden":
            problem = "unknown key"
            fix = given_fix or "remove it, or fix its spelling"
        elif kind in _TYPE_FIX:
            fix = _TYPE_FIX[kind]
        elif loc and "port" in str(loc[-1]):
            fix = "use a port number between 1 and 65535"
        elif kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
            fix = "use a value within the limit"
        else:
            fix = _EXAMPLE
        if is_table_name:
            problem = f"invalid table name: {problem}"
        issues.append(ProfileIssue(key, problem, fix))
    return issues or [ProfileIssue("", "invalid profile", _EXAMPLE)]
