"""The Textual console (the only package that imports textual).

``run(profile, theme=None, read_only=False) -> int`` opens it on a profile's stack, with the
guarded actions and the checklist (:class:`jaraba_tui.ui.ops.ConsoleOps`); the CLI calls
it. Tests and ``replay`` build :class:`jaraba_tui.ui.app.JarabaApp` themselves with a
scripted update source (:func:`jaraba_tui.ui.source.scripted`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    from jaraba_tui.engine.process import EngineProcess, ProfileFacts
    from jaraba_tui.profile import Profile
    from jaraba_tui.ui.early import EarlyEngineSource
    from jaraba_tui.ui.ops import ConsoleOps
    from jaraba_tui.ui.process_source import ProcessEngineSource

__all__ = ["import_console", "run"]


def import_console() -> None:
    """Import what the console's first frame needs (textual, the app, its panes), e.g. while
    the engine child validates the profile (:func:`jaraba_tui.cli._profile_and_engine`)."""
    import jaraba_tui.ui.app
    import jaraba_tui.ui.process_source
    import jaraba_tui.ui.settings  # noqa: F401


def run(
    profile: Profile | ProfileFacts,
    theme: str | None = None,
    read_only: bool = False,
    record: Path | None = None,
    engine: EngineProcess | None = None,
) -> int:
    """Open the console on ``profile``; returns the exit code (0 after ``q``).

    ``profile``: the loaded profile, or the facts of the one the engine child loaded
    (:class:`~jaraba_tui.engine.process.ProfileFacts`): the whole profile (the guarded
    actions' side of the console) is then built after the first full frame, or at the
    first key or click before it (:meth:`JarabaApp.attach_ops`).
    ``record``: write what the console sees to that file (see :mod:`jaraba_tui.record`).
    ``engine``: the engine process the CLI forked for this console
    (:mod:`jaraba_tui.engine.process`); None: the engine runs on a thread of this process."""
    from jaraba_tui.engine.process import ProfileFacts

    facts = profile if isinstance(profile, ProfileFacts) else None
    if facts is not None and (record is not None or engine is None):
        profile = facts.profile()  # the recorder (and a thread engine) need it at once
        facts = None
    # The engine first, before textual and the panes are imported: its connections and
    # first polls overlap the building of the first frame (issue 6). In its own process
    # (forked by the CLI) when there is one, else on its own thread.
    early: ProcessEngineSource | EarlyEngineSource
    if facts is not None:
        assert engine is not None
        from jaraba_tui.ui.process_source import ProcessEngineSource
        from jaraba_tui.ui.source import Emit, UpdateSource, engine_source, started_first

        def restart(emit: Emit, facts: ProfileFacts = facts) -> UpdateSource:
            return engine_source(facts.profile())(emit)

        early = ProcessEngineSource(engine, profile=facts.name, environment=facts.environment)
        source = started_first(early, restart)
    elif engine is not None:
        assert not isinstance(profile, ProfileFacts)
        from jaraba_tui.ui.process_source import process_engine_source

        source, early = process_engine_source(profile, engine)
    else:
        assert not isinstance(profile, ProfileFacts)
        from jaraba_tui.ui.early import early_engine_source

        source, early = early_engine_source(profile)

    recorder = None
    try:
        from jaraba_tui.ui.app import ConsoleInfo, JarabaApp
        from jaraba_tui.ui.settings import keymap_file, state_file

        if record is not None:
            assert not isinstance(profile, ProfileFacts)
            from jaraba_tui.actions.audit import default_audit_path
            from jaraba_tui.model.snapshot import LAYERS
            from jaraba_tui.record.live import recording
            from jaraba_tui.record.writer import Recorder

            recorder = Recorder(
                record,
                profile=profile.name,
                environment=profile.environment,
                description=profile.description,
                layers=LAYERS,
            )
            source = recording(
                source, recorder, audit_path=default_audit_path(profile), profile=profile.name
            )
        if facts is not None:
            later = facts

            def ops_prepare() -> object:
                """On the thread, after the first full frame: the whole profile validated,
                and the actions' machinery imported (none of it before that frame)."""
                import jaraba_tui.ui.ops  # noqa: F401

                return later.profile()

            def ops_later() -> ConsoleOps:
                from jaraba_tui.ui.ops import ConsoleOps

                return ConsoleOps.create(later.profile(), read_only=read_only)

            info = ConsoleInfo(
                facts.name,
                facts.environment,
                facts.description,
                read_only=read_only or facts.read_only,
            )
            app = JarabaApp(
                info,
                source,
                theme=theme,
                state_path=state_file(),
                keymap_path=keymap_file(),
                ops_later=ops_later,
                ops_prepare=ops_prepare,
                profile_keymap=dict(facts.keymap),
            )
        else:
            assert not isinstance(profile, ProfileFacts)
            from jaraba_tui.ui.ops import ConsoleOps

            app = JarabaApp(
                ConsoleInfo.from_profile(profile, read_only=read_only),
                source,
                theme=theme,
                state_path=state_file(),
                keymap_path=keymap_file(),
                ops=ConsoleOps.create(profile, read_only=read_only),
                profile_keymap=dict(profile.keymap),
            )
        code = app.run()
    finally:
        early.stop()  # a no-op once the console has closed it (or never ran)
        if recorder is not None:
            recorder.close()
    return code if isinstance(code, int) else 0
