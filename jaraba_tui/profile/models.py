"""The profile schema: one TOML file = one stack. Strict: unknown keys are errors.

See ``profiles/local.toml`` for an annotated example of every section.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr, model_validator

from jaraba_tui.model.thresholds import Thresholds as HealthThresholds
from jaraba_tui.profile.types import (
    Argv,
    Environment,
    Host,
    LocalPath,
    Name,
    Port,
    RemotePath,
    Seconds,
    Url,
    User,
    bad,
)
from jaraba_tui.secrets import Secret


def _check_description(value: object) -> str:
    if not isinstance(value, str):
        raise bad("expected a string", 'e.g. description = "Jaraba production, eu-west"')
    if len(value) > 200 or any(ord(c) < 32 for c in value):
        raise bad("a description is one line of at most 200 characters", "shorten it")
    return value


Description = Annotated[str, BeforeValidator(_check_description)]
Fraction = Annotated[float, Field(ge=0, le=1)]
NonNegative = Annotated[float, Field(ge=0)]
NonNegativeInt = Annotated[int, Field(ge=0)]
Percent = Annotated[float, Field(ge=0, le=100)]
#: A MariaDB account host pattern: '%', '10.0.0.%', 'app1.jaraba.io'.
GrantHost = Annotated[str, Field(pattern=r"^[A-Za-z0-9.%_:-]{1,255}$")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


# -- SSH -------------------------------------------------------------------------------------
class SshHost(_Model):
    """``[ssh.hosts.NAME]``: a host reached over SSH (to run checks, or to tunnel through)."""

    host: Host
    port: Port = 22
    user: User | None = None
    key_file: LocalPath | None = None
    use_agent: bool = True
    jump: Name | None = None
    known_hosts: LocalPath | None = None
    accept_new_host_key: bool = False
    connect_timeout: Seconds | None = None


class SshConfig(_Model):
    hosts: dict[Name, SshHost] = Field(default_factory=dict)


# -- Galera ----------------------------------------------------------------------------------
class GaleraNode(_Model):
    """``[[galera.nodes]]``: SQL endpoint (``via`` = tunnel through an SSH host) and the host
    it runs on (``ssh``) for grastate.dat, the error log and service checks."""

    name: Name
    host: Host
    port: Port = 3306
    user: User = "root"
    password: Secret | None = None
    via: Name | None = None
    ssh: Name | None = None
    datadir: RemotePath = "/var/lib/mysql"
    error_log: RemotePath = "/var/log/mysql/error.log"
    service: Name = "mariadb"
    process: Name = "mariadbd"
    start_command: Argv | None = None
    stop_command: Argv | None = None
    #: Start as a new cluster; ``{position}`` is replaced by the recovered uuid:seqno.
    bootstrap_command: Argv | None = None
    #: Print "Recovered position: uuid:seqno" of a stopped node (default: galera_recovery).
    recover_command: Argv | None = None
    #: Where the recover command writes that line, when not to its output.
    recover_log: RemotePath | None = None


class GaleraConfig(_Model):
    nodes: list[GaleraNode] = Field(min_length=1)


# -- ProxySQL --------------------------------------------------------------------------------
class ProxySQLConfig(_Model):
    """``[proxysql]``: the admin interface (MySQL protocol, port 6032)."""

    host: Host
    port: Port = 6032
    user: User = "admin"
    password: Secret | None = None
    via: Name | None = None
    ssh: Name | None = None


# -- HAProxy ---------------------------------------------------------------------------------
class HAProxyRuntimeConfig(_Model):
    """``[haproxy.runtime]``: exactly one of ``unix`` (a socket path; on the host ``ssh``
    when given, opened over SSH) or ``host`` + ``port`` (TCP; optionally ``via`` a tunnel)."""

    unix: RemotePath | None = None
    ssh: Name | None = None
    host: Host | None = None
    port: Port | None = None
    via: Name | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> HAProxyRuntimeConfig:
        if (self.unix is None) == (self.host is None):
            raise bad(
                "the runtime API needs exactly one of `unix` and `host`",
                'e.g. unix = "/run/haproxy/admin.sock" (with ssh = "lb1" if remote), '
                "or host = ... and port = 9999",
            )
        if self.host is not None and self.port is None:
            raise bad("`host` needs a `port`", "add port = 9999 (the stats socket's port)")
        if self.unix is not None and (self.port is not None or self.via is not None):
            raise bad(
                "`port`/`via` go with `host`, not with `unix`",
                'for a socket on a remote host write ssh = "HOST" instead',
            )
        if self.host is not None and self.ssh is not None:
            raise bad("`ssh` goes with `unix`", 'to tunnel a TCP socket write via = "HOST"')
        return self

    @property
    def kind(self) -> str:
        """``"unix"``, ``"ssh-unix"`` or ``"tcp"``."""
        if self.unix is not None:
            return "unix" if self.ssh is None else "ssh-unix"
        return "tcp"


class HAProxyConfig(_Model):
    runtime: HAProxyRuntimeConfig | None = None
    stats_url: Url | None = None
    stats_user: User | None = None
    stats_password: Secret | None = None
    stats_via: Name | None = None
    map_file: RemotePath | None = None
    ssh: Name | None = None
    #: The public entry point, to verify what users get after a blue/green switch.
    frontend_url: Url | None = None
    #: Deploy a ref on the idle colour before a switch: ``{colour}`` and ``{ref}`` replaced.
    deploy_command: Argv | None = None
    #: SSH host the deploy command runs on (default: ``ssh``, the HAProxy host).
    deploy_ssh: Name | None = None

    @model_validator(mode="after")
    def _something(self) -> HAProxyConfig:
        if self.runtime is None and self.stats_url is None:
            raise bad(
                "[haproxy] needs a runtime API ([haproxy.runtime]) or a stats_url (or both)",
                'add [haproxy.runtime] with unix = "/run/haproxy/admin.sock"',
            )
        return self


# -- Redis and Sentinel ----------------------------------------------------------------------
class RedisInstance(_Model):
    name: Name
    host: Host
    port: Port = 6379
    password: Secret | None = None
    via: Name | None = None
    ssh: Name | None = None


class RedisConfig(_Model):
    instances: list[RedisInstance] = Field(min_length=1)


class SentinelInstance(_Model):
    name: Name
    host: Host
    port: Port = 26379
    password: Secret | None = None
    via: Name | None = None
    ssh: Name | None = None


class SentinelConfig(_Model):
    master_name: Name = "jaraba-master"
    instances: list[SentinelInstance] = Field(min_length=1)


# -- HTTP services ---------------------------------------------------------------------------
class HttpService(_Model):
    """``[prometheus]`` / ``[alertmanager]``: a base URL, optional basic auth, optional tunnel."""

    url: Url
    user: User | None = None
    password: Secret | None = None
    via: Name | None = None


# -- polling and thresholds ------------------------------------------------------------------
class PollConfig(_Model):
    """Seconds between polls of each layer, and the timeouts of every network call."""

    galera: Seconds = 2.0
    proxysql: Seconds = 2.0
    haproxy: Seconds = 2.0
    redis: Seconds = 2.0
    sentinel: Seconds = 2.0
    prometheus: Seconds = 10.0
    alertmanager: Seconds = 10.0
    hosts: Seconds = 15.0
    connect_timeout: Seconds = 3.0
    read_timeout: Seconds = 5.0
    command_timeout: Seconds = 15.0


_H = HealthThresholds()


class Thresholds(_Model):
    """``[thresholds]``: the health rules' limits, with the names and defaults of
    :class:`jaraba_tui.model.thresholds.Thresholds` (``*_warn`` <= ``*_crit``; all are
    "higher is worse": disk is percent *used*)."""

    galera_flow_control_warn: Fraction = _H.galera_flow_control_warn
    galera_flow_control_crit: Fraction = _H.galera_flow_control_crit
    galera_recv_queue_warn: NonNegativeInt = _H.galera_recv_queue_warn
    galera_recv_queue_crit: NonNegativeInt = _H.galera_recv_queue_crit
    galera_send_queue_warn: NonNegativeInt = _H.galera_send_queue_warn
    disk_warn_pct: Percent = _H.disk_warn_pct
    disk_crit_pct: Percent = _H.disk_crit_pct
    proxysql_latency_warn_us: NonNegativeInt = _H.proxysql_latency_warn_us
    haproxy_5xx_rate_warn: NonNegative = _H.haproxy_5xx_rate_warn
    haproxy_5xx_rate_crit: NonNegative = _H.haproxy_5xx_rate_crit
    redis_lag_warn_s: NonNegativeInt = _H.redis_lag_warn_s
    redis_lag_crit_s: NonNegativeInt = _H.redis_lag_crit_s
    redis_lag_warn_bytes: NonNegativeInt = _H.redis_lag_warn_bytes
    redis_memory_warn_pct: Percent = _H.redis_memory_warn_pct
    redis_memory_crit_pct: Percent = _H.redis_memory_crit_pct
    host_load_per_cpu_warn: NonNegative = _H.host_load_per_cpu_warn
    host_load_per_cpu_crit: NonNegative = _H.host_load_per_cpu_crit
    host_memory_warn_pct: Percent = _H.host_memory_warn_pct
    host_memory_crit_pct: Percent = _H.host_memory_crit_pct

    def to_health(self) -> HealthThresholds:
        """The model layer's thresholds object."""
        return HealthThresholds.from_mapping(self.model_dump())


# -- verify: the deployment checklist ---------------------------------------------------------
class ChecklistTls(_Model):
    """``[checklist.tls]``: the certificate HAProxy serves, read on the host ``ssh``
    (default: ``[haproxy] ssh``) and parsed locally."""

    path: RemotePath = "/etc/haproxy/certs/jaraba.pem"
    ssh: Name | None = None
    hostnames: list[Host] = Field(default_factory=lambda: ["jaraba.io"])
    min_days: NonNegativeInt = 21


class ChecklistClosedPorts(_Model):
    """``[[checklist.closed_ports]]``: ports of ``host`` the firewall must close to the
    bastion (the seed: Galera 3306/4444/4567/4568, Redis 6379 and Sentinel 26379)."""

    host: Host
    ports: list[Port] = Field(min_length=1)


class Checklist(_Model):
    """``[checklist]``: settings of ``jaraba-ops verify`` (the seed's deployment checklist).
    ``skip`` maps an item id to the reason it does not apply to this stack (shown)."""

    dns_names: list[Host] | None = None
    closed_ports: list[ChecklistClosedPorts] = Field(default_factory=list)
    monitor_user: User = "monitor"
    replication_user: User = "repl"
    grant_host: GrantHost = "%"
    ram_target_percent: Percent = 70.0
    ram_tolerance_percent: Percent = 10.0
    grafana_dashboard_uid: Name | None = None
    tls: ChecklistTls = Field(default_factory=ChecklistTls)
    skip: dict[Name, Description] = Field(default_factory=dict)


# -- the profile -----------------------------------------------------------------------------
class Profile(_Model):
    """One stack. Load with :func:`jaraba_tui.profile.load_profile`."""

    name: Name
    environment: Environment
    description: Description = ""
    read_only: bool = False
    audit_log: LocalPath | None = None
    grafana_url: Url | None = None
    ssh: SshConfig = Field(default_factory=SshConfig)
    galera: GaleraConfig | None = None
    proxysql: ProxySQLConfig | None = None
    haproxy: HAProxyConfig | None = None
    redis: RedisConfig | None = None
    sentinel: SentinelConfig | None = None
    prometheus: HttpService | None = None
    alertmanager: HttpService | None = None
    poll: PollConfig = Field(default_factory=PollConfig)
    thresholds: Thresholds = Field(default_factory=Thresholds)
    checklist: Checklist = Field(default_factory=Checklist)
    #: Console key remaps: binding id (see the help screen, ?) -> keys, e.g. goto-galera = "g".
    #: Applied over ~/.config/jaraba-ops/keymap.toml; unknown ids are reported in the console.
    keymap: dict[Name, str] = Field(default_factory=dict)

    _source: Path | None = PrivateAttr(default=None)

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def source(self) -> Path | None:
        """The file the profile was loaded from (None when built from a mapping)."""
        return self._source

    def galera_node(self, name: str) -> GaleraNode:
        for node in self.galera.nodes if self.galera else []:
            if node.name == name:
                return node
        raise KeyError(f"no galera node named {name!r} in profile {self.name!r}")

    def redis_instance(self, name: str) -> RedisInstance:
        for inst in self.redis.instances if self.redis else []:
            if inst.name == name:
                return inst
        raise KeyError(f"no redis instance named {name!r} in profile {self.name!r}")

    def sentinel_instance(self, name: str) -> SentinelInstance:
        for inst in self.sentinel.instances if self.sentinel else []:
            if inst.name == name:
                return inst
        raise KeyError(f"no sentinel named {name!r} in profile {self.name!r}")

    def secrets(self) -> list[tuple[str, Secret]]:
        """Every secret reference with its dotted key, in file order."""
        return list(iter_secrets(self))

    def resolve_secrets(self) -> None:
        """Reveal every secret now; one ProfileError listing every one that fails."""
        from jaraba_tui.profile.errors import ProfileError, ProfileIssue

        issues: list[ProfileIssue] = []
        for key, secret in self.secrets():
            try:
                secret.reveal()
            except ProfileError as exc:
                issues.append(ProfileIssue(key, exc.problem, exc.fix))
        if issues:
            raise ProfileError.from_issues(issues, self._source)


def iter_secrets(model: BaseModel, prefix: str = "") -> Iterator[tuple[str, Secret]]:
    """(dotted key, Secret) for every secret below ``model``."""
    from jaraba_tui.profile.errors import toml_key

    def walk(value: object, key: str) -> Iterator[tuple[str, Secret]]:
        if isinstance(value, Secret):
            yield key, value
        elif isinstance(value, BaseModel):
            for field in type(value).model_fields:
                sub = f"{key}.{field}" if key else field
                yield from walk(getattr(value, field), sub)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                yield from walk(item, f"{key}[{i}]")
        elif isinstance(value, dict):
            for name, item in value.items():
                yield from walk(item, f"{key}.{toml_key(str(name))}")

    yield from walk(model, prefix)
