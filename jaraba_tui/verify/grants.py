"""``SHOW GRANTS`` output: parsed, compared with the privileges the seed asks for, and
printed without the password hash MariaDB appends (``IDENTIFIED BY PASSWORD '*...'``).

Pure functions; fed with real MariaDB 10.11 output in the tests.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

#: The seed's pre-deployment checklist.
MONITOR_PRIVILEGES: frozenset[str] = frozenset({"USAGE"})
REPLICATION_PRIVILEGES: tuple[str, ...] = ("RELOAD", "PROCESS", "LOCK TABLES", "REPLICATION CLIENT")

#: Names MariaDB gave the same privilege over time: 10.5 renamed REPLICATION CLIENT to
#: BINLOG MONITOR (SHOW GRANTS prints the new name), REPLICATION SLAVE to REPLICATION REPLICA.
ALIASES: Mapping[str, frozenset[str]] = {
    "REPLICATION CLIENT": frozenset({"BINLOG MONITOR"}),
    "BINLOG MONITOR": frozenset({"REPLICATION CLIENT"}),
    "REPLICATION SLAVE": frozenset({"REPLICATION REPLICA"}),
    "REPLICATION REPLICA": frozenset({"REPLICATION SLAVE"}),
    "SLAVE MONITOR": frozenset({"REPLICA MONITOR"}),
    "REPLICA MONITOR": frozenset({"SLAVE MONITOR"}),
}

_GRANT = re.compile(
    r"^\s*GRANT\s+(?P<privs>.+?)\s+ON\s+"
    r"(?P<on>(?:(?:FUNCTION|PROCEDURE|PACKAGE\s+BODY|PACKAGE)\s+)?\S+)\s+TO\s+(?P<to>.+?)\s*$",
    re.IGNORECASE | re.DOTALL,
)
_ROLE_GRANT = re.compile(r"^\s*GRANT\s+(?P<roles>.+?)\s+TO\s+(?P<to>.+?)\s*$", re.I | re.S)
# Everything from IDENTIFIED up to WITH (or the end) carries a hash or auth string.
_CREDENTIALS = re.compile(
    r"\s+IDENTIFIED\s+(?:BY|VIA|WITH)\b.*?(?=\s+(?:WITH|REQUIRE|PASSWORD\s+EXPIRE)\b|$)",
    re.IGNORECASE | re.DOTALL,
)
_QUOTED_SECRET = re.compile(r"'(?:[^'\\]|\\.)*'")


class GrantParseError(ValueError):
    pass


@dataclass(frozen=True)
class Grant:
    """One ``GRANT`` line. ``on`` is None for a role grant (``GRANT role TO user``)."""

    privileges: frozenset[str]
    on: str | None
    grant_option: bool
    roles: tuple[str, ...]
    text: str

    @property
    def is_global(self) -> bool:
        return self.on is not None and self.on.replace("`", "") == "*.*"


def strip_credentials(statement: str) -> str:
    """The statement without ``IDENTIFIED BY PASSWORD '...'`` / ``IDENTIFIED VIA ...``."""
    out = _CREDENTIALS.sub("", statement.strip())
    if re.search(r"\bIDENTIFIED\b", out, re.IGNORECASE):  # an unusual shape: hide quotes
        out = _QUOTED_SECRET.sub("'***'", out)
    return out


def _split_privileges(text: str) -> list[str]:
    """``SELECT (`a`, `b`), INSERT`` -> ``["SELECT (`a`, `b`)", "INSERT"]``."""
    parts: list[str] = []
    depth, start = 0, 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(0, depth - 1)
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def _privilege_name(item: str) -> str:
    name = item.split("(", 1)[0]
    return " ".join(name.split()).upper()


def parse_grant(statement: str) -> Grant:
    text = strip_credentials(statement)
    m = _GRANT.match(text)
    if m is not None:
        to = m["to"]
        privs = frozenset(_privilege_name(p) for p in _split_privileges(m["privs"]))
        if "ALL" in privs:
            privs = (privs - {"ALL"}) | {"ALL PRIVILEGES"}
        return Grant(
            privileges=privs,
            on=" ".join(m["on"].split()),
            grant_option=bool(re.search(r"\bWITH\b.*\bGRANT\s+OPTION\b", to, re.I)),
            roles=(),
            text=text,
        )
    r = _ROLE_GRANT.match(text)
    if r is not None:
        roles = tuple(p.strip() for p in _split_privileges(r["roles"]))
        return Grant(frozenset(), None, False, roles, text)
    raise GrantParseError(f"not a GRANT statement: {text[:80]!r}")


def grant_lines(rows: Iterable[Mapping[str, Any]]) -> list[str]:
    """The statements of ``SHOW GRANTS`` rows (one column, named ``Grants for u@h``)."""
    out: list[str] = []
    for row in rows:
        if not isinstance(row, Mapping):
            raise GrantParseError(f"SHOW GRANTS row is not a mapping: {type(row).__name__}")
        for value in row.values():
            if value is not None:
                out.append(
                    value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
                )
            break
    return out


def parse_grants(rows: Iterable[Mapping[str, Any]]) -> list[Grant]:
    return [parse_grant(line) for line in grant_lines(rows)]


def global_privileges(grants: Iterable[Grant]) -> frozenset[str]:
    out: set[str] = set()
    for g in grants:
        if g.is_global:
            out |= g.privileges
    return frozenset(out)


def covered_by(required: str, have: frozenset[str]) -> str | None:
    """The privilege in ``have`` that grants ``required`` (itself, an alias, or ALL)."""
    want = required.upper()
    if want in have:
        return want
    for alias in sorted(ALIASES.get(want, frozenset())):
        if alias in have:
            return alias
    if "ALL PRIVILEGES" in have and want != "USAGE":
        return "ALL PRIVILEGES"
    if want == "USAGE" and have:
        return next(iter(sorted(have)))  # any global grant line means the account can log in
    return None


def missing(required: Iterable[str], grants: Iterable[Grant]) -> list[str]:
    have = global_privileges(grants)
    return [p for p in required if covered_by(p, have) is None]


def describe(required: Iterable[str], grants: Iterable[Grant]) -> str:
    """``RELOAD, PROCESS, LOCK TABLES, REPLICATION CLIENT (as BINLOG MONITOR)``."""
    have = global_privileges(grants)
    parts = []
    for p in required:
        got = covered_by(p, have)
        if got is None:
            continue
        parts.append(p if got == p or p == "USAGE" else f"{p} (as {got})")
    return ", ".join(parts)


def extra_privileges(allowed: Iterable[str], grants: Iterable[Grant]) -> list[str]:
    """Global privileges beyond ``allowed`` (and their aliases), USAGE aside."""
    ok = {a.upper() for a in allowed}
    for a in list(ok):
        ok |= ALIASES.get(a, frozenset())
    return sorted(p for p in global_privileges(grants) if p not in ok and p != "USAGE")
