"""Prometheus metrics with Percona proxysql_exporter's names, over a tiny asyncio HTTP server.

The exporter turns ``stats_mysql_connection_pool`` into ``proxysql_connection_pool_*`` series
labelled ``hostgroup`` and ``endpoint`` (``srv_host:srv_port``; status 1 ONLINE, 2 SHUNNED,
3 OFFLINE_SOFT, 4 OFFLINE_HARD) and ``stats_mysql_global`` into ``proxysql_mysql_status_*``
(lower-cased variable names). The stand-in serves the same series itself, plus ``proxysql_up``
and ``proxysql_standin_info{version="..."} 1`` so that dashboards can tell it apart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable

from lab.proxysql_standin import STANDIN_VERSION
from lab.proxysql_standin.hostgroups import ServerRow
from lab.proxysql_standin.stats import Stats

log = logging.getLogger(__name__)

STATUS_CODES = {"ONLINE": 1, "SHUNNED": 2, "OFFLINE_SOFT": 3, "OFFLINE_HARD": 4}

# (metric suffix, pool column index in Stats.pool_rows, type, help) as in proxysql_exporter.
_POOL_METRICS = (
    ("conn_used", 4, "gauge", "How many connections are currently used by ProxySQL."),
    ("conn_free", 5, "gauge", "How many connections are currently free."),
    ("conn_ok", 6, "counter", "How many connections were established successfully."),
    ("conn_err", 7, "counter", "How many connections weren't established successfully."),
    ("maxconnused", 8, "untyped", "Undocumented stats_mysql_connection_pool metric."),
    ("queries", 9, "counter", "The number of queries routed towards this backend server."),
    ("queries_gtid_sync", 10, "untyped", "Undocumented stats_mysql_connection_pool metric."),
    ("bytes_data_sent", 11, "counter", "The amount of data sent to the backend."),
    ("bytes_data_recv", 12, "counter", "The amount of data received from the backend."),
    ("latency_us", 13, "gauge", "The current ping time in microseconds, from Monitor."),
)

_GLOBAL_TYPES = {
    "active_transactions": "gauge",
    "client_connections_aborted": "counter",
    "client_connections_connected": "gauge",
    "client_connections_created": "counter",
    "client_connections_non_idle": "gauge",
    "proxysql_uptime": "counter",
    "questions": "counter",
    "slow_queries": "counter",
}


def _label(value: object) -> str:
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def render(stats: Stats, servers: Iterable[ServerRow]) -> str:
    lines = [
        "# HELP proxysql_up Whether ProxySQL is up.",
        "# TYPE proxysql_up gauge",
        "proxysql_up 1",
        "# HELP proxysql_standin_info The jaraba lab's ProxySQL stand-in (not a real ProxySQL).",
        "# TYPE proxysql_standin_info gauge",
        f'proxysql_standin_info{{version="{_label(STANDIN_VERSION)}"}} 1',
    ]
    rows = stats.pool_rows(servers)
    lines += [
        "# HELP proxysql_connection_pool_status The status of the backend server "
        "(1 - ONLINE, 2 - SHUNNED, 3 - OFFLINE_SOFT, 4 - OFFLINE_HARD).",
        "# TYPE proxysql_connection_pool_status gauge",
    ]
    labels = [f'{{hostgroup="{r[0]}",endpoint="{_label(r[1])}:{r[2]}"}}' for r in rows]
    for row, label in zip(rows, labels, strict=True):
        lines.append(f"proxysql_connection_pool_status{label} {STATUS_CODES.get(str(row[3]), 0)}")
    for name, index, kind, help_text in _POOL_METRICS:
        lines.append(f"# HELP proxysql_connection_pool_{name} {help_text}")
        lines.append(f"# TYPE proxysql_connection_pool_{name} {kind}")
        for row, label in zip(rows, labels, strict=True):
            lines.append(f"proxysql_connection_pool_{name}{label} {row[index]}")
    for variable, value in stats.global_rows():
        name = variable.lower()
        kind = _GLOBAL_TYPES.get(name, "untyped")
        lines.append(f"# HELP proxysql_mysql_status_{name} stats_mysql_global {variable}.")
        lines.append(f"# TYPE proxysql_mysql_status_{name} {kind}")
        lines.append(f"proxysql_mysql_status_{name} {value}")
    return "\n".join(lines) + "\n"


class MetricsServer:
    """Answers ``GET /metrics`` (and ``GET /``) with the exposition text; 404 otherwise."""

    def __init__(self, produce: Callable[[], str]) -> None:
        self.produce = produce
        self.server: asyncio.Server | None = None

    async def start(self, host: str, port: int) -> None:
        self.server = await asyncio.start_server(self._handle, host, port)

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.sockets[0].getsockname()[1])

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await asyncio.wait_for(reader.readline(), timeout=5)
            while True:  # drain headers
                line = await asyncio.wait_for(reader.readline(), timeout=5)
                if line in (b"\r\n", b"\n", b""):
                    break
            parts = request.decode("latin-1").split()
            path = parts[1].split("?")[0] if len(parts) >= 2 else ""
            if len(parts) >= 2 and parts[0] in ("GET", "HEAD") and path in ("/metrics", "/"):
                body = self.produce().encode("utf-8")
                status, ctype = "200 OK", "text/plain; version=0.0.4; charset=utf-8"
            else:
                body, status, ctype = b"not found\n", "404 Not Found", "text/plain"
            head = (
                f"HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
            )
            writer.write(head.encode("latin-1"))
            if parts and parts[0] != "HEAD":
                writer.write(body)
            await writer.drain()
        except (TimeoutError, ConnectionError, asyncio.IncompleteReadError):
            pass
        except Exception:
            log.exception("metrics request failed")
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.server.wait_closed(), timeout=1)
