"""The capability registry: which actions exist, what they apply to, where they apply now.

The same registry feeds the console's key bindings, footer, help and command palette, and
``jaraba-ops action --list``. A read-only profile (or ``--read-only``) sees no action.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from jaraba_tui.actions.base import Action
from jaraba_tui.actions.types import ActionRefused, ParamSpec, TargetKind
from jaraba_tui.collectors.common import Serialisable
from jaraba_tui.model.snapshot import StackSnapshot

if TYPE_CHECKING:
    from jaraba_tui.profile import Profile

_REGISTRY: dict[str, Action] = {}


def register(cls: type[Action]) -> type[Action]:
    """Class decorator: one instance per action name."""
    if cls.name in _REGISTRY:
        raise ValueError(f"action {cls.name!r} registered twice")
    _REGISTRY[cls.name] = cls()
    return cls


#: The modules that define actions; each registers its actions on import.
ACTION_MODULES = (
    "alerts",
    "bluegreen",
    "galera_bootstrap",
    "galera_node",
    "haproxy",
    "proxysql",
    "sentinel",
)


def _load() -> None:
    import importlib

    for module in ACTION_MODULES:
        importlib.import_module(f"jaraba_tui.actions.{module}")


def all_actions() -> list[Action]:
    _load()
    return [_REGISTRY[k] for k in sorted(_REGISTRY)]


def get_action(name: str) -> Action:
    _load()
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise ActionRefused(f"no action named {name!r} (known: {known})") from None


@dataclass(frozen=True)
class ActionInfo(Serialisable):
    name: str
    title: str
    target_kind: TargetKind
    dangerous: bool
    key: str
    description: str
    params: tuple[ParamSpec, ...]


@dataclass(frozen=True)
class AvailableAction(Serialisable):
    """One action applicable to one target now: a key/palette entry for the console."""

    action: str
    title: str
    target_kind: TargetKind
    target: str
    dangerous: bool
    key: str

    @property
    def label(self) -> str:
        return f"{self.title}: {self.target}" + (" (dangerous)" if self.dangerous else "")


def list_actions(profile: Profile | None = None, *, read_only: bool = False) -> list[ActionInfo]:
    """Every action (none when read-only, by flag or by profile)."""
    if read_only or (profile is not None and profile.read_only):
        return []
    return [
        ActionInfo(a.name, a.title, a.target_kind, a.dangerous, a.key, a.description, a.params)
        for a in all_actions()
    ]


def available_actions(
    snapshot: StackSnapshot,
    profile: Profile,
    *,
    read_only: bool = False,
    kind: TargetKind | None = None,
    target: str | None = None,
) -> list[AvailableAction]:
    """The (action, target) pairs that apply in ``snapshot``; empty when read-only.

    Applicability is coarse (a drain is offered for servers that are UP, a bootstrap only
    when no node is Primary...); the preflight checks decide whether it may really run.
    """
    if read_only or profile.read_only:
        return []
    out: list[AvailableAction] = []
    for action in all_actions():
        if kind is not None and action.target_kind != kind:
            continue
        for t in action.targets(snapshot, profile):
            if target is not None and t != target:
                continue
            out.append(
                AvailableAction(
                    action.name, action.title, action.target_kind, t, action.dangerous, action.key
                )
            )
    return out
