"""The profile schema: one TOML file = one stack. Strict: unknown keys are errors.

See ``profiles/local.toml`` for an annotated example of every section.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from jaraba_tui.model.thresholds import Thresholds as HealthThresholds
from jaraba_tui.profile.schema import (
    Model,
    boolean,
    dict_of,
    field,
    integer,
    list_of,
    model,
    number,
    optional,
    scalar,
    string,
)
from jaraba_tui.profile.types import (
    ARGV,
    ENVIRONMENT,
    HOST,
    LOCAL_PATH,
    NAME,
    PORT,
    REMOTE_PATH,
    SECONDS,
    SECRET,
    URL,
    USER,
    bad,
)
from jaraba_tui.secrets import Secret


def _check_description(value: object) -> str:
    if not isinstance(value, str):
        raise bad("expected a string", 'e.g. description = "Jaraba production, eu-west"')
    if len(value) > 200 or any(ord(c) < 32 for c in value):
        raise bad("a description is one line of at most 200 characters", "shorten it")
    return value


DESCRIPTION = scalar(_check_description)
FRACTION = number(ge=0, le=1)
NON_NEGATIVE = number(ge=0)
NON_NEGATIVE_INT = integer(ge=0)
PERCENT = number(ge=0, le=100)
#: A MariaDB account host pattern: '%', '10.0.0.%', 'app1.jaraba.io'.
GRANT_HOST = string(pattern=r"^[A-Za-z0-9.%_:-]{1,255}$")
BOOL = boolean()
OPT_NAME = optional(NAME)
OPT_SECRET = optional(SECRET)
OPT_ARGV = optional(ARGV)


# -- SSH -------------------------------------------------------------------------------------
class SshHost(Model):
    """``[ssh.hosts.NAME]``: a host reached over SSH (to run checks, or to tunnel through)."""

    host: str = field(HOST)
    port: int = field(PORT, default=22)
    user: str | Secret | None = field(optional(USER), default=None)
    key_file: str | None = field(optional(LOCAL_PATH), default=None)
    use_agent: bool = field(BOOL, default=True)
    jump: str | None = field(OPT_NAME, default=None)
    known_hosts: str | None = field(optional(LOCAL_PATH), default=None)
    accept_new_host_key: bool = field(BOOL, default=False)
    connect_timeout: float | None = field(optional(SECONDS), default=None)


class SshConfig(Model):
    hosts: dict[str, SshHost] = field(dict_of(NAME, model(SshHost)), default_factory=dict)


# -- Galera ----------------------------------------------------------------------------------
class GaleraNode(Model):
    """``[[galera.nodes]]``: SQL endpoint (``via`` = tunnel through an SSH host) and the host
    it runs on (``ssh``) for grastate.dat, the error log and service checks."""

    name: str = field(NAME)
    host: str = field(HOST)
    port: int = field(PORT, default=3306)
    user: str | Secret = field(USER, default="root")
    password: Secret | None = field(OPT_SECRET, default=None)
    via: str | None = field(OPT_NAME, default=None)
    ssh: str | None = field(OPT_NAME, default=None)
    datadir: str = field(REMOTE_PATH, default="/var/lib/mysql")
    error_log: str = field(REMOTE_PATH, default="/var/log/mysql/error.log")
    service: str = field(NAME, default="mariadb")
    process: str = field(NAME, default="mariadbd")
    start_command: list[str] | None = field(OPT_ARGV, default=None)
    stop_command: list[str] | None = field(OPT_ARGV, default=None)
    #: Start as a new cluster; ``{position}`` is replaced by the recovered uuid:seqno.
    bootstrap_command: list[str] | None = field(OPT_ARGV, default=None)
    #: Print "Recovered position: uuid:seqno" of a stopped node (default: galera_recovery).
    recover_command: list[str] | None = field(OPT_ARGV, default=None)
    #: Where the recover command writes that line, when not to its output.
    recover_log: str | None = field(optional(REMOTE_PATH), default=None)


class GaleraConfig(Model):
    nodes: list[GaleraNode] = field(list_of(model(GaleraNode), min_length=1))


# -- ProxySQL --------------------------------------------------------------------------------
class ProxySQLConfig(Model):
    """``[proxysql]``: the admin interface (MySQL protocol, port 6032)."""

    host: str = field(HOST)
    port: int = field(PORT, default=6032)
    user: str | Secret = field(USER, default="admin")
    password: Secret | None = field(OPT_SECRET, default=None)
    via: str | None = field(OPT_NAME, default=None)
    ssh: str | None = field(OPT_NAME, default=None)


# -- HAProxy ---------------------------------------------------------------------------------
class HAProxyRuntimeConfig(Model):
    """``[haproxy.runtime]``: exactly one of ``unix`` (a socket path; on the host ``ssh``
    when given, opened over SSH) or ``host`` + ``port`` (TCP; optionally ``via`` a tunnel)."""

    unix: str | None = field(optional(REMOTE_PATH), default=None)
    ssh: str | None = field(OPT_NAME, default=None)
    host: str | None = field(optional(HOST), default=None)
    port: int | None = field(optional(PORT), default=None)
    via: str | None = field(OPT_NAME, default=None)

    def check(self) -> None:
        """Exactly one kind of runtime API, with the keys that go with it."""
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

    @property
    def kind(self) -> str:
        """``"unix"``, ``"ssh-unix"`` or ``"tcp"``."""
        if self.unix is not None:
            return "unix" if self.ssh is None else "ssh-unix"
        return "tcp"


class HAProxyConfig(Model):
    runtime: HAProxyRuntimeConfig | None = field(
        optional(model(HAProxyRuntimeConfig)), default=None
    )
    stats_url: str | None = field(optional(URL), default=None)
    stats_user: str | Secret | None = field(optional(USER), default=None)
    stats_password: Secret | None = field(OPT_SECRET, default=None)
    stats_via: str | None = field(OPT_NAME, default=None)
    map_file: str | None = field(optional(REMOTE_PATH), default=None)
    ssh: str | None = field(OPT_NAME, default=None)
    #: The public entry point, to verify what users get after a blue/green switch.
    frontend_url: str | None = field(optional(URL), default=None)
    #: Deploy a ref on the idle colour before a switch: ``{colour}`` and ``{ref}`` replaced.
    deploy_command: list[str] | None = field(OPT_ARGV, default=None)
    #: SSH host the deploy command runs on (default: ``ssh``, the HAProxy host).
    deploy_ssh: str | None = field(OPT_NAME, default=None)

    def check(self) -> None:
        """A runtime API, a stats page, or both."""
        if self.runtime is None and self.stats_url is None:
            raise bad(
                "[haproxy] needs a runtime API ([haproxy.runtime]) or a stats_url (or both)",
                'add [haproxy.runtime] with unix = "/run/haproxy/admin.sock"',
            )


# -- Redis and Sentinel ----------------------------------------------------------------------
class RedisInstance(Model):
    name: str = field(NAME)
    host: str = field(HOST)
    port: int = field(PORT, default=6379)
    password: Secret | None = field(OPT_SECRET, default=None)
    via: str | None = field(OPT_NAME, default=None)
    ssh: str | None = field(OPT_NAME, default=None)


class RedisConfig(Model):
    instances: list[RedisInstance] = field(list_of(model(RedisInstance), min_length=1))


class SentinelInstance(Model):
    name: str = field(NAME)
    host: str = field(HOST)
    port: int = field(PORT, default=26379)
    password: Secret | None = field(OPT_SECRET, default=None)
    via: str | None = field(OPT_NAME, default=None)
    ssh: str | None = field(OPT_NAME, default=None)


class SentinelConfig(Model):
    master_name: str = field(NAME, default="jaraba-master")
    instances: list[SentinelInstance] = field(list_of(model(SentinelInstance), min_length=1))


# -- HTTP services ---------------------------------------------------------------------------
class HttpService(Model):
    """``[prometheus]`` / ``[alertmanager]``: a base URL, optional basic auth, optional tunnel."""

    url: str = field(URL)
    user: str | Secret | None = field(optional(USER), default=None)
    password: Secret | None = field(OPT_SECRET, default=None)
    via: str | None = field(OPT_NAME, default=None)


# -- polling and thresholds ------------------------------------------------------------------
class PollConfig(Model):
    """Seconds between polls of each layer, and the timeouts of every network call."""

    galera: float = field(SECONDS, default=2.0)
    proxysql: float = field(SECONDS, default=2.0)
    haproxy: float = field(SECONDS, default=2.0)
    redis: float = field(SECONDS, default=2.0)
    sentinel: float = field(SECONDS, default=2.0)
    prometheus: float = field(SECONDS, default=10.0)
    alertmanager: float = field(SECONDS, default=10.0)
    hosts: float = field(SECONDS, default=15.0)
    connect_timeout: float = field(SECONDS, default=3.0)
    read_timeout: float = field(SECONDS, default=5.0)
    command_timeout: float = field(SECONDS, default=15.0)


_H = HealthThresholds()


class Thresholds(Model):
    """``[thresholds]``: the health rules' limits, with the names and defaults of
    :class:`jaraba_tui.model.thresholds.Thresholds` (``*_warn`` <= ``*_crit``; all are
    "higher is worse": disk is percent *used*)."""

    galera_flow_control_warn: float = field(FRACTION, default=_H.galera_flow_control_warn)
    galera_flow_control_crit: float = field(FRACTION, default=_H.galera_flow_control_crit)
    galera_recv_queue_warn: int = field(NON_NEGATIVE_INT, default=_H.galera_recv_queue_warn)
    galera_recv_queue_crit: int = field(NON_NEGATIVE_INT, default=_H.galera_recv_queue_crit)
    galera_send_queue_warn: int = field(NON_NEGATIVE_INT, default=_H.galera_send_queue_warn)
    disk_warn_pct: float = field(PERCENT, default=_H.disk_warn_pct)
    disk_crit_pct: float = field(PERCENT, default=_H.disk_crit_pct)
    proxysql_latency_warn_us: int = field(NON_NEGATIVE_INT, default=_H.proxysql_latency_warn_us)
    haproxy_5xx_rate_warn: float = field(NON_NEGATIVE, default=_H.haproxy_5xx_rate_warn)
    haproxy_5xx_rate_crit: float = field(NON_NEGATIVE, default=_H.haproxy_5xx_rate_crit)
    redis_lag_warn_s: int = field(NON_NEGATIVE_INT, default=_H.redis_lag_warn_s)
    redis_lag_crit_s: int = field(NON_NEGATIVE_INT, default=_H.redis_lag_crit_s)
    redis_lag_warn_bytes: int = field(NON_NEGATIVE_INT, default=_H.redis_lag_warn_bytes)
    redis_memory_warn_pct: float = field(PERCENT, default=_H.redis_memory_warn_pct)
    redis_memory_crit_pct: float = field(PERCENT, default=_H.redis_memory_crit_pct)
    host_load_per_cpu_warn: float = field(NON_NEGATIVE, default=_H.host_load_per_cpu_warn)
    host_load_per_cpu_crit: float = field(NON_NEGATIVE, default=_H.host_load_per_cpu_crit)
    host_memory_warn_pct: float = field(PERCENT, default=_H.host_memory_warn_pct)
    host_memory_crit_pct: float = field(PERCENT, default=_H.host_memory_crit_pct)

    def to_health(self) -> HealthThresholds:
        """The model layer's thresholds object."""
        return HealthThresholds.from_mapping(dict(self.field_items()))


# -- verify: the deployment checklist ---------------------------------------------------------
class ChecklistTls(Model):
    """``[checklist.tls]``: the certificate HAProxy serves, read on the host ``ssh``
    (default: ``[haproxy] ssh``) and parsed locally."""

    path: str = field(REMOTE_PATH, default="/etc/haproxy/certs/jaraba.pem")
    ssh: str | None = field(OPT_NAME, default=None)
    hostnames: list[str] = field(list_of(HOST), default_factory=lambda: ["jaraba.io"])
    min_days: int = field(NON_NEGATIVE_INT, default=21)


class ChecklistClosedPorts(Model):
    """``[[checklist.closed_ports]]``: ports of ``host`` the firewall must close to the
    bastion (the seed: Galera 3306/4444/4567/4568, Redis 6379 and Sentinel 26379)."""

    host: str = field(HOST)
    ports: list[int] = field(list_of(PORT, min_length=1))


class Checklist(Model):
    """``[checklist]``: settings of ``jaraba-ops verify`` (the seed's deployment checklist).
    ``skip`` maps an item id to the reason it does not apply to this stack (shown)."""

    dns_names: list[str] | None = field(optional(list_of(HOST)), default=None)
    closed_ports: list[ChecklistClosedPorts] = field(
        list_of(model(ChecklistClosedPorts)), default_factory=list
    )
    monitor_user: str | Secret = field(USER, default="monitor")
    replication_user: str | Secret = field(USER, default="repl")
    grant_host: str = field(GRANT_HOST, default="%")
    ram_target_percent: float = field(PERCENT, default=70.0)
    ram_tolerance_percent: float = field(PERCENT, default=10.0)
    grafana_dashboard_uid: str | None = field(OPT_NAME, default=None)
    tls: ChecklistTls = field(model(ChecklistTls), default_factory=ChecklistTls)
    skip: dict[str, str] = field(dict_of(NAME, DESCRIPTION), default_factory=dict)


# -- the profile -----------------------------------------------------------------------------
class Profile(Model):
    """One stack. Load with :func:`jaraba_tui.profile.load_profile`."""

    name: str = field(NAME)
    environment: str = field(ENVIRONMENT)
    description: str = field(DESCRIPTION, default="")
    read_only: bool = field(BOOL, default=False)
    audit_log: str | None = field(optional(LOCAL_PATH), default=None)
    grafana_url: str | None = field(optional(URL), default=None)
    ssh: SshConfig = field(model(SshConfig), default_factory=SshConfig)
    galera: GaleraConfig | None = field(optional(model(GaleraConfig)), default=None)
    proxysql: ProxySQLConfig | None = field(optional(model(ProxySQLConfig)), default=None)
    haproxy: HAProxyConfig | None = field(optional(model(HAProxyConfig)), default=None)
    redis: RedisConfig | None = field(optional(model(RedisConfig)), default=None)
    sentinel: SentinelConfig | None = field(optional(model(SentinelConfig)), default=None)
    prometheus: HttpService | None = field(optional(model(HttpService)), default=None)
    alertmanager: HttpService | None = field(optional(model(HttpService)), default=None)
    poll: PollConfig = field(model(PollConfig), default_factory=PollConfig)
    thresholds: Thresholds = field(model(Thresholds), default_factory=Thresholds)
    checklist: Checklist = field(model(Checklist), default_factory=Checklist)
    #: Console key remaps: binding id (see the help screen, ?) -> keys, e.g. goto-galera = "g".
    #: Applied over ~/.config/jaraba-ops/keymap.toml; unknown ids are reported in the console.
    keymap: dict[str, str] = field(dict_of(NAME, string()), default_factory=dict)

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def source(self) -> Path | None:
        """The file the profile was loaded from (None when built from a mapping)."""
        source: Path | None = self.__dict__.get("_source")
        return source

    def _from_file(self, path: Path | None) -> None:
        # Not a field: compared, copied (replace) and pickled with the fields, never dumped.
        self.__dict__["_source"] = path

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
            raise ProfileError.from_issues(issues, self.source)


#: One value of a profile: its dotted key, the table field holding it (None for an entry of
#: a list or a dict), the value.
Leaf = tuple[str, str | None, object]


def leaves(table: Model, prefix: str = "") -> Iterator[Leaf]:
    """Every value below ``table`` that is not itself a table, a list or a dict, in file
    order (:data:`Leaf`)."""
    from jaraba_tui.profile.errors import toml_key

    def walk(value: object, key: str, holder: str | None) -> Iterator[Leaf]:
        if isinstance(value, Model):
            for name, item in value.field_items():
                yield from walk(item, f"{key}.{name}" if key else name, name)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                yield from walk(item, f"{key}[{i}]", None)
        elif isinstance(value, dict):
            for name, item in value.items():
                yield from walk(item, f"{key}.{toml_key(str(name))}", None)
        else:
            yield key, holder, value

    yield from walk(table, prefix, None)


def iter_secrets(table: Model, prefix: str = "") -> Iterator[tuple[str, Secret]]:
    """(dotted key, Secret) for every secret below ``table``."""
    for key, _, value in leaves(table, prefix):
        if isinstance(value, Secret):
            yield key, value
