"""The one registry of what the console can do: it feeds the key bindings, the footer, the
help screen and the command palette (DESIGN point 7).

A :class:`Command` has a stable ``id`` (the key a user's ``keymap.toml`` remaps), a default
key (or none: palette only), a textual action string, and words for each place it shows.
Guarded actions (drain, switch, failover...) will register here too, with
``requires_write=True`` (hidden under a read-only profile) and ``dangerous=True``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider

from jaraba_tui.ui.format import TITLES

if TYPE_CHECKING:
    from jaraba_tui.ui.app import JarabaApp

PANES = ("overview", "galera", "proxysql", "haproxy", "redis", "alerts", "hosts", "timeline")


@dataclass(frozen=True)
class Command:
    id: str
    action: str
    title: str  # palette and help: "Go to Galera"
    help: str  # one sentence: tooltip, palette help, help screen
    group: str  # help screen section
    key: str | None = None  # default key(s), comma-separated; None = palette only
    footer: str = ""  # short footer label; empty = not in the footer
    priority: bool = False
    palette: bool = True
    requires_write: bool = False
    dangerous: bool = False

    def binding(self) -> Binding:
        assert self.key is not None
        return Binding(
            self.key,
            self.action,
            self.footer or self.title,
            show=bool(self.footer),
            priority=self.priority,
            tooltip=self.help,
            id=self.id,
        )


def _nav() -> Iterator[Command]:
    for i, pane in enumerate(PANES, start=1):
        yield Command(
            id=f"goto-{pane}",
            action=f"app.goto('{pane}')",
            title=f"Go to {TITLES[pane]}",
            help=f"Show the {TITLES[pane]} pane",
            group="Navigate",
            key=str(i),
        )
    yield Command(
        "next-pane", "app.cycle(1)", "Next pane", "Show the next pane", "Navigate", key="]"
    )
    yield Command(
        "prev-pane", "app.cycle(-1)", "Previous pane", "Show the previous pane", "Navigate", "["
    )


COMMANDS: tuple[Command, ...] = (
    *_nav(),
    Command(
        "help",
        "app.help",
        "Help: keys",
        "List every key and what it does",
        "Console",
        key="question_mark,f1",
        footer="help",
    ),
    Command(
        "filter",
        "app.filter",
        "Filter the table",
        "Filter the rows of the current pane's tables (Esc clears)",
        "View",
        key="slash",
        footer="filter",
    ),
    Command(
        "clear-filter",
        "app.clear_filter",
        "Clear the filter",
        "Clear the current pane's filter and hide the filter bar",
        "View",
        key="escape",
        palette=False,
    ),
    Command(
        "refresh",
        "app.refresh_now",
        "Refresh now",
        "Poll every layer now (also while paused)",
        "Polling",
        key="r",
        footer="refresh",
    ),
    Command(
        "pause",
        "app.toggle_pause",
        "Pause / resume polling",
        "Stop polling (the screen keeps the last data); again to resume",
        "Polling",
        key="p",
        footer="pause",
    ),
    Command(
        "palette",
        "app.command_palette",
        "Command palette",
        "Search every command, pane and theme",
        "Console",
        key="ctrl+p",
        footer="palette",
        priority=True,
        palette=False,
    ),
    Command(
        "theme",
        "app.pick_theme",
        "Change theme",
        "Choose a colour theme (remembered for next time)",
        "View",
    ),
    Command("quit", "app.quit", "Quit", "Leave the console", "Console", key="q", footer="quit"),
    Command(
        "quit-ctrl-c",
        "app.quit",
        "Quit",
        "Leave the console",
        "Console",
        key="ctrl+c",
        priority=True,
        palette=False,
    ),
)

#: Per-layer palette entries (no keys): refresh one layer.
LAYER_COMMANDS: tuple[Command, ...] = tuple(
    Command(
        f"refresh-{layer}",
        f"app.refresh_now('{layer}')",
        f"Refresh {TITLES[layer]} now",
        f"Poll {TITLES[layer]} now",
        "Polling",
    )
    for layer in PANES[1:-1]
)


def bindings() -> list[Binding]:
    return [c.binding() for c in COMMANDS if c.key is not None]


def visible(commands: Iterable[Command], read_only: bool) -> list[Command]:
    """What the console may offer: no write actions under a read-only profile."""
    return [c for c in commands if not (read_only and c.requires_write)]


class ConsoleCommands(Provider):
    """The command palette: every registry command, then one entry per theme."""

    def _entries(self) -> list[tuple[str, str, Callable[[], object]]]:
        app: JarabaApp = self.app  # type: ignore[assignment]
        out: list[tuple[str, str, Callable[[], object]]] = []
        for cmd in visible((*COMMANDS, *LAYER_COMMANDS), app.read_only):
            if not cmd.palette:
                continue
            key = app.key_for(cmd)
            hint = f"{cmd.help}" + (f"  [key: {key}]" if key else "")
            out.append((cmd.title, hint, partial(app.run_action, cmd.action)))
        for name in sorted(app.console_themes):
            out.append(
                (
                    f"Theme: {name}",
                    "Switch to this colour theme (remembered)",
                    partial(app.set_console_theme, name),
                )
            )
        return out

    async def discover(self) -> Hits:
        for title, hint, run in self._entries():
            yield DiscoveryHit(title, run, help=hint)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, hint, run in self._entries():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), run, help=hint)
