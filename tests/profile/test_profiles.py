"""Shipped profiles, profile resolution, path expansion, secrets and their redaction."""

from __future__ import annotations

import copy
import pickle
import sys
from pathlib import Path

import pytest

from jaraba_tui.profile import (
    Profile,
    ProfileError,
    expand_vars,
    load_profile,
    profile_from_mapping,
    resolve_profile_path,
    shipped_profiles_dir,
)
from jaraba_tui.secrets import Secret, known_secret_values, register_secret_value, scrub

SHIPPED = shipped_profiles_dir()
PROD = SHIPPED / "production.example.toml"
PROD_SECRETS = {
    "MYSQL_ROOT_PASSWORD": "Pr0d-root-4f9a!",
    "PROXYSQL_ADMIN_PASSWORD": "Pr0d-proxysql-77c2",
    "HAPROXY_STATS_USER": "statsadmin",
    "HAPROXY_STATS_PASSWORD": "Pr0d-stats-0b1e",
    "REDIS_PASSWORD": "Pr0d-redis-9e3d",
}


def minimal(**extra: object) -> dict[str, object]:
    return {"name": "t", "environment": "lab", **extra}


@pytest.fixture
def prod_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for name, value in PROD_SECRETS.items():
        monkeypatch.setenv(name, value)
    return PROD_SECRETS


# -- shipped profiles ------------------------------------------------------------------------
def test_local_profile_loads_with_the_seed_ports(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JARABA_LAB_DIR", raising=False)
    monkeypatch.delenv("XDG_STATE_HOME", raising=False)
    profile = load_profile()  # the default is `local`
    assert profile.name == "local" and profile.environment == "lab"
    assert profile.source == SHIPPED / "local.toml"
    assert profile.galera is not None
    assert [n.port for n in profile.galera.nodes] == [3307, 3308, 3309]
    assert all(n.ssh == "lab" for n in profile.galera.nodes)
    assert profile.galera.nodes[1].datadir == "/tmp/jaraba-lab/galera/node2/data"
    assert profile.proxysql is not None and profile.proxysql.port == 6032
    assert profile.redis is not None and [i.port for i in profile.redis.instances] == [
        6379,
        6380,
        6381,
    ]
    assert profile.sentinel is not None and profile.sentinel.master_name == "jaraba-master"
    lab = profile.ssh.hosts["lab"]
    assert (lab.host, lab.port, lab.user) == ("127.0.0.1", 2222, "root")
    assert lab.key_file == "/tmp/jaraba-lab/ssh/id_ed25519"
    assert lab.accept_new_host_key is False
    assert profile.haproxy is not None and profile.haproxy.runtime is not None
    assert profile.haproxy.runtime.kind == "unix"
    assert profile.haproxy.runtime.unix == "/tmp/jaraba-lab/haproxy/admin.sock"


def test_local_profile_follows_the_lab_state_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JARABA_LAB_DIR", "/srv/lab-ci")
    profile = load_profile("local")
    assert profile.ssh.hosts["lab"].known_hosts == "/srv/lab-ci/ssh/known_hosts"
    monkeypatch.delenv("JARABA_LAB_DIR")
    monkeypatch.setenv("XDG_STATE_HOME", "/home/op/.local/state")
    profile = load_profile("local")
    assert profile.audit_log == "/home/op/.local/state/jaraba-lab/audit.log"


def test_local_profile_uses_the_public_lab_credentials_only_as_fallback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("REDIS_PASSWORD", raising=False)
    profile = load_profile("local")
    assert profile.redis is not None
    assert profile.redis.instances[0].password is not None
    monkeypatch.setenv("REDIS_PASSWORD", "from-the-env")
    fresh = load_profile("local")
    assert fresh.redis is not None and fresh.redis.instances[0].password is not None
    assert fresh.redis.instances[0].password.reveal() == "from-the-env"


def test_production_example_loads_with_its_secrets(prod_env: dict[str, str]) -> None:
    profile = load_profile(PROD)
    assert profile.is_production and profile.read_only
    assert profile.galera is not None
    assert [n.host for n in profile.galera.nodes] == [
        "node1.db.jaraba.io",
        "node2.db.jaraba.io",
        "node3.db.jaraba.io",
    ]
    # The seed's firewall: Galera SQL through the DB nodes, Redis/Sentinel through Redis nodes.
    assert [n.via for n in profile.galera.nodes] == ["db1", "db2", "db3"]
    assert profile.redis is not None and all(i.via for i in profile.redis.instances)
    assert profile.sentinel is not None and all(i.via for i in profile.sentinel.instances)
    assert all(h.jump == "bastion" for name, h in profile.ssh.hosts.items() if name != "bastion")
    assert profile.ssh.hosts["redis1"].host == "redis-master.jaraba.io"
    assert {f"app{i}.jaraba.io" for i in (1, 2, 3)} <= {h.host for h in profile.ssh.hosts.values()}
    assert profile.haproxy is not None and profile.haproxy.runtime is not None
    assert profile.haproxy.runtime.kind == "ssh-unix"
    profile.resolve_secrets()
    assert profile.galera.nodes[0].password is not None
    assert profile.galera.nodes[0].password.reveal() == prod_env["MYSQL_ROOT_PASSWORD"]


def test_production_example_without_its_secrets_names_every_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in PROD_SECRETS:
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ProfileError) as info:
        load_profile(PROD)
    message = str(info.value)
    for name in PROD_SECRETS:
        assert name in message


# -- secrets never leak ----------------------------------------------------------------------
def test_a_loaded_profile_never_shows_its_secrets(prod_env: dict[str, str]) -> None:
    profile = load_profile(PROD)
    profile.resolve_secrets()  # revealed and cached: still never rendered
    renderings = [
        repr(profile),
        str(profile),
        profile.as_json(),
        str(profile.dump()),
        repr(profile.dump()),
        repr(profile.secrets()),
        f"{profile.galera.nodes[0].password}" if profile.galera else "",
        pickle.dumps(profile).decode("latin-1"),
        repr(copy.deepcopy(profile)),
    ]
    for text in renderings:
        for value in prod_env.values():
            if value == "statsadmin":  # a user name: not a secret, may be shown
                continue
            assert value not in text
    assert '"env:REDIS_PASSWORD"' in profile.as_json()
    assert profile.dump()["galera"]["nodes"][0]["password"] == "env:MYSQL_ROOT_PASSWORD"
    assert "Secret(env:MYSQL_ROOT_PASSWORD)" in repr(profile)


def test_revealed_secrets_are_registered_and_scrubbed(prod_env: dict[str, str]) -> None:
    profile = load_profile(PROD)
    profile.resolve_secrets()
    known = known_secret_values()
    for name, value in prod_env.items():
        if name != "HAPROXY_STATS_USER":  # user names are not scrubbed
            assert value in known
    line = f"connect failed with password {prod_env['REDIS_PASSWORD']} on db"
    assert scrub(line) == "connect failed with password *** on db"
    assert "statsadmin" not in known


def test_scrub_replaces_the_longest_value_first() -> None:
    register_secret_value("abc-secret")
    register_secret_value("abc-secret-longer")
    assert scrub("x abc-secret-longer y abc-secret") == "x *** y ***"
    register_secret_value("p@ss word/+")
    assert "p%40ss" not in scrub("url http://u:p%40ss%20word%2F%2B@h")


def test_secret_from_a_command(tmp_path: Path) -> None:
    secret = Secret.parse({"command": f"{sys.executable} -c 'print(\"cmd-Secret-1\")'"})
    assert secret.source == f"command:{sys.executable}"
    assert secret.reveal() == "cmd-Secret-1"
    assert "cmd-Secret-1" in known_secret_values()
    assert "cmd-Secret-1" not in repr(secret) + str(secret)


def test_a_failing_secret_command_says_why_without_output() -> None:
    secret = Secret.parse(
        {"command": f"{sys.executable} -c 'print(\"leaky-value\"); raise SystemExit(3)'"}
    )
    secret.bind(path="/p.toml", key="redis.instances[0].password", environment="lab")
    with pytest.raises(ProfileError) as info:
        secret.reveal()
    assert "status 3" in str(info.value)
    assert "leaky-value" not in str(info.value)
    assert info.value.key == "redis.instances[0].password"


def test_a_hanging_secret_command_times_out() -> None:
    secret = Secret.parse({"command": "sleep 30", "timeout": 0.5})
    with pytest.raises(ProfileError, match="did not finish"):
        secret.reveal()


def test_command_secrets_are_not_run_at_load(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    data = minimal(
        proxysql={"host": "127.0.0.1", "password": {"command": f"touch {marker}"}},
    )
    profile_from_mapping(data)
    assert not marker.exists()


def test_missing_secret_revealed_late_names_the_file_and_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("JARABA_LATE", raising=False)
    data = minimal(proxysql={"host": "127.0.0.1", "password": {"env": "JARABA_LATE"}})
    profile = profile_from_mapping(data, path="/etc/x.toml", check_secrets=False)
    assert profile.proxysql is not None and profile.proxysql.password is not None
    with pytest.raises(ProfileError) as info:
        profile.proxysql.password.reveal()
    assert info.value.key == "proxysql.password"
    assert str(info.value.path) == "/etc/x.toml"
    assert "JARABA_LATE" in str(info.value)


def test_lab_defaults_never_apply_outside_the_lab(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REDIS_PASSWORD", raising=False)
    secret = Secret.parse({"env": "REDIS_PASSWORD", "default_for_lab": "redis_dev"})
    secret.bind(path=None, key="k", environment="staging")
    with pytest.raises(ProfileError):
        secret.reveal()


# -- resolution ------------------------------------------------------------------------------
def test_resolution_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import jaraba_tui.profile.loader as loader

    user_dir = tmp_path / "config"
    user_dir.mkdir()
    monkeypatch.setattr(loader, "user_profiles_dir", lambda: user_dir)
    assert resolve_profile_path("local") == SHIPPED / "local.toml"
    (user_dir / "local.toml").write_text('name = "mine"\nenvironment = "lab"\n')
    assert resolve_profile_path("local") == user_dir / "local.toml"
    assert load_profile().name == "mine"
    explicit = tmp_path / "other.toml"
    explicit.write_text('name = "other"\nenvironment = "staging"\n')
    assert load_profile(str(explicit)).name == "other"
    with pytest.raises(ProfileError) as info:
        load_profile("locla")
    assert "did you mean 'local'" in info.value.fix
    with pytest.raises(ProfileError) as info:
        load_profile(str(tmp_path / "missing.toml"))
    assert "not found" in str(info.value)
    with pytest.raises(ProfileError):
        load_profile("bad name$")


def test_unreadable_files(tmp_path: Path) -> None:
    directory = tmp_path / "dir.toml"
    directory.mkdir()
    with pytest.raises(ProfileError, match="directory"):
        load_profile(directory)
    huge = tmp_path / "huge.toml"
    huge.write_text("# " + "x" * 2_000_000)
    with pytest.raises(ProfileError, match="too large"):
        load_profile(huge)


# -- path expansion --------------------------------------------------------------------------
def test_expand_vars(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("A", "/a")
    monkeypatch.delenv("B", raising=False)
    monkeypatch.delenv("C", raising=False)
    assert expand_vars("${A}/x") == "/a/x"
    assert expand_vars("${B:-/b}/x") == "/b/x"
    assert expand_vars("${B:-${C:-/c}/lab}/x") == "/c/lab/x"
    assert expand_vars("${B:-${A}/lab}") == "/a/lab"
    assert expand_vars("/plain") == "/plain"
    for bad in ("$A", "${B}", "${A", "${B:-x", "${1A}", "${A:x}"):
        with pytest.raises(ValueError):
            expand_vars(bad)


def test_hosts_and_secrets_never_expand(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOSTVAR", "db1")
    with pytest.raises(ProfileError) as info:
        profile_from_mapping(minimal(proxysql={"host": "${HOSTVAR}"}))
    assert info.value.key == "proxysql.host"


def test_tilde_expands_in_local_paths_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", "/home/op")
    profile = profile_from_mapping(
        minimal(ssh={"hosts": {"h": {"host": "h.example", "key_file": "~/.ssh/id"}}})
    )
    assert profile.ssh.hosts["h"].key_file == "/home/op/.ssh/id"


# -- schema details --------------------------------------------------------------------------
def test_defaults_are_sane() -> None:
    profile = profile_from_mapping(minimal())
    assert profile.poll.connect_timeout > 0 and profile.poll.read_timeout > 0
    assert profile.thresholds.disk_warn_pct < profile.thresholds.disk_crit_pct
    assert not profile.read_only and not profile.is_production
    assert profile.galera is None


def test_profiles_are_immutable() -> None:
    profile = profile_from_mapping(minimal(), path="/p.toml")
    with pytest.raises(AttributeError):
        profile.name = "other"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        profile.poll.galera = 1.0  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del profile.environment
    assert profile.name == "t"
    other = profile.replace(name="other")
    assert (other.name, other.source, profile.name) == ("other", Path("/p.toml"), "t")
    assert other != profile and other.replace(name="t") == profile
    with pytest.raises(TypeError):
        profile.replace(colour="red")


def test_profiles_pickle_and_copy(prod_env: dict[str, str]) -> None:
    profile = load_profile(PROD)
    for twin in (pickle.loads(pickle.dumps(profile)), copy.deepcopy(profile), copy.copy(profile)):
        assert twin == profile and twin is not profile
        assert twin.source == PROD and twin.is_production
        assert hash(twin.poll) == hash(profile.poll)
        assert twin.galera is not None and twin.galera.nodes[0].password is not None
        assert twin.galera.nodes[0].password.reveal() == prod_env["MYSQL_ROOT_PASSWORD"]


def test_ipv6_and_dns_names_are_hosts() -> None:
    profile = profile_from_mapping(
        minimal(
            redis={
                "instances": [
                    {"name": "a", "host": "::1"},
                    {"name": "b", "host": "redis-master.jaraba.io"},
                ]
            }
        )
    )
    assert profile.redis is not None and profile.redis.instances[0].host == "::1"


def test_user_may_be_a_non_sensitive_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRUPAL_DB_USER", "drupal-user-x")
    monkeypatch.setenv("DRUPAL_DB_PASSWORD", "drupal-pass-x")
    profile = profile_from_mapping(
        minimal(
            galera={
                "nodes": [
                    {
                        "name": "n",
                        "host": "127.0.0.1",
                        "user": {"env": "DRUPAL_DB_USER"},
                        "password": {"env": "DRUPAL_DB_PASSWORD"},
                    }
                ]
            }
        )
    )
    assert isinstance(profile, Profile)
    node = profile.galera.nodes[0] if profile.galera else None
    assert node is not None and isinstance(node.user, Secret) and not node.user.sensitive


def test_thresholds_speak_the_model_layers_vocabulary() -> None:
    import dataclasses

    from jaraba_tui.model.thresholds import Thresholds as HealthThresholds

    profile = profile_from_mapping(minimal(thresholds={"redis_lag_warn_s": 3, "disk_crit_pct": 95}))
    health = profile.thresholds.to_health()
    assert isinstance(health, HealthThresholds)
    assert health.redis_lag_warn_s == 3 and health.disk_crit_pct == 95
    defaults = HealthThresholds()
    fields = {f.name for f in dataclasses.fields(HealthThresholds)}
    assert set(type(profile.thresholds).field_names()) == fields
    assert profile_from_mapping(minimal()).thresholds.to_health() == defaults
