"""Start-up configuration: CLI values, and ProxySQL's ``proxysql.cnf`` (a libconfig file).

The cnf reader understands the subset of libconfig that ProxySQL configuration files use:
``name = value`` / ``name: value`` settings, ``{ }`` groups, ``( )`` lists, ``[ ]`` arrays,
strings, integers, floats, booleans and ``#``, ``//`` and ``/* */`` comments.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Lab defaults for mysql_galera_hostgroups (the same as infrastructure/ha/proxysql/proxysql.cnf).
WRITER_HOSTGROUP = 10
BACKUP_WRITER_HOSTGROUP = 20
READER_HOSTGROUP = 30
OFFLINE_HOSTGROUP = 9999
MAX_WRITERS = 1
WRITER_IS_ALSO_READER = 2
MAX_TRANSACTIONS_BEHIND = 100


@dataclass
class StandinConfig:
    """Everything the stand-in needs to start. Secrets are values here, never logged."""

    state_dir: Path
    bind: str = "127.0.0.1"
    admin_port: int = 6032
    mysql_port: int = 6033
    metrics_port: int = 6070
    config_file: Path | None = None
    backends: list[tuple[str, int]] = field(default_factory=list)
    admin_user: str = "admin"
    admin_password: str = ""
    monitor_user: str = "monitor"
    monitor_password: str = ""
    app_user: str | None = None
    app_password: str = ""
    monitor_interval_ms: int = 2000

    def __repr__(self) -> str:  # keep secrets out of any accidental repr in logs
        return (
            f"StandinConfig(bind={self.bind!r}, admin_port={self.admin_port}, "
            f"mysql_port={self.mysql_port}, metrics_port={self.metrics_port}, "
            f"state_dir={str(self.state_dir)!r}, backends={self.backends!r})"
        )


class CnfError(ValueError):
    """The configuration file is not valid libconfig (message names line and problem)."""


_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<comment>\#[^\n]*|//[^\n]*|/\*.*?\*/)
  | (?P<string>"(?:[^"\\]|\\.)*")
  | (?P<number>[-+]?(?:0[xX][0-9a-fA-F]+|\d+\.\d*(?:[eE][-+]?\d+)?|\.\d+|\d+)L{0,2})
  | (?P<name>[A-Za-z*][-A-Za-z0-9_*]*)
  | (?P<punct>[=:;,{}()\[\]])
    """,
    re.VERBOSE | re.DOTALL,
)


def _tokens(text: str) -> list[tuple[str, str, int]]:
    out: list[tuple[str, str, int]] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            line = text.count("\n", 0, pos) + 1
            raise CnfError(f"line {line}: unexpected character {text[pos]!r}")
        kind = match.lastgroup or ""
        if kind not in ("ws", "comment"):
            out.append((kind, match.group(), text.count("\n", 0, pos) + 1))
        pos = match.end()
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.pos = 0

    def peek(self) -> tuple[str, str, int] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, value: str | None = None) -> tuple[str, str, int]:
        token = self.peek()
        if token is None:
            raise CnfError("unexpected end of file")
        if value is not None and token[1] != value:
            raise CnfError(f"line {token[2]}: expected {value!r}, found {token[1]!r}")
        self.pos += 1
        return token

    def settings(self, closing: str | None) -> dict[str, Any]:
        out: dict[str, Any] = {}
        while True:
            token = self.peek()
            if token is None:
                if closing is not None:
                    raise CnfError(f"unexpected end of file, missing {closing!r}")
                return out
            if closing is not None and token[1] == closing:
                return out
            kind, name, line = self.take()
            if kind != "name":
                raise CnfError(f"line {line}: expected a setting name, found {name!r}")
            sep = self.take()
            if sep[1] not in ("=", ":"):
                raise CnfError(f"line {sep[2]}: expected '=' after {name!r}")
            out[name] = self.value()
            nxt = self.peek()
            if nxt is not None and nxt[1] in (";", ","):
                self.pos += 1

    def value(self) -> Any:
        kind, text, line = self.take()
        if text == "{":
            group = self.settings("}")
            self.take("}")
            return group
        if text in ("(", "["):
            closing = ")" if text == "(" else "]"
            items: list[Any] = []
            while True:
                token = self.peek()
                if token is not None and token[1] == closing:
                    self.pos += 1
                    return items
                items.append(self.value())
                token = self.peek()
                if token is not None and token[1] == ",":
                    self.pos += 1
        if kind == "string":
            parts = [text]
            while (token := self.peek()) is not None and token[0] == "string":
                parts.append(self.take()[1])  # adjacent strings concatenate
            return "".join(bytes(p[1:-1], "utf-8").decode("unicode_escape") for p in parts)
        if kind == "number":
            raw = text.rstrip("L")
            if raw.lower().startswith(("0x", "-0x", "+0x")):
                return int(raw, 16)
            return float(raw) if any(c in raw for c in ".eE") else int(raw)
        if kind == "name" and text.lower() in ("true", "false"):
            return text.lower() == "true"
        raise CnfError(f"line {line}: unexpected {text!r}")


def parse_cnf(text: str) -> dict[str, Any]:
    """Parse libconfig text into nested dicts and lists."""
    return _Parser(text).settings(None)


def load_cnf(path: Path) -> dict[str, Any]:
    return parse_cnf(path.read_text(encoding="utf-8"))


def _as_bool_int(value: Any) -> Any:
    return int(value) if isinstance(value, bool) else value


def cnf_variables(cnf: dict[str, Any]) -> dict[str, str]:
    """``admin_variables`` and ``mysql_variables`` as ``admin-x`` / ``mysql-x`` strings."""
    out: dict[str, str] = {}
    for section, prefix in (("admin_variables", "admin-"), ("mysql_variables", "mysql-")):
        for name, value in (cnf.get(section) or {}).items():
            out[prefix + name] = (
                ("true" if value else "false") if isinstance(value, bool) else str(value)
            )
    return out


_SERVER_KEYS = {"address": "hostname", "hostgroup": "hostgroup_id"}


def cnf_rows(cnf: dict[str, Any], section: str) -> list[dict[str, Any]]:
    """The groups of a list section (``mysql_servers``, ``mysql_users`` ...) as column dicts."""
    rows: list[dict[str, Any]] = []
    for item in cnf.get(section) or []:
        if not isinstance(item, dict):
            raise CnfError(f"{section}: every entry must be a {{ }} group")
        row: dict[str, Any] = {}
        for key, value in item.items():
            column = str(_SERVER_KEYS.get(key, key) if section == "mysql_servers" else key)
            row[column] = _as_bool_int(value)
        rows.append(row)
    return rows
