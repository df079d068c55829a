"""Wires the stand-in together: admin port, traffic port, metrics port and the monitor."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from mysql_mimic import MysqlServer

from lab.proxysql_standin import STANDIN_VERSION
from lab.proxysql_standin.admin_session import AdminSession, admin_digest
from lab.proxysql_standin.admin_sql import AdminExecutor
from lab.proxysql_standin.backends import BackendPool
from lab.proxysql_standin.bootstrap import bootstrap
from lab.proxysql_standin.config import StandinConfig
from lab.proxysql_standin.metrics import MetricsServer, render
from lab.proxysql_standin.monitor import GaleraMonitor
from lab.proxysql_standin.protocol import PasswordIdentity, use_status_connections
from lab.proxysql_standin.stats import Stats
from lab.proxysql_standin.store import AdminStore
from lab.proxysql_standin.traffic import TrafficContext, TrafficSession

log = logging.getLogger(__name__)


def _bound_port(server: Any) -> int:
    sockets = server.sockets()
    return int(sockets[0].getsockname()[1]) if sockets else 0


class StandinApp:
    def __init__(self, cfg: StandinConfig) -> None:
        self.cfg = cfg
        self.store = AdminStore(cfg.state_dir)
        self.stats = Stats()
        bootstrap(self.store, cfg)
        self.monitor_threads = ThreadPoolExecutor(8, thread_name_prefix="standin-monitor")
        self.traffic_threads = ThreadPoolExecutor(64, thread_name_prefix="standin-traffic")
        self.pool = BackendPool(self.store, self.stats, self.traffic_threads)
        version = self.store.variable("mysql-server_version", "5.5.30")
        self.traffic = TrafficContext(self.store, self.stats, self.pool, version)
        self.executor = AdminExecutor(self.store, self.stats, self.traffic.processlist)
        self.monitor = GaleraMonitor(
            self.store, self.stats, self.monitor_threads, on_servers_changed=self.pool.prune
        )
        self.store.listeners.append(self._on_load)
        use_status_connections()
        self.admin_server = MysqlServer(
            session_factory=lambda: AdminSession(self.executor, version),
            identity_provider=PasswordIdentity(lambda user: admin_digest(self.store, user)),
        )
        self.traffic_server = MysqlServer(
            session_factory=lambda: TrafficSession(self.traffic),
            identity_provider=PasswordIdentity(self.traffic.digest),
        )
        self.metrics = MetricsServer(lambda: render(self.stats, self.store.servers))
        self._monitor_task: asyncio.Task[None] | None = None

    def _on_load(self, module: str) -> None:
        if module == "MYSQL SERVERS":
            self.pool.prune()

    @property
    def ports(self) -> dict[str, int]:
        return {
            "admin": _bound_port(self.admin_server),
            "mysql": _bound_port(self.traffic_server),
            "metrics": self.metrics.port,
        }

    async def start(self) -> None:
        cfg = self.cfg
        await self.admin_server.start_server(host=cfg.bind, port=cfg.admin_port)
        await self.traffic_server.start_server(host=cfg.bind, port=cfg.mysql_port)
        await self.metrics.start(cfg.bind, cfg.metrics_port)
        self._monitor_task = asyncio.create_task(self.monitor.run(), name="standin-monitor")
        ports = self.ports
        log.info(
            "ProxySQL stand-in %s listening admin=%s:%d mysql=%s:%d metrics=%s:%d",
            STANDIN_VERSION,
            cfg.bind,
            ports["admin"],
            cfg.bind,
            ports["mysql"],
            cfg.bind,
            ports["metrics"],
        )

    async def stop(self) -> None:
        log.info("stopping")
        for server in (self.admin_server, self.traffic_server):
            server.close()
        await self.metrics.close()
        if self._monitor_task is not None:
            self._monitor_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._monitor_task
        self.pool.close()
        self.monitor.close()
        for threads in (self.monitor_threads, self.traffic_threads):
            threads.shutdown(wait=False, cancel_futures=True)
        self.store.close()
