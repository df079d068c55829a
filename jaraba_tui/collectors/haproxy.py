"""HAProxy: ``show info``, ``show stat`` and the blue/green routing map, over the runtime API.

``show stat`` is read as CSV by header names, so columns added by newer HAProxy versions are
ignored and reordering is harmless. The stats page's CSV over HTTP (``<stats page>;csv``) is the
same format and serves as a fallback when the runtime API cannot be reached.
"""

from __future__ import annotations

import csv
import operator
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from functools import cached_property
from typing import TypeVar

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
)
from jaraba_tui.transport.base import HAProxyRuntime, HttpClient, TransportError

T = TypeVar("T")


class HAProxyParseError(ParseError):
    pass


_KINDS = {"0": "frontend", "1": "backend", "2": "server", "3": "listener"}


@dataclass(frozen=True)
class HAProxyInfo(Serialisable):
    version: str | None
    release_date: str | None
    node: str | None
    pid: int | None
    uptime_sec: int | None
    curr_conns: int | None
    max_conn: int | None
    cum_req: int | None
    conn_rate: int | None
    sess_rate: int | None
    idle_pct: int | None
    run_queue: int | None
    stopping: bool | None


@dataclass(frozen=True)
class StatRow(Serialisable):
    """One line of ``show stat``: a frontend, backend, server or listener."""

    proxy: str
    name: str
    kind: str
    status: str
    state: str
    weight: int | None
    act: int | None
    bck: int | None
    scur: int | None
    smax: int | None
    slim: int | None
    stot: int | None
    rate: int | None
    rate_max: int | None
    req_rate: int | None
    req_tot: int | None
    hrsp_2xx: int | None
    hrsp_4xx: int | None
    hrsp_5xx: int | None
    econ: int | None
    eresp: int | None
    qcur: int | None
    chkfail: int | None
    chkdown: int | None
    check_status: str | None
    check_code: str | None
    check_desc: str | None
    lastchg: int | None
    downtime: int | None
    addr: str | None

    @property
    def key(self) -> str:
        return f"{self.proxy}/{self.name}"

    @property
    def usable(self) -> bool:
        """Takes new traffic: UP (also 'UP 1/2' while going down) or 'no check'."""
        return self.state in ("UP", "NO CHECK", "OPEN")


@dataclass(frozen=True)
class StatTable(Serialisable):
    rows: tuple[StatRow, ...]
    problems: tuple[str, ...]


@dataclass(frozen=True)
class HAProxyTarget:
    name: str
    runtime: HAProxyRuntime | None
    map_path: str | None = None
    #: The stats page (``http://lb:8404/stats``); ``stats_path`` is appended to it, as the
    #: HttpClient contract says (``";csv"`` after ``.../stats``).
    stats_http: HttpClient | None = None
    stats_path: str = ";csv"
    live_key: str = "live"
    backend_template: str = "bk_app_{colour}"


@dataclass(frozen=True)
class HAProxySnapshot(Serialisable):
    name: str
    endpoint: str
    collected_at: float
    info: HAProxyInfo | None
    frontends: tuple[StatRow, ...]
    backends: tuple[StatRow, ...]
    servers: tuple[StatRow, ...]
    stat_source: str | None
    map_path: str | None
    map_entries: dict[str, str]
    live_colour: str | None
    live_backend: str | None
    canary: str | None
    canary_pct: int | None
    errors: tuple[EndpointError, ...]
    elapsed_ms: float = 0.0

    def servers_of(self, backend: str) -> tuple[StatRow, ...]:
        return self._servers_by_backend.get(backend, ())

    def backend(self, name: str) -> StatRow | None:
        return self._backends_by_name.get(name)

    # Built once per snapshot (it is frozen): 50 backends x 20 servers, looked up per
    # backend by the rules and the panes on every poll, made a linear scan quadratic.
    @cached_property
    def _servers_by_backend(self) -> dict[str, tuple[StatRow, ...]]:
        grouped: dict[str, list[StatRow]] = {}
        for s in self.servers:
            grouped.setdefault(s.proxy, []).append(s)
        return {k: tuple(v) for k, v in grouped.items()}

    @cached_property
    def _backends_by_name(self) -> dict[str, StatRow]:
        first: dict[str, StatRow] = {}
        for b in self.backends:
            first.setdefault(b.proxy, b)
        return first

    @property
    def has_stats(self) -> bool:
        return self.stat_source is not None


# -- pure parsers ----------------------------------------------------------------------------


def parse_info(output: str) -> HAProxyInfo:
    """``show info``: ``Key: value`` lines."""
    kv: dict[str, str] = {}
    for line in output.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip():
            kv[key.strip()] = value.strip()
    if "Version" not in kv and "Name" not in kv:
        first = output.strip().splitlines()[0][:80] if output.strip() else "empty answer"
        raise HAProxyParseError(f"show info: not an info block ({first!r})")
    stopping = opt_int(kv.get("Stopping"))
    return HAProxyInfo(
        version=kv.get("Version"),
        release_date=kv.get("Release_date"),
        node=kv.get("node"),
        pid=opt_int(kv.get("Pid")),
        uptime_sec=opt_int(kv.get("Uptime_sec")),
        curr_conns=opt_int(kv.get("CurrConns")),
        max_conn=opt_int(kv.get("Maxconn")),
        cum_req=opt_int(kv.get("CumReq")),
        conn_rate=opt_int(kv.get("ConnRate")),
        sess_rate=opt_int(kv.get("SessRate")),
        idle_pct=opt_int(kv.get("Idle_pct")),
        run_queue=opt_int(kv.get("Run_queue")),
        stopping=None if stopping is None else stopping != 0,
    )


_PROGRESS = re.compile(r"\s+\d+/\d+$")


def server_state(status: str) -> str:
    """Normalise a status cell: 'UP 1/2' -> 'UP', 'MAINT (via x/y)' -> 'MAINT', 'no check'."""
    s = _PROGRESS.sub("", status.strip())
    s = s.split("(")[0].strip()
    return s.upper() if s else "UNKNOWN"


#: The ``show stat`` columns a StatRow is built from, in StatRow's order after ``state``:
#: numbers, then texts (empty -> None).
_INT_COLUMNS = (
    "weight",
    "act",
    "bck",
    "scur",
    "smax",
    "slim",
    "stot",
    "rate",
    "rate_max",
    "req_rate",
    "req_tot",
    "hrsp_2xx",
    "hrsp_4xx",
    "hrsp_5xx",
    "econ",
    "eresp",
    "qcur",
    "chkfail",
    "chkdown",
)
_NAME_COLUMNS = ("pxname", "svname", "type", "status")
_TAIL_COLUMNS = ("check_status", "check_code", "check_desc", "lastchg", "downtime", "addr")
_WANTED = (*_NAME_COLUMNS, *_INT_COLUMNS, *_TAIL_COLUMNS)
_STATES: dict[str, str] = {}
_ROW_FIELDS = tuple(f.name for f in fields(StatRow))
_CSV_LIMIT = csv.field_size_limit()


def _state(status: str) -> str:
    """:func:`server_state`, remembered (a few distinct statuses, 1000s of rows a poll)."""
    found = _STATES.get(status)
    if found is None:
        found = server_state(status)
        if len(_STATES) < 256:
            _STATES[status] = found
    return found


def _columns(header: list[str]) -> Callable[[list[str]], tuple[str, ...]]:
    """The wanted cells of a row, in :data:`_WANTED`'s order, picked by index (computed
    once per header). A column named twice is read from its last place (as a dict built
    from the row would); a column the header lacks reads as "" (the row's extra cell
    appended by the caller, at index -1)."""
    where = {name: n for n, name in enumerate(header)}
    return operator.itemgetter(*(where.get(name, -1) for name in _WANTED))


class _Ints(dict[str, int | None]):
    """Cell -> :func:`opt_int` of it, each distinct cell converted once (one parse's
    thousands of cells hold a few hundred distinct values: 0, empty, small counts)."""

    def __missing__(self, cell: str) -> int | None:
        # a decimal-digit string is what int() reads exactly as opt_int does
        value = int(cell) if cell.isdecimal() else opt_int(cell)
        self[cell] = value
        return value


def _stat_row(cells: tuple[str, ...], ints: _Ints) -> StatRow:
    proxy, svname, kind_code, status = cells[:4]
    kind = _KINDS.get(kind_code)
    if kind is None:
        kind = {"FRONTEND": "frontend", "BACKEND": "backend"}.get(svname, "server")
    n = 4 + len(_INT_COLUMNS)
    check_status, check_code, check_desc, lastchg, downtime, addr = cells[n:]
    # StatRow's own __init__ sets its 30 fields one object.__setattr__ at a time (frozen):
    # a third of the parse for 1000 rows. The same fields, the same values, at once.
    row = object.__new__(StatRow)
    row.__dict__.update(
        zip(
            _ROW_FIELDS,
            (
                proxy,
                svname,
                kind,
                status,
                _state(status),
                *map(ints.__getitem__, cells[4:n]),
                check_status or None,
                check_code or None,
                check_desc or None,
                ints[lastchg],
                ints[downtime],
                addr or None,
            ),
            strict=True,
        )
    )
    return row


def _records(output: str, body: list[str]) -> Iterable[list[str]]:
    """The CSV records of ``body``: a plain split of each line when nothing in ``output``
    needs the csv module (no quote, no NUL, no field over its size limit: then both read
    the same cells), else csv.reader."""
    if '"' in output or "\0" in output or max(map(len, body), default=0) > _CSV_LIMIT:
        return csv.reader(body)
    return (ln.split(",") for ln in body)


def parse_stat_csv(output: str) -> StatTable:
    """``show stat`` / ``/stats;csv``. Raises only when there is no CSV header at all; a short
    (truncated) or malformed row is skipped and reported in ``problems``."""
    lines = output.splitlines()
    start = next(
        (
            n
            for n, ln in enumerate(lines)
            if ln.startswith("# ")
            and {"pxname", "svname"} <= {h.strip() for h in ln[2:].split(",")}
        ),
        None,
    )
    if start is None:
        first = output.strip().splitlines()[0][:80] if output.strip() else "empty answer"
        raise HAProxyParseError(f"show stat: no CSV header ({first!r})")
    header = [h.strip() for h in lines[start][2:].split(",")]
    while header and header[-1] == "":
        header.pop()
    width = len(header)
    pick = _columns(header)
    ints = _Ints()
    rows: list[StatRow] = []
    problems: list[str] = []
    body = [ln for ln in lines[start + 1 :] if ln.strip()]
    for n, cells in enumerate(_records(output, body), start=1):
        if len(cells) < width:
            problems.append(f"row {n} has {len(cells)} of {width} fields (truncated output?)")
            continue
        cells.append("")  # what a column the header lacks reads as
        wanted = pick(cells)
        if not wanted[0] or not wanted[1]:
            problems.append(f"row {n} has no proxy or server name")
            continue
        rows.append(_stat_row(wanted, ints))
    return StatTable(tuple(rows), tuple(problems))


def parse_map(output: str) -> dict[str, str]:
    """``show map <file>``: ``0x55d0c5f1e0a0 live blue`` lines (id, key, value)."""
    out: dict[str, str] = {}
    for line in output.splitlines():
        if not line.strip():
            continue
        parts = line.split(None, 2)
        if len(parts) < 2 or not parts[0].startswith("0x"):
            raise HAProxyParseError(f"show map: unexpected line {line[:80]!r}")
        out[parts[1]] = parts[2].strip() if len(parts) == 3 else ""
    return out


# -- I/O -------------------------------------------------------------------------------------


async def _runtime(rt: HAProxyRuntime, line: str) -> str:
    answer = await rt.command(line)
    low = answer.lstrip()[:40].lower()
    if low.startswith(("unknown command", "permission denied", "unknown map")):
        raise TransportError(answer.strip().splitlines()[0][:120], kind="protocol")
    return answer


async def _ask(
    rt: HAProxyRuntime, line: str, parser: Callable[[str], T], timeout: float | None
) -> tuple[T | None, EndpointError | None]:
    """One runtime command, parsed; any failure comes back as an EndpointError."""
    step = " ".join(line.split()[:2])
    answer, err = await guarded(rt.endpoint, step, lambda: _runtime(rt, line), timeout)
    if answer is None:
        return None, err
    return parsed(lambda: parser(answer), rt.endpoint, step)


async def _http_stat(
    http: HttpClient, path: str, timeout: float | None
) -> tuple[StatTable | None, EndpointError | None]:
    async def fetch() -> str:
        resp = await http.get(path)
        if resp.status != 200:
            raise TransportError(f"stats page answered HTTP {resp.status}", kind="protocol")
        return resp.text

    answer, err = await guarded(http.endpoint, "stats csv", fetch, timeout)
    if answer is None:
        return None, err
    return parsed(lambda: parse_stat_csv(answer), http.endpoint, "stats csv")


async def collect(
    target: HAProxyTarget, *, clock: Clock = time.time, timeout: float | None = None
) -> HAProxySnapshot:
    """Runtime API first (info, stat, map; one command at a time, stopping at the first
    connection-level failure); the stats CSV over HTTP when that gave no stat table and an
    HTTP client is configured."""
    sw = Stopwatch()
    rt, http = target.runtime, target.stats_http
    endpoint = rt.endpoint if rt is not None else (http.endpoint if http is not None else "")
    errors: list[EndpointError] = []
    info: HAProxyInfo | None = None
    table: StatTable | None = None
    source: str | None = None
    entries: dict[str, str] = {}

    if rt is not None:
        info, err = await _ask(rt, "show info", parse_info, timeout)
        errors += [err] if err else []
        if not is_fatal(err):
            table, err = await _ask(rt, "show stat", parse_stat_csv, timeout)
            errors += [err] if err else []
            source = "runtime" if table is not None else None
        if target.map_path and not is_fatal(err):
            got, err = await _ask(rt, f"show map {target.map_path}", parse_map, timeout)
            errors += [err] if err else []
            entries = got or {}

    if table is None and http is not None:
        table, err = await _http_stat(http, target.stats_path, timeout)
        errors += [err] if err else []
        source = "http" if table is not None else None

    if table is not None and table.problems:
        errors.append(EndpointError(endpoint, "parse", "; ".join(table.problems[:3]), "show stat"))
    rows = table.rows if table is not None else ()
    colour = entries.get(target.live_key) or None
    canary = entries.get("canary")
    return HAProxySnapshot(
        name=target.name,
        endpoint=endpoint,
        collected_at=clock(),
        info=info,
        frontends=tuple(r for r in rows if r.kind == "frontend"),
        backends=tuple(r for r in rows if r.kind == "backend"),
        servers=tuple(r for r in rows if r.kind == "server"),
        stat_source=source,
        map_path=target.map_path,
        map_entries=entries,
        live_colour=colour,
        live_backend=target.backend_template.format(colour=colour) if colour else None,
        canary=None if canary in (None, "", "none") else canary,
        canary_pct=opt_int(entries.get("canary_pct")),
        errors=tuple(errors),
        elapsed_ms=sw.ms(),
    )
