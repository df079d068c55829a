"""The admin interface's SQL: ProxySQL commands are intercepted, everything else is SQLite.

Like ProxySQL's admin, the stand-in passes ordinary SQL to SQLite and answers
``LOAD``/``SAVE``, ``SET admin-x`` / ``SET mysql-x``, ``SHOW ...`` and a few ``SELECT @@x``
itself. Every column is sent as a string, as ProxySQL's admin does. Errors come back as MySQL
error 1045 with ``ProxySQL Admin Error: <SQLite message>``, as ProxySQL's do.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from lab.proxysql_standin import STANDIN_VERSION, VERSION_COMMENT
from lab.proxysql_standin.stats import Stats
from lab.proxysql_standin.store import MODULES, AdminStore

log = logging.getLogger(__name__)

ACCESS_DENIED = 1045  # the error number ProxySQL's admin uses for every SQL error


class AdminError(Exception):
    def __init__(self, message: str, code: int = ACCESS_DENIED) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass
class Result:
    columns: list[str] = field(default_factory=list)
    rows: Sequence[tuple[str | None, ...]] = field(default_factory=list)
    affected: int = 0


@dataclass
class SessionInfo:
    user: str = ""
    database: str = "main"
    connection_id: int = 0


_LOAD_SAVE = re.compile(r"^(LOAD|SAVE)\s+([A-Z ]+?)\s+(TO|FROM)\s+([A-Z]+)$", re.IGNORECASE)
_SELECT_VARS = re.compile(
    r"^SELECT\s+(@@[\w.$-]+(?:\s+AS\s+\w+)?(?:\s*,\s*@@[\w.$-]+(?:\s+AS\s+\w+)?)*)"
    r"(?:\s+LIMIT\s+\d+)?$",
    re.IGNORECASE,
)
_SET_VARIABLE = re.compile(
    r"^SET\s+(?:GLOBAL\s+)?`?((?:admin|mysql)-[\w-]+)`?\s*(?:=|:=)\s*(.+)$", re.IGNORECASE
)
_SHOW_TABLES = re.compile(
    r"^SHOW\s+TABLES(?:\s+(?:FROM|IN)\s+`?(\w+)`?)?(?:\s+LIKE\s+'([^']*)')?$", re.IGNORECASE
)
_SHOW_CREATE = re.compile(r"^SHOW\s+CREATE\s+TABLE\s+(?:`?(\w+)`?\.)?`?(\w+)`?$", re.IGNORECASE)
_SHOW_COLUMNS = re.compile(
    r"^SHOW\s+(?:FULL\s+)?(?:COLUMNS|FIELDS)\s+(?:FROM|IN)\s+(?:`?(\w+)`?\.)?`?(\w+)`?"
    r"(?:\s+LIKE\s+'([^']*)')?$",
    re.IGNORECASE,
)
_SHOW_VARIABLES = re.compile(
    r"^SHOW\s+(?:(MYSQL|ADMIN)\s+)?VARIABLES(?:\s+LIKE\s+'([^']*)')?$", re.IGNORECASE
)
_CLEAR_DIGEST = re.compile(
    r"^(?:DELETE\s+FROM|TRUNCATE(?:\s+TABLE)?)\s+(?:stats\.)?stats_mysql_query_digest(?:_reset)?$",
    re.IGNORECASE,
)
_SCHEMAS = ("main", "disk", "stats", "monitor")

#: Values for ``SELECT @@name`` that are not ProxySQL variables.
SESSION_VALUES: dict[str, str] = {
    "version_comment": VERSION_COMMENT,
    "version": STANDIN_VERSION,
    "max_allowed_packet": "67108864",
    "autocommit": "1",
    "character_set_client": "utf8mb4",
    "character_set_connection": "utf8mb4",
    "character_set_results": "utf8mb4",
    "character_set_server": "utf8mb4",
    "character_set_database": "utf8mb4",
    "collation_server": "utf8mb4_general_ci",
    "collation_database": "utf8mb4_general_ci",
    "collation_connection": "utf8mb4_general_ci",
    "sql_mode": "",
    "time_zone": "SYSTEM",
    "system_time_zone": "UTC",
    "tx_isolation": "REPEATABLE-READ",
    "transaction_isolation": "REPEATABLE-READ",
    "lower_case_table_names": "0",
    "auto_increment_increment": "1",
    "wait_timeout": "28800",
    "interactive_timeout": "28800",
    "net_write_timeout": "60",
    "license": "GPL",
}


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _clean(sql: str) -> str:
    text = sql.strip()
    while text.endswith(";"):
        text = text[:-1].rstrip()
    return text


class AdminExecutor:
    """Executes one admin statement against the store."""

    def __init__(
        self,
        store: AdminStore,
        stats: Stats,
        processlist: Callable[[], list[tuple[Any, ...]]] | None = None,
    ) -> None:
        self.store = store
        self.stats = stats
        self.processlist = processlist or (lambda: [])
        self.session = SessionInfo()
        db = store.db
        db.create_function("DATABASE", 0, lambda: self.session.database)
        db.create_function("SCHEMA", 0, lambda: self.session.database)
        db.create_function("USER", 0, lambda: self.session.user)
        db.create_function("CURRENT_USER", 0, lambda: self.session.user)
        db.create_function("CONNECTION_ID", 0, lambda: self.session.connection_id)
        db.create_function("VERSION", 0, lambda: STANDIN_VERSION)
        db.create_function("UNIX_TIMESTAMP", 0, lambda: int(time.time()))
        db.create_function("NOW", 0, lambda: time.strftime("%Y-%m-%d %H:%M:%S"))

    def execute(self, sql: str, session: SessionInfo | None = None) -> Result:
        self.session = session or SessionInfo()
        text = _clean(sql)
        if not text:
            raise AdminError("Query was empty", 1065)
        try:
            return self._dispatch(text)
        except sqlite3.Error as exc:
            raise AdminError(f"ProxySQL Admin Error: {exc}") from exc

    # -- dispatch ----------------------------------------------------------------------------

    def _dispatch(self, text: str) -> Result:
        upper = text.upper()
        if match := _LOAD_SAVE.match(text):
            result = self._load_save(*match.groups())
            if result is not None:
                return result
        if match := _SELECT_VARS.match(text):
            return self._select_vars(match.group(1))
        if upper.startswith("SET ") or upper == "SET":
            return self._set(text)
        if upper.startswith("SHOW "):
            result = self._show(text)
            if result is not None:
                return result
        if _CLEAR_DIGEST.match(text):
            count = len(self.stats.digests)
            self.stats.digests.clear()
            return Result(affected=count)
        return self._sqlite(text)

    def _load_save(self, verb: str, module: str, direction: str, where: str) -> Result | None:
        name = " ".join(module.upper().split())
        if name not in MODULES:
            return None
        verb, direction, where = verb.upper(), direction.upper(), where.upper()
        memory, runtime = where in ("MEMORY", "MEM"), where in ("RUNTIME", "RUN")
        disk = where == "DISK"
        if verb == "LOAD" and ((direction == "FROM" and memory) or (direction == "TO" and runtime)):
            self.store.memory_to_runtime(name)
        elif verb == "SAVE" and (
            (direction == "TO" and memory) or (direction == "FROM" and runtime)
        ):
            self.store.runtime_to_memory(name)
        elif verb == "LOAD" and ((direction == "TO" and memory) or (direction == "FROM" and disk)):
            self.store.disk_to_memory(name)
        elif verb == "SAVE" and ((direction == "FROM" and memory) or (direction == "TO" and disk)):
            self.store.memory_to_disk(name)
        else:
            return None
        log.info("admin: %s %s %s %s", verb, name, direction, where)
        return Result()

    def _select_vars(self, body: str) -> Result:
        columns: list[str] = []
        values: list[str | None] = []
        for item in body.split(","):
            parts = re.split(r"\s+AS\s+", item.strip(), flags=re.IGNORECASE)
            expr = parts[0].strip()
            name = expr[2:].lower()
            for scope in ("session.", "global.", "local."):
                if name.startswith(scope):
                    name = name[len(scope) :]
            if name in self.store.variables:
                value: str | None = self.store.variables[name]
            elif name in SESSION_VALUES:
                value = SESSION_VALUES[name]
            else:
                raise AdminError(f"ProxySQL Admin Error: no such column: {expr}")
            columns.append(parts[1].strip() if len(parts) > 1 else expr)
            values.append(value)
        return Result(columns, [tuple(values)])

    def _set(self, text: str) -> Result:
        match = _SET_VARIABLE.match(text)
        if match is None:
            return Result()  # SET NAMES, SET autocommit, ...: accepted and ignored, as ProxySQL
        name, value = match.group(1).lower(), match.group(2).strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        changed = self.store.execute(
            "UPDATE main.global_variables SET variable_value=? WHERE variable_name=?",
            (value, name),
        )
        return Result(affected=changed)

    def _show(self, text: str) -> Result | None:
        upper = " ".join(text.upper().split())
        if upper == "SHOW DATABASES":
            databases = [
                ("0", "main", ""),
                ("2", "disk", str(self.store.disk_path or "")),
                ("3", "stats", ""),
                ("4", "monitor", ""),
            ]
            return Result(["seq", "name", "file"], databases)
        if match := _SHOW_TABLES.match(text):
            schema = (match.group(1) or "main").lower()
            if schema not in _SCHEMAS:
                raise AdminError(f"ProxySQL Admin Error: unknown database {schema}")
            like = match.group(2)
            sql = f"SELECT name FROM {schema}.sqlite_master WHERE type='table'"  # noqa: S608
            params: list[str] = []
            if like is not None:
                sql += " AND name LIKE ?"
                params.append(like)
            _, rows = self.store.query(sql + " ORDER BY name", params)
            names = [str(r[0]) for r in rows if str(r[0]) != "sqlite_sequence"]
            return Result(["tables"], [(n,) for n in names])
        if match := _SHOW_CREATE.match(text):
            schema = (match.group(1) or "main").lower()
            if schema not in _SCHEMAS:
                raise AdminError(f"ProxySQL Admin Error: unknown database {schema}")
            _, rows = self.store.query(
                f"SELECT sql FROM {schema}.sqlite_master WHERE type='table' AND name=?",  # noqa: S608
                (match.group(2),),
            )
            if not rows:
                raise AdminError(f"ProxySQL Admin Error: no such table: {match.group(2)}")
            return Result(["table", "Create Table"], [(match.group(2), _text(rows[0][0]))])
        if match := _SHOW_COLUMNS.match(text):
            return self._show_columns(match.group(1), match.group(2), match.group(3))
        if match := _SHOW_VARIABLES.match(text):
            prefix = (match.group(1) or "").lower()
            pattern = match.group(2) or "%"
            self._refresh_stats()
            _, found = self.store.query(
                "SELECT variable_name, variable_value FROM main.global_variables "
                "WHERE variable_name LIKE ? AND variable_name LIKE ? ORDER BY variable_name",
                (f"{prefix}-%" if prefix else "%", pattern),
            )
            return Result(["Variable_name", "Value"], [(_text(r[0]), _text(r[1])) for r in found])
        if upper in ("SHOW MYSQL STATUS", "SHOW STATUS"):
            self._refresh_stats()
            return self._sqlite(
                "SELECT Variable_Name, Variable_Value FROM stats.stats_mysql_global"
            )
        if upper in ("SHOW PROCESSLIST", "SHOW FULL PROCESSLIST"):
            self._refresh_stats()
            return self._sqlite(
                "SELECT SessionID, user, db, hostgroup, command, time_ms, info "
                "FROM stats.stats_mysql_processlist"
            )
        if upper in ("SHOW WARNINGS", "SHOW ERRORS"):
            return Result(["Level", "Code", "Message"], [])
        return None

    def _show_columns(self, schema: str | None, table: str, like: str | None) -> Result:
        schema = (schema or "main").lower()
        if schema not in _SCHEMAS:
            raise AdminError(f"ProxySQL Admin Error: unknown database {schema}")
        _, rows = self.store.query(f"PRAGMA {schema}.table_info({table})")
        if not rows:
            raise AdminError(f"ProxySQL Admin Error: no such table: {table}")
        pattern = re.compile(
            "^" + re.escape(like).replace("%", ".*").replace("_", ".") + "$" if like else ".*",
            re.IGNORECASE,
        )
        out = [
            (
                _text(r[1]),
                _text(r[2]),
                "NO" if r[3] else "YES",
                "PRI" if r[5] else "",
                _text(r[4]),
                "",
            )
            for r in rows
            if pattern.match(str(r[1]))
        ]
        return Result(["Field", "Type", "Null", "Key", "Default", "Extra"], out)

    # -- SQLite ------------------------------------------------------------------------------

    def _sqlite(self, text: str) -> Result:
        lowered = text.lower()
        if "stats_" in lowered:
            self._refresh_stats(reset="_reset" in lowered)
        cursor = self.store.db.execute(text)
        if cursor.description is None:
            return Result(affected=max(cursor.rowcount, 0))
        columns = [str(d[0]) for d in cursor.description]
        rows = [tuple(_text(v) for v in row) for row in cursor.fetchall()]
        return Result(columns, rows)

    def _refresh_stats(self, reset: bool = False) -> None:
        """Materialise the live counters into the ``stats`` tables (ProxySQL does it on read)."""
        store, stats = self.store, self.stats
        pool_columns = (
            "hostgroup",
            "srv_host",
            "srv_port",
            "status",
            "ConnUsed",
            "ConnFree",
            "ConnOK",
            "ConnERR",
            "MaxConnUsed",
            "Queries",
            "Queries_GTID_sync",
            "Bytes_data_sent",
            "Bytes_data_recv",
            "Latency_us",
        )
        digest_columns = _columns(store, "stats", "stats_mysql_query_digest")
        pool_rows = stats.pool_rows(store.servers)
        digest_rows = stats.digest_rows()
        if reset:
            store.replace_rows(
                "stats", "stats_mysql_connection_pool_reset", pool_columns, pool_rows
            )
            store.replace_rows(
                "stats", "stats_mysql_query_digest_reset", digest_columns, digest_rows
            )
            stats.reset_pool()
            stats.digests.clear()
            pool_rows = stats.pool_rows(store.servers)
            digest_rows = []
        store.replace_rows("stats", "stats_mysql_connection_pool", pool_columns, pool_rows)
        store.replace_rows("stats", "stats_mysql_query_digest", digest_columns, digest_rows)
        store.replace_rows(
            "stats", "stats_mysql_global", ("Variable_Name", "Variable_Value"), stats.global_rows()
        )
        store.replace_rows(
            "stats",
            "stats_mysql_users",
            ("username", "frontend_connections", "frontend_max_connections"),
            stats.user_rows(store.users),
        )
        store.replace_rows(
            "stats",
            "stats_mysql_processlist",
            _columns(store, "stats", "stats_mysql_processlist"),
            self.processlist(),
        )


def _columns(store: AdminStore, schema: str, table: str) -> Sequence[str]:
    _, rows = store.query(f"PRAGMA {schema}.table_info({table})")
    return [str(r[1]) for r in rows]
