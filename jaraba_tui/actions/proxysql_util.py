"""Where a ProxySQL backend stands: its hostgroups, the other writers, its Galera node."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from jaraba_tui.collectors.common import opt_int, text
from jaraba_tui.collectors.proxysql import GaleraHostgroup, ProxyServer, ProxySQLSnapshot
from jaraba_tui.transport.base import SqlClient

if TYPE_CHECKING:
    from jaraba_tui.profile import Profile

Q_SERVERS = "SELECT hostgroup_id, hostname, port, status FROM runtime_mysql_servers"
Q_INTERVAL = (
    "SELECT variable_value FROM global_variables "
    "WHERE variable_name='mysql-monitor_galera_healthcheck_interval'"
)


@dataclass(frozen=True)
class BackendView:
    """One backend's rows in runtime_mysql_servers, seen with every other server's rows."""

    address: str
    entries: tuple[tuple[int, str], ...]
    galera: GaleraHostgroup | None
    others: tuple[ProxyServer, ...]

    @property
    def statuses(self) -> tuple[str, ...]:
        return tuple(s for _, s in self.entries)

    @property
    def hostgroups_text(self) -> str:
        return ", ".join(f"hg{h} {s}" for h, s in sorted(self.entries)) or "in no hostgroup"

    def _offline(self) -> int | None:
        return self.galera.offline_hostgroup if self.galera else None

    @property
    def serving(self) -> bool:
        off = self._offline()
        return any(s == "ONLINE" and h != off for h, s in self.entries)

    def only_offline(self, offline: int | None) -> bool:
        return bool(self.entries) and all(h == offline for h, _ in self.entries)

    @property
    def is_writer(self) -> bool:
        g = self.galera
        return g is not None and (g.writer_hostgroup, "ONLINE") in self.entries

    @property
    def other_writers(self) -> list[str]:
        """Other backends ONLINE in the writer or backup-writer hostgroup."""
        g = self.galera
        if g is None:
            return []
        groups = {g.writer_hostgroup, g.backup_writer_hostgroup}
        return sorted(
            {s.address for s in self.others if s.status == "ONLINE" and s.hostgroup in groups}
        )

    @property
    def other_online_same_groups(self) -> list[str]:
        mine = {h for h, _ in self.entries}
        return sorted(
            {s.address for s in self.others if s.status == "ONLINE" and s.hostgroup in mine}
        )


@dataclass(frozen=True)
class Backend:
    host: str
    port: int
    galera: GaleraHostgroup | None
    node: str | None
    view: BackendView

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def describe(self) -> str:
        mode = (
            f"Galera-managed (writer hg {self.galera.writer_hostgroup}, offline hg "
            f"{self.galera.offline_hostgroup})"
            if self.galera
            else "not in a Galera hostgroup"
        )
        node = f" = Galera node {self.node}" if self.node else ""
        return f"{self.address}{node}: {self.view.hostgroups_text}; {mode}"


def make_view(
    address: str, servers: Sequence[ProxyServer], galera: Sequence[GaleraHostgroup]
) -> BackendView:
    mine = [s for s in servers if s.address == address]
    groups = {s.hostgroup for s in mine}
    hg = next(
        (
            g
            for g in galera
            if g.active
            and groups
            & {
                g.writer_hostgroup,
                g.backup_writer_hostgroup,
                g.reader_hostgroup,
                g.offline_hostgroup,
            }
        ),
        None,
    )
    return BackendView(
        address,
        tuple((s.hostgroup, s.status) for s in mine),
        hg,
        tuple(s for s in servers if s.address != address),
    )


def resolve_backend(profile: Profile, px: ProxySQLSnapshot, target: str) -> Backend | None:
    """``target`` is a Galera node name of the profile or a ProxySQL ``host:port``."""
    nodes = profile.galera.nodes if profile.galera else []
    named = next((n for n in nodes if n.name == target), None)
    if named is not None:
        host, port = named.host, named.port
    else:
        host, sep, port_text = target.rpartition(":")
        port_num = opt_int(port_text)
        if not sep or port_num is None:
            return None
        port = port_num
    if not any(s.hostname == host and s.port == port for s in px.servers):
        return None
    node = next((n.name for n in nodes if n.host == host and n.port == port), None)
    view = make_view(f"{host}:{port}", px.servers, px.galera_hostgroups)
    return Backend(host, port, view.galera, node, view)


async def backend_view(admin: SqlClient, b: Backend) -> BackendView:
    rows = await admin.query(Q_SERVERS)
    servers = [
        ProxyServer(
            hostgroup=opt_int(r.get("hostgroup_id")) or 0,
            hostname=text(r.get("hostname")),
            port=opt_int(r.get("port")) or 0,
            status=text(r.get("status")),
            weight=None,
            max_connections=None,
            max_replication_lag=None,
            comment="",
        )
        for r in rows
    ]
    return make_view(b.address, servers, [b.galera] if b.galera else [])


async def conn_used(admin: SqlClient, b: Backend, *, exclude: int | None) -> int:
    rows = await admin.query(
        "SELECT hostgroup, ConnUsed FROM stats_mysql_connection_pool "
        "WHERE srv_host=%s AND srv_port=%s",
        [b.host, b.port],
    )
    return sum(
        opt_int(r.get("ConnUsed")) or 0 for r in rows if opt_int(r.get("hostgroup")) != exclude
    )


async def healthcheck_interval_s(admin: SqlClient) -> float:
    rows = await admin.query(Q_INTERVAL)
    ms = opt_int(next(iter(rows[0].values()))) if rows else None
    return (ms or 5000) / 1000.0


@dataclass(frozen=True)
class NodeState:
    state: str
    reject: str

    @property
    def synced(self) -> bool:
        return self.state == "Synced"

    def describe(self) -> str:
        return f"{self.state}, wsrep_reject_queries={self.reject}"


async def node_state(node: SqlClient) -> NodeState:
    status = await node.query("SHOW GLOBAL STATUS LIKE 'wsrep_local_state_comment'")
    var = await node.query("SHOW GLOBAL VARIABLES LIKE 'wsrep_reject_queries'")

    def value(rows: Sequence[object]) -> str:
        for r in rows:
            if isinstance(r, dict):
                low = {str(k).lower(): v for k, v in r.items()}
                return text(low.get("value", "?"))
        return "?"

    return NodeState(value(status), value(var).upper())
