"""Validated scalar types of a profile: names, hosts, ports, paths, URLs, argv, user names.

Every validator raises :class:`~jaraba_tui.secrets.InvalidValue` (a ``ValueError``) with
a ``problem`` and a ``fix``; the loader turns it into a
:class:`~jaraba_tui.profile.errors.ProfileError`. Messages never echo a value that could be
a secret. The upper-case names (``NAME``, ``HOST``, ``PORT``...) are the checks the models
declare their fields with (:mod:`jaraba_tui.profile.schema`).

Path fields (and only they) expand ``${NAME}`` and ``${NAME:-default}`` from the
environment, defaults possibly nested (``${JARABA_LAB_DIR:-${XDG_STATE_HOME:-/tmp}/jaraba-lab}``);
local paths also expand a leading ``~``. Hosts, names and secrets never expand anything.
"""

from __future__ import annotations

import ipaddress
import os
import re
from pathlib import Path
from urllib.parse import urlsplit

from jaraba_tui.profile.errors import shown
from jaraba_tui.profile.schema import integer, number, scalar
from jaraba_tui.secrets import InvalidValue, Secret

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
_LABEL = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
_VAR = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PROGRAM = re.compile(r"^[A-Za-z0-9_./+-]{1,255}$")
_USER = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,79}$")
_ENVIRONMENT = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SHELL_META = frozenset("`;|&<>'\"\\")


def bad(problem: str, fix: str) -> InvalidValue:
    return InvalidValue(problem, fix)


def _need_str(value: object, what: str, example: str) -> str:
    if not isinstance(value, str):
        raise bad(f"expected {what} (a string), got {type(value).__name__}", f"e.g. {example}")
    return value


# -- names -----------------------------------------------------------------------------------
def check_name(value: object) -> str:
    text = _need_str(value, "a name", '"node1"')
    if not _NAME.match(text):
        raise bad(
            f"invalid name {shown(text)}",
            "use 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit",
        )
    return text


def check_environment(value: object) -> str:
    text = _need_str(value, "an environment name", '"production"')
    if text.lower() in {"prod", "prd", "live", "production"} and text != "production":
        raise bad(
            f"environment {shown(text)} looks like production but is not spelled `production`",
            'write environment = "production": that exact word enables the production safeguards',
        )
    if not _ENVIRONMENT.match(text):
        raise bad(
            f"invalid environment {shown(text)}",
            'use lowercase letters, digits, "-" or "_", e.g. "lab", "staging", "production"',
        )
    return text


# -- hosts and ports -------------------------------------------------------------------------
def check_host(value: object) -> str:
    text = _need_str(value, "a host name or IP address", '"node1.db.jaraba.io"')
    fix = "use a DNS name (letters, digits, '-', dots) or an IPv4/IPv6 address, nothing else"
    if not text or len(text) > 253:
        raise bad("a host must be 1-253 characters", fix)
    try:
        ipaddress.ip_address(text)
        return text
    except ValueError:
        pass
    if not all(_LABEL.match(label) for label in text.split(".")):
        raise bad(f"invalid host name {shown(text)}", fix)
    if text.replace(".", "").isdigit():
        raise bad(f"invalid IP address {shown(text)}", fix)
    return text


NAME = scalar(check_name)
ENVIRONMENT = scalar(check_environment)
HOST = scalar(check_host)
PORT = integer(ge=1, le=65535)
SECONDS = number(gt=0, le=3600)


# -- ${VAR} expansion (paths only) -----------------------------------------------------------
def expand_vars(text: str) -> str:
    """Expand ``${NAME}`` / ``${NAME:-default}`` (defaults may nest); ``$`` otherwise refused."""
    out, pos = _expand(text, 0, nested=False)
    assert pos == len(text)
    return out


def _expand(text: str, pos: int, *, nested: bool) -> tuple[str, int]:
    out: list[str] = []
    while pos < len(text):
        ch = text[pos]
        if nested and ch == "}":
            return "".join(out), pos
        if ch != "$":
            out.append(ch)
            pos += 1
            continue
        if not text.startswith("${", pos):
            raise bad(
                "a '$' in a path must start ${NAME} or ${NAME:-default}",
                "write ${NAME}; a literal '$' is not supported in paths",
            )
        match = _VAR.match(text, pos + 2)
        if match is None:
            raise bad("invalid ${...} in a path", "write ${NAME} or ${NAME:-default}")
        name, pos = match.group(), match.end()
        if text.startswith(":-", pos):
            default, pos = _expand(text, pos + 2, nested=True)
        elif text.startswith("}", pos):
            default = None
        else:
            raise bad(f"invalid ${{{name}...}} in a path", "write ${NAME} or ${NAME:-default}")
        if not text.startswith("}", pos):
            raise bad(f"unclosed ${{{name} in a path", "close it with '}'")
        pos += 1
        value = os.environ.get(name)
        if value:
            out.append(value)
        elif default is not None:
            out.append(default)
        else:
            raise bad(
                f"environment variable {name} (used in a path) is not set",
                f"export {name}, or give a default: ${{{name}:-/some/path}}",
            )
    if nested:
        raise bad("unclosed ${...} in a path", "close it with '}'")
    return "".join(out), pos


def _path(value: object, *, local: bool) -> str:
    text = _need_str(value, "a path", '"/var/lib/mysql"')
    if _CONTROL.search(text):
        raise bad("a path cannot contain control characters (NUL, newline...)", "remove them")
    text = expand_vars(text)
    if _CONTROL.search(text):
        raise bad("the path's ${...} expanded to control characters", "fix the variable")
    if any(c in _SHELL_META for c in text):
        raise bad(
            f"a path cannot contain quotes or shell metacharacters, got {shown(text)}",
            "write a plain path: no quotes and none of ` ; | & < > \\",
        )
    if local and (text == "~" or text.startswith("~/")):
        text = str(Path(text).expanduser())
    if not text.startswith("/"):
        hint = "absolute (/...) or start with ~/" if local else "absolute (/...)"
        raise bad(f"a path must be {hint}, got {shown(text)}", f"write the {hint} path")
    return text


def check_local_path(value: object) -> str:
    return _path(value, local=True)


def check_remote_path(value: object) -> str:
    return _path(value, local=False)


LOCAL_PATH = scalar(check_local_path)
REMOTE_PATH = scalar(check_remote_path)


# -- URLs ------------------------------------------------------------------------------------
def check_url(value: object) -> str:
    text = _need_str(value, "a URL", '"http://127.0.0.1:9090"')
    if _CONTROL.search(text) or any(c in text for c in " \"'`<>\\"):
        raise bad("a URL cannot contain spaces, quotes or control characters", "fix the URL")
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https"):
        raise bad("a URL must start with http:// or https://", 'e.g. "http://127.0.0.1:9090"')
    if "@" in parts.netloc:
        raise bad(
            "a URL cannot carry user:password@ (credentials are never written in a profile)",
            "remove them from the URL and use the section's user/password secret keys",
        )
    try:
        port = parts.port
    except ValueError:
        raise bad("the URL's port must be 1-65535", "fix the port") from None
    if port == 0:
        raise bad("the URL's port must be 1-65535", "fix the port")
    check_host(parts.hostname or "")
    return text.rstrip("/") if parts.path in ("", "/") else text


URL = scalar(check_url)


# -- argv (commands run on a host) -----------------------------------------------------------
def check_argv(value: object) -> list[str]:
    if not isinstance(value, list) or not value:
        raise bad(
            "a command is a non-empty list of arguments",
            'e.g. ["systemctl", "start", "mariadb"] (never one shell string)',
        )
    for arg in value:
        if not isinstance(arg, str):
            raise bad("every argument of a command must be a string", "quote each argument")
        if "\x00" in arg or "\n" in arg or "\r" in arg:
            raise bad("a command argument cannot contain NUL or newlines", "remove them")
    # ${NAME} / ${NAME:-default} expand here, on the bastion, as in paths: each result stays
    # one argument (quoted on the remote side), so an expansion can never become shell code.
    value = [expand_vars(arg) if "${" in arg else arg for arg in value]
    if not _PROGRAM.match(value[0]):
        raise bad(
            f"invalid program name {shown(value[0])}",
            "the first item is a program name or absolute path (letters, digits, ./_+-)",
        )
    return list(value)


ARGV = scalar(check_argv)


# -- user names: a literal name, or a (non-sensitive) secret reference -----------------------
def check_user(value: object) -> str | Secret:
    if isinstance(value, dict | Secret):
        return Secret.parse(value, sensitive=False)
    text = _need_str(value, "a user name", '"root" or { env = "DRUPAL_DB_USER" }')
    if not _USER.match(text):
        raise bad(
            f"invalid user name {shown(text)}",
            "use letters, digits, '_', '.', '@' or '-' (or { env = \"VARIABLE\" })",
        )
    return text


USER = scalar(check_user)
#: A secret's table (``{ env = "..." }`` or ``{ command = "..." }``).
SECRET = scalar(Secret.parse)


def reveal_user(value: str | Secret | None, default: str = "") -> str:
    """The user name (a literal, or a resolved secret reference)."""
    if value is None:
        return default
    return value.reveal() if isinstance(value, Secret) else value
