"""ProxySQL's three configuration layers: MEMORY and DISK in SQLite, RUNTIME in Python.

As in ProxySQL, ``main`` is an in-memory SQLite database holding the editable tables, ``disk`` is
an SQLite file (``proxysql.db`` under the state directory) with the same tables, and ``stats``
and ``monitor`` are attached in-memory databases. RUNTIME is what the stand-in acts on; its
``runtime_*`` tables in ``main`` are rewritten whenever the runtime changes. Editing a table
changes nothing until ``LOAD ... TO RUNTIME``.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from dataclasses import astuple
from pathlib import Path
from typing import Any

from lab.proxysql_standin.hostgroups import GaleraHostgroup, ServerRow, sort_rows
from lab.proxysql_standin.schema import (
    CONFIG_TABLES,
    GALERA_COLUMNS,
    MONITOR_TABLES,
    SERVER_COLUMNS,
    STATS_TABLES,
    create_statements,
)

Row = tuple[Any, ...]

#: Module name (as written in LOAD/SAVE commands) -> (tables, global_variables prefix).
MODULES: dict[str, tuple[tuple[str, ...], str | None]] = {
    "MYSQL SERVERS": (
        (
            "mysql_servers",
            "mysql_galera_hostgroups",
            "mysql_replication_hostgroups",
            "mysql_group_replication_hostgroups",
        ),
        None,
    ),
    "MYSQL USERS": (("mysql_users",), None),
    "MYSQL QUERY RULES": (("mysql_query_rules",), None),
    "MYSQL VARIABLES": (("global_variables",), "mysql-"),
    "ADMIN VARIABLES": (("global_variables",), "admin-"),
    "SCHEDULER": (("scheduler",), None),
}


def native_password_hash(password: str) -> str:
    """``*`` + upper hex SHA1(SHA1(password)): MySQL's and ProxySQL's hashed form."""
    inner = hashlib.sha1(password.encode("utf-8")).digest()  # noqa: S324 - the protocol's hash
    return "*" + hashlib.sha1(inner).hexdigest().upper()  # noqa: S324


def is_hashed(password: str | None) -> bool:
    return bool(password) and len(password or "") == 41 and (password or "").startswith("*")


class AdminStore:
    """The admin database and the runtime configuration built from it."""

    def __init__(self, state_dir: Path | None) -> None:
        self.db = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        if state_dir is None:
            disk_target = ":memory:"
            self.disk_path: Path | None = None
        else:
            state_dir.mkdir(parents=True, exist_ok=True)
            self.disk_path = state_dir / "proxysql.db"
            disk_target = str(self.disk_path)
        self.db.execute("ATTACH DATABASE ? AS disk", (disk_target,))
        if self.disk_path is not None:
            self.disk_path.chmod(0o600)
        self.db.execute("ATTACH DATABASE ':memory:' AS stats")
        self.db.execute("ATTACH DATABASE ':memory:' AS monitor")
        for statement in (
            *create_statements("main", CONFIG_TABLES),
            *create_statements("main", CONFIG_TABLES, prefix="runtime_"),
            *create_statements("disk", CONFIG_TABLES),
            *create_statements("stats", STATS_TABLES),
            *create_statements("monitor", MONITOR_TABLES),
        ):
            self.db.execute(statement)

        self.servers_config: list[ServerRow] = []  # what LOAD MYSQL SERVERS TO RUNTIME loaded
        self.servers: list[ServerRow] = []  # runtime_mysql_servers (the monitor moves nodes)
        self.galera: list[GaleraHostgroup] = []
        self.users: list[dict[str, Any]] = []
        self.query_rules: list[dict[str, Any]] = []
        self.variables: dict[str, str] = {}
        #: Cleartext passwords of mysql_users (from the environment, or loaded as cleartext):
        #: runtime keeps only hashes, but logging in to a backend needs the cleartext.
        self.user_secrets: dict[str, str] = {}
        self.listeners: list[Callable[[str], None]] = []

    def close(self) -> None:
        self.db.close()

    # -- plain SQL -------------------------------------------------------------------------

    def query(self, sql: str, params: Sequence[Any] = ()) -> tuple[list[str], list[Row]]:
        cursor = self.db.execute(sql, tuple(params))
        columns = [d[0] for d in cursor.description or ()]
        return columns, [tuple(r) for r in cursor.fetchall()]

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        cursor = self.db.execute(sql, tuple(params))
        return max(cursor.rowcount, 0)

    def dicts(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        columns, rows = self.query(sql, params)
        return [dict(zip(columns, row, strict=True)) for row in rows]

    def disk_has_config(self) -> bool:
        _, rows = self.query("SELECT COUNT(*) FROM disk.global_variables")
        return bool(rows[0][0])

    def replace_rows(
        self, schema: str, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
    ) -> None:
        """Replace the whole content of ``schema.table`` with ``rows``."""
        placeholders = ", ".join("?" for _ in columns)
        names = ", ".join(columns)
        with self.transaction():
            self.db.execute(f"DELETE FROM {schema}.{table}")  # noqa: S608 - fixed names
            self.db.executemany(
                f"INSERT INTO {schema}.{table} ({names}) VALUES ({placeholders})",  # noqa: S608
                [tuple(r) for r in rows],
            )

    def transaction(self) -> _Transaction:
        return _Transaction(self.db)

    # -- LOAD / SAVE -----------------------------------------------------------------------

    def copy(self, module: str, source: str, target: str) -> None:
        """Copy a module's tables between the ``main`` and ``disk`` schemas."""
        tables, prefix = MODULES[module]
        with self.transaction():
            for table in tables:
                if prefix is None:
                    self.db.execute(f"DELETE FROM {target}.{table}")  # noqa: S608
                    self.db.execute(
                        f"INSERT INTO {target}.{table} SELECT * FROM {source}.{table}"  # noqa: S608
                    )
                else:
                    self.db.execute(
                        f"INSERT OR REPLACE INTO {target}.{table} "  # noqa: S608
                        f"SELECT * FROM {source}.{table} WHERE variable_name LIKE ?",
                        (prefix + "%",),
                    )

    def memory_to_disk(self, module: str) -> None:
        self.copy(module, "main", "disk")

    def disk_to_memory(self, module: str) -> None:
        self.copy(module, "disk", "main")

    def memory_to_runtime(self, module: str) -> None:
        if module == "MYSQL SERVERS":
            _, rows = self.query(f"SELECT {', '.join(SERVER_COLUMNS)} FROM main.mysql_servers")  # noqa: S608
            self.servers_config = [_server_row(r) for r in rows]
            _, rows = self.query(
                f"SELECT {', '.join(GALERA_COLUMNS)} FROM main.mysql_galera_hostgroups"  # noqa: S608
            )
            self.galera = [GaleraHostgroup(*r) for r in rows]
            for table in ("mysql_replication_hostgroups", "mysql_group_replication_hostgroups"):
                self.db.execute(f"DELETE FROM main.runtime_{table}")  # noqa: S608
                self.db.execute(
                    f"INSERT INTO main.runtime_{table} SELECT * FROM main.{table}"  # noqa: S608
                )
            self.set_runtime_servers(self.servers_config)
        elif module == "MYSQL USERS":
            users = self.dicts("SELECT * FROM main.mysql_users")
            for user in users:
                password = user.get("password")
                if password and not is_hashed(password):
                    self.user_secrets[str(user["username"])] = str(password)
                    user["password"] = native_password_hash(password)
            self.users = users
            self._write_runtime_users()
        elif module == "MYSQL QUERY RULES":
            self.query_rules = self.dicts("SELECT * FROM main.mysql_query_rules ORDER BY rule_id")
            self._write_runtime_table("mysql_query_rules", self.query_rules)
        elif module == "SCHEDULER":
            self.db.execute("DELETE FROM main.runtime_scheduler")
            self.db.execute("INSERT INTO main.runtime_scheduler SELECT * FROM main.scheduler")
        else:
            prefix = MODULES[module][1] or ""
            _, rows = self.query(
                "SELECT variable_name, variable_value FROM main.global_variables "
                "WHERE variable_name LIKE ?",
                (prefix + "%",),
            )
            for name, value in rows:
                self.variables[str(name)] = str(value)
            self.replace_rows(
                "main",
                "runtime_global_variables",
                ("variable_name", "variable_value"),
                sorted(self.variables.items()),
            )
        self._notify(module)

    def runtime_to_memory(self, module: str) -> None:
        if module == "MYSQL SERVERS":
            self.replace_rows(
                "main", "mysql_servers", SERVER_COLUMNS, (astuple(r) for r in self.servers)
            )
            self.replace_rows(
                "main", "mysql_galera_hostgroups", GALERA_COLUMNS, (astuple(g) for g in self.galera)
            )
            for table in ("mysql_replication_hostgroups", "mysql_group_replication_hostgroups"):
                self.db.execute(f"DELETE FROM main.{table}")  # noqa: S608
                self.db.execute(
                    f"INSERT INTO main.{table} SELECT * FROM main.runtime_{table}"  # noqa: S608
                )
        elif module == "MYSQL USERS":
            self._replace_dicts("mysql_users", self.users)
        elif module == "MYSQL QUERY RULES":
            self._replace_dicts("mysql_query_rules", self.query_rules)
        elif module == "SCHEDULER":
            self.db.execute("DELETE FROM main.scheduler")
            self.db.execute("INSERT INTO main.scheduler SELECT * FROM main.runtime_scheduler")
        else:
            prefix = MODULES[module][1] or ""
            self.db.executemany(
                "INSERT OR REPLACE INTO main.global_variables VALUES (?, ?)",
                [(k, v) for k, v in self.variables.items() if k.startswith(prefix)],
            )

    # -- runtime ---------------------------------------------------------------------------

    def set_runtime_servers(self, rows: Iterable[ServerRow]) -> None:
        self.servers = sort_rows(rows)
        self.replace_rows(
            "main", "runtime_mysql_servers", SERVER_COLUMNS, (astuple(r) for r in self.servers)
        )
        self.replace_rows(
            "main",
            "runtime_mysql_galera_hostgroups",
            GALERA_COLUMNS,
            (astuple(g) for g in self.galera),
        )

    def variable(self, name: str, default: str = "") -> str:
        return self.variables.get(name, default)

    def int_variable(self, name: str, default: int) -> int:
        try:
            return int(self.variables.get(name, default))
        except ValueError:
            return default

    def frontend_user(self, username: str) -> dict[str, Any] | None:
        for user in self.users:
            if user["username"] == username and user["frontend"] and user["active"]:
                return user
        return None

    def _notify(self, module: str) -> None:
        for listener in self.listeners:
            listener(module)

    def _write_runtime_users(self) -> None:
        # Real ProxySQL shows each user twice at runtime: once as frontend, once as backend.
        rows: list[dict[str, Any]] = []
        for user in self.users:
            if user.get("frontend"):
                rows.append({**user, "frontend": 1, "backend": 0})
            if user.get("backend"):
                rows.append({**user, "frontend": 0, "backend": 1})
        self._write_runtime_table("mysql_users", rows)

    def _write_runtime_table(self, table: str, rows: list[dict[str, Any]]) -> None:
        columns = self._columns("main", table)
        self.replace_rows(
            "main", f"runtime_{table}", columns, ([r.get(c) for c in columns] for r in rows)
        )

    def _replace_dicts(self, table: str, rows: list[dict[str, Any]]) -> None:
        columns = self._columns("main", table)
        self.replace_rows("main", table, columns, ([r.get(c) for c in columns] for r in rows))

    def _columns(self, schema: str, table: str) -> list[str]:
        _, rows = self.query(f"PRAGMA {schema}.table_info({table})")
        return [str(r[1]) for r in rows]


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.outer = False

    def __enter__(self) -> None:
        self.outer = not self.db.in_transaction
        if self.outer:
            self.db.execute("BEGIN")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if not self.outer:
            return
        if exc_type is None:
            self.db.execute("COMMIT")
        else:
            self.db.execute("ROLLBACK")


def _server_row(row: Row) -> ServerRow:
    values = list(row)
    values[4] = str(values[4]).upper()
    return ServerRow(*values)
