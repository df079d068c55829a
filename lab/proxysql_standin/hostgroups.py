"""Galera hostgroup placement: a pure function from node health and config to runtime rows.

This mirrors what ProxySQL 2.x does for ``mysql_galera_hostgroups`` (MySQL_Monitor's Galera
check feeding ``update_galera_set_offline`` / ``update_galera_set_read_only`` /
``update_galera_set_writer`` and ``converge_galera_config`` in MySQL_HostGroups_Manager):

* a node whose check failed, that is not in a Primary component, has ``wsrep_desync=ON``, is
  not Synced (``wsrep_local_state`` 4; a Donor, state 2, stays usable only when
  ``wsrep_sst_donor_rejects_queries`` is OFF), or has ``wsrep_reject_queries`` other than NONE
  goes to the offline hostgroup, ONLINE there, and out of every other hostgroup of the cluster;
* a healthy ``read_only=1`` node is a reader, or offline when ``wsrep_local_recv_queue`` exceeds
  ``max_transactions_behind`` (ProxySQL's "slave is lagging");
* healthy ``read_only=0`` nodes are writer candidates, ordered like ProxySQL's converge query
  (``ORDER BY weight DESC, hostname DESC``); ProxySQL leaves the order of equal
  (weight, hostname) pairs to SQLite, the stand-in keeps the current writer first and then takes
  the lower port. The first ``max_writers`` are ONLINE in the writer hostgroup; the others are
  ONLINE in the backup-writer hostgroup and SHUNNED in the writer hostgroup;
* ``writer_is_also_reader``: 0 = readers are the read_only nodes only; 1 = writers and backup
  writers are readers too; 2 = backup writers are readers, the writer only when there would be
  no reader otherwise.

The status an operator configured in ``mysql_servers`` (OFFLINE_SOFT, SHUNNED) does not survive
this: ProxySQL's Galera monitor sets a healthy node back ONLINE (sysown/proxysql#2098, #5169).
A node whose configured rows are all OFFLINE_HARD is left alone (ProxySQL's Galera queries skip
``status=3`` rows), and a cluster whose ``mysql_galera_hostgroups.active`` is 0 is not managed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

ONLINE = "ONLINE"
SHUNNED = "SHUNNED"
OFFLINE_SOFT = "OFFLINE_SOFT"
OFFLINE_HARD = "OFFLINE_HARD"
STATUSES = (ONLINE, SHUNNED, OFFLINE_SOFT, OFFLINE_HARD)

NodeKey = tuple[str, int]


@dataclass(frozen=True, slots=True)
class ServerRow:
    """One row of ``mysql_servers`` / ``runtime_mysql_servers`` (ProxySQL 2.x columns)."""

    hostgroup_id: int
    hostname: str
    port: int = 3306
    gtid_port: int = 0
    status: str = ONLINE
    weight: int = 1
    compression: int = 0
    max_connections: int = 1000
    max_replication_lag: int = 0
    use_ssl: int = 0
    max_latency_ms: int = 0
    comment: str = ""

    @property
    def node(self) -> NodeKey:
        return (self.hostname, self.port)


@dataclass(frozen=True, slots=True)
class GaleraHostgroup:
    """One row of ``mysql_galera_hostgroups``."""

    writer_hostgroup: int
    backup_writer_hostgroup: int
    reader_hostgroup: int
    offline_hostgroup: int
    active: int = 1
    max_writers: int = 1
    writer_is_also_reader: int = 0
    max_transactions_behind: int = 0
    comment: str | None = None

    @property
    def hostgroups(self) -> tuple[int, int, int, int]:
        return (
            self.writer_hostgroup,
            self.backup_writer_hostgroup,
            self.reader_hostgroup,
            self.offline_hostgroup,
        )


@dataclass(frozen=True, slots=True)
class NodeHealth:
    """The last Galera check of one node, as ProxySQL's monitor interprets it."""

    error: str | None = None
    primary_partition: bool = True
    read_only: bool = False
    wsrep_local_state: int = 4
    wsrep_desync: bool = False
    wsrep_reject_queries: bool = False
    wsrep_sst_donor_rejects_queries: bool = False
    wsrep_local_recv_queue: int = 0

    def offline_reason(self) -> str | None:
        """Why ProxySQL would set this node offline, in its log's words; None if usable."""
        if self.error is not None:
            return self.error
        if not self.primary_partition:
            return "primary_partition=NO"
        if self.wsrep_desync:
            return "wsrep_desync=YES"
        if self.wsrep_local_state != 4 and not (
            self.wsrep_local_state == 2 and not self.wsrep_sst_donor_rejects_queries
        ):
            return f"wsrep_local_state={self.wsrep_local_state}"
        if self.wsrep_reject_queries:
            return "wsrep_reject_queries=true"
        return None


NOT_CHECKED = NodeHealth(error="not checked yet")


def _writer_order(
    candidates: Iterable[ServerRow], incumbents: frozenset[NodeKey]
) -> list[ServerRow]:
    # Stable sorts, least significant key first: port ASC, incumbent first, hostname DESC,
    # weight DESC.
    ordered = sorted(candidates, key=lambda r: r.port)
    ordered.sort(key=lambda r: r.node not in incumbents)
    ordered.sort(key=lambda r: r.hostname, reverse=True)
    ordered.sort(key=lambda r: r.weight, reverse=True)
    return ordered


def _template(rows: Sequence[ServerRow], order: Sequence[int]) -> ServerRow:
    """The row whose attributes (weight, max_connections, ...) a node carries everywhere."""
    for hostgroup in order:
        for row in rows:
            if row.hostgroup_id == hostgroup:
                return row
    return rows[0]


def place_cluster(
    cluster: GaleraHostgroup,
    members: Mapping[NodeKey, Sequence[ServerRow]],
    health: Mapping[NodeKey, NodeHealth],
    incumbents: frozenset[NodeKey] = frozenset(),
) -> list[ServerRow]:
    """Runtime rows for the managed nodes of one active Galera cluster.

    ``members`` maps each node to its configured rows in the cluster's hostgroups (rows that
    are OFFLINE_HARD already removed). ``health`` misses a node: it counts as unreachable.
    """
    whg, bhg, rhg, ohg = cluster.hostgroups
    templates = {node: _template(rows, (whg, bhg, rhg, ohg)) for node, rows in members.items()}
    out: list[ServerRow] = []
    candidates: list[ServerRow] = []
    readers: list[ServerRow] = []
    for node, template in templates.items():
        state = health.get(node, NOT_CHECKED)
        reason = state.offline_reason()
        if reason is None and state.read_only:
            if state.wsrep_local_recv_queue > cluster.max_transactions_behind:
                reason = "slave is lagging"
            else:
                readers.append(template)
                continue
        if reason is not None:
            out.append(replace(template, hostgroup_id=ohg, status=ONLINE))
            continue
        candidates.append(template)

    ordered = _writer_order(candidates, incumbents)
    writers = ordered[: max(cluster.max_writers, 0)]
    backups = ordered[len(writers) :]
    for row in writers:
        out.append(replace(row, hostgroup_id=whg, status=ONLINE))
    for row in backups:
        out.append(replace(row, hostgroup_id=whg, status=SHUNNED))
        out.append(replace(row, hostgroup_id=bhg, status=ONLINE))

    if cluster.writer_is_also_reader == 1:
        readers = [*writers, *backups, *readers]
    elif cluster.writer_is_also_reader == 2:
        readers = [*backups, *readers] if (backups or readers) else list(writers)
    for row in readers:
        out.append(replace(row, hostgroup_id=rhg, status=ONLINE))
    return out


def compute_runtime_servers(
    config: Sequence[ServerRow],
    galera: Sequence[GaleraHostgroup],
    health: Mapping[NodeKey, NodeHealth],
    previous: Sequence[ServerRow] = (),
) -> list[ServerRow]:
    """The ``runtime_mysql_servers`` rows ProxySQL converges to.

    ``config`` is what ``LOAD MYSQL SERVERS TO RUNTIME`` loaded, ``galera`` the loaded
    ``mysql_galera_hostgroups``, ``health`` the last check of each node and ``previous`` the
    current runtime rows (to keep the current writer when nothing says otherwise). Rows outside
    an active Galera cluster are returned as configured.
    """
    claimed: set[int] = set()
    out: list[ServerRow] = []
    managed_rows: set[int] = set()
    for cluster in galera:
        hostgroups = set(cluster.hostgroups)
        if cluster.active != 1 or hostgroups & claimed:
            continue
        claimed |= hostgroups
        members: dict[NodeKey, list[ServerRow]] = {}
        for index, row in enumerate(config):
            if row.hostgroup_id not in hostgroups:
                continue
            managed_rows.add(index)
            members.setdefault(row.node, []).append(row)
        managed: dict[NodeKey, list[ServerRow]] = {}
        for node, rows in members.items():
            live = [r for r in rows if r.status != OFFLINE_HARD]
            if live:
                managed[node] = live
            else:
                out.extend(rows)  # configured OFFLINE_HARD: the Galera monitor skips it
        incumbents = frozenset(
            r.node
            for r in previous
            if r.hostgroup_id == cluster.writer_hostgroup and r.status == ONLINE
        )
        out.extend(place_cluster(cluster, managed, health, incumbents))
    out.extend(row for index, row in enumerate(config) if index not in managed_rows)
    return sort_rows(dedupe(out))


def dedupe(rows: Iterable[ServerRow]) -> list[ServerRow]:
    """Keep the first row per (hostgroup_id, hostname, port), the table's primary key."""
    seen: set[tuple[int, str, int]] = set()
    out: list[ServerRow] = []
    for row in rows:
        key = (row.hostgroup_id, row.hostname, row.port)
        if key not in seen:
            seen.add(key)
            out.append(row)
    return out


def sort_rows(rows: Iterable[ServerRow]) -> list[ServerRow]:
    return sorted(rows, key=lambda r: (r.hostgroup_id, r.hostname, r.port))


def writers_online(rows: Iterable[ServerRow], writer_hostgroup: int) -> list[ServerRow]:
    return [r for r in rows if r.hostgroup_id == writer_hostgroup and r.status == ONLINE]
