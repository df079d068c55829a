"""ProfileError: one message naming the file, the key, what is wrong and the fix.

The CLI prints ``str(exc)`` and exits 2. Nothing in a message ever echoes a value that
could be a secret: problems name keys and environment variables, never their contents.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def toml_key(part: str) -> str:
    """A key as TOML would write it: bare when possible, else quoted (escapes newlines)."""
    return part if _BARE_KEY.match(part) else json.dumps(part)


def dotted(loc: Sequence[str | int]) -> str:
    """``("galera", "nodes", 2, "port")`` -> ``galera.nodes[2].port``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + toml_key(part)
    return out


def shown(value: object, limit: int = 60) -> str:
    """A short, single-line, quoted rendering of a (non-secret) user value."""
    text = json.dumps(value if isinstance(value, str) else str(value))
    return text if len(text) <= limit else text[: limit - 4] + '..."'


@dataclass(frozen=True)
class ProfileIssue:
    """One problem: the dotted key (empty for the whole file), what is wrong, the fix."""

    key: str
    problem: str
    fix: str = ""

    def render(self) -> str:
        head = f"{self.key}: {self.problem}" if self.key else self.problem
        return f"{head}\n    fix: {self.fix}" if self.fix else head


class ProfileError(Exception):
    """A profile cannot be used. ``str(exc)`` is the whole human message.

    Attributes: ``path`` (the file, or None), ``key`` (dotted key of the first problem,
    e.g. ``galera.nodes[2].port``; empty when the problem is the whole file), ``problem``,
    ``fix`` (the first problem's), and ``issues`` (every problem found).
    """

    def __init__(
        self,
        problem: str,
        *,
        path: Path | str | None = None,
        key: str = "",
        fix: str = "",
        issues: Sequence[ProfileIssue] = (),
    ) -> None:
        self.path: Path | None = Path(path) if path is not None else None
        self.issues: tuple[ProfileIssue, ...] = tuple(issues) or (ProfileIssue(key, problem, fix),)
        first = self.issues[0]
        self.key = first.key
        self.problem = first.problem
        self.fix = first.fix
        super().__init__(self._render())

    @classmethod
    def from_issues(cls, issues: Sequence[ProfileIssue], path: Path | str | None) -> ProfileError:
        first = issues[0]
        return cls(first.problem, path=path, key=first.key, fix=first.fix, issues=issues)

    def with_path(self, path: Path | str | None) -> ProfileError:
        """The same problems, attributed to ``path``."""
        return ProfileError.from_issues(self.issues, path)

    def _render(self) -> str:
        where = f"profile {self.path}" if self.path is not None else "profile"
        if len(self.issues) == 1:
            return f"{where}: {self.issues[0].render()}"
        lines = [f"{where}: {len(self.issues)} problems"]
        lines += ["  " + issue.render().replace("\n", "\n  ") for issue in self.issues]
        return "\n".join(lines)
