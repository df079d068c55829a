"""The console's report key (``e``): the incident report of what this console has seen
(its timeline, its latest update), written to a Markdown file in a thread."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from jaraba_tui.report import ReportEntry, default_report_path, report_from_update, write_report

if TYPE_CHECKING:
    from jaraba_tui.ui.app import JarabaApp


def console_entries(app: JarabaApp) -> list[ReportEntry]:
    """The timeline's events and actions (the console's own notes are left out)."""
    return [
        ReportEntry(e.at, e.severity, e.component, e.message, e.source, e.who)
        for e in app.timeline
        if e.source != "console"
    ]


def console_report(app: JarabaApp) -> str:
    now = app.clock()
    recording = getattr(app, "recording", None)
    if recording is not None:
        source = f"replay of the recording {Path(recording.path).name}"
    else:
        source = f"the jaraba-ops console on profile {app.info.profile}"
    return report_from_update(
        app.latest,
        profile=app.info.profile,
        environment=app.info.environment,
        description=app.info.description,
        source=source,
        entries=console_entries(app),
        now=now,
    )


def write_console_report(app: JarabaApp, directory: Path | None = None) -> None:
    text = console_report(app)
    path = default_report_path(app.info.profile, app.clock(), directory)

    def work() -> None:
        try:
            written = write_report(text, path)
        except OSError as exc:
            app.call_from_thread(
                app.notify,
                f"report not written: {path}: {exc.strerror or exc}",
                severity="error",
                timeout=10,
            )
            return
        app.call_from_thread(app.notify, f"incident report written to {written}", timeout=10)

    app.run_worker(work, thread=True, name="incident-report", exit_on_error=False)
