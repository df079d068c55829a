"""Secrets: named in a profile, never written in it; resolved late; scrubbed from output.

A secret field in a profile is a table::

    password = { env = "REDIS_PASSWORD" }                  # the variable holds the value
    password = { command = "pass show jaraba/redis" }      # stdout of a command (no shell)
    password = { env = "REDIS_PASSWORD", default_for_lab = "redis_dev" }

A literal string is refused. ``default_for_lab`` is accepted only in a profile whose
``environment`` is ``"lab"`` *and* only when its value is one of the seed's published dev
credentials (:data:`PUBLIC_LAB_CREDENTIALS`): a profile can therefore never carry a value
that is not already public, whatever environment it claims to be.

:class:`Secret` renders as ``***`` (``str``), ``Secret(env:REDIS_PASSWORD)`` (``repr``) and
``env:REDIS_PASSWORD`` (:attr:`Secret.source`, as a profile's ``dump()`` serialises it).
``reveal()`` resolves and caches the value and records it in a process-wide registry, so
that output layers can :func:`scrub` every revealed value out of text before it reaches a
screen, a log or a recording.
"""

from __future__ import annotations

import os
import re
import shlex
import threading
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

if TYPE_CHECKING:
    from jaraba_tui.profile.errors import ProfileError

__all__ = [
    "PUBLIC_LAB_CREDENTIALS",
    "REDACTED",
    "InvalidValue",
    "Secret",
    "known_secret_values",
    "register_secret_value",
    "scrub",
]

REDACTED = "***"

#: The seed's Quick Start / lab dev credentials (lab/PORTS.md). Public, and valid for the
#: lab alone; the only literals a profile may hold, and only as ``default_for_lab``.
PUBLIC_LAB_CREDENTIALS = frozenset(
    {
        "jaraba_root_dev",
        "drupal_dev",
        "monitor_dev",
        "repl_dev",
        "exporter_dev",
        "admin_dev",
        "redis_dev",
        # user names of the same table
        "root",
        "drupal",
        "monitor",
        "repl",
        "exporter",
        "admin",
    }
)

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
_SECRET_KEYS = ("env", "command", "default_for_lab", "timeout")
_HOW = (
    'write it as { env = "VARIABLE" } (the variable holds the value) or '
    '{ command = "pass show jaraba/NAME" } (a command that prints it)'
)

_registry_lock = threading.Lock()
_registry: set[str] = set()


def register_secret_value(value: str) -> None:
    """Record a sensitive value so that :func:`scrub` removes it from any text."""
    if not value:
        return
    with _registry_lock:
        _registry.add(value)
        encoded = quote(value, safe="")
        if encoded != value:
            _registry.add(encoded)


def known_secret_values() -> frozenset[str]:
    """Every sensitive value revealed (or registered) so far in this process."""
    with _registry_lock:
        return frozenset(_registry)


def scrub(text: str) -> str:
    """``text`` with every known secret value replaced by ``***`` (longest first)."""
    values = known_secret_values()
    if not values or not text:
        return text
    for value in sorted(values, key=len, reverse=True):
        if value in text:
            text = text.replace(value, REDACTED)
    return text


def _profile_error(problem: str, *, path: object, key: str, fix: str) -> ProfileError:
    # Imported here: jaraba_tui.profile imports this module.
    from jaraba_tui.profile.errors import ProfileError

    return ProfileError(problem, path=path if isinstance(path, str) else None, key=key, fix=fix)


class InvalidValue(ValueError):
    """A profile value is refused: ``problem`` (never echoes a secret) and its ``fix``.

    Raised by the profile's validators (:mod:`jaraba_tui.profile.types`, :meth:`Secret.parse`);
    the profile loader turns it into a :class:`~jaraba_tui.profile.ProfileError` naming the key.
    ``kind`` tells a secret's table (``jaraba_secret``) from any other value (``jaraba``).
    """

    def __init__(self, problem: str, fix: str, kind: str = "jaraba") -> None:
        super().__init__(problem)
        self.problem = problem
        self.fix = fix
        self.kind = kind


def _invalid(problem: str, fix: str) -> InvalidValue:
    return InvalidValue(problem, fix, "jaraba_secret")


class Secret:
    """A reference to a secret (an environment variable or a command), resolved late."""

    __slots__ = (
        "_command",
        "_env",
        "_file",
        "_key",
        "_lab_default",
        "_lab_ok",
        "_lock",
        "_sensitive",
        "_timeout",
        "_value",
    )

    def __init__(
        self,
        *,
        env: str | None = None,
        command: str | None = None,
        default_for_lab: str | None = None,
        timeout: float = 10.0,
        sensitive: bool = True,
    ) -> None:
        if (env is None) == (command is None):
            raise ValueError("a Secret needs exactly one of env= or command=")
        self._env = env
        self._command = command
        self._lab_default = default_for_lab
        self._timeout = timeout
        self._sensitive = sensitive
        self._value: str | None = None
        self._lock = threading.Lock()
        self._file: str | None = None
        self._key = ""
        self._lab_ok = False

    # -- identity and rendering (never the value) ---------------------------------------------
    @property
    def source(self) -> str:
        """``env:NAME`` or ``command:PROGRAM`` (only the program: arguments stay out)."""
        if self._env is not None:
            return f"env:{self._env}"
        assert self._command is not None
        argv = shlex.split(self._command)
        return f"command:{argv[0]}"

    @property
    def env(self) -> str | None:
        return self._env

    @property
    def command(self) -> str | None:
        return self._command

    @property
    def has_lab_default(self) -> bool:
        return self._lab_default is not None

    @property
    def sensitive(self) -> bool:
        return self._sensitive

    @property
    def key(self) -> str:
        """Dotted key in the profile (set when the profile is loaded)."""
        return self._key

    def __str__(self) -> str:
        return REDACTED

    def __repr__(self) -> str:
        return f"Secret({self.source})"

    def __format__(self, spec: str) -> str:
        return REDACTED

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return (self._env, self._command, self._lab_default) == (
            other._env,
            other._command,
            other._lab_default,
        )

    def __hash__(self) -> int:
        return hash((self._env, self._command))

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickling/copying carries the reference, never a resolved value.
        return (
            _rebuild,
            (self._env, self._command, self._lab_default, self._timeout, self._sensitive),
        )

    def __deepcopy__(self, memo: dict[int, object]) -> Secret:
        return self  # immutable reference; the cache is shared on purpose

    # -- binding to a loaded profile ----------------------------------------------------------
    def bind(self, *, path: str | None, key: str, environment: str) -> None:
        """Record where the secret was declared, for messages; enable the lab default."""
        self._file = path
        self._key = key
        self._lab_ok = environment == "lab"

    def problem(self) -> tuple[str, str] | None:
        """Why an ``env`` secret cannot be resolved now, as (problem, fix); None if it can.

        Command secrets are not run here (they may prompt or be slow): they fail at reveal.
        """
        if self._env is None:
            return None
        value = os.environ.get(self._env)
        if value:
            return None
        if self._lab_default is not None and self._lab_ok:
            return None
        state = "is set but empty" if value == "" else "is not set"
        return (
            f"environment variable {self._env} {state}",
            f"export {self._env} (from your secrets manager) in the environment that starts "
            'jaraba-ops, or use { command = "..." } for this key',
        )

    # -- resolution ---------------------------------------------------------------------------
    def reveal(self) -> str:
        """The value (resolved once, cached, registered for scrubbing).

        Raises :class:`~jaraba_tui.profile.ProfileError` naming the file, key and variable
        (never a value) when it cannot be resolved.
        """
        with self._lock:
            if self._value is None:
                value = self._resolve()
                if self._sensitive:
                    register_secret_value(value)
                self._value = value
            return self._value

    async def areveal(self) -> str:
        """:meth:`reveal` without blocking the event loop the first time."""
        if self._value is not None:
            return self._value
        import asyncio  # here: the profile layer imports this module, asyncio is ~40 ms

        return await asyncio.to_thread(self.reveal)

    def _error(self, problem: str, fix: str) -> ProfileError:
        return _profile_error(problem, path=self._file, key=self._key, fix=fix)

    def _resolve(self) -> str:
        if self._env is not None:
            issue = self.problem()
            if issue is not None:
                raise self._error(*issue)
            value = os.environ.get(self._env)
            if value:
                return value
            assert self._lab_default is not None
            return self._lab_default
        assert self._command is not None
        import subprocess  # only a command secret needs it

        argv = shlex.split(self._command)
        try:
            done = subprocess.run(
                argv,
                capture_output=True,
                stdin=subprocess.DEVNULL,
                timeout=self._timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise self._error(
                f"secret command {argv[0]!r} did not finish within {self._timeout:g}s",
                "make it non-interactive (e.g. unlock the password store first) or raise timeout",
            ) from None
        except OSError as exc:
            raise self._error(
                f"secret command {argv[0]!r} could not run: {exc.strerror or type(exc).__name__}",
                "install it or give its absolute path in `command`",
            ) from None
        value = done.stdout.decode("utf-8", "replace").strip()
        if done.returncode != 0:
            err = done.stderr.decode("utf-8", "replace").strip().splitlines()
            why = f": {err[0][:160]}" if err else ""
            raise self._error(
                f"secret command {argv[0]!r} exited with status {done.returncode}{why}",
                "run the command yourself to see why it fails",
            )
        if not value:
            raise self._error(
                f"secret command {argv[0]!r} printed nothing",
                "the command must print the secret on stdout",
            )
        return value

    # -- parsing a profile's value -------------------------------------------------------------
    @classmethod
    def parse(cls, data: object, *, sensitive: bool = True) -> Secret:
        """Build from a profile value; raises :class:`InvalidValue` with a ``fix``."""
        if isinstance(data, Secret):
            return data
        if isinstance(data, str):
            raise _invalid("a secret is never written in a profile as a literal string", _HOW)
        if not isinstance(data, dict):
            raise _invalid(
                f"expected a table like {{ env = ... }}, got {type(data).__name__}", _HOW
            )
        unknown = sorted(str(k) for k in data if k not in _SECRET_KEYS)
        if unknown:
            raise _invalid(
                f"unknown key(s) in secret table: {', '.join(unknown)}",
                "a secret table takes env, command, default_for_lab (lab only), timeout",
            )
        env, command = data.get("env"), data.get("command")
        if (env is None) == (command is None):
            raise _invalid("a secret table needs exactly one of `env` and `command`", _HOW)
        if env is not None and (not isinstance(env, str) or not _ENV_NAME.match(env)):
            raise _invalid(
                "`env` must name an environment variable (letters, digits, _)",
                'e.g. { env = "REDIS_PASSWORD" }',
            )
        if command is not None:
            cls._check_command(command)
        lab = data.get("default_for_lab")
        if lab is not None and (not isinstance(lab, str) or lab not in PUBLIC_LAB_CREDENTIALS):
            raise _invalid(
                "`default_for_lab` may only hold one of the seed's public lab credentials",
                "remove it and export the variable; only the seed's *_dev values are accepted",
            )
        if lab is not None and command is not None:
            raise _invalid("`default_for_lab` goes with `env` only", "remove default_for_lab")
        timeout = data.get("timeout", 10.0)
        if (
            isinstance(timeout, bool)
            or not isinstance(timeout, int | float)
            or not 0 < timeout <= 300
        ):
            raise _invalid("`timeout` must be a number of seconds in (0, 300]", "e.g. timeout = 10")
        return cls(
            env=env,
            command=command,
            default_for_lab=lab,
            timeout=float(timeout),
            sensitive=sensitive,
        )

    @staticmethod
    def _check_command(command: object) -> None:
        if not isinstance(command, str) or not command.strip():
            raise _invalid("`command` must be a non-empty string", 'e.g. "pass show jaraba/redis"')
        if any(c in command for c in "\x00\n\r"):
            raise _invalid("`command` must be one line", "remove newlines from the command")
        try:
            shlex.split(command)
        except ValueError:
            raise _invalid(
                "`command` has unbalanced quotes", "fix the quoting (it is split like a shell)"
            ) from None


def _rebuild(
    env: str | None, command: str | None, lab: str | None, timeout: float, sensitive: bool
) -> Secret:
    return Secret(
        env=env, command=command, default_for_lab=lab, timeout=timeout, sensitive=sensitive
    )
