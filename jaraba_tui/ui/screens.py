"""Modal screens: the help (every key, from the command registry). The action modal is
:mod:`jaraba_tui.ui.action_screen`, the checklist :mod:`jaraba_tui.ui.checklist`."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widget import Widget

from jaraba_tui.ui.commands import COMMANDS, LAYER_COMMANDS, visible
from jaraba_tui.ui.format import TITLES, ellipsize

if TYPE_CHECKING:
    from jaraba_tui.ui.app import JarabaApp

GROUPS = ("Navigate", "View", "Polling", "Console", "Actions")

NOTES = """\
Status is always a symbol and a word: ✓ OK, ! WARNING, ✗ CRITICAL, ? UNKNOWN.
A pane whose poll fails keeps its last data and says STALE, how old it is, and why.
Filter (/): every word must appear in a row; !word hides rows with it; Esc clears.
Tab moves between a pane's tables and panels (and scrolls to them).
Mouse: click a card on the overview to open its pane; click rows; scroll.
Remap keys in {keymap}: binding id = "key", e.g. goto-galera = "g".
"""
ACTION_NOTES = (
    "Actions: a key works on its pane, on a highlighted row it applies to (the footer shows\n"
    "it); it opens the checks and the plan and asks you to type the target's name.\n"
)


def replay_keys(app: JarabaApp) -> list[tuple[str, str, str]]:
    """(key, what it does, binding id) of the replay's own keys (bindings ``replay-*``, on a
    recording only): the help lists them with the console's."""
    out = []
    for b in type(app).BINDINGS:
        if isinstance(b, Binding) and b.id is not None and b.id.startswith("replay-"):
            keys = [app.get_key_display(Binding(k.strip(), b.action)) for k in b.key.split(",")]
            out.append((", ".join(keys), b.description, b.id))
    return out


def help_text(app: JarabaApp, width: int = 100) -> Text:
    """Key, title, binding id (what keymap.toml remaps) and, when there is room, the
    one-sentence description of every command the console offers."""
    pal = app.palette
    out = Text()
    out.append("jaraba-ops — keys\n", style="bold")
    commands = visible((*COMMANDS, *LAYER_COMMANDS), app.read_only, has_profile=app.ops is not None)
    id_w = max(len(c.id) for c in commands) + 2
    for group in GROUPS:
        mine = [c for c in commands if c.group == group]
        if not mine:
            continue
        out.append(f"\n{group}\n", style=f"bold {pal.accent}")
        for cmd in mine:
            key = app.key_for(cmd) or "palette"
            line = Text()
            line.append(f"  {key:<14}", style="bold")
            title = cmd.title if not cmd.pane else f"{cmd.title} [{TITLES[cmd.pane]}]"
            line.append(f"{title:<28}", style=f"bold {pal.crit}" if cmd.dangerous else "")
            line.append(f"{cmd.id:<{id_w}}", style=pal.muted)
            room = width - line.cell_len
            if room >= 24:
                line.append(ellipsize(cmd.help, room), style=pal.muted)
            out.append(line)
            out.append("\n")
    replay = replay_keys(app)
    if replay:
        out.append("\nReplay\n", style=f"bold {pal.accent}")
        out.append(
            "  (on a recording; these keys are not remapped by the key map)\n", style=pal.muted
        )
        for key, title, binding_id in replay:
            out.append(f"  {key:<14}", style="bold")
            out.append(f"{title:<28}")
            out.append(f"{binding_id}\n", style=pal.muted)
    out.append("\n")
    out.append(NOTES.format(keymap=app.keymap_path or "keymap.toml"), style=pal.muted)
    if app.can_act:
        out.append(ACTION_NOTES, style=pal.muted)
    return out


class HelpText(Widget):
    """The help, laid out for the width it gets."""

    DEFAULT_CSS = """
    HelpText { height: auto; }
    """

    def render(self) -> Text:
        return help_text(self.app, max(40, self.size.width))  # type: ignore[arg-type]

    def get_content_height(self, container: object, viewport: object, width: int) -> int:
        text = help_text(self.app, width)  # type: ignore[arg-type]
        return len(text.wrap(self.app.console, width)) + 1


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar = [
        Binding("escape,q,question_mark,f1", "dismiss_help", "Close help", id="help-close"),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box") as box:
            box.border_title = "Help · Esc to close"
            yield HelpText(id="help-text")

    def on_mount(self) -> None:
        self.query_one("#help-box").focus()  # arrows and page keys scroll it

    def action_dismiss_help(self) -> None:
        self.dismiss(None)
