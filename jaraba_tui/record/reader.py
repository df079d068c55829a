"""Reading a recording: header checks, then every line rebuilt into :class:`Frame` s.

A file cut short (a crash, a full disk) replays up to its last complete line and says so
(``truncated``). Anything else that is not a recording raises :class:`RecordingError` with
one sentence: missing, empty, not gzip, another format or version, a line that is not
JSON or does not fit the model (with its line number).
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from jaraba_tui.engine import EngineUpdate, LayerState
from jaraba_tui.model.events import Event
from jaraba_tui.model.findings import Finding
from jaraba_tui.model.history import History
from jaraba_tui.model.snapshot import LAYERS, LayerFailure, StackSnapshot
from jaraba_tui.record.codec import (
    FORMAT,
    VERSION,
    RecordingError,
    events_from_json,
    failures_from_json,
    findings_from_json,
    layer_from_json,
    state_from_json,
)

GZIP_MAGIC = b"\x1f\x8b"
CHUNK = 64 * 1024


@dataclass(frozen=True)
class Frame:
    """One moment of a recording: an EngineUpdate, or an audit record (an action)."""

    t: float
    update: EngineUpdate | None = None
    record: dict[str, Any] | None = None
    #: The update carried fresh data for its layer (feeds the sparklines' history).
    fresh: bool = False

    @property
    def kind(self) -> str:
        return "update" if self.update is not None else "audit"


@dataclass
class Recording:
    path: Path
    header: dict[str, Any]
    frames: list[Frame] = field(default_factory=list)
    #: No ``end`` line: the recorder did not stop cleanly (a crash, or a cut file).
    truncated: bool = False
    #: Why the file ends early, when it does ("cut mid-line", "damaged gzip data").
    damage: str | None = None

    @property
    def profile(self) -> str:
        return str(self.header.get("profile", ""))

    @property
    def environment(self) -> str:
        return str(self.header.get("environment", ""))

    @property
    def description(self) -> str:
        return str(self.header.get("description", ""))

    @property
    def updates(self) -> list[Frame]:
        return [f for f in self.frames if f.update is not None]

    @property
    def start(self) -> float:
        return self.frames[0].t if self.frames else float(self.header.get("started_at", 0.0))

    @property
    def end(self) -> float:
        return self.frames[-1].t if self.frames else self.start

    @property
    def audit_records(self) -> list[dict[str, Any]]:
        return [f.record for f in self.frames if f.record is not None]


def _lines(path: Path) -> Iterator[tuple[bytes, bool]]:
    """(line, complete) pairs of the decompressed file; the last may be incomplete.

    Raises RecordingError when the file is not gzip at all; yields what it could when the
    gzip data is damaged or cut, then a final ``(b"", False)`` marker with the damage."""
    try:
        f = open(path, "rb")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise RecordingError(f"cannot read the recording {path}: {exc.strerror or exc}") from None
    with f:
        first = f.read(CHUNK)
        if not first:
            raise RecordingError(f"{path} is empty: not a jaraba-ops recording")
        if not first.startswith(GZIP_MAGIC):
            raise RecordingError(
                f"{path} is not gzip-compressed: a jaraba-ops recording is gzipped JSON "
                "lines (made by `jaraba-ops --record FILE`)"
            )
        dec = zlib.decompressobj(16 + zlib.MAX_WBITS)
        pending = b""
        chunk: bytes = first
        produced = False
        while chunk:
            try:
                out = dec.decompress(chunk)
                while dec.eof and dec.unused_data:  # concatenated gzip members
                    rest = dec.unused_data
                    dec = zlib.decompressobj(16 + zlib.MAX_WBITS)
                    out += dec.decompress(rest)
            except zlib.error as exc:
                if not produced and not pending:
                    raise RecordingError(f"{path} is not valid gzip data: {exc}") from None
                if pending:
                    yield pending, False
                yield b"", False
                return
            pending += out
            *complete, pending = pending.split(b"\n")
            for line in complete:
                produced = True
                yield line, True
            chunk = f.read(CHUNK)
        if pending:
            yield pending, False


class _Builder:
    def __init__(self, path: Path, header: dict[str, Any]) -> None:
        self.path = path
        self.view = StackSnapshot(
            collected_at=0.0,
            profile=str(header.get("profile", "")),
            environment=str(header.get("environment", "")),
        )
        self.findings: tuple[Finding, ...] = ()
        self.failures: tuple[LayerFailure, ...] = ()
        self.states: dict[str, LayerState] = {}
        self.history = History()

    def update(self, obj: dict[str, Any]) -> Frame:
        t = float(obj["t"])
        layer = str(obj["layer"])
        fresh = "data" in obj
        if fresh:
            data = layer_from_json(layer, obj["data"])
            self.view = replace(self.view, **{layer: data})
        elif layer in LAYERS:
            pass  # stale: the layer keeps its last data
        if "failures" in obj:
            self.failures = failures_from_json(obj["failures"])
        if "findings" in obj:
            self.findings = findings_from_json(obj["findings"])
        states = obj.get("states", {})
        if not isinstance(states, dict):
            raise TypeError("states must be an object")
        for name, value in states.items():
            self.states[str(name)] = state_from_json(value)
        events: tuple[Event, ...] = events_from_json(obj.get("events", []))
        self.view = replace(self.view, failures=self.failures, collected_at=t)
        update = EngineUpdate(
            layer=layer,
            at=t,
            snapshot=self.view,
            findings=self.findings,
            events=events,
            states=dict(self.states),
            history=self.history,
        )
        return Frame(t, update=update, fresh=fresh and layer in LAYERS)


def load_recording(path: Path | str) -> Recording:
    """Read a whole recording (see the module's docstring for what is refused)."""
    path = Path(path)
    lines = _lines(path)
    header = _header(path, lines)
    rec = Recording(path, header)
    builder = _Builder(path, header)
    ended = False
    number = 1
    for raw, complete in lines:
        number += 1
        if not complete:
            rec.damage = "it is cut short (the recorder did not stop cleanly)"
            if raw:
                rec.damage = f"line {number} is cut short (the recorder did not stop cleanly)"
            break
        if not raw.strip():
            continue
        obj = _json(path, number, raw)
        kind = obj.get("type")
        try:
            if kind == "update":
                rec.frames.append(builder.update(obj))
            elif kind == "audit":
                record = obj.get("record")
                if not isinstance(record, dict):
                    raise TypeError("an audit line needs a record object")
                rec.frames.append(Frame(float(obj["t"]), record=record))
            elif kind == "end":
                ended = True
            elif kind == "header":
                raise TypeError("a second header")
            else:
                raise TypeError(f"unknown line type {kind!r}")
        except (TypeError, ValueError, KeyError) as exc:
            raise RecordingError(
                f"{path} line {number}: not a valid recording line ({type(exc).__name__}: "
                f"{str(exc)[:160]})"
            ) from None
    rec.truncated = not ended
    if rec.truncated and rec.damage is None:
        rec.damage = "it has no end marker (the recorder did not stop cleanly)"
    rec.frames = _merge(rec.frames)
    return rec


def _merge(frames: list[Frame]) -> list[Frame]:
    """Updates in the order the console received them; each audit record before the first
    update later than it (the audit log is read a little after the action happens)."""
    updates = [f for f in frames if f.update is not None]
    audits = sorted((f for f in frames if f.update is None), key=lambda f: f.t)
    out: list[Frame] = []
    i = 0
    for u in updates:
        while i < len(audits) and audits[i].t <= u.t:
            out.append(audits[i])
            i += 1
        out.append(u)
    out.extend(audits[i:])
    return out


def _json(path: Path, number: int, raw: bytes) -> dict[str, Any]:
    try:
        obj = json.loads(raw)
    except ValueError:
        raise RecordingError(
            f"{path} line {number}: not JSON ({raw[:60]!r}): the file is damaged or not a "
            "jaraba-ops recording"
        ) from None
    if not isinstance(obj, dict):
        raise RecordingError(f"{path} line {number}: not a JSON object")
    return obj


def _header(path: Path, lines: Iterator[tuple[bytes, bool]]) -> dict[str, Any]:
    for raw, complete in lines:
        if not complete and not raw:
            break
        if not complete:
            raise RecordingError(f"{path} is cut short inside its header line")
        obj = _json(path, 1, raw)
        if obj.get("type") != "header" or obj.get("format") != FORMAT:
            raise RecordingError(
                f"{path} is not a jaraba-ops recording (its first line is not a {FORMAT} header)"
            )
        version = obj.get("version")
        if version != VERSION:
            raise RecordingError(
                f"{path} is a recording of format version {version!r}; this jaraba-ops "
                f"reads version {VERSION} (made by jaraba-ops "
                f"{obj.get('tool_version', '?')})"
            )
        return obj
    raise RecordingError(f"{path} holds no data: not a jaraba-ops recording")
