"""The admin port's MySQL session: authenticates ``admin-admin_credentials`` users and runs
statements through :class:`lab.proxysql_standin.admin_sql.AdminExecutor`."""

from __future__ import annotations

import logging
from typing import Any

from mysql_mimic import ResultSet
from mysql_mimic.session import BaseSession

from lab.proxysql_standin.admin_sql import AdminError, AdminExecutor, SessionInfo
from lab.proxysql_standin.protocol import (
    cleartext_digest,
    close_if_unauthenticated,
    install_ok_override,
    mysql_error,
    require_login,
    session_variables,
    string_columns,
)
from lab.proxysql_standin.store import AdminStore

log = logging.getLogger(__name__)


def admin_credentials(store: AdminStore) -> dict[str, str]:
    """``admin-admin_credentials`` is ``user:password`` pairs separated by ``;``."""
    out: dict[str, str] = {}
    for pair in store.variable("admin-admin_credentials").split(";"):
        user, sep, password = pair.partition(":")
        if sep and user:
            out[user] = password
    return out


def admin_digest(store: AdminStore, username: str) -> str | None:
    password = admin_credentials(store).get(username)
    return None if password is None else cleartext_digest(password)


class AdminSession(BaseSession):  # type: ignore[misc]
    def __init__(self, executor: AdminExecutor, server_version: str) -> None:
        self.executor = executor
        self.variables = session_variables(server_version)
        self.username: str | None = None
        self.database: str | None = None
        self.connection_id = 0
        self._affected = 0

    async def init(self, connection: Any) -> None:
        if close_if_unauthenticated(self, connection):
            return
        self.connection_id = int(getattr(connection, "connection_id", 0) or 0)
        install_ok_override(connection, self._take_counters)

    def _take_counters(self) -> tuple[int, int]:
        affected, self._affected = self._affected, 0
        return affected, 0

    async def use(self, database: str) -> None:
        require_login(self)
        self.database = database

    async def handle_query(self, sql: str, attrs: dict[str, str]) -> Any:
        require_login(self)
        info = SessionInfo(
            user=self.username or "",
            database=self.database or "main",
            connection_id=self.connection_id,
        )
        try:
            result = self.executor.execute(sql, info)
        except AdminError as exc:
            log.debug("admin statement failed: %s", exc.message)  # never log the SQL: secrets
            raise mysql_error(exc.message, exc.code) from exc
        if not result.columns:
            self._affected = result.affected
            return None
        return ResultSet(rows=result.rows, columns=string_columns(result.columns))
