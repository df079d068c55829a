"""Where the console's EngineUpdates come from: the live :class:`PollEngine`, or a script.

The app takes a *factory*: given the callback that turns updates into messages, it returns
an :class:`UpdateSource`. ``engine_source(profile)`` polls for real; ``scripted(updates)``
plays recorded updates (pilot and snapshot tests, and ``replay`` later).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol

from jaraba_tui.engine import LAYERS, EngineUpdate

if TYPE_CHECKING:
    from jaraba_tui.profile import Profile

Emit = Callable[[EngineUpdate], None]


class UpdateSource(Protocol):
    layers: tuple[str, ...]

    async def run(self) -> None:
        """Produce updates until :meth:`aclose` (runs in the app's async worker)."""

    def refresh_now(self, layer: str | None = None) -> None: ...

    def pause(self) -> None: ...

    def resume(self) -> None: ...

    def pause_layer(self, layer: str) -> None: ...

    def resume_layer(self, layer: str) -> None: ...

    async def aclose(self) -> None: ...


SourceFactory = Callable[[Emit], UpdateSource]


def engine_source(profile: Profile) -> SourceFactory:
    """The live engine on the profile's transports (closed with the engine)."""

    def build(emit: Emit) -> UpdateSource:
        # here, not at import: the engine and the transports are not needed for the first frame
        from jaraba_tui.engine.poll import PollEngine
        from jaraba_tui.transport.factory import Transports

        return PollEngine(profile, Transports(profile), emit, close_transports=True)

    return build


class ScriptedSource:
    """Plays a fixed list of updates: all at start (``autoplay``), or one per :meth:`step`.

    Records what the console asked of it (``refreshes``, ``paused``) for tests.
    """

    def __init__(
        self,
        updates: Sequence[EngineUpdate],
        emit: Emit,
        *,
        autoplay: bool = True,
        layers: Sequence[str] = LAYERS,
    ) -> None:
        self.updates = list(updates)
        self.emit = emit
        self.autoplay = autoplay
        self.layers = tuple(layers)
        self.position = 0
        self.refreshes: list[str | None] = []
        self.paused = False
        self.paused_layers: set[str] = set()
        self.closed = asyncio.Event()

    async def run(self) -> None:
        if self.autoplay:
            while self.step():
                pass
        await self.closed.wait()

    def step(self, count: int = 1) -> bool:
        """Emit the next ``count`` updates; False when the script is over."""
        for _ in range(count):
            if self.position >= len(self.updates):
                return False
            self.emit(self.updates[self.position])
            self.position += 1
        return True

    def play(self, update: EngineUpdate) -> None:
        """Emit an extra update now (tests of stale marking, Sentinel pushes...)."""
        self.emit(update)

    def refresh_now(self, layer: str | None = None) -> None:
        self.refreshes.append(layer)

    def pause(self) -> None:
        self.paused = True

    def resume(self) -> None:
        self.paused = False

    def pause_layer(self, layer: str) -> None:
        self.paused_layers.add(layer)

    def resume_layer(self, layer: str) -> None:
        self.paused_layers.discard(layer)

    async def aclose(self) -> None:
        self.closed.set()


def scripted(
    updates: Sequence[EngineUpdate],
    *,
    autoplay: bool = True,
    sink: list[ScriptedSource] | None = None,
) -> SourceFactory:
    """A factory for :class:`ScriptedSource`; ``sink`` receives the instance (tests)."""

    def build(emit: Emit) -> UpdateSource:
        src = ScriptedSource(updates, emit, autoplay=autoplay)
        if sink is not None:
            sink.append(src)
        return src

    return build
