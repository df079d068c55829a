"""MariaDB Galera: every node's own view (wsrep status over SQL) plus its host (over a Shell).

Each node is asked directly; one node's opinion of the others is never taken as theirs.
A node that cannot be reached still gets a snapshot, carrying the error and whatever the
host side (process, grastate.dat, disk, error log) could tell.
"""

from __future__ import annotations

import asyncio
import posixpath
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from jaraba_tui.collectors.common import (
    Clock,
    EndpointError,
    ParseError,
    Serialisable,
    Stopwatch,
    guarded,
    is_uint,
    opt_bool,
    opt_float,
    opt_int,
    run_probe,
    split_probe,
    text,
)
from jaraba_tui.collectors.hosts import DiskUsage, parse_df
from jaraba_tui.transport.base import Shell, SqlClient, TransportError

WSREP_QUERY = "SHOW GLOBAL STATUS LIKE 'wsrep%'"

#: The wsrep_* status variables :func:`parse_wsrep_status` reads.
WSREP_VARS = (
    "cluster_status",
    "cluster_size",
    "cluster_conf_id",
    "cluster_state_uuid",
    "local_state_uuid",
    "local_state",
    "local_state_comment",
    "ready",
    "connected",
    "flow_control_paused",
    "flow_control_paused_ns",
    "flow_control_sent",
    "flow_control_recv",
    "local_recv_queue",
    "local_recv_queue_avg",
    "local_send_queue",
    "local_send_queue_avg",
    "local_cert_failures",
    "local_bf_aborts",
    "last_committed",
    "evs_repl_latency",
    "evs_state",
    "desync_count",
    "local_index",
    "incoming_addresses",
    "provider_name",
    "provider_version",
)

#: What every poll asks a node: only the variables read (27 rows, not the ~75 of
#: ``wsrep%``: less for the server to build and for the client to parse, issue 6).
WSREP_POLL_QUERY = "SHOW GLOBAL STATUS WHERE Variable_name IN ({})".format(
    ", ".join(f"'wsrep_{name}'" for name in WSREP_VARS)
)

#: wsrep_local_state_comment values a healthy or recovering node reports (Galera 3/4).
KNOWN_STATES = (
    "Synced",
    "Donor/Desynced",
    "Joined",
    "Joining",
    "Joining: preparing for State Transfer",
    "Joining: requested State Transfer",
    "Joining: receiving State Transfer",
    "Joining: State Transfer request failed",
    "Joining: State Transfer failed",
    "Waiting on SST",
    "Initialized",
    "Destroyed",
    "Error",
    "Disconnected",
)


class GaleraParseError(ParseError):
    pass


@dataclass(frozen=True)
class ReplLatency(Serialisable):
    """``wsrep_evs_repl_latency``: min/avg/max/stddev seconds over ``samples`` messages."""

    min_s: float
    avg_s: float
    max_s: float
    stddev_s: float
    samples: int


@dataclass(frozen=True)
class WsrepStatus(Serialisable):
    cluster_status: str | None
    cluster_size: int | None
    cluster_conf_id: int | None
    cluster_state_uuid: str | None
    local_state_uuid: str | None
    local_state: int | None
    local_state_comment: str | None
    ready: bool | None
    connected: bool | None
    flow_control_paused: float | None
    flow_control_paused_ns: int | None
    flow_control_sent: int | None
    flow_control_recv: int | None
    local_recv_queue: int | None
    local_recv_queue_avg: float | None
    local_send_queue: int | None
    local_send_queue_avg: float | None
    local_cert_failures: int | None
    local_bf_aborts: int | None
    last_committed: int | None
    evs_repl_latency: ReplLatency | None
    evs_state: str | None
    desync_count: int | None
    local_index: int | None
    incoming_addresses: tuple[str, ...]
    provider_name: str | None
    provider_version: str | None

    @property
    def in_primary(self) -> bool:
        return self.cluster_status == "Primary" and self.connected is not False

    @property
    def synced(self) -> bool:
        return self.local_state_comment == "Synced"


@dataclass(frozen=True)
class GraState(Serialisable):
    """``grastate.dat``: the position a stopped node would start from."""

    version: str | None
    uuid: str
    seqno: int
    safe_to_bootstrap: bool | None


@dataclass(frozen=True)
class ProcessStatus(Serialisable):
    """Whether mariadbd/mysqld runs for this node. ``running`` None = could not tell."""

    running: bool | None
    pids: tuple[int, ...]
    detail: str


@dataclass
class ProbeMemo:
    """What one node's host probe remembers between polls (a target lives as long as its
    engine): the PID that served the datadir, checked first by the next probe."""

    pid: int | None = None


@dataclass(frozen=True)
class GaleraNodeTarget:
    name: str
    sql: SqlClient
    shell: Shell | None = None
    datadir: str | None = None
    error_log: str | None = None
    expected_size: int = 3
    log_lines: int = 20
    memo: ProbeMemo = field(default_factory=ProbeMemo, compare=False, repr=False)


@dataclass(frozen=True)
class GaleraNodeSnapshot(Serialisable):
    name: str
    endpoint: str
    host: str | None
    collected_at: float
    wsrep: WsrepStatus | None
    sql_error: EndpointError | None
    process: ProcessStatus | None
    grastate: GraState | None
    disk: DiskUsage | None
    error_log_tail: tuple[str, ...]
    shell_errors: tuple[EndpointError, ...]
    elapsed_ms: float = 0.0

    @property
    def reachable(self) -> bool:
        return self.wsrep is not None


@dataclass(frozen=True)
class GaleraSnapshot(Serialisable):
    nodes: tuple[GaleraNodeSnapshot, ...]
    expected_size: int
    collected_at: float
    elapsed_ms: float = 0.0

    def node(self, name: str) -> GaleraNodeSnapshot | None:
        return next((n for n in self.nodes if n.name == name), None)

    @property
    def reachable_nodes(self) -> tuple[GaleraNodeSnapshot, ...]:
        return tuple(n for n in self.nodes if n.wsrep is not None)

    @property
    def primary_size(self) -> int | None:
        """The largest cluster size any node in a Primary component reports."""
        sizes = [
            n.wsrep.cluster_size
            for n in self.nodes
            if n.wsrep is not None and n.wsrep.in_primary and n.wsrep.cluster_size is not None
        ]
        return max(sizes) if sizes else None


# -- pure parsers ----------------------------------------------------------------------------


def status_map(rows: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """Rows of ``SHOW STATUS`` (Variable_name/Value) or information_schema (VARIABLE_*)."""
    out: dict[str, str] = {}
    for row in rows:
        if not isinstance(row, Mapping):
            raise GaleraParseError(f"status row is not a mapping: {row!r:.80}")
        if len(row) == 2 and "Variable_name" in row and "Value" in row:  # SHOW STATUS
            out[text(row["Variable_name"]).lower()] = text(row["Value"])
            continue
        low = {text(k).lower(): v for k, v in row.items()}
        name = low.get("variable_name")
        if name is None:
            raise GaleraParseError(f"status row without Variable_name: {sorted(low)!r:.80}")
        out[text(name).lower()] = text(low.get("value", low.get("variable_value")))
    return out


def parse_repl_latency(value: str) -> ReplLatency | None:
    parts = value.strip().split("/")
    if len(parts) != 5:
        return None
    nums = [opt_float(p) for p in parts[:4]]
    samples = opt_int(parts[4])
    if any(n is None for n in nums) or samples is None:
        return None
    mn, avg, mx, sd = (float(n) for n in nums if n is not None)
    return ReplLatency(mn, avg, mx, sd, samples)


def parse_wsrep_status(rows: Iterable[Mapping[str, Any]]) -> WsrepStatus:
    """The wsrep_* rows of one node into a :class:`WsrepStatus`; unknown names are ignored."""
    s = status_map(rows)
    if not any(k.startswith("wsrep_") for k in s):
        raise GaleraParseError("no wsrep_* status variables: is this a Galera node?")

    def g(name: str) -> str | None:
        v = s.get("wsrep_" + name)
        return None if v is None else v

    def none_if_empty(v: str | None) -> str | None:
        return v if v else None

    addrs = g("incoming_addresses") or ""
    return WsrepStatus(
        cluster_status=none_if_empty(g("cluster_status")),
        cluster_size=opt_int(g("cluster_size")),
        cluster_conf_id=opt_int(g("cluster_conf_id")),
        cluster_state_uuid=none_if_empty(g("cluster_state_uuid")),
        local_state_uuid=none_if_empty(g("local_state_uuid")),
        local_state=opt_int(g("local_state")),
        local_state_comment=none_if_empty(g("local_state_comment")),
        ready=opt_bool(g("ready")),
        connected=opt_bool(g("connected")),
        flow_control_paused=opt_float(g("flow_control_paused")),
        flow_control_paused_ns=opt_int(g("flow_control_paused_ns")),
        flow_control_sent=opt_int(g("flow_control_sent")),
        flow_control_recv=opt_int(g("flow_control_recv")),
        local_recv_queue=opt_int(g("local_recv_queue")),
        local_recv_queue_avg=opt_float(g("local_recv_queue_avg")),
        local_send_queue=opt_int(g("local_send_queue")),
        local_send_queue_avg=opt_float(g("local_send_queue_avg")),
        local_cert_failures=opt_int(g("local_cert_failures")),
        local_bf_aborts=opt_int(g("local_bf_aborts")),
        last_committed=opt_int(g("last_committed")),
        evs_repl_latency=parse_repl_latency(g("evs_repl_latency") or ""),
        evs_state=none_if_empty(g("evs_state")),
        desync_count=opt_int(g("desync_count")),
        local_index=opt_int(g("local_index")),
        incoming_addresses=tuple(a.strip() for a in addrs.split(",") if a.strip()),
        provider_name=none_if_empty(g("provider_name")),
        provider_version=none_if_empty(g("provider_version")),
    )


def parse_grastate(content: str) -> GraState:
    """``grastate.dat`` (``key: value`` lines, ``#`` comments)."""
    kv: dict[str, str] = {}
    for line in content.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition(":")
        if sep:
            kv[key.strip().lower()] = value.strip()
    uuid = kv.get("uuid")
    seqno = opt_int(kv.get("seqno"))
    if not uuid or seqno is None:
        raise GaleraParseError("grastate.dat: uuid or seqno missing")
    return GraState(
        version=kv.get("version"),
        uuid=uuid,
        seqno=seqno,
        safe_to_bootstrap=opt_bool(kv.get("safe_to_bootstrap")),
    )


def parse_pgrep(output: str) -> tuple[int, ...]:
    """``pgrep`` output: one PID per line."""
    pids: list[int] = []
    for tok in output.split():
        if not is_uint(tok):
            raise GaleraParseError(f"pgrep: not a PID: {tok[:20]!r}")
        pids.append(int(tok))
    return tuple(pids)


def _norm(path: str) -> str:
    return posixpath.normpath(path.strip()) if path.strip() else ""


def decide_process(
    pids: Sequence[int], cwds: Mapping[int, str | None], datadir: str | None
) -> ProcessStatus:
    """Which of the running mariadbd processes serves ``datadir`` (its working directory).

    mariadbd chdirs into its datadir, so ``/proc/PID/cwd`` names the node even when several
    run on one host (the lab) and the datadir is not on the command line.
    """
    if not pids:
        return ProcessStatus(False, (), "no mariadbd/mysqld process")
    if datadir is None:
        return ProcessStatus(True, tuple(pids), f"mariadbd running (pid {pids[0]})")
    want = _norm(datadir)
    matched = tuple(p for p in pids if cwds.get(p) is not None and _norm(cwds[p] or "") == want)
    if matched:
        return ProcessStatus(True, matched, f"mariadbd running (pid {matched[0]})")
    if any(cwds.get(p) is None for p in pids):
        return ProcessStatus(
            None, tuple(pids), "mariadbd runs but its datadir could not be checked"
        )
    return ProcessStatus(False, (), f"no mariadbd process serves {datadir}")


def parse_log_tail(output: str, limit: int = 500) -> tuple[str, ...]:
    return tuple(line[:limit] for line in output.splitlines() if line.strip())


T = TypeVar("T")


# -- I/O -------------------------------------------------------------------------------------


@dataclass
class _HostSide:
    process: ProcessStatus | None = None
    grastate: GraState | None = None
    disk: DiskUsage | None = None
    tail: tuple[str, ...] = ()
    errors: list[EndpointError] = field(default_factory=list)


#: One remote command for the whole host side of a node (process, grastate.dat, disk, log
#: tail): one SSH session instead of five, which matters with OpenSSH's MaxSessions and on a
#: loaded host. The script is a constant; profile values reach it only as quoted positional
#: parameters ($1 datadir, $2 error log, $3 lines, $4 the PID that served the datadir at the
#: last poll), never spliced into its text.
#:
#: Cost on the host (issue 6: the probes' processes were the largest CPU cost of a whole-stack
#: poll, more than the console itself): the PID of the last poll is checked first (its comm,
#: state and cwd), and /proc is scanned only when it no longer serves the datadir (a fresh
#: scan of every process, ~6 ms on a host running 150, each poll); grastate.dat is read with
#: the shell's ``read`` (no ``cat`` to fork) unless it cannot be read (then ``cat`` says why);
#: the output is gathered and written once, so it crosses SSH in one packet, not a dozen.
HOST_PROBE = r"""
dd=$1 log=$2 n=$3 hint=$4
alive() { # $1: a PID; true when it is a running mariadbd/mysqld (not a zombie)
  cm=; read -r cm 2>/dev/null < "/proc/$1/comm" || return 1
  case $cm in mariadbd|mysqld) ;; *) return 1;; esac
  # a zombie (Z) or dead (X) process, just killed, is no running server
  st=; read -r st 2>/dev/null < "/proc/$1/stat"
  case ${st##*) } in Z*|X*|'') return 1;; esac
}
out=$(
echo '@@process'
if [ -n "$dd" ] && [ -n "$hint" ] && alive "$hint" && [ "/proc/$hint/cwd" -ef "$dd" ]; then
  printf '%s %s\n' "$hint" "$dd"
else
# Shell builtins only (pgrep and a fork per process cost tens of ms on a busy host): every
# process named mariadbd/mysqld, as pgrep -x would find it by its comm.
for cf in /proc/[0-9]*/comm; do
  p=${cf#/proc/}; p=${p%/comm}
  alive "$p" || continue
  if [ -n "$dd" ] && [ "/proc/$p/cwd" -ef "$dd" ]; then printf '%s %s\n' "$p" "$dd"
  elif [ -n "$dd" ] && [ -e "/proc/$p/cwd" ]; then printf '%s %s\n' "$p" "(elsewhere)"
  elif [ -n "$dd" ]; then printf '%s\n' "$p"
  else printf '%s %s\n' "$p" "$(readlink "/proc/$p/cwd" 2>/dev/null)"; fi
done
fi
if [ -n "$dd" ]; then
  echo '@@grastate'; gs=$dd/grastate.dat
  if [ -f "$gs" ] && [ -r "$gs" ]; then
    while IFS= read -r l || [ -n "$l" ]; do printf '%s\n' "$l"; done < "$gs"; echo '@@rc 0'
  else cat -- "$gs" 2>&1; echo "@@rc $?"; fi
  echo '@@df'; df -P -k -- "$dd" 2>&1; echo "@@rc $?"
fi
if [ -n "$log" ]; then
  echo '@@log'; tail -n "$n" -- "$log" 2>&1; echo "@@rc $?"
fi
)
printf '%s\n' "$out"
"""


def parse_probe_process(text: str, datadir: str | None) -> ProcessStatus:
    pids: list[int] = []
    cwds: dict[int, str | None] = {}
    for line in text.splitlines():
        pid, _, cwd = line.strip().partition(" ")
        if not is_uint(pid):
            raise GaleraParseError(f"process probe: not a PID: {pid[:20]!r}")
        pids.append(int(pid))
        cwds[int(pid)] = cwd.strip() or None
    return decide_process(tuple(pids), cwds, datadir)


async def _host_side(t: GaleraNodeTarget, sh: Shell, timeout: float | None) -> _HostSide:
    out = _HostSide()
    host, dd, log = sh.host, t.datadir, t.error_log
    hint = str(t.memo.pid) if t.memo.pid is not None else ""
    argv = ["sh", "-c", HOST_PROBE, "jaraba-probe", dd or "", log or "", str(t.log_lines), hint]

    async def probe() -> str:
        res = await run_probe(sh, argv, timeout)
        if res.exit_status not in (0, 1):
            raise TransportError(f"host probe failed: {res.stderr.strip()[:120]}", kind="other")
        return res.stdout

    raw, err = await guarded(host, "host probe", probe, timeout)
    if err is not None or raw is None:
        if err is not None:
            out.errors.append(err)
        return out
    sections = split_probe(raw)

    def step(name: str, parse: Callable[[str], T]) -> T | None:
        body, rc = sections.get(name, ("", -1))
        if name not in sections:
            out.errors.append(EndpointError(host, "other", f"{name}: no answer", name))
            return None
        if rc != 0:
            why = body.strip().splitlines()[-1:] or ["failed"]
            out.errors.append(EndpointError(host, "other", f"{name}: {why[0][:160]}", name))
            return None
        try:
            return parse(body)
        except ParseError as exc:
            out.errors.append(EndpointError(host, "parse", f"{name}: {exc}", name))
            return None

    out.process = step("process", lambda b: parse_probe_process(b, dd))
    proc = out.process
    t.memo.pid = proc.pids[0] if proc is not None and proc.running and dd is not None else None
    if dd is not None:
        out.grastate = step("grastate", parse_grastate)
        disks = step("df", parse_df)
        out.disk = disks[0] if disks else None
    if log is not None:
        out.tail = step("log", parse_log_tail) or ()
    return out


async def collect_node(
    target: GaleraNodeTarget, *, clock: Clock = time.time, timeout: float | None = None
) -> GaleraNodeSnapshot:
    """One node: its SQL status and, concurrently, its host side (when a shell is given)."""
    sw = Stopwatch()
    ep = target.sql.endpoint

    async def wsrep() -> WsrepStatus:
        return parse_wsrep_status(await target.sql.query(WSREP_POLL_QUERY))

    async def no_host() -> _HostSide:
        return _HostSide()

    sh = target.shell
    (ws, sql_err), side = await asyncio.gather(
        guarded(ep, "wsrep status", wsrep, timeout),
        _host_side(target, sh, timeout) if sh is not None else no_host(),
    )
    return GaleraNodeSnapshot(
        name=target.name,
        endpoint=ep,
        host=sh.host if sh is not None else None,
        collected_at=clock(),
        wsrep=ws,
        sql_error=sql_err,
        process=side.process,
        grastate=side.grastate,
        disk=side.disk,
        error_log_tail=side.tail,
        shell_errors=tuple(side.errors),
        elapsed_ms=sw.ms(),
    )


async def collect(
    targets: Sequence[GaleraNodeTarget],
    *,
    clock: Clock = time.time,
    timeout: float | None = None,
) -> GaleraSnapshot:
    """Poll every node concurrently; one node failing never costs the others their data."""
    sw = Stopwatch()
    nodes = await asyncio.gather(*(collect_node(t, clock=clock, timeout=timeout) for t in targets))
    expected = max((t.expected_size for t in targets), default=0)
    return GaleraSnapshot(tuple(nodes), expected, clock(), sw.ms())
