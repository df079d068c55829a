"""The recorder: every EngineUpdate (snapshot data, findings, events, freshness) and every
audit record of the profile, as gzipped JSON lines.

Only model data is written, through :func:`jaraba_tui.secrets.scrub`. The gzip stream is
sync-flushed every ``flush_interval`` seconds (and on :meth:`flush`), so a crash loses at
most that much and a truncated file still replays up to the cut.
"""

from __future__ import annotations

import gzip
import json
import threading
import time
import zlib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from jaraba_tui import __version__
from jaraba_tui.collectors.common import to_jsonable
from jaraba_tui.engine import EngineUpdate
from jaraba_tui.model.snapshot import LAYERS, SCHEMA_VERSION
from jaraba_tui.record.codec import FORMAT, VERSION, RecordingError, state_to_json
from jaraba_tui.secrets import scrub


class Recorder:
    """Writes one recording. Thread-safe; call :meth:`close` at the end (writes ``end``).

    ``min_interval`` thins a long recording: a layer's data is written again only after
    ``min_interval`` seconds, unless the update has events or changes the layer's
    freshness; changes of findings, freshness or failures are always written (without
    the data when it is not due). 0 keeps every update whole.
    """

    def __init__(
        self,
        path: Path | str,
        *,
        profile: str,
        environment: str,
        description: str = "",
        layers: Sequence[str] = LAYERS,
        flush_interval: float = 2.0,
        min_interval: float = 0.0,
        clock: Any = time.time,
    ) -> None:
        self.path = Path(path)
        self.flush_interval = flush_interval
        self.min_interval = min_interval
        self._clock = clock
        self._lock = threading.Lock()
        try:
            self._raw: IO[bytes] = open(self.path, "wb")  # noqa: SIM115 - closed in close()
        except OSError as exc:
            raise RecordingError(
                f"cannot write the recording {self.path}: {exc.strerror or exc}"
            ) from None
        self._gz = gzip.GzipFile(filename="", mode="wb", fileobj=self._raw, mtime=0)
        self._closed = False
        self._last_flush = time.monotonic()
        self._findings: Any = None
        self._states: dict[str, Any] = {}
        self._failures: Any = None
        self._written_at: dict[str, float] = {}
        self.lines = 0
        self.skipped = 0
        self.started_at = float(clock())
        self._write(
            {
                "type": "header",
                "format": FORMAT,
                "version": VERSION,
                "tool_version": __version__,
                "schema_version": SCHEMA_VERSION,
                "profile": profile,
                "environment": environment,
                "description": description,
                "started_at": round(self.started_at, 3),
                "layers": list(layers),
            }
        )
        self.flush()

    # -- feeding ------------------------------------------------------------------------------
    def update(self, update: EngineUpdate) -> None:
        """One EngineUpdate, as the console received it."""
        with self._lock:
            if not self._closed:
                self._update_locked(update)

    def _update_locked(self, update: EngineUpdate) -> None:
        layer = update.layer
        line: dict[str, Any] = {"type": "update", "t": round(update.at, 3), "layer": layer}
        states = {name: state_to_json(s) for name, s in update.states.items()}
        diff = {k: v for k, v in states.items() if self._states.get(k) != v}
        findings = to_jsonable(update.findings)
        failures = to_jsonable(update.snapshot.failures)
        # A good poll moves its layer's last_ok_at: that alone is not news.
        news = {k for k, v in diff.items() if _shape(v) != _shape(self._states.get(k))}
        fresh = layer in LAYERS and not update.state(layer).stale
        last = self._written_at.get(layer)
        need_data = fresh and (
            self.min_interval <= 0
            or bool(update.events)
            or layer in news
            or last is None
            or update.at - last >= self.min_interval
        )
        meta = bool(news) or findings != self._findings or failures != self._failures
        if not (need_data or meta or update.events):
            self.skipped += 1
            return
        if need_data:
            line["data"] = to_jsonable(getattr(update.snapshot, layer))
            self._written_at[layer] = update.at
        if diff:
            line["states"] = diff
        if findings != self._findings:
            line["findings"] = findings
        if failures != self._failures:
            line["failures"] = failures
        if update.events:
            line["events"] = to_jsonable(update.events)
        self._states.update(diff)
        self._findings = findings
        self._failures = failures
        self._write(line)
        self._maybe_flush()

    def audit(self, records: Iterable[Mapping[str, Any]]) -> None:
        """Audit-log records (the actions' started/step/finished), already scrubbed once."""
        with self._lock:
            if self._closed:
                return
            for record in records:
                try:
                    at = float(record.get("ts", self._clock()))
                except (TypeError, ValueError):
                    at = float(self._clock())
                self._write({"type": "audit", "t": round(at, 3), "record": dict(record)})
            self._maybe_flush()

    # -- file ---------------------------------------------------------------------------------
    def _write(self, obj: Mapping[str, Any]) -> None:
        text = scrub(json.dumps(obj, ensure_ascii=False, separators=(",", ":"), default=str))
        try:
            self._gz.write(text.encode("utf-8") + b"\n")
        except OSError as exc:
            raise RecordingError(f"cannot write the recording {self.path}: {exc}") from None
        self.lines += 1

    def _maybe_flush(self) -> None:
        if time.monotonic() - self._last_flush >= self.flush_interval:
            self._flush_locked()

    def _flush_locked(self) -> None:
        self._gz.flush(zlib.Z_SYNC_FLUSH)  # everything so far decompresses from the file
        self._raw.flush()
        self._last_flush = time.monotonic()

    def flush(self) -> None:
        with self._lock:
            if not self._closed:
                self._flush_locked()

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._write({"type": "end", "t": round(float(self._clock()), 3)})
            self._closed = True
            self._gz.close()
            self._raw.close()

    @property
    def closed(self) -> bool:
        return self._closed


def _shape(state: Any) -> Any:
    return None if state is None else (state.get("error"), state.get("stale_since"))


class AuditFollower:
    """New complete lines of the audit log since the recording started (cheap: from the
    remembered offset). Records of other profiles (a shared bastion file) are left out."""

    def __init__(self, path: Path | str, profile: str) -> None:
        self.path = Path(path)
        self.profile = profile
        try:
            self.offset = self.path.stat().st_size
        except OSError:
            self.offset = 0

    def read_new(self) -> list[dict[str, Any]]:
        try:
            size = self.path.stat().st_size
        except OSError:
            return []
        if size < self.offset:
            self.offset = 0  # rotated or truncated
        if size == self.offset:
            return []
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            data = f.read(size - self.offset)
        end = data.rfind(b"\n")
        if end < 0:
            return []
        self.offset += end + 1
        out: list[dict[str, Any]] = []
        for line in data[: end + 1].splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and record.get("profile") == self.profile:
                out.append(record)
        return out


def write_slice(
    recording: Any, path: Path | str, start: float, end: float, *, min_interval: float = 0.0
) -> Recorder:
    """Copy the part ``start``..``end`` of a loaded recording to a new file (fixtures, or
    the interesting minutes of a long night). The copy opens with the state at ``start``:
    one update per layer with that layer's data as the console showed it then."""
    from dataclasses import replace

    rec = Recorder(
        path,
        profile=recording.profile,
        environment=recording.environment,
        description=recording.description,
        layers=recording.header.get("layers", LAYERS),
        min_interval=min_interval,
        clock=lambda: end,
    )
    latest: EngineUpdate | None = None
    opened = False
    for frame in recording.frames:
        if frame.t < start:
            latest = frame.update or latest
            continue
        if frame.t > end:
            break
        if not opened and latest is not None:
            for layer in LAYERS:
                if layer in latest.states:
                    rec.update(replace(latest, layer=layer, at=start, events=()))
        opened = True
        if frame.update is not None:
            rec.update(frame.update)
        elif frame.record is not None:
            rec.audit([frame.record])
    rec.close()
    return rec
