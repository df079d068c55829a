"""The Textual console (the only package that imports textual).

``run(profile, theme=None, read_only=False) -> int`` opens it on a profile's stack, with the
guarded actions and the checklist (:class:`jaraba_tui.ui.ops.ConsoleOps`); the CLI calls
it. Tests and ``replay`` build :class:`jaraba_tui.ui.app.JarabaApp` themselves with a
scripted update source (:func:`jaraba_tui.ui.source.scripted`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jaraba_tui.profile import Profile

__all__ = ["run"]


def run(profile: Profile, theme: str | None = None, read_only: bool = False) -> int:
    """Open the console on ``profile``; returns the exit code (0 after ``q``)."""
    from jaraba_tui.ui.app import ConsoleInfo, JarabaApp
    from jaraba_tui.ui.ops import ConsoleOps
    from jaraba_tui.ui.settings import keymap_file, state_file
    from jaraba_tui.ui.source import engine_source

    app = JarabaApp(
        ConsoleInfo.from_profile(profile, read_only=read_only),
        engine_source(profile),
        theme=theme,
        state_path=state_file(),
        keymap_path=keymap_file(),
        ops=ConsoleOps.create(profile, read_only=read_only),
        profile_keymap=dict(profile.keymap),
    )
    code = app.run()
    return code if isinstance(code, int) else 0
