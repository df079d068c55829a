"""What the actions need from a profile beyond the endpoints: commands and URLs.

Read from the profile where it has the field, else systemd/Debian defaults. Fields the
profile schema does not have yet are read with ``getattr`` so that adding them to
``jaraba_tui/profile/models.py`` needs no change here (see the proposal in the actions
README / report). Tests and the lab can override any of it with ``dataclasses.replace``.

Commands are argv lists, never shell strings. Placeholders are whole ``{name}`` tokens
inside an argument, substituted with validated values only: ``{position}`` (uuid:seqno) in
a Galera bootstrap command; ``{colour}`` and ``{ref}`` in a blue/green deploy command.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jaraba_tui.profile import Profile


POSITION = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}:-?\d+$")
REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$")


def substitute(argv: Sequence[str], values: Mapping[str, str]) -> list[str]:
    """``argv`` with each ``{name}`` of ``values`` replaced (values are validated by callers)."""
    out = []
    for arg in argv:
        for name, value in values.items():
            arg = arg.replace("{" + name + "}", value)
        out.append(arg)
    return out


@dataclass(frozen=True)
class GaleraNodeCommands:
    """How to start, stop, bootstrap and recover one node (argv lists, run over its SSH)."""

    start: tuple[str, ...]
    stop: tuple[str, ...]
    bootstrap: tuple[str, ...]
    recover: tuple[str, ...]
    #: A file the recover command writes its log to (read after it ran), if not stdout.
    recover_log: str | None = None
    start_timeout: float = 900.0
    stop_timeout: float = 300.0
    recover_timeout: float = 300.0

    def bootstrap_argv(self, position: str | None) -> list[str]:
        if position is not None and not POSITION.match(position):
            raise ValueError(f"not a Galera position (uuid:seqno): {position!r}")
        if any("{position}" in a for a in self.bootstrap):
            if position is None:
                # Never pass a literal placeholder to the node's start command.
                raise ValueError("the bootstrap command needs {position} but none is known")
            return substitute(self.bootstrap, {"position": position})
        return list(self.bootstrap)


def default_node_commands(service: str) -> GaleraNodeCommands:
    """Debian/systemd: ``systemctl``, ``galera_new_cluster`` and ``galera_recovery``."""
    return GaleraNodeCommands(
        start=("systemctl", "start", service),
        stop=("systemctl", "stop", service),
        bootstrap=("galera_new_cluster",),
        recover=("galera_recovery",),
    )


@dataclass(frozen=True)
class BlueGreenSettings:
    colours: tuple[str, ...] = ("blue", "green")
    backend_template: str = "bk_app_{colour}"
    #: The public entry point, to verify what users get (e.g. "https://jaraba.io/").
    frontend_url: str | None = None
    smoke_path: str = "/health"
    smoke_host: str | None = "jaraba.io"
    smoke_timeout: float = 5.0
    #: Requests sent through the frontend to verify a switch (and between canary steps).
    frontend_samples: int = 20
    #: Seconds to let traffic flow at each canary step before its health check.
    step_pause: float = 5.0
    #: Optional deploy of the idle colour before the gate: argv with {colour} and {ref}.
    deploy_command: tuple[str, ...] | None = None
    #: SSH host the deploy command runs on (None: the HAProxy host).
    deploy_ssh: str | None = None
    deploy_timeout: float = 1800.0
    #: After the map file is written: the same HAProxy worker must show the new routing for
    #: this long (a reload that read the old file may take over seconds later) ...
    persist_settle: float = 2.0
    #: ... within this many seconds, setting the runtime map again when a reload undid it.
    persist_timeout: float = 20.0

    def backend(self, colour: str) -> str:
        return self.backend_template.format(colour=colour)


@dataclass(frozen=True)
class ActionSettings:
    galera: Mapping[str, GaleraNodeCommands] = field(default_factory=dict)
    bluegreen: BlueGreenSettings = field(default_factory=BlueGreenSettings)
    #: Longest silence the console creates.
    max_silence_s: int = 7 * 86400
    #: Largest replica lag (seconds) a Sentinel failover accepts as "small".
    redis_max_lag_s: int = 5
    #: Largest replica lag in bytes behind the master's offset.
    redis_max_lag_bytes: int = 1_000_000

    @classmethod
    def from_profile(cls, profile: Profile) -> ActionSettings:
        galera: dict[str, GaleraNodeCommands] = {}
        for node in profile.galera.nodes if profile.galera else []:
            base = default_node_commands(node.service)
            recover = getattr(node, "recover_command", None)
            galera[node.name] = GaleraNodeCommands(
                start=tuple(node.start_command or base.start),
                stop=tuple(node.stop_command or base.stop),
                bootstrap=tuple(node.bootstrap_command or base.bootstrap),
                recover=tuple(recover or base.recover),
                recover_log=getattr(node, "recover_log", None),
            )
        hp = profile.haproxy
        bg = BlueGreenSettings()
        # The deployment checklist's smoke request, when the profile has one.
        smoke = getattr(getattr(profile, "checklist", None), "bluegreen", None)
        if hp is not None:
            deploy = getattr(hp, "deploy_command", None)
            bg = BlueGreenSettings(
                frontend_url=getattr(hp, "frontend_url", None),
                smoke_path=getattr(hp, "smoke_path", None)
                or getattr(smoke, "smoke_path", None)
                or bg.smoke_path,
                smoke_host=getattr(hp, "smoke_host", None)
                or getattr(smoke, "smoke_host", None)
                or bg.smoke_host,
                deploy_command=tuple(deploy) if deploy else None,
                deploy_ssh=getattr(hp, "deploy_ssh", None),
            )
        return cls(
            galera=galera,
            bluegreen=bg,
            redis_max_lag_s=min(5, profile.thresholds.redis_lag_warn_s),
        )

    def node(self, name: str) -> GaleraNodeCommands:
        try:
            return self.galera[name]
        except KeyError:
            return default_node_commands("mariadb")
