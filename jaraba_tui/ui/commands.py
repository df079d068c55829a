"""The one registry of what the console can do: it feeds the key bindings, the footer, the
help screen and the command palette (DESIGN point 7).

A :class:`Command` has a stable ``id`` (the key a user's ``keymap.toml`` remaps), a default
key (or none: palette only), a textual action string, and words for each place it shows.

Guarded actions come from the actions framework's own registry
(:func:`jaraba_tui.actions.list_actions`): one command per action, with
``requires_write=True`` (hidden under a read-only profile), ``dangerous`` as the action says,
the pane where its targets are rows (``pane``) and ``capability`` (the action's name). Their
keys only work, and only show in the footer, on that pane with an applicable target
highlighted (``JarabaApp.check_action``); the palette lists one entry per target that
applies now.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider

from jaraba_tui.actions.registry import list_actions
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
    #: A guarded action: the action's registry name, and the pane that offers it.
    capability: str = ""
    pane: str = ""
    #: Needs the console's profile (actions, the checklist): absent in a replay.
    requires_profile: bool = False

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


#: Where each kind of target is a row (or the subject) of a pane.
KIND_PANE: dict[str, str] = {
    "haproxy-server": "haproxy",
    "bluegreen-colour": "haproxy",
    "proxysql-backend": "proxysql",
    "sentinel-master": "redis",
    "alert": "alerts",
    "silence": "alerts",
    "galera-node": "galera",
    "galera-cluster": "galera",
}

#: Registry keys that a console key already uses (r refreshes): the console's key instead.
KEY_OVERRIDES: dict[str, str] = {"haproxy.ready": "u", "proxysql.undrain": "u"}

#: Footer words (and the lock badge's verb) per action; others use their name's last part.
SHORT: dict[str, str] = {
    "alert.silence": "silence",
    "alert.expire-silence": "expire silence",
    "haproxy.drain": "drain",
    "haproxy.ready": "ready",
    "bluegreen.switch": "blue/green switch",
    "proxysql.drain": "drain",
    "proxysql.undrain": "undrain",
    "redis.failover": "failover",
    "galera.bootstrap": "bootstrap",
    "galera.start": "start node",
    "galera.stop": "stop node",
    "galera.restart": "restart node",
    "galera.force-primary": "force primary",
}

#: Shorter words where the footer is crowded (the lock badge and the help use SHORT/title).
FOOTER: dict[str, str] = {
    "bluegreen.switch": "switch",
    "alert.expire-silence": "expire",
    "galera.start": "start",
    "galera.stop": "stop",
    "galera.restart": "restart",
}

DANGER_MARK = "⚠"


def short_name(action: str) -> str:
    return SHORT.get(action, action.rpartition(".")[2])


def action_command_id(action: str) -> str:
    return "action-" + action.replace(".", "-")


def _actions() -> Iterator[Command]:
    for info in list_actions():
        pane = KIND_PANE.get(info.target_kind, "")
        key = KEY_OVERRIDES.get(info.name, info.key) if pane else ""
        where = f" (the highlighted row of the {TITLES[pane]} pane)" if pane else ""
        danger = " DANGEROUS: it can cause an outage if misused." if info.dangerous else ""
        yield Command(
            id=action_command_id(info.name),
            action=f"app.guarded('{info.name}')",
            title=info.title + (" (dangerous)" if info.dangerous else ""),
            help=f"{info.description}{where}; checks, plan, typed confirmation.{danger}",
            group="Actions",
            key=key or None,
            footer=FOOTER.get(info.name, short_name(info.name))
            + (f" {DANGER_MARK}" if info.dangerous else ""),
            palette=False,  # the palette lists one entry per target (ConsoleCommands)
            requires_write=True,
            requires_profile=True,
            dangerous=info.dangerous,
            capability=info.name,
            pane=pane,
        )


ACTION_COMMANDS: tuple[Command, ...] = tuple(_actions())

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
        priority=True,  # see JarabaApp.check_action
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
    Command(
        "checklist",
        "app.checklist",
        "Deployment checklist",
        "Run the seed's pre/post-deployment checklist (read-only), as `jaraba-ops verify`",
        "Console",
        key="c",
        footer="checklist",
        requires_profile=True,
    ),
    Command(
        "report",
        "app.report",
        "Incident report",
        "Write a Markdown incident report (timeline with who, findings, every layer) to a file",
        "Console",
        key="e",
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
    *ACTION_COMMANDS,
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
    """Every keyed command; the actions first, so that the footer shows a pane's action
    keys before the console's own when the terminal is narrow."""
    keyed = [c for c in COMMANDS if c.key is not None]
    return [c.binding() for c in sorted(keyed, key=lambda c: not c.capability)]


def visible(
    commands: Iterable[Command], read_only: bool, *, has_profile: bool = True
) -> list[Command]:
    """What the console may offer: no write actions under a read-only profile (or without
    a profile to act on), nothing that needs a profile in a replay."""
    return [
        c
        for c in commands
        if not ((read_only or not has_profile) and c.requires_write)
        and not (c.requires_profile and not has_profile)
    ]


class ConsoleCommands(Provider):
    """The command palette: every registry command, then one entry per theme."""

    def _entries(self) -> list[tuple[str, str, Callable[[], object]]]:
        app: JarabaApp = self.app  # type: ignore[assignment]
        out: list[tuple[str, str, Callable[[], object]]] = []
        has_profile = app.ops is not None
        for cmd in visible((*COMMANDS, *LAYER_COMMANDS), app.read_only, has_profile=has_profile):
            if cmd.capability:
                out.extend(self._targets(app, cmd))
                continue
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

    @staticmethod
    def _targets(app: JarabaApp, cmd: Command) -> list[tuple[str, str, Callable[[], object]]]:
        """One entry per target the action applies to now (from the latest poll)."""
        out: list[tuple[str, str, Callable[[], object]]] = []
        key = app.key_for(cmd)
        where = f"  [key: {key} on {TITLES[cmd.pane]}]" if key and cmd.pane else ""
        flag = "DANGEROUS · " if cmd.dangerous else ""
        for target in app.action_targets(cmd.capability):
            out.append(
                (
                    f"{cmd.title}: {target}",
                    f"{flag}checks, plan, typed confirmation{where}",
                    partial(app.start_action, cmd.capability, target),
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
