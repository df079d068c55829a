"""The clients of one profile's endpoints, built on first ask and cached.

``Transports(profile).galera("node2")`` is the SqlClient of that node: direct, or through an
SSH tunnel (``via``) opened lazily on the first call and re-opened after the SSH connection
dropped. ``await transports.aclose()`` closes every client, tunnel and SSH connection.
"""

from __future__ import annotations

import contextlib
from types import TracebackType
from typing import Any

from jaraba_tui.profile import Profile
from jaraba_tui.transport._common import AddressProvider, Timeouts, static_address
from jaraba_tui.transport.base import HAProxyRuntime, HttpClient, Shell, SqlClient
from jaraba_tui.transport.haproxy import HAProxyRuntimeClient
from jaraba_tui.transport.http import HttpxClient
from jaraba_tui.transport.local import LocalShell
from jaraba_tui.transport.redis import AsyncRedisClient
from jaraba_tui.transport.sql import PyMySqlClient
from jaraba_tui.transport.ssh import SshPool, ssh_pool


class NotConfigured(LookupError):
    """The profile has no such section or endpoint."""


class Transports:
    def __init__(
        self, profile: Profile, *, timeouts: Timeouts | None = None, ssh: SshPool | None = None
    ) -> None:
        """``ssh``: the profile's SSH pool when it was built earlier (:func:`ssh_pool`)."""
        self.profile = profile
        poll = profile.poll
        self.timeouts = timeouts or Timeouts(connect=poll.connect_timeout, read=poll.read_timeout)
        self.ssh = ssh or ssh_pool(profile, self.timeouts)
        self._clients: dict[str, Any] = {}

    async def __aenter__(self) -> Transports:
        return self

    async def __aexit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    # -- helpers ------------------------------------------------------------------------------
    def address(self, host: str, port: int, via: str | None) -> AddressProvider:
        return self.ssh.address_via(via, host, port) if via else static_address(host, port)

    @staticmethod
    def label(layer: str, name: str, host: str, port: int, via: str | None) -> str:
        where = f"{host}:{port}" + (f" via {via}" if via else "")
        return f"{layer} {name} {where}".replace("  ", " ")

    def _cached(self, key: str, build: Any) -> Any:
        if key not in self._clients:
            self._clients[key] = build()
        return self._clients[key]

    # -- SQL ----------------------------------------------------------------------------------
    def galera_names(self) -> list[str]:
        return [n.name for n in self.profile.galera.nodes] if self.profile.galera else []

    def galera(self, node: str) -> SqlClient:
        try:
            cfg = self.profile.galera_node(node)
        except KeyError as exc:
            raise NotConfigured(str(exc)) from None

        def build() -> PyMySqlClient:
            return PyMySqlClient(
                self.label("galera", cfg.name, cfg.host, cfg.port, cfg.via),
                self.address(cfg.host, cfg.port, cfg.via),
                user=cfg.user,
                password=cfg.password,
                timeouts=self.timeouts,
            )

        client: SqlClient = self._cached(f"galera/{node}", build)
        return client

    def proxysql(self) -> SqlClient:
        cfg = self.profile.proxysql
        if cfg is None:
            raise NotConfigured("the profile has no [proxysql] section")

        def build() -> PyMySqlClient:
            return PyMySqlClient(
                self.label("proxysql", "admin", cfg.host, cfg.port, cfg.via),
                self.address(cfg.host, cfg.port, cfg.via),
                user=cfg.user,
                password=cfg.password,
                timeouts=self.timeouts,
            )

        client: SqlClient = self._cached("proxysql", build)
        return client

    # -- Redis / Sentinel ---------------------------------------------------------------------
    def redis_names(self) -> list[str]:
        return [i.name for i in self.profile.redis.instances] if self.profile.redis else []

    def sentinel_names(self) -> list[str]:
        return [i.name for i in self.profile.sentinel.instances] if self.profile.sentinel else []

    def redis(self, name: str) -> AsyncRedisClient:
        try:
            cfg = self.profile.redis_instance(name)
        except KeyError as exc:
            raise NotConfigured(str(exc)) from None
        client: AsyncRedisClient = self._cached(
            f"redis/{name}",
            lambda: AsyncRedisClient(
                self.label("redis", cfg.name, cfg.host, cfg.port, cfg.via),
                self.address(cfg.host, cfg.port, cfg.via),
                password=cfg.password,
                timeouts=self.timeouts,
            ),
        )
        return client

    def sentinel(self, name: str) -> AsyncRedisClient:
        try:
            cfg = self.profile.sentinel_instance(name)
        except KeyError as exc:
            raise NotConfigured(str(exc)) from None
        client: AsyncRedisClient = self._cached(
            f"sentinel/{name}",
            lambda: AsyncRedisClient(
                self.label("sentinel", cfg.name, cfg.host, cfg.port, cfg.via),
                self.address(cfg.host, cfg.port, cfg.via),
                password=cfg.password,
                timeouts=self.timeouts,
            ),
        )
        return client

    # -- HAProxy ------------------------------------------------------------------------------
    def haproxy_runtime(self) -> HAProxyRuntime:
        cfg = self.profile.haproxy
        if cfg is None or cfg.runtime is None:
            raise NotConfigured("the profile has no [haproxy.runtime]")
        rt = cfg.runtime

        def build() -> HAProxyRuntimeClient:
            if rt.unix is not None and rt.ssh is not None:
                return HAProxyRuntimeClient.over_ssh(
                    self.ssh,
                    rt.ssh,
                    rt.unix,
                    timeouts=self.timeouts,
                    endpoint=f"haproxy runtime {rt.unix} on ssh {rt.ssh}",
                )
            if rt.unix is not None:
                return HAProxyRuntimeClient.unix(
                    rt.unix, timeouts=self.timeouts, endpoint=f"haproxy runtime unix:{rt.unix}"
                )
            assert rt.host is not None and rt.port is not None
            return HAProxyRuntimeClient.tcp(
                self.label("haproxy", "runtime", rt.host, rt.port, rt.via),
                self.address(rt.host, rt.port, rt.via),
                timeouts=self.timeouts,
            )

        client: HAProxyRuntime = self._cached("haproxy/runtime", build)
        return client

    def haproxy_stats(self) -> HttpClient:
        cfg = self.profile.haproxy
        if cfg is None or cfg.stats_url is None:
            raise NotConfigured("the profile has no haproxy.stats_url")
        return self._http(
            "haproxy", "stats", cfg.stats_url, cfg.stats_user, cfg.stats_password, cfg.stats_via
        )

    # -- HTTP services ------------------------------------------------------------------------
    def prometheus(self) -> HttpClient:
        cfg = self.profile.prometheus
        if cfg is None:
            raise NotConfigured("the profile has no [prometheus] section")
        return self._http("prometheus", "prometheus", cfg.url, cfg.user, cfg.password, cfg.via)

    def alertmanager(self) -> HttpClient:
        cfg = self.profile.alertmanager
        if cfg is None:
            raise NotConfigured("the profile has no [alertmanager] section")
        return self._http("alertmanager", "alertmanager", cfg.url, cfg.user, cfg.password, cfg.via)

    def grafana(self) -> HttpClient:
        if self.profile.grafana_url is None:
            raise NotConfigured("the profile has no grafana_url")
        return self._http("grafana", "grafana", self.profile.grafana_url, None, None, None)

    def _http(
        self, layer: str, name: str, url: str, user: Any, password: Any, via: str | None
    ) -> HttpClient:
        def build() -> HttpxClient:
            from urllib.parse import urlsplit

            parts = urlsplit(url)
            port = parts.port or (443 if parts.scheme == "https" else 80)
            tunnel = self.ssh.address_via(via, parts.hostname or "", port) if via else None
            label = f"{layer} {name} {url}" + (f" via {via}" if via else "")
            return HttpxClient(
                label, url, timeouts=self.timeouts, user=user, password=password, tunnel=tunnel
            )

        client: HttpClient = self._cached(f"{layer}/{name}", build)
        return client

    # -- shells -------------------------------------------------------------------------------
    def shell(self, ssh_host: str | None) -> Shell:
        """The Shell of an SSH host of the profile; ``None`` = the local host."""
        if ssh_host is None:
            local: Shell = self._cached(
                "shell/local", lambda: LocalShell(command_timeout=self.profile.poll.command_timeout)
            )
            return local
        if ssh_host not in self.profile.ssh.hosts:
            raise NotConfigured(f"no SSH host named {ssh_host!r} in the profile")
        remote: Shell = self._cached(f"shell/{ssh_host}", lambda: self.ssh.shell(ssh_host))
        return remote

    def galera_shell(self, node: str) -> Shell | None:
        """The Shell of the host a Galera node runs on (its ``ssh``), or None if not given."""
        try:
            cfg = self.profile.galera_node(node)
        except KeyError as exc:
            raise NotConfigured(str(exc)) from None
        return self.shell(cfg.ssh) if cfg.ssh else None

    async def aclose(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            close = getattr(client, "close", None)
            if close is not None:
                with contextlib.suppress(Exception):
                    await close()
        await self.ssh.close()
