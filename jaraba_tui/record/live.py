"""``--record``: the console's live update source, with every update it emits written to a
:class:`~jaraba_tui.record.writer.Recorder`, and the profile's audit log followed (the
actions of this console and of anyone else on the same bastion and profile).

The wrapper sits exactly where EngineUpdates are emitted (the source's emit callback), so
the recording holds what the console showed, in the order it showed it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

from jaraba_tui.engine import EngineUpdate
from jaraba_tui.record.writer import AuditFollower, Recorder
from jaraba_tui.ui.source import Emit, SourceFactory, UpdateSource

log = logging.getLogger(__name__)


class RecordingSource:
    """An :class:`UpdateSource` that records what ``inner`` emits (same controls)."""

    def __init__(
        self,
        inner: SourceFactory,
        emit: Emit,
        recorder: Recorder,
        *,
        audit_path: Path | None = None,
        profile: str = "",
        housekeeping: float = 1.0,
    ) -> None:
        self.recorder = recorder
        self._emit_outer = emit
        self.follower = AuditFollower(audit_path, profile) if audit_path is not None else None
        self.housekeeping = housekeeping
        self.errors: list[str] = []
        self.inner: UpdateSource = inner(self._emit)
        self.layers = self.inner.layers

    def _emit(self, update: EngineUpdate) -> None:
        try:
            self.recorder.update(update)
        except Exception as exc:  # a full disk must not stop the console
            self._error(exc)
        self._emit_outer(update)

    def _error(self, exc: Exception) -> None:
        text = f"{type(exc).__name__}: {exc}"
        if text not in self.errors:
            self.errors.append(text)
            log.warning("recording: %s", text)

    async def run(self) -> None:
        keeper = asyncio.create_task(self._keep(), name="recording housekeeping")
        try:
            await self.inner.run()
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper

    async def _keep(self) -> None:
        while True:
            await asyncio.sleep(self.housekeeping)
            await self.follow_audit()
            try:
                self.recorder.flush()
            except Exception as exc:
                self._error(exc)

    async def follow_audit(self) -> None:
        if self.follower is None:
            return
        try:
            records = await asyncio.to_thread(self.follower.read_new)
            if records:
                self.recorder.audit(records)
        except Exception as exc:
            self._error(exc)

    def refresh_now(self, layer: str | None = None) -> None:
        self.inner.refresh_now(layer)

    def pause(self) -> None:
        self.inner.pause()

    def resume(self) -> None:
        self.inner.resume()

    def pause_layer(self, layer: str) -> None:
        self.inner.pause_layer(layer)

    def resume_layer(self, layer: str) -> None:
        self.inner.resume_layer(layer)

    async def aclose(self) -> None:
        try:
            await self.inner.aclose()
        finally:
            await self.follow_audit()
            self.recorder.close()


def recording(
    inner: SourceFactory,
    recorder: Recorder,
    *,
    audit_path: Path | None = None,
    profile: str = "",
) -> SourceFactory:
    """A factory for :class:`RecordingSource` around ``inner``."""

    def build(emit: Emit) -> UpdateSource:
        return RecordingSource(inner, emit, recorder, audit_path=audit_path, profile=profile)

    return build
