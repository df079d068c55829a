"""ProxySQL 2.x admin: backends, connection pool, Galera hostgroups, monitor logs, counters.

ProxySQL's admin interface sends every column as a string; the parsers type them. Queries
run one at a time on the admin connection and stop at the first connection-level failure;
a query the server rejects (a table missing from an older version) costs only its part.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, runtime_checkable

from jaraba_tui.collectors.common import (
    Clock,
    EndpointError,
    ParseError,
    Serialisable,
    Stopwatch,
    guarded,
    is_fatal,
    opt_int,
    parsed,
    text,
)
from jaraba_tui.transport.base import Row, SqlClient, TransportError

T = TypeVar("T")

Q_VERSION_COMMENT = "SELECT @@version_comment LIMIT 1"
Q_ADMIN_VERSION = "SELECT variable_value FROM global_variables WHERE variable_name='admin-version'"
Q_SERVERS = "SELECT * FROM runtime_mysql_servers"
Q_POOL = "SELECT * FROM stats_mysql_connection_pool"
Q_GALERA_HG = "SELECT * FROM runtime_mysql_galera_hostgroups"
Q_PING_LOG = (
    "SELECT hostname, port, time_start_us, ping_success_time_us, ping_error "
    "FROM monitor.mysql_server_ping_log ORDER BY time_start_us DESC LIMIT 200"
)
Q_GALERA_LOG = "SELECT * FROM monitor.mysql_server_galera_log ORDER BY time_start_us DESC LIMIT 200"
#: The monitor logs' newest rows only (``{since}``: an int of microseconds), between full reads.
Q_PING_LOG_SINCE = Q_PING_LOG.replace("ORDER BY", "WHERE time_start_us > {since} ORDER BY")
Q_GALERA_LOG_SINCE = Q_GALERA_LOG.replace("ORDER BY", "WHERE time_start_us > {since} ORDER BY")
#: Rows kept per monitor log (the LIMIT of the full read).
MONITOR_ROWS = 200
#: How far back the newest-rows read reaches before the newest row already seen: ProxySQL
#: writes a check's row when the check ends, so a slow check lands after a faster one that
#: started later (its timeout is ~1 s by default).
MONITOR_OVERLAP_US = 10_000_000
#: Seconds between full reads of the monitor logs and of the versions (see ProxySQLMemo).
FULL_READ_EVERY_S = 30.0
Q_GLOBAL = "SELECT Variable_Name, Variable_Value FROM stats_mysql_global"
Q_DIGEST = (
    "SELECT hostgroup, schemaname, username, digest, digest_text, count_star, first_seen, "
    "last_seen, sum_time, min_time, max_time, sum_rows_sent FROM stats_mysql_query_digest "
    "ORDER BY sum_time DESC LIMIT {limit}"
)

#: The stats_mysql_global counters worth a glance (and a sparkline).
KEY_COUNTERS = (
    "ProxySQL_Uptime",
    "Active_Transactions",
    "Client_Connections_connected",
    "Client_Connections_created",
    "Client_Connections_aborted",
    "Server_Connections_connected",
    "Server_Connections_created",
    "Server_Connections_aborted",
    "Questions",
    "Slow_queries",
    "ConnPool_get_conn_failure",
    "ConnPool_get_conn_success",
    "Access_Denied_Wrong_Password",
    "Access_Denied_Max_Connections",
    "generated_error_packets",
    "mysql_killed_backend_connections",
)

STANDIN_MARKERS = ("stand-in", "standin")


class ProxySQLParseError(ParseError):
    pass


@dataclass(frozen=True)
class ProxyServer(Serialisable):
    hostgroup: int
    hostname: str
    port: int
    status: str
    weight: int | None
    max_connections: int | None
    max_replication_lag: int | None
    comment: str

    @property
    def address(self) -> str:
        return f"{self.hostname}:{self.port}"


@dataclass(frozen=True)
class PoolEntry(Serialisable):
    hostgroup: int
    host: str
    port: int
    status: str
    conn_used: int | None
    conn_free: int | None
    conn_ok: int | None
    conn_err: int | None
    max_conn_used: int | None
    queries: int | None
    bytes_sent: int | None
    bytes_recv: int | None
    latency_us: int | None

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True)
class GaleraHostgroup(Serialisable):
    writer_hostgroup: int
    backup_writer_hostgroup: int | None
    reader_hostgroup: int | None
    offline_hostgroup: int | None
    active: bool
    max_writers: int | None
    writer_is_also_reader: int | None
    max_transactions_behind: int | None
    comment: str


@dataclass(frozen=True)
class MonitorCheck(Serialisable):
    """One row of monitor.mysql_server_ping_log or mysql_server_galera_log."""

    hostname: str
    port: int
    time_start_us: int
    success_time_us: int | None
    error: str | None
    primary_partition: str | None = None
    read_only: str | None = None
    recv_queue: int | None = None
    local_state: int | None = None
    desync: str | None = None
    reject_queries: str | None = None

    @property
    def address(self) -> str:
        return f"{self.hostname}:{self.port}"


@dataclass(frozen=True)
class QueryDigest(Serialisable):
    hostgroup: int | None
    schemaname: str
    username: str
    digest: str
    digest_text: str
    count_star: int | None
    sum_time_us: int | None
    min_time_us: int | None
    max_time_us: int | None
    sum_rows_sent: int | None
    first_seen: int | None
    last_seen: int | None


@dataclass(frozen=True)
class MonitorSummary(Serialisable):
    """The newest check per backend and the errors of the last ``window_s`` seconds
    (measured on ProxySQL's own clock, from its newest log entry: no clock skew)."""

    latest: tuple[MonitorCheck, ...]
    recent_errors: tuple[MonitorCheck, ...]


@dataclass
class ProxySQLMemo:
    """What a target keeps between polls (it lives as long as its engine), issue 6: the
    two monitor logs were 400 rows per poll, nearly all already read at the previous one,
    and the versions change only with a restart. So: the versions and a full read of each
    log every :data:`FULL_READ_EVERY_S`; in between, only the log rows newer than the newest
    seen (less :data:`MONITOR_OVERLAP_US`), merged into the rows kept. Any error in a poll
    drops the memo: the next poll reads everything again."""

    read_at: float | None = None  # time.monotonic() of the last full read
    version: str | None = None
    version_comment: str | None = None
    logs: dict[str, tuple[MonitorCheck, ...]] = field(default_factory=dict)

    def clear(self) -> None:
        self.read_at, self.version, self.version_comment = None, None, None
        self.logs.clear()

    def fresh(self, now: float) -> bool:
        return self.read_at is not None and now - self.read_at < FULL_READ_EVERY_S


@dataclass(frozen=True)
class ProxySQLTarget:
    name: str
    sql: SqlClient
    error_window_s: float = 60.0
    digest_limit: int = 10
    memo: ProxySQLMemo = field(default_factory=ProxySQLMemo, compare=False, repr=False)


@dataclass(frozen=True)
class ProxySQLSnapshot(Serialisable):
    name: str
    endpoint: str
    collected_at: float
    version: str | None
    version_comment: str | None
    is_standin: bool
    servers: tuple[ProxyServer, ...]
    pool: tuple[PoolEntry, ...]
    galera_hostgroups: tuple[GaleraHostgroup, ...]
    ping: MonitorSummary | None
    galera_checks: MonitorSummary | None
    counters: dict[str, int]
    digests: tuple[QueryDigest, ...]
    #: Per-query failures; a connection-level one means nothing after it was asked.
    errors: tuple[EndpointError, ...]
    elapsed_ms: float = 0.0

    @property
    def reachable(self) -> bool:
        return not any(is_fatal(e) for e in self.errors)


# -- pure parsers ----------------------------------------------------------------------------


def _rows(rows: Iterable[Mapping[str, Any]], what: str) -> list[dict[str, str | None]]:
    """Rows with lower-cased column names and text values (None stays None)."""
    out: list[dict[str, str | None]] = []
    for row in rows:
        if not isinstance(row, Mapping):
            raise ProxySQLParseError(f"{what}: row is not a mapping")
        out.append({text(k).lower(): (None if v is None else text(v)) for k, v in row.items()})
    return out


def _need_int(r: Mapping[str, str | None], col: str, what: str) -> int:
    v = opt_int(r.get(col))
    if v is None:
        raise ProxySQLParseError(f"{what}: column {col!r} missing or not a number")
    return v


def _need_str(r: Mapping[str, str | None], col: str, what: str) -> str:
    v = r.get(col)
    if not v:
        raise ProxySQLParseError(f"{what}: column {col!r} missing")
    return v


def parse_servers(rows: Iterable[Mapping[str, Any]]) -> tuple[ProxyServer, ...]:
    w = "runtime_mysql_servers"
    return tuple(
        ProxyServer(
            hostgroup=_need_int(r, "hostgroup_id", w),
            hostname=_need_str(r, "hostname", w),
            port=_need_int(r, "port", w),
            status=(r.get("status") or "UNKNOWN").upper(),
            weight=opt_int(r.get("weight")),
            max_connections=opt_int(r.get("max_connections")),
            max_replication_lag=opt_int(r.get("max_replication_lag")),
            comment=r.get("comment") or "",
        )
        for r in _rows(rows, w)
    )


def parse_pool(rows: Iterable[Mapping[str, Any]]) -> tuple[PoolEntry, ...]:
    w = "stats_mysql_connection_pool"
    return tuple(
        PoolEntry(
            hostgroup=_need_int(r, "hostgroup", w),
            host=_need_str(r, "srv_host", w),
            port=_need_int(r, "srv_port", w),
            status=(r.get("status") or "UNKNOWN").upper(),
            conn_used=opt_int(r.get("connused")),
            conn_free=opt_int(r.get("connfree")),
            conn_ok=opt_int(r.get("connok")),
            conn_err=opt_int(r.get("connerr")),
            max_conn_used=opt_int(r.get("maxconnused")),
            queries=opt_int(r.get("queries")),
            bytes_sent=opt_int(r.get("bytes_data_sent")),
            bytes_recv=opt_int(r.get("bytes_data_recv")),
            latency_us=opt_int(r.get("latency_us")),
        )
        for r in _rows(rows, w)
    )


def parse_galera_hostgroups(rows: Iterable[Mapping[str, Any]]) -> tuple[GaleraHostgroup, ...]:
    w = "runtime_mysql_galera_hostgroups"
    return tuple(
        GaleraHostgroup(
            writer_hostgroup=_need_int(r, "writer_hostgroup", w),
            backup_writer_hostgroup=opt_int(r.get("backup_writer_hostgroup")),
            reader_hostgroup=opt_int(r.get("reader_hostgroup")),
            offline_hostgroup=opt_int(r.get("offline_hostgroup")),
            active=opt_int(r.get("active")) == 1,
            max_writers=opt_int(r.get("max_writers")),
            writer_is_also_reader=opt_int(r.get("writer_is_also_reader")),
            max_transactions_behind=opt_int(r.get("max_transactions_behind")),
            comment=r.get("comment") or "",
        )
        for r in _rows(rows, w)
    )


def _check(r: Mapping[str, str | None], w: str) -> MonitorCheck:
    err = r.get("ping_error", r.get("error"))
    success = r.get("ping_success_time_us", r.get("success_time_us"))
    return MonitorCheck(
        hostname=_need_str(r, "hostname", w),
        port=_need_int(r, "port", w),
        time_start_us=_need_int(r, "time_start_us", w),
        success_time_us=opt_int(success),
        error=err or None,
        primary_partition=r.get("primary_partition"),
        read_only=r.get("read_only"),
        recv_queue=opt_int(r.get("wsrep_local_recv_queue")),
        local_state=opt_int(r.get("wsrep_local_state")),
        desync=r.get("wsrep_desync"),
        reject_queries=r.get("wsrep_reject_queries"),
    )


#: Raw monitor-log rows already parsed (bounded): the console re-reads the last 200 rows of
#: each log at every ProxySQL poll, and nearly all of them were parsed at the previous one.
_MONITOR_MEMO: dict[tuple[tuple[Any, type, Any], ...], MonitorCheck] = {}
_MONITOR_MEMO_MAX = 4096


def _monitor_check(row: Any) -> MonitorCheck:
    """``_check`` of one raw monitor-log row, memoised on its columns, values and their
    types (the parse is the same for the same row; MonitorCheck is immutable)."""
    if not isinstance(row, Mapping):
        raise ProxySQLParseError("monitor log: row is not a mapping")
    try:
        key = tuple((k, v.__class__, v) for k, v in row.items())
        hit = _MONITOR_MEMO.get(key)
    except TypeError:  # an unhashable value: no memo
        return _check(_rows([row], "monitor log")[0], "monitor log")
    if hit is None:
        hit = _check(_rows([row], "monitor log")[0], "monitor log")
        if len(_MONITOR_MEMO) >= _MONITOR_MEMO_MAX:
            _MONITOR_MEMO.clear()
        _MONITOR_MEMO[key] = hit
    return hit


def parse_monitor_log(
    rows: Iterable[Mapping[str, Any]], window_s: float = 60.0, max_errors: int = 10
) -> MonitorSummary:
    """monitor.mysql_server_ping_log / mysql_server_galera_log rows (any order)."""
    return summarise_checks(newest_checks(_monitor_check(r) for r in rows), window_s, max_errors)


def newest_checks(
    checks: Iterable[MonitorCheck], limit: int | None = None
) -> tuple[MonitorCheck, ...]:
    """Checks newest first, one per (server, start time), at most ``limit``."""
    seen: dict[tuple[str, int, int], MonitorCheck] = {}
    for c in checks:
        seen.setdefault((c.hostname, c.port, c.time_start_us), c)
    ordered = sorted(seen.values(), key=lambda c: c.time_start_us, reverse=True)
    return tuple(ordered if limit is None else ordered[:limit])


def summarise_checks(
    checks: tuple[MonitorCheck, ...], window_s: float = 60.0, max_errors: int = 10
) -> MonitorSummary:
    """The latest check per server and the recent errors, from checks newest first."""
    latest: dict[str, MonitorCheck] = {}
    for c in checks:
        latest.setdefault(c.address, c)
    newest = checks[0].time_start_us if checks else 0
    horizon = newest - int(window_s * 1_000_000)
    errors = [c for c in checks if c.error and c.time_start_us >= horizon][:max_errors]
    return MonitorSummary(
        latest=tuple(sorted(latest.values(), key=lambda c: c.address)),
        recent_errors=tuple(errors),
    )


def parse_monitor_rows(rows: Iterable[Mapping[str, Any]]) -> tuple[MonitorCheck, ...]:
    return tuple(_monitor_check(r) for r in rows)


def parse_global(
    rows: Iterable[Mapping[str, Any]], keys: Iterable[str] = KEY_COUNTERS
) -> dict[str, int]:
    values: dict[str, str | None] = {}
    for r in _rows(rows, "stats_mysql_global"):
        name = r.get("variable_name")
        if name:
            values[name] = r.get("variable_value")
    out = {}
    for k in keys:
        v = opt_int(values.get(k))
        if v is not None:
            out[k] = v
    return out


def parse_digests(rows: Iterable[Mapping[str, Any]]) -> tuple[QueryDigest, ...]:
    return tuple(
        QueryDigest(
            hostgroup=opt_int(r.get("hostgroup")),
            schemaname=r.get("schemaname") or "",
            username=r.get("username") or "",
            digest=r.get("digest") or "",
            digest_text=(r.get("digest_text") or "")[:500],
            count_star=opt_int(r.get("count_star")),
            sum_time_us=opt_int(r.get("sum_time")),
            min_time_us=opt_int(r.get("min_time")),
            max_time_us=opt_int(r.get("max_time")),
            sum_rows_sent=opt_int(r.get("sum_rows_sent")),
            first_seen=opt_int(r.get("first_seen")),
            last_seen=opt_int(r.get("last_seen")),
        )
        for r in _rows(rows, "stats_mysql_query_digest")
    )


def first_value(rows: Iterable[Mapping[str, Any]]) -> str | None:
    for row in rows:
        if isinstance(row, Mapping):
            for v in row.values():
                return None if v is None else text(v)
    return None


def detect_standin(version_comment: str | None, version: str | None) -> bool:
    comment = (version_comment or "").lower()
    return any(m in comment for m in STANDIN_MARKERS) or (version or "").endswith("-jaraba-standin")


# -- I/O -------------------------------------------------------------------------------------


@runtime_checkable
class BatchSqlClient(Protocol):
    """A :class:`SqlClient` that also runs several statements in one hand-off
    (:meth:`jaraba_tui.transport.sql.PyMySqlClient.query_many`)."""

    endpoint: str

    async def query(self, sql: str, args: Sequence[Any] | None = None) -> list[Row]: ...

    async def query_many(self, statements: Sequence[str]) -> list[list[Row] | TransportError]: ...


async def _prefetch(
    sql: SqlClient, statements: list[str], timeout: float | None
) -> dict[str, list[Row] | BaseException]:
    """The poll's statements in one hand-off when the client can (issue 6): seven queries
    had each waited for the event loop, busy with every other layer, before the next was
    sent. Answers by statement; a statement not answered (after a failure that ended the
    connection) is asked again by the poll, which stops at that failure first. A failure of
    the whole hand-off is the first statement's answer."""
    if not isinstance(sql, BatchSqlClient):
        return {}
    got: list[list[Row] | BaseException]
    try:
        if timeout is None:
            got = [*await sql.query_many(statements)]
        else:
            async with asyncio.timeout(timeout * len(statements)):
                got = [*await sql.query_many(statements)]
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        got = [exc]
    return dict(zip(statements, got, strict=False))


async def collect(
    target: ProxySQLTarget, *, clock: Clock = time.time, timeout: float | None = None
) -> ProxySQLSnapshot:
    sw = Stopwatch()
    sql, ep = target.sql, target.sql.endpoint
    errors: list[EndpointError] = []
    dead = False
    memo = target.memo
    now = time.monotonic()
    full = not memo.fresh(now)
    window = target.error_window_s
    q_digest = Q_DIGEST.format(limit=max(1, int(target.digest_limit)))

    def log_query(step: str, query: str, since_query: str) -> str:
        kept = None if full else memo.logs.get(step)
        if not kept:
            return query
        return since_query.format(since=kept[0].time_start_us - MONITOR_OVERLAP_US)

    q_ping = log_query("mysql_server_ping_log", Q_PING_LOG, Q_PING_LOG_SINCE)
    q_glog = log_query("mysql_server_galera_log", Q_GALERA_LOG, Q_GALERA_LOG_SINCE)
    statements = [
        *((Q_VERSION_COMMENT, Q_ADMIN_VERSION) if full else ()),
        *(Q_SERVERS, Q_POOL, Q_GALERA_HG, q_ping, q_glog, Q_GLOBAL, q_digest),
    ]
    answers = await _prefetch(sql, statements, timeout)

    async def answer(query: str) -> list[Row]:
        if query not in answers:
            return await sql.query(query)
        got = answers.pop(query)
        if isinstance(got, BaseException):
            raise got
        return got

    async def ask(step: str, query: str, parser: Callable[[list[Row]], T]) -> T | None:
        nonlocal dead
        if dead:
            return None
        rows, err = await guarded(ep, step, lambda: answer(query), timeout)
        if rows is None:
            if err is not None:
                errors.append(err)
                dead = is_fatal(err)
            return None
        value, perr = parsed(lambda: parser(rows), ep, step)
        if perr is not None:
            errors.append(perr)
        return value

    if full:
        comment = await ask("version_comment", Q_VERSION_COMMENT, first_value)
        version = await ask("admin-version", Q_ADMIN_VERSION, first_value)
    else:
        comment, version = memo.version_comment, memo.version
    servers = await ask("runtime_mysql_servers", Q_SERVERS, parse_servers)
    pool = await ask("stats_mysql_connection_pool", Q_POOL, parse_pool)
    hgs = await ask("runtime_mysql_galera_hostgroups", Q_GALERA_HG, parse_galera_hostgroups)

    async def monitor_log(step: str, query: str) -> MonitorSummary | None:
        kept = None if full else memo.logs.get(step)
        got = await ask(step, query, parse_monitor_rows)
        if got is None:
            return None
        checks = newest_checks((*got, *kept), MONITOR_ROWS) if kept else newest_checks(got)
        memo.logs[step] = checks
        return summarise_checks(checks, window)

    ping = await monitor_log("mysql_server_ping_log", q_ping)
    gchecks = await monitor_log("mysql_server_galera_log", q_glog)
    counters = await ask("stats_mysql_global", Q_GLOBAL, parse_global)
    digests = await ask("stats_mysql_query_digest", q_digest, parse_digests)
    if errors:
        memo.clear()
    elif full:
        memo.read_at, memo.version, memo.version_comment = now, version, comment
    return ProxySQLSnapshot(
        name=target.name,
        endpoint=ep,
        collected_at=clock(),
        version=version,
        version_comment=comment,
        is_standin=detect_standin(comment, version),
        servers=servers or (),
        pool=pool or (),
        galera_hostgroups=hgs or (),
        ping=ping,
        galera_checks=gchecks,
        counters=counters or {},
        digests=digests or (),
        errors=tuple(errors),
        elapsed_ms=sw.ms(),
    )
