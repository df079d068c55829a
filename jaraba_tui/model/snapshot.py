"""StackSnapshot: one poll of every layer, as the console, ``status --json`` and ``check`` see it.

Every layer is optional (None = not configured in the profile) and carries its own
per-endpoint errors. ``failures`` holds layers whose collector itself failed (a bug, or a
layer deadline): the other layers' data is never lost because of one of them.
See ``SCHEMA.md`` next to this file for the JSON form.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jaraba_tui.collectors.alerts import AlertsSnapshot
from jaraba_tui.collectors.common import Serialisable, from_jsonable
from jaraba_tui.collectors.galera import GaleraSnapshot
from jaraba_tui.collectors.haproxy import HAProxySnapshot
from jaraba_tui.collectors.hosts import HostSnapshot
from jaraba_tui.collectors.proxysql import ProxySQLSnapshot
from jaraba_tui.collectors.redis import RedisSnapshot

#: Bumped on any incompatible change of the JSON form (renamed/removed/retyped field).
#: Adding a field is compatible and does not bump it.
SCHEMA_VERSION = 1

LAYERS = ("galera", "proxysql", "haproxy", "redis", "alerts", "hosts")


class SchemaVersionError(ValueError):
    pass


@dataclass(frozen=True)
class LayerFailure(Serialisable):
    """A whole layer gave nothing: its collector raised (a bug) or missed the layer deadline."""

    layer: str
    kind: str
    message: str


@dataclass(frozen=True)
class StackSnapshot(Serialisable):
    collected_at: float
    galera: GaleraSnapshot | None = None
    proxysql: ProxySQLSnapshot | None = None
    haproxy: HAProxySnapshot | None = None
    redis: RedisSnapshot | None = None
    alerts: AlertsSnapshot | None = None
    hosts: tuple[HostSnapshot, ...] = ()
    failures: tuple[LayerFailure, ...] = ()
    profile: str = ""
    environment: str = ""
    elapsed_ms: float = 0.0
    schema_version: int = SCHEMA_VERSION

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        # schema_version first: a reader can check it before anything else.
        return {"schema_version": data.pop("schema_version"), **data}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StackSnapshot:
        """Rebuild from :meth:`to_dict` output (record/replay, UI snapshot tests)."""
        version = data.get("schema_version")
        if version != SCHEMA_VERSION:
            raise SchemaVersionError(
                f"snapshot schema_version {version!r}, this jaraba-ops reads {SCHEMA_VERSION}"
            )
        return from_jsonable(cls, data)

    def failure(self, layer: str) -> LayerFailure | None:
        return next((f for f in self.failures if f.layer == layer), None)
