"""Glue to mysql-mimic: identity providers, server variables and result columns."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from mysql_mimic import IdentityProvider, NativePasswordAuthPlugin, ResultColumn, User
from mysql_mimic import server as mimic_server
from mysql_mimic.charset import CharacterSet
from mysql_mimic.connection import Connection
from mysql_mimic.errors import MysqlError
from mysql_mimic.types import ColumnType, ServerStatus
from mysql_mimic.variables import SYSTEM_VARIABLES, GlobalVariables, SessionVariables

from lab.proxysql_standin import VERSION_COMMENT

NATIVE = NativePasswordAuthPlugin.name


class PasswordIdentity(IdentityProvider):  # type: ignore[misc]
    """mysql_native_password users looked up at login time.

    ``lookup(user)`` returns the SHA1(SHA1(password)) hex digest (the ``*HEX`` form without the
    star) or None. Unknown users get a random digest so that they fail with "Access denied"
    (1045), as with ProxySQL, instead of revealing that the user does not exist.
    """

    def __init__(self, lookup: Callable[[str], str | None]) -> None:
        self.lookup = lookup

    def get_plugins(self) -> list[Any]:
        return [NativePasswordAuthPlugin()]

    async def get_user(self, username: str) -> Any:
        digest = self.lookup(username)
        if digest is None:
            digest = secrets.token_hex(20)
        return User(name=username, auth_string=digest.lower(), auth_plugin=NATIVE)


def cleartext_digest(password: str) -> str:
    return str(NativePasswordAuthPlugin.create_auth_string(password))


def hashed_digest(stored: str) -> str:
    """``*HEX`` (mysql_users / MySQL form) -> hex digest mysql-mimic compares against."""
    return stored[1:].lower()


def session_variables(server_version: str) -> Any:
    """Variables mysql-mimic uses for the handshake (server version) and charset tracking."""
    schema = dict(SYSTEM_VARIABLES)
    schema["version"] = (str, server_version, False)
    schema["version_comment"] = (str, VERSION_COMMENT, False)
    return SessionVariables(GlobalVariables(schema))


def string_columns(names: list[str]) -> list[Any]:
    """ProxySQL's admin sends every column as a string."""
    return [ResultColumn(name=n, type=ColumnType.VAR_STRING) for n in names]


def _raw(column: Any, value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    return str(value).encode("utf-8")  # the backends talk utf8mb4 (numbers arrive as ASCII)


def passthrough_column(name: str, type_code: int, charsetnr: int) -> Any:
    """A result column that forwards a backend's value bytes with the backend's type."""
    try:
        column_type = ColumnType(type_code)
    except ValueError:
        column_type = ColumnType.VAR_STRING
    charset = CharacterSet.binary if charsetnr == 63 else CharacterSet.utf8mb4
    return ResultColumn(name=name, type=column_type, character_set=charset, text_encoder=_raw)


def mysql_error(message: str, code: int) -> MysqlError:
    """A MysqlError carrying any MySQL error number (mysql-mimic's enum lacks most of them)."""
    error = MysqlError(message)
    error.code = code
    return error


AUTOCOMMIT = int(ServerStatus.SERVER_STATUS_AUTOCOMMIT)
IN_TRANS = int(ServerStatus.SERVER_STATUS_IN_TRANS)


class StatusConnection(Connection):  # type: ignore[misc]
    """A connection whose handshake and OK packets say autocommit is on, as MySQL's do.

    mysql-mimic starts with no status flags; pymysql (autocommit=False by default) then believes
    autocommit is already off and never sends ``SET AUTOCOMMIT=0``. Sessions update
    ``status_flags`` when autocommit or the transaction state changes.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.status_flags = ServerStatus(AUTOCOMMIT)


def use_status_connections() -> None:
    """Make mysql-mimic's server build :class:`StatusConnection` objects (process-wide)."""
    mimic_server.Connection = StatusConnection


def set_status(connection: Any, *, autocommit: bool, in_trans: bool) -> None:
    if connection is not None:
        connection.status_flags = ServerStatus(
            (AUTOCOMMIT if autocommit else 0) | (IN_TRANS if in_trans else 0)
        )


def close_if_unauthenticated(session: Any, connection: Any) -> bool:
    """Close a connection whose login failed; True if it was closed.

    mysql-mimic 3.0 writes "Access denied" but then still enters the command phase, so a client
    that ignores the error could send queries. ProxySQL (like MySQL) closes the connection.
    """
    if session.username is not None:
        return False
    writer = getattr(getattr(connection, "stream", None), "writer", None)
    if writer is not None:
        writer.close()
    return True


def require_login(session: Any) -> None:
    if session.username is None:
        raise mysql_error("Access denied", 1045)


def install_ok_override(connection: Any, counters: Callable[[], tuple[int, int]]) -> None:
    """Make the connection's OK packets carry affected rows and last insert id.

    mysql-mimic writes a bare OK packet after a statement without a result set; ProxySQL (and
    the backends behind it) report affected rows and the insert id there, which clients read
    as ``cursor.rowcount`` and ``cursor.lastrowid``.
    """
    original = connection.ok

    def ok(**kwargs: Any) -> Any:
        if "affected_rows" not in kwargs and "eof" not in kwargs:
            affected, insert_id = counters()
            kwargs["affected_rows"] = affected
            kwargs["last_insert_id"] = insert_id
        return original(**kwargs)

    connection.ok = ok
