"""infrastructure/ha: the seed's production configs, checked with the real tools.

Every file is validated by the program that will read it in production (haproxy -c,
promtool, amtool, mariadbd, redis-server, shellcheck) and, where it can run on a laptop,
run for real: HAProxy routes blue/green traffic and is switched over its runtime socket,
a one-node Galera cluster bootstraps from galera.cnf, Redis + Sentinel start from
redis.conf / sentinel.conf, and the exporters the lab runs are scraped to prove that every
metric name used by the alerts and the dashboard exists.

Nothing here touches the lab's ports: every server started by a test listens on a free
loopback port and is stopped by its PID at the end of the test.
"""

from __future__ import annotations

import configparser
import contextlib
import http.client
import itertools
import json
import os
import re
import resource
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
HA = REPO / "infrastructure" / "ha"
GALERA_CNF = HA / "mariadb" / "galera.cnf"
PROXYSQL_CNF = HA / "proxysql" / "proxysql.cnf"
HAPROXY_CFG = HA / "haproxy" / "haproxy.cfg"
BLUEGREEN_MAP = HA / "haproxy" / "maps" / "bluegreen.map"
REDIS_CONF = HA / "redis" / "redis.conf"
SENTINEL_CONF = HA / "redis" / "sentinel.conf"
DEPLOY_SH = HA / "scripts" / "blue-green-deploy.sh"
RENDER_SH = HA / "scripts" / "render-config.sh"
ALERTS = HA / "monitoring" / "prometheus-alerts.yml"
ALERT_TESTS = HA / "monitoring" / "prometheus-alerts.test.yml"
DASHBOARD = HA / "monitoring" / "grafana-dashboard.json"
COMPOSE = HA / "docker-compose.yml"

# The seed's "Environment Variables Reference" table.
SEED_ENV_VARS = {
    "MYSQL_ROOT_PASSWORD",
    "DRUPAL_DB_USER",
    "DRUPAL_DB_PASSWORD",
    "REPLICATION_USER",
    "REPLICATION_PASSWORD",
    "MONITOR_USER",
    "MONITOR_PASSWORD",
    "PROXYSQL_ADMIN_PASSWORD",
    "REDIS_PASSWORD",
    "HAPROXY_STATS_USER",
    "HAPROXY_STATS_PASSWORD",
}
DEV_SECRETS = (
    "jaraba_root_dev",
    "drupal_dev",
    "admin_dev",
    "redis_dev",
    "monitor_dev",
    "repl_dev",
    "exporter_dev",
)
PRODUCTION_FILES = [
    GALERA_CNF,
    PROXYSQL_CNF,
    HAPROXY_CFG,
    BLUEGREEN_MAP,
    REDIS_CONF,
    SENTINEL_CONF,
    DEPLOY_SH,
    RENDER_SH,
    ALERTS,
    HA / "monitoring" / "prometheus.yml",
    HA / "monitoring" / "alertmanager.yml",
]
PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
METRIC = re.compile(r"\b((?:mysql|proxysql|haproxy|redis)_[a-z0-9_]+)\b")

# Percona proxysql_exporter (exporter.go): proxysql_up, stats_mysql_global ->
# proxysql_mysql_status_<variable>, stats_mysql_connection_pool ->
# proxysql_connection_pool_<column>{hostgroup,endpoint}. No Debian package exists to run it,
# so this list is checked against the exporter's source instead of a live scrape.
PROXYSQL_EXPORTER_METRICS = {
    "proxysql_up",
    "proxysql_connection_pool_status",
    "proxysql_connection_pool_conn_used",
    "proxysql_connection_pool_conn_free",
    "proxysql_connection_pool_conn_ok",
    "proxysql_connection_pool_conn_err",
    "proxysql_connection_pool_queries",
    "proxysql_connection_pool_latency_us",
    "proxysql_mysql_status_questions",
    "proxysql_mysql_status_active_transactions",
    "proxysql_mysql_status_client_connections_connected",
    "proxysql_mysql_status_slow_queries",
}


def need(*tools: str) -> pytest.MarkDecorator:
    missing = [t for t in tools if shutil.which(t) is None]
    return pytest.mark.skipif(bool(missing), reason=f"not installed: {', '.join(missing)}")


def run(
    argv: list[str], *, env: dict[str, str] | None = None, timeout: float = 60, **kw: Any
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, capture_output=True, text=True, env=env, timeout=timeout, check=False, **kw
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(what: str, probe: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            if probe():
                return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def stop(proc: subprocess.Popen[Any]) -> None:
    """Stop a process this test started, by its PID."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def metric_names(text: str) -> set[str]:
    return set(METRIC.findall(text))


def alert_rules() -> list[dict[str, Any]]:
    doc = yaml.safe_load(ALERTS.read_text())
    return [rule for group in doc["groups"] for rule in group["rules"]]


def dashboard_exprs() -> list[str]:
    dash = json.loads(DASHBOARD.read_text())
    return [t["expr"] for p in dash["panels"] for t in p.get("targets", [])]


def referenced_metrics(prefix: str) -> set[str]:
    """Exporter metric names used by the alert rules and the dashboard."""
    exprs = [r["expr"] for r in alert_rules()] + dashboard_exprs()
    return {m for e in exprs for m in metric_names(e) if m.startswith(prefix + "_")}


def render(template: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run(["sh", str(RENDER_SH), str(template)], env={"PATH": os.environ["PATH"], **env})


DEV_ENV = {
    "MYSQL_ROOT_PASSWORD": "root-pw",
    "DRUPAL_DB_USER": "drupal",
    "DRUPAL_DB_PASSWORD": "drupal-pw",
    "REPLICATION_USER": "repl",
    "REPLICATION_PASSWORD": "repl-pw",
    "MONITOR_USER": "monitor",
    "MONITOR_PASSWORD": "monitor-pw",
    "PROXYSQL_ADMIN_PASSWORD": "admin-pw",
    "REDIS_PASSWORD": "s3cret&/\\x",
    "HAPROXY_STATS_USER": "admin",
    "HAPROXY_STATS_PASSWORD": "stats-pw",
}


# =========================================================================== secrets


@pytest.mark.parametrize("path", PRODUCTION_FILES, ids=lambda p: str(p.relative_to(HA)))
def test_production_files_hold_no_dev_secret(path: Path) -> None:
    text = path.read_text()
    leaked = [s for s in DEV_SECRETS if s in text]
    assert not leaked, f"{path.name} contains dev credentials {leaked}"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (GALERA_CNF, {"REPLICATION_USER", "REPLICATION_PASSWORD"}),
        (
            PROXYSQL_CNF,
            {
                "MONITOR_USER",
                "MONITOR_PASSWORD",
                "PROXYSQL_ADMIN_PASSWORD",
                "DRUPAL_DB_USER",
                "DRUPAL_DB_PASSWORD",
            },
        ),
        (REDIS_CONF, {"REDIS_PASSWORD"}),
        (SENTINEL_CONF, {"REDIS_PASSWORD"}),
        (HAPROXY_CFG, {"HAPROXY_STATS_USER", "HAPROXY_STATS_PASSWORD"}),
    ],
    ids=lambda v: v.name if isinstance(v, Path) else "",
)
def test_secrets_are_seed_placeholders(path: Path, expected: set[str]) -> None:
    used = set(PLACEHOLDER.findall(path.read_text()))
    assert used <= SEED_ENV_VARS, f"unknown variables {used - SEED_ENV_VARS}"
    assert used == expected


@pytest.mark.parametrize("template", [GALERA_CNF, PROXYSQL_CNF, REDIS_CONF, SENTINEL_CONF])
def test_render_config_fills_every_placeholder(template: Path) -> None:
    out = render(template, DEV_ENV)
    assert out.returncode == 0, out.stderr
    body = [ln for ln in out.stdout.splitlines() if not ln.lstrip().startswith(("#", ";"))]
    assert not [ln for ln in body if PLACEHOLDER.search(ln)]
    # Values are copied byte for byte (no sed/awk replacement-string surprises)...
    if template in (REDIS_CONF, SENTINEL_CONF):
        assert DEV_ENV["REDIS_PASSWORD"] in out.stdout
    # ...and comments keep the variable names, never the secret.
    comments = [ln for ln in out.stdout.splitlines() if ln.lstrip().startswith("#")]
    assert not [ln for ln in comments if "-pw" in ln or "s3cret" in ln]


def test_render_config_refuses_missing_and_unknown_variables(tmp_path: Path) -> None:
    missing = render(REDIS_CONF, {})
    assert missing.returncode == 1
    assert missing.stdout == ""
    assert "${REDIS_PASSWORD} is unset or empty" in missing.stderr

    empty = render(REDIS_CONF, {"REDIS_PASSWORD": ""})
    assert empty.returncode == 1

    tpl = tmp_path / "t.conf"
    tpl.write_text("a ${REDIS_PASSWORD}\nb ${NOT_A_SEED_VARIABLE}\n")
    unknown = render(tpl, {"REDIS_PASSWORD": "x", "NOT_A_SEED_VARIABLE": "y"})
    assert unknown.returncode == 1
    assert "NOT_A_SEED_VARIABLE" in unknown.stderr


# =========================================================================== Galera


def galera_options() -> dict[str, dict[str, str]]:
    cp = configparser.ConfigParser(
        allow_no_value=True, inline_comment_prefixes=("#",), strict=True, interpolation=None
    )
    cp.read_string(GALERA_CNF.read_text())
    return {s: dict(cp[s]) for s in cp.sections()}


def test_galera_cnf_replication_settings() -> None:
    opts = galera_options()
    mysqld, galera = opts["mysqld"], opts["galera"]
    assert mysqld["binlog_format"] == "ROW"
    assert mysqld["innodb_autoinc_lock_mode"] == "2"
    assert mysqld["default_storage_engine"] == "InnoDB"
    assert galera["wsrep_on"] == "ON"
    assert galera["wsrep_provider"] == "/usr/lib/galera/libgalera_smm.so"
    assert galera["wsrep_cluster_address"] == (
        "gcomm://node1.db.jaraba.io,node2.db.jaraba.io,node3.db.jaraba.io"
    )
    assert galera["wsrep_sst_method"] == "mariabackup"
    assert galera["wsrep_sst_auth"] == "${REPLICATION_USER}:${REPLICATION_PASSWORD}"
    assert "gcs.fc_limit" in galera["wsrep_provider_options"]
    assert re.search(r"~70% of the node's RAM", GALERA_CNF.read_text())


@need("mariadbd")
def test_galera_cnf_is_accepted_by_mariadbd(tmp_path: Path) -> None:
    rendered = render(GALERA_CNF, DEV_ENV)
    assert rendered.returncode == 0, rendered.stderr
    cnf = tmp_path / "galera.cnf"
    cnf.write_text(rendered.stdout)
    out = run(["mariadbd", f"--defaults-file={cnf}", "--help", "--verbose"])
    # An unknown or misspelt option makes mariadbd exit non-zero ("unknown variable").
    assert out.returncode == 0, out.stderr[-2000:]
    values = dict(
        (m.group(1), m.group(2).strip())
        for m in re.finditer(r"^([a-z][a-z0-9-]+)[ \t]+(.*)$", out.stdout, re.M)
    )
    assert values["binlog-format"] == "ROW"
    assert values["innodb-autoinc-lock-mode"] == "2"
    assert values["wsrep-sst-method"] == "mariabackup"
    assert values["wsrep-sst-auth"] == "repl:repl-pw"
    assert values["wsrep-on"] == "TRUE"


GALERA_LIB = Path("/usr/lib/galera/libgalera_smm.so")


@pytest.mark.slow
@need("mariadbd", "mariadb-install-db", "mariadb")
@pytest.mark.skipif(not GALERA_LIB.exists(), reason="galera-4 not installed")
def test_galera_node_bootstraps_from_config_and_exports_alerted_metrics(tmp_path: Path) -> None:
    """A one-node cluster started from galera.cnf (addresses, paths and sizes adapted)."""
    rendered = render(GALERA_CNF, DEV_ENV)
    assert rendered.returncode == 0, rendered.stderr
    cnf = tmp_path / "galera.cnf"
    cnf.write_text(rendered.stdout)
    provider_options = re.search(r'^wsrep_provider_options\s*=\s*"(.*)"$', rendered.stdout, re.M)
    assert provider_options
    sql_port, gcomm_port, ist_port, sst_port = (free_port() for _ in range(4))
    datadir, logdir = tmp_path / "data", tmp_path / "log"
    datadir.mkdir()
    logdir.mkdir()
    user = "root" if os.geteuid() == 0 else os.environ.get("USER", "nobody")
    install = run(
        [
            "mariadb-install-db",
            "--no-defaults",
            f"--datadir={datadir}",
            f"--user={user}",
            "--auth-root-authentication-method=normal",
            "--skip-test-db",
        ],
        timeout=120,
    )
    assert install.returncode == 0, install.stdout[-2000:] + install.stderr[-2000:]
    sock = tmp_path / "mysqld.sock"
    opts = provider_options.group(1).replace("gcache.size=2G", "gcache.size=32M")
    argv = [
        "mariadbd",
        f"--defaults-file={cnf}",
        f"--user={user}",
        f"--datadir={datadir}",
        f"--socket={sock}",
        f"--pid-file={tmp_path / 'mysqld.pid'}",
        f"--port={sql_port}",
        "--bind-address=127.0.0.1",
        f"--log-bin={logdir / 'bin'}",
        f"--log-bin-index={logdir / 'bin.index'}",
        f"--log-error={logdir / 'error.log'}",
        f"--slow-query-log-file={logdir / 'slow.log'}",
        "--innodb-buffer-pool-size=128M",
        "--innodb-log-file-size=48M",
        "--wsrep-cluster-address=gcomm://",
        "--wsrep-node-address=127.0.0.1",
        f"--wsrep-sst-receive-address=127.0.0.1:{sst_port}",
        f"--wsrep-provider-options={opts}; gmcast.listen_addr=tcp://127.0.0.1:{gcomm_port};"
        f" ist.recv_addr=127.0.0.1:{ist_port}",
        "--wsrep-new-cluster",
    ]
    log = (tmp_path / "mariadbd.out").open("w")
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
    exporter: subprocess.Popen[bytes] | None = None
    try:

        def sql(query: str) -> str:
            out = run(["mariadb", f"--socket={sock}", "-uroot", "-N", "-B", "-e", query])
            if out.returncode != 0:
                raise OSError(out.stderr)
            return out.stdout.strip()

        def synced() -> bool:
            assert proc.poll() is None, (logdir / "error.log").read_text()[-3000:]
            return sql("SHOW STATUS LIKE 'wsrep_local_state_comment'").endswith("Synced")

        wait_for("the Galera node to be Synced", synced, timeout=60)
        status = dict(
            line.split("\t")
            for line in sql(
                "SHOW STATUS WHERE Variable_name IN ('wsrep_cluster_status',"
                " 'wsrep_cluster_size', 'wsrep_ready', 'wsrep_connected')"
            ).splitlines()
        )
        assert status == {
            "wsrep_cluster_status": "Primary",
            "wsrep_cluster_size": "1",
            "wsrep_ready": "ON",
            "wsrep_connected": "ON",
        }
        assert sql("SELECT @@wsrep_sst_method, @@binlog_format, @@innodb_autoinc_lock_mode") == (
            "mariabackup\tROW\t2"
        )
        assert "gcs.fc_limit = 256" in sql("SELECT @@wsrep_provider_options")

        if shutil.which("prometheus-mysqld-exporter") is None:
            return
        sql(
            "CREATE USER 'exporter'@'127.0.0.1' IDENTIFIED BY 'xp';"
            " GRANT PROCESS, REPLICATION CLIENT, SELECT ON *.* TO 'exporter'@'127.0.0.1'"
        )
        my_cnf = tmp_path / "exporter.cnf"
        my_cnf.write_text(
            f"[client]\nuser=exporter\npassword=xp\nhost=127.0.0.1\nport={sql_port}\n"
        )
        web = free_port()
        exporter = subprocess.Popen(
            [
                "prometheus-mysqld-exporter",
                f"--config.my-cnf={my_cnf}",
                f"--web.listen-address=127.0.0.1:{web}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for("mysqld_exporter", lambda: port_open(web))
        text = http_get(web, "/metrics")[2]
        assert re.search(r"^mysql_global_status_wsrep_cluster_status 1$", text, re.M)
        assert re.search(r"^mysql_global_status_wsrep_local_state 4$", text, re.M)
        missing = referenced_metrics("mysql") - metric_names(text)
        assert not missing, f"mysqld_exporter does not export {sorted(missing)}"
    finally:
        if exporter is not None:
            stop(exporter)
        stop(proc)
        log.close()


# =========================================================================== ProxySQL


_LIBCONFIG_TOKEN = re.compile(
    r"""(?P<skip>\s+|\#[^\n]*|//[^\n]*|/\*.*?\*/)
      | (?P<str>"(?:[^"\\]|\\.)*")
      | (?P<num>[-+]?(?:0[xX][0-9a-fA-F]+|\d+\.\d*(?:[eE][-+]?\d+)?|\d+)L?)
      | (?P<bool>(?:true|false|TRUE|FALSE|True|False)\b)
      | (?P<name>[A-Za-z*][-A-Za-z0-9_*]*)
      | (?P<punct>[=:;,{}()\[\]])""",
    re.X | re.S,
)


def parse_libconfig(text: str) -> dict[str, Any]:
    """Minimal libconfig reader (the format of proxysql.cnf): groups, lists, arrays, scalars."""
    tokens: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        m = _LIBCONFIG_TOKEN.match(text, pos)
        if not m:
            raise ValueError(f"libconfig syntax error at {text[pos : pos + 40]!r}")
        pos = m.end()
        kind = m.lastgroup
        assert kind is not None
        if kind != "skip":
            tokens.append((kind, m.group()))
    i = 0

    def peek() -> tuple[str, str]:
        return tokens[i] if i < len(tokens) else ("eof", "")

    def take(expected: str | None = None) -> tuple[str, str]:
        nonlocal i
        tok = peek()
        if expected is not None and tok[1] != expected:
            raise ValueError(f"expected {expected!r}, got {tok[1]!r}")
        i += 1
        return tok

    def scalar(tok: tuple[str, str]) -> Any:
        kind, raw = tok
        if kind == "str":
            out = re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m[1], m[1]), raw[1:-1])
            while peek()[0] == "str":  # adjacent strings concatenate
                out += take()[1][1:-1]
            return out
        if kind == "bool":
            return raw.lower() == "true"
        if kind == "num":
            raw = raw.rstrip("L")
            return int(raw, 0) if re.fullmatch(r"[-+]?(0[xX][0-9a-fA-F]+|\d+)", raw) else float(raw)
        raise ValueError(f"unexpected {raw!r}")

    def value() -> Any:
        kind, raw = peek()
        if raw == "{":
            take("{")
            group = settings("}")
            take("}")
            return group
        if raw in "([" and kind == "punct":
            close = ")" if raw == "(" else "]"
            take()
            items = []
            while peek()[1] != close:
                items.append(value())
                if peek()[1] == ",":
                    take(",")
            take(close)
            return items
        return scalar(take())

    def settings(until: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        while peek()[1] != until and peek()[0] != "eof":
            kind, name = take()
            if kind != "name":
                raise ValueError(f"expected a setting name, got {name!r}")
            if take()[1] not in "=:":
                raise ValueError(f"expected = after {name}")
            if name in out:
                raise ValueError(f"duplicate setting {name}")
            out[name] = value()
            if peek()[1] in (";", ","):
                take()
        return out

    result = settings("")
    if peek()[0] != "eof":
        raise ValueError(f"trailing input at {peek()[1]!r}")
    return result


def test_libconfig_reader_rejects_malformed_input() -> None:
    assert parse_libconfig('a = { b = (1, 2); c = "x" "y" }') == {"a": {"b": [1, 2], "c": "xy"}}
    with pytest.raises(ValueError):
        parse_libconfig("a = { b = 1 ")
    with pytest.raises(ValueError):
        parse_libconfig("a = 1\na = 2")


def proxysql_config() -> dict[str, Any]:
    return parse_libconfig(PROXYSQL_CNF.read_text())


# Names from ProxySQL 2.x's own tables (lib/MySQL_Thread.cpp mysql_thread_variables_names,
# lib/ProxySQL_Admin.cpp admin_variables_names): ProxySQL only logs, and then ignores, a
# variable it does not know, so a typo would silently keep the default.
PROXYSQL_MYSQL_VARIABLES = set(
    [
        "shun_on_failures",
        "shun_recovery_time_sec",
        "unshun_algorithm",
        "query_retries_on_failure",
        "client_host_cache_size",
        "client_host_error_counts",
        "connect_retries_on_failure",
        "connect_retries_delay",
        "connection_delay_multiplex_ms",
        "connection_max_age_ms",
        "connect_timeout_client",
        "connect_timeout_server",
        "connect_timeout_server_max",
        "enable_client_deprecate_eof",
        "enable_server_deprecate_eof",
        "enable_load_data_local_infile",
        "eventslog_filename",
        "eventslog_filesize",
        "eventslog_default_log",
        "eventslog_format",
        "auditlog_filename",
        "auditlog_filesize",
        "handle_unknown_charset",
        "free_connections_pct",
        "connection_warming",
        "session_idle_ms",
        "have_ssl",
        "have_compress",
        "interfaces",
        "log_mysql_warnings_enabled",
        "monitor_enabled",
        "monitor_history",
        "monitor_connect_interval",
        "monitor_connect_timeout",
        "monitor_ping_interval",
        "monitor_ping_max_failures",
        "monitor_ping_timeout",
        "monitor_read_only_interval",
        "monitor_read_only_timeout",
        "monitor_read_only_max_timeout_count",
        "monitor_replication_lag_interval",
        "monitor_replication_lag_timeout",
        "monitor_galera_healthcheck_interval",
        "monitor_galera_healthcheck_timeout",
        "monitor_galera_healthcheck_max_timeout_count",
        "monitor_username",
        "monitor_password",
        "monitor_query_interval",
        "monitor_query_timeout",
        "monitor_threads_min",
        "monitor_threads_max",
        "monitor_wait_timeout",
        "monitor_writer_is_also_reader",
        "max_allowed_packet",
        "tcp_keepalive_time",
        "use_tcp_keepalive",
        "max_transaction_idle_time",
        "max_transaction_time",
        "multiplexing",
        "log_unhealthy_connections",
        "enforce_autocommit_on_reads",
        "autocommit_false_not_reusable",
        "autocommit_false_is_transaction",
        "verbose_query_error",
        "threshold_query_length",
        "threshold_resultset_size",
        "wait_timeout",
        "max_connections",
        "max_stmts_per_connection",
        "max_stmts_cache",
        "default_max_latency_ms",
        "default_query_delay",
        "default_query_timeout",
        "query_processor_iterations",
        "query_processor_regex",
        "set_query_lock_on_hostgroup",
        "auto_increment_delay_multiplex",
        "long_query_time",
        "query_cache_size_MB",
        "ping_interval_server_msec",
        "ping_timeout_server",
        "default_schema",
        "poll_timeout",
        "poll_timeout_on_failure",
        "server_capabilities",
        "server_version",
        "kill_backend_connection_when_disconnect",
        "sessions_sort",
        "commands_stats",
        "query_digests",
        "query_digests_lowercase",
        "query_digests_max_digest_length",
        "query_digests_max_query_length",
        "stacksize",
        "threads",
        "init_connect",
        "servers_stats",
        "default_reconnect",
    ]
)
PROXYSQL_ADMIN_VARIABLES = set(
    [
        "admin_credentials",
        "stats_credentials",
        "mysql_ifaces",
        "telnet_admin_ifaces",
        "telnet_stats_ifaces",
        "refresh_interval",
        "read_only",
        "vacuum_stats",
        "version",
        "cluster_username",
        "cluster_password",
        "web_enabled",
        "web_port",
        "restapi_enabled",
        "restapi_port",
    ]
)


def test_proxysql_variables_are_known_to_proxysql() -> None:
    cfg = proxysql_config()
    unknown = set(cfg["mysql_variables"]) - PROXYSQL_MYSQL_VARIABLES
    assert not unknown, f"not ProxySQL 2.x mysql variables: {sorted(unknown)}"
    unknown = set(cfg["admin_variables"]) - PROXYSQL_ADMIN_VARIABLES
    assert not unknown, f"not ProxySQL 2.x admin variables: {sorted(unknown)}"


def test_proxysql_interfaces_and_credentials() -> None:
    cfg = proxysql_config()
    admin, mysql = cfg["admin_variables"], cfg["mysql_variables"]
    assert admin["mysql_ifaces"].endswith(":6032")
    assert mysql["interfaces"].endswith(":6033")
    assert "admin:${PROXYSQL_ADMIN_PASSWORD}" in admin["admin_credentials"].split(";")
    assert mysql["monitor_username"] == "${MONITOR_USER}"
    assert mysql["monitor_password"] == "${MONITOR_PASSWORD}"
    (user,) = cfg["mysql_users"]
    assert user["username"] == "${DRUPAL_DB_USER}"
    assert user["password"] == "${DRUPAL_DB_PASSWORD}"
    assert user["default_hostgroup"] == 10
    assert user["transaction_persistent"] == 1


def test_proxysql_galera_hostgroups() -> None:
    cfg = proxysql_config()
    (hg,) = cfg["mysql_galera_hostgroups"]
    assert {k: hg[k] for k in hg if k != "comment"} == {
        "writer_hostgroup": 10,
        "backup_writer_hostgroup": 20,
        "reader_hostgroup": 30,
        "offline_hostgroup": 9999,
        "active": 1,
        "max_writers": 1,
        "writer_is_also_reader": 2,
        "max_transactions_behind": 100,
    }
    servers = cfg["mysql_servers"]
    assert [(s["address"], s["port"], s["hostgroup"]) for s in servers] == [
        (f"node{n}.db.jaraba.io", 3306, 10) for n in (1, 2, 3)
    ]
    weights = [s["weight"] for s in servers]
    assert weights == sorted(weights, reverse=True)
    assert len(set(weights)) == 3, "equal weights make the writer choice arbitrary"


@pytest.mark.parametrize(
    ("query", "hostgroup"),
    [
        ("SELECT nid FROM node WHERE nid = ? FOR UPDATE", 10),
        ("select * from semaphore where name = ? for update", 10),
        ("SELECT * FROM users LOCK IN SHARE MODE", 10),
        ("SELECT GET_LOCK(?,?)", 10),
        ("SELECT LAST_INSERT_ID()", 10),
        ("SELECT nid, title FROM node_field_data WHERE status = ?", 30),
        ("select cid, data from cache_config where cid IN (?,?)", 30),
        ("INSERT INTO watchdog (message) VALUES (?)", 10),
        ("UPDATE users SET login = ? WHERE uid = ?", 10),
        ("START TRANSACTION", 10),
    ],
)
def test_proxysql_query_rules_route(query: str, hostgroup: int) -> None:
    cfg = proxysql_config()
    rules = sorted((r for r in cfg["mysql_query_rules"] if r["active"]), key=lambda r: r["rule_id"])
    default = cfg["mysql_users"][0]["default_hostgroup"]
    # ProxySQL's default re_modifiers is CASELESS; the first matching rule with apply=1 wins.
    routed = next(
        (
            r["destination_hostgroup"]
            for r in rules
            if re.search(r["match_digest"], query, re.I) and r["apply"]
        ),
        default,
    )
    assert routed == hostgroup


# =========================================================================== HAProxy


def make_cert(directory: Path) -> Path:
    key, crt, pem = directory / "key.pem", directory / "crt.pem", directory / "jaraba.pem"
    out = run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(crt),
        ]
    )
    assert out.returncode == 0, out.stderr
    pem.write_text(crt.read_text() + key.read_text())
    return pem


def sub_exact(text: str, old: str, new: str, count: int) -> str:
    """Replace exactly `count` occurrences of `old`, so a changed config fails loudly."""
    found = text.count(old)
    assert found == count, f"expected {count} x {old!r} in haproxy.cfg, found {found}"
    return text.replace(old, new)


@dataclass
class HAProxyPaths:
    cfg: Path
    map: Path
    sock: Path
    cert: Path
    state: Path


def haproxy_paths(tmp: Path) -> HAProxyPaths:
    (tmp / "maps").mkdir(exist_ok=True)
    mp = tmp / "maps" / "bluegreen.map"
    shutil.copy(BLUEGREEN_MAP, mp)
    return HAProxyPaths(tmp / "haproxy.cfg", mp, tmp / "admin.sock", make_cert(tmp), tmp / "state")


def adapt_paths(text: str, p: HAProxyPaths) -> str:
    """The production file with only its file-system paths moved into the test directory."""
    text = sub_exact(text, "/etc/haproxy/certs/jaraba.pem", str(p.cert), 1)
    text = sub_exact(text, "map(/etc/haproxy/maps/bluegreen.map,", f"map({p.map},", 3)
    text = sub_exact(text, "stats socket /run/haproxy/admin.sock", f"stats socket {p.sock}", 1)
    return text.replace("/var/lib/haproxy/server-state", str(p.state))


def stats_env(password: str = "stats-pw") -> dict[str, str]:
    return {
        **os.environ,
        "HAPROXY_STATS_USER": "admin",
        "HAPROXY_STATS_PASSWORD": password,
    }


@need("haproxy", "openssl")
def test_haproxy_config_is_valid(tmp_path: Path) -> None:
    p = haproxy_paths(tmp_path)
    p.cfg.write_text(adapt_paths(HAPROXY_CFG.read_text(), p))
    out = run(["haproxy", "-c", "-f", str(p.cfg)], env=stats_env())
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Configuration file is valid" in out.stdout + out.stderr


@need("haproxy", "openssl")
@pytest.mark.parametrize("password", [None, ""])
def test_haproxy_refuses_to_start_without_stats_credentials(
    tmp_path: Path, password: str | None
) -> None:
    p = haproxy_paths(tmp_path)
    p.cfg.write_text(adapt_paths(HAPROXY_CFG.read_text(), p))
    env = stats_env()
    if password is None:
        del env["HAPROXY_STATS_PASSWORD"]
    else:
        env["HAPROXY_STATS_PASSWORD"] = password
    out = run(["haproxy", "-c", "-f", str(p.cfg)], env=env)
    assert out.returncode != 0
    assert "HAPROXY_STATS_PASSWORD must be set" in out.stdout + out.stderr


def test_haproxy_config_structure() -> None:
    text = HAPROXY_CFG.read_text()
    for needle in (
        "bind :443 ssl crt /etc/haproxy/certs/jaraba.pem",
        "http-request redirect scheme https",
        "stats socket /run/haproxy/admin.sock mode 660 level admin expose-fd listeners",
        "http-request use-service prometheus-exporter if { path /metrics }",
        'stats auth "${HAPROXY_STATS_USER}:${HAPROXY_STATS_PASSWORD}"',
        "cookie SERVERID insert indirect nocache",
        "http-request deny deny_status 429 if { sc_http_req_rate(0) gt",
        "str(live),map(/etc/haproxy/maps/bluegreen.map,blue)",
        "str(canary),map(/etc/haproxy/maps/bluegreen.map,none)",
        "acl canary_hit rand(100),sub(txn.canary_pct) lt 0",
        "use_backend bk_app_%[var(txn.canary)] if canary_hit !{ var(txn.canary) -m str none }",
        "use_backend bk_app_%[var(txn.live)]",
    ):
        assert needle in text, needle
    assert re.search(r"^\s*bind :8404\s*$", text, re.M)
    assert re.search(r"http-check send meth GET uri /health", text)
    for colour, port in (("blue", 8081), ("green", 8082)):
        block = re.split(rf"^backend bk_app_{colour}$", text, flags=re.M)[1]
        block = block.split("\nbackend ", 1)[0]
        servers = re.findall(r"^\s*server (\S+) (\S+) check cookie (\S+)$", block, re.M)
        assert servers == [
            (f"app{n}", f"app{n}.jaraba.io:{port}", f"{colour}-app{n}") for n in (1, 2, 3)
        ]


def test_bluegreen_map_ships_blue_live_without_canary() -> None:
    entries = [
        ln.split()
        for ln in BLUEGREEN_MAP.read_text().splitlines()
        if ln.strip() and not ln.startswith("#")
    ]
    assert entries == [["live", "blue"], ["canary", "none"], ["canary_pct", "0"]]


# --------------------------------------------------------------------- a live HAProxy


class _QuietServer(ThreadingHTTPServer):
    allow_reuse_address = True
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # health checks and closed keep-alive connections reset the socket


class App:
    """One app server of one colour: /health 200, /boom 500, anything else 200 "<colour>-<name>"."""

    def __init__(self, colour: str, name: str) -> None:
        self.colour, self.name = colour, name
        self.port = 0
        self.seen: list[dict[str, str]] = []
        self._server: ThreadingHTTPServer | None = None
        self.start()

    def start(self) -> None:
        app = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                if self.path == "/health":
                    code, body = 200, b"ok"
                elif self.path == "/boom":
                    code, body = 500, b"boom"
                else:
                    app.seen.append({k.lower(): v for k, v in self.headers.items()})
                    code, body = 200, f"{app.colour}-{app.name}".encode()
                self.send_response(code)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = _QuietServer(("127.0.0.1", self.port), Handler)
        self.port = int(self._server.server_address[1])
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


@dataclass
class Edge:
    paths: HAProxyPaths
    http: int
    https: int
    stats: int
    apps: dict[str, list[App]]
    tmp: Path
    sources: Iterator[int] = field(default_factory=lambda: itertools.count(10))

    def api(self, command: str) -> str:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(5)
            s.connect(str(self.paths.sock))
            s.sendall(command.encode() + b"\n")
            chunks = []
            while chunk := s.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode()

    def runtime_map(self) -> dict[str, str]:
        rows = [ln.split() for ln in self.api(f"show map {self.paths.map}").splitlines()]
        return {r[1]: r[2] for r in rows if len(r) == 3}

    def server_status(self) -> dict[str, str]:
        lines = self.api("show stat").splitlines()
        header = lines[0].lstrip("# ").split(",")
        out = {}
        for ln in lines[1:]:
            row = dict(zip(header, ln.split(","), strict=False))
            if row.get("pxname", "").startswith("bk_app_") and row["svname"] not in (
                "FRONTEND",
                "BACKEND",
            ):
                out[f"{row['pxname']}/{row['svname']}"] = row["status"]
        return out

    def wait_status(self, expected: dict[str, str], timeout: float = 30) -> None:
        def ok() -> bool:
            status = self.server_status()
            return all(status.get(k) == v for k, v in expected.items())

        wait_for(f"servers {expected}", ok, timeout)

    def all_up(self) -> None:
        self.wait_status({f"bk_app_{c}/app{n}": "UP" for c in ("blue", "green") for n in (1, 2, 3)})

    def reset(self) -> None:
        for key, value in (("canary_pct", "0"), ("canary", "none"), ("live", "blue")):
            assert self.api(f"set map {self.paths.map} {key} {value}").strip() == ""
        shutil.copy(BLUEGREEN_MAP, self.paths.map)

    def client(self, tls: bool = True) -> Client:
        return Client(self, tls, f"127.0.0.{next(self.sources)}")


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: str


class Client:
    """HTTP(S) client with its own loopback source address (its own rate-limit bucket)."""

    def __init__(self, edge: Edge, tls: bool, source: str) -> None:
        self.edge, self.tls, self.source = edge, tls, source

    def get(self, path: str = "/", headers: dict[str, str] | None = None) -> Reply:
        conn: http.client.HTTPConnection
        if self.tls:
            ctx = ssl.create_default_context(cafile=str(self.edge.paths.cert))
            conn = http.client.HTTPSConnection(
                "127.0.0.1",
                self.edge.https,
                context=ctx,
                timeout=10,
                source_address=(self.source, 0),
            )
        else:
            conn = http.client.HTTPConnection(
                "127.0.0.1", self.edge.http, timeout=10, source_address=(self.source, 0)
            )
        try:
            conn.request("GET", path, headers=headers or {})
            resp = conn.getresponse()
            return Reply(resp.status, resp.headers, resp.read().decode())
        finally:
            conn.close()

    def colours(self, n: int) -> list[str]:
        return [self.get().body.split("-")[0] for _ in range(n)]


def http_get(
    port: int, path: str, auth: tuple[str, str] | None = None
) -> tuple[int, http.client.HTTPMessage, str]:
    import base64

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {}
    if auth:
        headers["Authorization"] = "Basic " + base64.b64encode(":".join(auth).encode()).decode()
    try:
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.headers, resp.read().decode()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def edge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Edge]:
    """The production haproxy.cfg running on free loopback ports, in front of 2 x 3 app servers.

    Adapted only in addresses and paths: listeners move to 127.0.0.1:<free port>, servers
    to the test's app servers, files into a temporary directory; chroot/user/group are
    dropped so the test also runs unprivileged, and the global maxconn is lowered when the
    machine's file-descriptor limit cannot hold it.
    """
    if shutil.which("haproxy") is None or shutil.which("openssl") is None:
        pytest.skip("haproxy and openssl are needed")
    tmp = tmp_path_factory.mktemp("edge")
    paths = haproxy_paths(tmp)
    apps = {c: [App(c, f"app{n}") for n in (1, 2, 3)] for c in ("blue", "green")}
    ports = {"http": free_port(), "https": free_port(), "stats": free_port()}
    text = adapt_paths(HAPROXY_CFG.read_text(), paths)
    text = sub_exact(text, "    bind :80\n", f"    bind 127.0.0.1:{ports['http']}\n", 1)
    text = sub_exact(text, "    bind :443 ", f"    bind 127.0.0.1:{ports['https']} ", 1)
    text = sub_exact(text, "    bind :8404\n", f"    bind 127.0.0.1:{ports['stats']}\n", 1)
    for colour, port in (("blue", 8081), ("green", 8082)):
        for n, app in enumerate(apps[colour], start=1):
            text = sub_exact(text, f"app{n}.jaraba.io:{port} ", f"127.0.0.1:{app.port} ", 1)
    text, dropped = re.subn(r"^\s+(chroot|user|group) .*\n", "", text, flags=re.M)
    assert dropped == 3
    # maxconn 50000 needs ~100k file descriptors; a CI container may allow fewer.
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard != resource.RLIM_INFINITY and hard < 2 * 50000 + 100:
        text = sub_exact(text, "    maxconn 50000\n", f"    maxconn {(hard - 100) // 2}\n", 1)
    paths.cfg.write_text(text)
    log = (tmp / "haproxy.log").open("w")
    proc = subprocess.Popen(
        ["haproxy", "-db", "-f", str(paths.cfg)],
        env=stats_env(),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    edge = Edge(paths, ports["http"], ports["https"], ports["stats"], apps, tmp)
    try:
        wait_for("haproxy", lambda: proc.poll() is None and port_open(ports["stats"]))
        wait_for("the runtime socket", paths.sock.exists)
        edge.all_up()
        yield edge
    finally:
        stop(proc)
        log.close()
        for pool in apps.values():
            for app in pool:
                app.stop()


@pytest.fixture
def fresh_edge(edge: Edge) -> Edge:
    edge.reset()
    edge.all_up()
    return edge


@pytest.mark.slow
def test_http_is_redirected_to_https(fresh_edge: Edge) -> None:
    reply = fresh_edge.client(tls=False).get("/node/1")
    assert reply.status == 301
    assert reply.headers["Location"].startswith("https://")
    assert reply.headers["Location"].endswith("/node/1")


@pytest.mark.slow
def test_tls_traffic_goes_to_the_live_colour_with_affinity(fresh_edge: Edge) -> None:
    client = fresh_edge.client()
    replies = [client.get("/") for _ in range(6)]
    assert all(r.status == 200 for r in replies)
    assert {r.body for r in replies} == {"blue-app1", "blue-app2", "blue-app3"}
    assert all(r.headers["X-Jaraba-Colour"] == "blue" for r in replies)
    assert "max-age=" in replies[0].headers["Strict-Transport-Security"]
    cookie = replies[0].headers["Set-Cookie"]
    assert re.match(r"SERVERID=blue-app[123];", cookie)
    assert "HttpOnly" in cookie
    assert "Secure" in cookie
    # What the app sees: TLS terminated, client address and a request id forwarded.
    seen = fresh_edge.apps["blue"][0].seen[-1]
    assert seen["x-forwarded-proto"] == "https"
    assert seen["x-forwarded-for"] == client.source
    assert seen["x-request-id"]
    # Cookie affinity pins a session to its server.
    pinned = {client.get("/", {"Cookie": "SERVERID=blue-app2"}).body for _ in range(5)}
    assert pinned == {"blue-app2"}


@pytest.mark.slow
def test_set_map_over_the_runtime_socket_switches_colour(fresh_edge: Edge) -> None:
    client = fresh_edge.client()
    assert set(client.colours(4)) == {"blue"}
    assert fresh_edge.api(f"set map {fresh_edge.paths.map} live green").strip() == ""
    assert set(client.colours(4)) == {"green"}
    assert fresh_edge.api(f"set map {fresh_edge.paths.map} live blue").strip() == ""
    assert set(client.colours(4)) == {"blue"}


@pytest.mark.slow
def test_canary_percentage_splits_traffic(fresh_edge: Edge) -> None:
    mp = fresh_edge.paths.map
    fresh_edge.api(f"set map {mp} canary green")
    fresh_edge.api(f"set map {mp} canary_pct 50")
    split = fresh_edge.client().colours(60)
    # P(all 60 on one side) = 2 * 0.5**60: this does not flake.
    assert {"blue", "green"} == set(split)
    fresh_edge.api(f"set map {mp} canary_pct 100")
    assert set(fresh_edge.client().colours(10)) == {"green"}
    fresh_edge.api(f"set map {mp} canary none")
    assert set(fresh_edge.client().colours(10)) == {"blue"}


@pytest.mark.slow
def test_rate_limit_answers_429_per_source(fresh_edge: Edge) -> None:
    limit = int(re.search(r"sc_http_req_rate\(0\) gt (\d+)", HAPROXY_CFG.read_text())[1])  # type: ignore[index]
    flood = fresh_edge.client(tls=False)
    codes = [flood.get("/").status for _ in range(limit + 20)]
    assert codes[:limit] == [301] * limit
    assert codes[-1] == 429
    # Another source is not affected.
    assert fresh_edge.client(tls=False).get("/").status == 301


@pytest.mark.slow
def test_stats_page_auth_and_prometheus_metrics(fresh_edge: Edge) -> None:
    assert http_get(fresh_edge.stats, "/stats")[0] == 401
    assert http_get(fresh_edge.stats, "/stats", ("admin", "wrong"))[0] == 401
    assert http_get(fresh_edge.stats, "/stats", ("admin", "stats-pw"))[0] == 200
    status, _, text = http_get(fresh_edge.stats, "/metrics")
    assert status == 200
    assert 'haproxy_server_status{proxy="bk_app_blue",server="app1",state="UP"} 1' in text
    assert 'haproxy_backend_active_servers{proxy="bk_app_green"} 3' in text
    # Every haproxy_* name the alerts and the dashboard use exists in HAProxy 2.6's exporter.
    missing = referenced_metrics("haproxy") - metric_names(text)
    assert not missing, f"HAProxy does not export {sorted(missing)}"


@pytest.mark.slow
def test_live_pool_without_servers_counts_its_503s(fresh_edge: Edge) -> None:
    """HAProxyLiveBackendDown relies on requests to a serverless backend being counted."""
    mp = fresh_edge.paths.map
    green = fresh_edge.apps["green"]

    def requests_total() -> float:
        text = http_get(fresh_edge.stats, "/metrics")[2]
        m = re.search(
            r'^haproxy_backend_http_requests_total\{proxy="bk_app_green"\} (\S+)$', text, re.M
        )
        assert m
        return float(m[1])

    try:
        for app in green:
            app.stop()
        fresh_edge.wait_status({f"bk_app_green/app{n}": "DOWN" for n in (1, 2, 3)})
        fresh_edge.api(f"set map {mp} live green")
        before = requests_total()
        assert fresh_edge.client().get("/").status == 503
        assert requests_total() == before + 1
        metrics = http_get(fresh_edge.stats, "/metrics")[2]
        assert 'haproxy_backend_active_servers{proxy="bk_app_green"} 0' in metrics
    finally:
        fresh_edge.api(f"set map {mp} live blue")
        for app in green:
            app.start()
        fresh_edge.all_up()


# ------------------------------------------------------------- blue-green-deploy.sh


def deploy_env(edge: Edge, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "HAPROXY_SOCKET": str(edge.paths.sock),
        "BLUEGREEN_MAP": str(edge.paths.map),
        "BLUEGREEN_LOCK": str(edge.tmp / "bluegreen.lock"),
        "HEALTH_TIMEOUT": "30",
        "HEALTH_INTERVAL": "1",
        **extra,
    }


def deploy(edge: Edge, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return run(["bash", str(DEPLOY_SH), *args], env=deploy_env(edge, **env), timeout=120)


def map_file(edge: Edge) -> dict[str, str]:
    rows = [ln.split() for ln in edge.paths.map.read_text().splitlines() if not ln.startswith("#")]
    return {r[0]: r[1] for r in rows if len(r) == 2}


def test_deploy_script_passes_bash_n_and_usage() -> None:
    assert run(["bash", "-n", str(DEPLOY_SH)]).returncode == 0
    out = run(["bash", str(DEPLOY_SH)])
    assert out.returncode == 2
    assert "deploy BRANCH" in out.stderr
    assert "rollback" in out.stderr
    head = DEPLOY_SH.read_text().splitlines()[:60]
    assert "set -euo pipefail" in head


@need("shellcheck")
@pytest.mark.parametrize(
    "script",
    [
        DEPLOY_SH,
        RENDER_SH,
        HA / "compose" / "galera-entrypoint.sh",
        HA / "compose" / "healthcheck.sh",
    ],
    ids=lambda p: p.name,
)
def test_shell_scripts_pass_shellcheck(script: Path) -> None:
    out = run(["shellcheck", "--severity=style", str(script)])
    assert out.returncode == 0, out.stdout


@pytest.mark.slow
@need("curl", "flock")
def test_deploy_script_status_switch_rollback(fresh_edge: Edge) -> None:
    edge = fresh_edge
    status = deploy(edge, "status")
    assert status.returncode == 0, status.stderr
    assert re.search(r"^live:\s+blue$", status.stdout, re.M)
    assert re.search(r"^canary:\s+none$", status.stdout, re.M)
    assert "(in sync)" in status.stdout
    rows = re.findall(r"^(bk_app_\w+)\s+(app\d)\s+(\S+)", status.stdout, re.M)
    assert sorted(rows) == sorted(
        (f"bk_app_{c}", f"app{n}", "UP") for c in ("blue", "green") for n in (1, 2, 3)
    )

    switch = deploy(edge, "switch")
    assert switch.returncode == 0, switch.stderr
    assert "smoke bk_app_green/app3" in switch.stderr
    assert edge.runtime_map() == {"live": "green", "canary": "none", "canary_pct": "0"}
    assert map_file(edge) == {"live": "green", "canary": "none", "canary_pct": "0"}
    assert set(edge.client().colours(4)) == {"green"}
    assert not list(edge.paths.map.parent.glob(".bluegreen.map.*")), "temp file left behind"

    rollback = deploy(edge, "rollback")
    assert rollback.returncode == 0, rollback.stderr
    assert map_file(edge)["live"] == "blue"
    assert set(edge.client().colours(4)) == {"blue"}


@pytest.mark.slow
@need("curl", "flock")
def test_deploy_script_canary(fresh_edge: Edge) -> None:
    out = deploy(fresh_edge, "canary", "30")
    assert out.returncode == 0, out.stderr
    assert fresh_edge.runtime_map() == {"live": "blue", "canary": "green", "canary_pct": "30"}
    assert map_file(fresh_edge)["canary_pct"] == "30"
    assert "canary:     green (30%)" in deploy(fresh_edge, "status").stdout
    # A deploy over a running canary is refused.
    refused = deploy(fresh_edge, "deploy", "main")
    assert refused.returncode != 0
    assert "canary" in refused.stderr
    assert deploy(fresh_edge, "canary", "0").returncode == 0
    assert fresh_edge.runtime_map()["canary"] == "none"
    assert deploy(fresh_edge, "canary", "101").returncode != 0


@pytest.mark.slow
@need("curl", "flock")
def test_deploy_script_deploys_to_idle_colour_then_switches(fresh_edge: Edge) -> None:
    edge = fresh_edge
    ssh_log, deploy_log = edge.tmp / "ssh.log", edge.tmp / "deploy.log"
    fake_ssh = edge.tmp / "fake-ssh"
    # Runs the remote command locally, the deploy script arriving on stdin like over ssh.
    fake_ssh.write_text(
        "#!/bin/sh\n"
        'printf "%s\\n" "$*" >> "$FAKE_SSH_LOG"\n'
        "for last; do :; done\n"
        'exec sh -c "$last"\n'
    )
    fake_ssh.chmod(0o755)
    out = deploy(
        edge,
        "deploy",
        "release/2.4",
        SSH_BIN=str(fake_ssh),
        FAKE_SSH_LOG=str(ssh_log),
        DEPLOY_CMD=f'echo "$BRANCH $APP_DIR $COLOUR" >> {deploy_log}',
    )
    assert out.returncode == 0, out.stderr
    calls = ssh_log.read_text().splitlines()
    assert [c.split()[4] for c in calls] == [f"app{n}.jaraba.io" for n in (1, 2, 3)]
    assert all(c.startswith("-o BatchMode=yes -o ConnectTimeout=10 ") for c in calls)
    assert deploy_log.read_text().splitlines() == ["release/2.4 /var/www/jaraba-green green"] * 3
    assert map_file(edge)["live"] == "green"
    assert set(edge.client().colours(3)) == {"green"}


@pytest.mark.slow
@need("curl", "flock")
def test_deploy_script_refuses_unhealthy_idle_colour(fresh_edge: Edge) -> None:
    edge = fresh_edge
    # 1. A failing remote deploy switches nothing.
    fake_ssh = edge.tmp / "failing-ssh"
    fake_ssh.write_text("#!/bin/sh\nexit 7\n")
    fake_ssh.chmod(0o755)
    failed = deploy(edge, "deploy", "main", SSH_BIN=str(fake_ssh))
    assert failed.returncode != 0
    assert "nothing was switched" in failed.stderr
    assert edge.runtime_map()["live"] == "blue"

    # 2. A smoke request answering 500 on one idle server blocks the switch.
    smoke = deploy(edge, "switch", SMOKE_PATH="/boom")
    assert smoke.returncode != 0
    assert "smoke test failed for green" in smoke.stderr
    assert edge.runtime_map()["live"] == "blue"
    assert map_file(edge)["live"] == "blue"

    # 3. An idle server DOWN in "show stat" blocks the switch (and the rollback target).
    app2 = edge.apps["green"][1]
    try:
        app2.stop()
        edge.wait_status({"bk_app_green/app2": "DOWN"})
        down = deploy(edge, "switch", HEALTH_TIMEOUT="2")
        assert down.returncode != 0
        assert "app2=DOWN" in down.stderr
        assert edge.runtime_map()["live"] == "blue"
        assert map_file(edge)["live"] == "blue"
        assert set(edge.client().colours(3)) == {"blue"}
        # Evil branch names never reach ssh.
        evil = deploy(edge, "deploy", "main;rm -rf /")
        assert evil.returncode != 0
        assert "suspicious branch name" in evil.stderr
    finally:
        app2.start()
        edge.all_up()


# =========================================================================== Redis


def conf_directives(path: Path) -> list[list[str]]:
    return [
        ln.split()
        for ln in path.read_text().splitlines()
        if ln.strip() and not ln.lstrip().startswith("#")
    ]


def test_redis_conf_settings() -> None:
    d = {row[0]: row[1:] for row in conf_directives(REDIS_CONF) if row[0] != "save"}
    assert d["requirepass"] == ["${REDIS_PASSWORD}"]
    assert d["masterauth"] == ["${REDIS_PASSWORD}"]
    assert d["protected-mode"] == ["yes"]
    assert d["port"] == ["6379"]
    assert d["appendonly"] == ["yes"]
    assert d["replica-read-only"] == ["yes"]
    assert d["min-replicas-to-write"] == ["1"]
    assert d["min-replicas-max-lag"] == ["10"]
    assert d["maxmemory-policy"][0] in {
        "volatile-lru",
        "allkeys-lru",
        "volatile-lfu",
        "allkeys-lfu",
    }
    assert any(row[0] == "save" for row in conf_directives(REDIS_CONF)), "RDB snapshots"
    assert "bind" in d
    assert "~70%" in REDIS_CONF.read_text()


def test_sentinel_conf_settings() -> None:
    rows = conf_directives(SENTINEL_CONF)
    sentinel = [r[1:] for r in rows if r[0] == "sentinel"]
    assert ["monitor", "jaraba-master", "redis-master.jaraba.io", "6379", "2"] in sentinel
    assert ["auth-pass", "jaraba-master", "${REDIS_PASSWORD}"] in sentinel
    assert ["down-after-milliseconds", "jaraba-master", "5000"] in sentinel
    assert ["parallel-syncs", "jaraba-master", "1"] in sentinel
    assert any(r[:2] == ["failover-timeout", "jaraba-master"] for r in sentinel)
    # Hostnames resolve only if this comes first.
    assert sentinel.index(["resolve-hostnames", "yes"]) < sentinel.index(
        ["monitor", "jaraba-master", "redis-master.jaraba.io", "6379", "2"]
    )
    assert ["port", "26379"] in rows


def redis_cli(port: int, *args: str, password: str | None = None) -> str:
    argv = ["redis-cli", "-h", "127.0.0.1", "-p", str(port), "--raw"]
    if password is not None:
        argv += ["--no-auth-warning", "-a", password]
    return run([*argv, *args], timeout=10).stdout.strip()


@pytest.mark.slow
@need("redis-server", "redis-cli")
def test_redis_and_sentinel_run_from_the_configs(tmp_path: Path) -> None:
    """Master + replica + Sentinel from the rendered files; only ports, paths and the
    master's address (DNS is not available here) are adapted."""
    password = DEV_ENV["REDIS_PASSWORD"]
    redis_conf = tmp_path / "redis.conf"
    out = render(REDIS_CONF, {"REDIS_PASSWORD": password})
    assert out.returncode == 0, out.stderr
    redis_conf.write_text(out.stdout)
    master, replica, sentinel = free_port(), free_port(), free_port()
    sentinel_text = render(SENTINEL_CONF, {"REDIS_PASSWORD": password}).stdout
    sentinel_text = sub_exact(
        sentinel_text, "redis-master.jaraba.io 6379 2", f"127.0.0.1 {master} 2", 1
    )
    (tmp_path / "sentinel.conf").write_text(sentinel_text)
    procs: list[subprocess.Popen[bytes]] = []

    def start(name: str, *argv: str) -> None:
        d = tmp_path / name
        d.mkdir()
        procs.append(
            subprocess.Popen(
                [
                    "redis-server",
                    *argv,
                    "--bind",
                    "127.0.0.1",
                    "--dir",
                    str(d),
                    "--logfile",
                    str(d / "log"),
                    "--pidfile",
                    str(d / "pid"),
                    "--supervised",
                    "no",
                    "--daemonize",
                    "no",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )

    try:
        start("master", str(redis_conf), "--port", str(master))
        wait_for("redis master", lambda: redis_cli(master, "PING", password=password) == "PONG")
        # requirepass, renamed commands and min-replicas-to-write, as configured.
        assert "NOAUTH" in redis_cli(master, "PING")
        assert "NOREPLICAS" in redis_cli(master, "SET", "k", "v", password=password)
        assert "unknown command" in redis_cli(master, "FLUSHALL", password=password)
        start(
            "replica",
            str(redis_conf),
            "--port",
            str(replica),
            "--replicaof",
            "127.0.0.1",
            str(master),
        )
        wait_for(
            "writes accepted once the replica is in sync",
            lambda: redis_cli(master, "SET", "k", "v", password=password) == "OK",
            timeout=30,
        )
        # Replication is asynchronous: the master's OK does not mean the replica has
        # applied the write yet (seen once under load), so wait for it, bounded.
        wait_for(
            "the write to reach the replica",
            lambda: redis_cli(replica, "GET", "k", password=password) == "v",
        )
        assert "READONLY" in redis_cli(replica, "SET", "k", "w", password=password)
        start("sentinel", str(tmp_path / "sentinel.conf"), "--sentinel", "--port", str(sentinel))
        wait_for(
            "Sentinel to know the replica",
            lambda: redis_cli(sentinel, "SENTINEL", "replicas", "jaraba-master") != "",
        )
        info = redis_cli(sentinel, "SENTINEL", "master", "jaraba-master").splitlines()
        fields = dict(zip(info[::2], info[1::2], strict=False))
        assert fields["port"] == str(master)
        assert fields["quorum"] == "2"
        assert fields["down-after-milliseconds"] == "5000"
        assert fields["parallel-syncs"] == "1"

        if shutil.which("prometheus-redis-exporter") is None:
            return
        pw_file = tmp_path / "passwords.json"
        pw_file.write_text(
            json.dumps({f"redis://127.0.0.1:{p}": password for p in (master, replica)})
        )
        web = free_port()
        procs.append(
            subprocess.Popen(
                [
                    "prometheus-redis-exporter",
                    "-web.listen-address",
                    f"127.0.0.1:{web}",
                    "-redis.addr",
                    "",
                    "-redis.password-file",
                    str(pw_file),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        wait_for("redis_exporter", lambda: port_open(web))
        scraped = {
            p: http_get(web, f"/scrape?target=redis://127.0.0.1:{p}")[2]
            for p in (master, replica, sentinel)
        }
        assert 'role="master"' in scraped[master]
        assert re.search(r"^redis_master_link_up\{.*\} 1$", scraped[replica], re.M)
        assert re.search(
            r'^redis_sentinel_master_status\{.*master_status="ok"\} 1$', scraped[sentinel], re.M
        )
        assert re.search(r'redis_instance_info\{.*redis_mode="sentinel"', scraped[sentinel])
        missing = referenced_metrics("redis") - metric_names("\n".join(scraped.values()))
        assert not missing, f"redis_exporter does not export {sorted(missing)}"
    finally:
        for proc in reversed(procs):
            stop(proc)


# =========================================================================== Prometheus


@need("promtool")
def test_promtool_check_rules() -> None:
    out = run(["promtool", "check", "rules", str(ALERTS)])
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"SUCCESS: {len(alert_rules())} rules found" in out.stdout


@need("promtool")
def test_promtool_rule_unit_tests() -> None:
    out = run(["promtool", "test", "rules", str(ALERT_TESTS)], cwd=ALERT_TESTS.parent)
    assert out.returncode == 0, out.stdout + out.stderr
    tested = {t["alertname"] for t in iter_alert_tests()}
    assert {"GaleraClusterSizeDegraded", "RedisMasterDown", "HAProxyServerDown"} <= tested


def iter_alert_tests() -> Iterator[dict[str, Any]]:
    doc = yaml.safe_load(ALERT_TESTS.read_text())
    for case in doc["tests"]:
        yield from case.get("alert_rule_test", [])


@need("promtool")
@pytest.mark.parametrize(
    ("old", "new"),
    [
        (
            "mysql_global_status_wsrep_cluster_size < 3",
            "mysql_global_status_wsrep_cluster_size < 2",
        ),
        ('haproxy_server_status{state="DOWN"} == 1', 'haproxy_server_status{state!="UP"} == 1'),
        ("and on() count(redis_up == 1) > 0", ""),
    ],
)
def test_rule_unit_tests_catch_a_broken_rule(tmp_path: Path, old: str, new: str) -> None:
    """The unit tests are not tautologies: breaking a rule makes them fail."""
    rules = ALERTS.read_text()
    assert old in rules
    (tmp_path / ALERTS.name).write_text(rules.replace(old, new))
    shutil.copy(ALERT_TESTS, tmp_path / ALERT_TESTS.name)
    out = run(["promtool", "test", "rules", ALERT_TESTS.name], cwd=tmp_path)
    assert out.returncode != 0


@need("promtool")
@pytest.mark.parametrize("name", ["prometheus.yml", "prometheus.compose.yml"])
def test_prometheus_configs_are_valid(name: str) -> None:
    out = run(["promtool", "check", "config", str(HA / "monitoring" / name)])
    assert out.returncode == 0, out.stdout + out.stderr
    jobs = {
        j["job_name"]
        for j in yaml.safe_load((HA / "monitoring" / name).read_text())["scrape_configs"]
    }
    # The job names the alert rules (and the lab) rely on.
    assert {"galera", "proxysql", "haproxy", "redis"} <= jobs


@need("amtool")
def test_alertmanager_config_is_valid() -> None:
    out = run(["amtool", "check-config", str(HA / "monitoring" / "alertmanager.yml")])
    assert out.returncode == 0, out.stdout + out.stderr


def parse_duration(text: str) -> float:
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    return sum(float(n) * units[u] for n, u in re.findall(r"(\d+)(ms|s|m|h)", text))


def test_alert_rules_labels_annotations_and_timing() -> None:
    rules = alert_rules()
    assert len({r["alert"] for r in rules}) == len(rules), "duplicate alert names"
    for rule in rules:
        name, labels = rule["alert"], rule.get("labels", {})
        assert labels.get("severity") in {"critical", "warning"}, name
        assert parse_duration(rule.get("for", "0s")) <= 60, name
        if "pager" in labels:
            assert labels["pager"] == "true", name
            assert labels["severity"] == "critical", name
        ann = rule.get("annotations", {})
        assert ann.get("summary") and ann.get("description"), name
        # Per-target alerts name their target.
        if " by (" not in rule["expr"] and not re.match(r"^\(?\s*(sum|max|count)\(", rule["expr"]):
            text = ann["summary"] + ann["description"]
            assert "$labels.instance" in text or "$labels.endpoint" in text, name


def test_alert_rules_cover_every_failure_the_console_detects() -> None:
    by_name = {r["alert"]: r for r in alert_rules()}
    expected_expr = {
        "GaleraClusterSizeDegraded": "mysql_global_status_wsrep_cluster_size < 3",
        "GaleraNodeNotSynced": "mysql_global_status_wsrep_local_state != 4",
        "GaleraNodeNonPrimary": "mysql_global_status_wsrep_cluster_status == 0",
        "GaleraFlowControlPaused": "mysql_global_status_wsrep_flow_control_paused_ns",
        "ProxySQLBackendShunned": "proxysql_connection_pool_status == 2",
        "ProxySQLBackendOffline": 'proxysql_connection_pool_status{hostgroup="9999"}',
        "ProxySQLDown": "proxysql_up == 0",
        "HAProxyDown": 'up{job="haproxy"} == 0',
        "HAProxyBackendDown": "haproxy_backend_active_servers",
        "HAProxyServerDown": 'haproxy_server_status{state="DOWN"}',
        "HAProxyHigh5xxRate": 'code="5xx"',
        "RedisMasterDown": 'redis_instance_info{role="master"}',
        "RedisReplicationBroken": "redis_master_link_up == 0",
        "RedisMasterWithoutReplicas": "redis_connected_slaves == 0",
        "RedisSentinelQuorumLost": "redis_sentinel_master_ckquorum_status == 0",
        "RedisSentinelMasterODown": 'master_status="odown"',
        "ExporterDown": "up{",
    }
    for name, fragment in expected_expr.items():
        assert name in by_name, name
        assert fragment in by_name[name]["expr"], name
    paging = {n for n, r in by_name.items() if r["labels"].get("pager") == "true"}
    assert {
        "GaleraAllNodesDown",
        "GaleraNoPrimaryComponent",
        "ProxySQLDown",
        "HAProxyDown",
        "RedisMasterDown",
    } <= paging
    assert "HAProxyServerDown" not in paging


def test_proxysql_metric_names_match_the_percona_exporter() -> None:
    used = referenced_metrics("proxysql")
    assert used, "no ProxySQL metric used"
    assert used <= PROXYSQL_EXPORTER_METRICS, sorted(used - PROXYSQL_EXPORTER_METRICS)


# =========================================================================== Grafana


def test_dashboard_structure() -> None:
    dash = json.loads(DASHBOARD.read_text())
    assert 36 <= dash["schemaVersion"] <= 39
    assert dash["uid"]
    (ds_var,) = [v for v in dash["templating"]["list"] if v["type"] == "datasource"]
    assert ds_var["name"] == "DS_PROMETHEUS"
    assert ds_var["query"] == "prometheus"
    panels = dash["panels"]
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids))
    rows = [p["title"] for p in panels if p["type"] == "row"]
    for section in ("Galera", "ProxySQL", "HAProxy", "Redis", "Sentinel"):
        assert any(section in r for r in rows), section
    for p in panels:
        g = p["gridPos"]
        assert g["x"] + g["w"] <= 24, p["title"]
        if p["type"] == "row":
            continue
        assert p["datasource"] == {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}, p["title"]
        assert p["targets"], p["title"]
        for t in p["targets"]:
            assert t["expr"].strip(), p["title"]
            assert t["datasource"]["uid"] == "${DS_PROMETHEUS}", p["title"]
    exprs = "\n".join(dashboard_exprs())
    for signal in (
        "mysql_global_status_wsrep_cluster_size",
        "mysql_global_status_wsrep_local_state",
        "mysql_global_status_wsrep_flow_control_paused_ns",
        "mysql_global_status_wsrep_local_recv_queue",
        "proxysql_connection_pool_status",
        "proxysql_connection_pool_queries",
        "haproxy_server_status",
        "haproxy_backend_current_sessions",
        'code="5xx"',
        "redis_instance_info",
        "redis_commands_processed_total",
        "redis_connected_slave_lag_seconds",
        "redis_memory_used_bytes",
        "redis_sentinel_master_status",
        "ALERTS{",
    ):
        assert signal in exprs, signal


@need("promtool")
def test_dashboard_queries_are_valid_promql(tmp_path: Path) -> None:
    rules = {
        "groups": [
            {
                "name": "dashboard",
                "rules": [
                    {"record": f"dashboard:expr_{i}", "expr": e}
                    for i, e in enumerate(dashboard_exprs())
                ],
            }
        ]
    }
    path = tmp_path / "dashboard-rules.yml"
    path.write_text(yaml.safe_dump(rules))
    out = run(["promtool", "check", "rules", str(path)])
    assert out.returncode == 0, out.stdout + out.stderr


# =========================================================================== docker-compose


def interpolate(value: Any, env: dict[str, str]) -> Any:
    """Docker Compose interpolation of ${VAR:-default} / ${VAR} / $$ (enough for this file)."""
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def one(m: re.Match[str]) -> str:
        if m[0] == "$$":
            return "$"
        name, default = m["name"], m["default"]
        return env.get(name) or (default if default is not None else "")

    return re.sub(
        r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\}", one, value
    )


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    doc = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(doc, dict)
    return dict(interpolate(doc, {}))


def test_compose_variables_all_have_dev_defaults() -> None:
    text = COMPOSE.read_text()
    bare = re.findall(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)\}", text)
    assert not bare, f"variables without a default: {bare}"
    used = set(re.findall(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*):-", text))
    assert used >= SEED_ENV_VARS


def test_compose_quick_start_ports(compose: dict[str, Any]) -> None:
    services = compose["services"]
    expected = {
        "galera-node1": ["3307:3306"],
        "galera-node2": ["3308:3306"],
        "galera-node3": ["3309:3306"],
        "proxysql": ["6032:6032", "6033:6033"],
        "haproxy": ["80:80", "443:443", "8404:8404"],
        "redis-master": ["6379:6379"],
        "sentinel1": ["26379:26379"],
        "prometheus": ["9090:9090"],
        "grafana": ["3000:3000"],
    }
    for name, ports in expected.items():
        assert services[name]["ports"] == ports, name
    replicas = [s for s in services if s.startswith("redis-replica")]
    assert len(replicas) == 2
    for r in replicas:
        assert services[r]["command"] == ["--replicaof", "redis-master.jaraba.io", "6379"]
    assert {"sentinel1", "sentinel2", "sentinel3", "healthcheck"} <= set(services)


def test_compose_quick_start_credentials(compose: dict[str, Any]) -> None:
    s = compose["services"]
    galera_env = s["galera-node1"]["environment"]
    assert galera_env["MARIADB_ROOT_PASSWORD"] == "jaraba_root_dev"
    assert (galera_env["MARIADB_USER"], galera_env["MARIADB_PASSWORD"]) == ("drupal", "drupal_dev")
    assert s["proxysql"]["environment"]["PROXYSQL_ADMIN_PASSWORD"] == "admin_dev"
    assert s["proxysql"]["environment"]["DRUPAL_DB_PASSWORD"] == "drupal_dev"
    hap = s["haproxy"]["environment"]
    assert (hap["HAPROXY_STATS_USER"], hap["HAPROXY_STATS_PASSWORD"]) == ("admin", "admin_dev")
    assert s["redis-master"]["environment"]["REDIS_PASSWORD"] == "redis_dev"
    graf = s["grafana"]["environment"]
    assert (graf["GF_SECURITY_ADMIN_USER"], graf["GF_SECURITY_ADMIN_PASSWORD"]) == (
        "admin",
        "admin_dev",
    )
    # An operator's environment overrides every default.
    over = interpolate(yaml.safe_load(COMPOSE.read_text()), {"MYSQL_ROOT_PASSWORD": "x"})
    assert over["services"]["galera-node3"]["environment"]["MARIADB_ROOT_PASSWORD"] == "x"


def test_compose_wiring(compose: dict[str, Any]) -> None:
    services = compose["services"]
    aliases = {
        a
        for svc in services.values()
        for net in (svc.get("networks") or {}).values()
        for a in (net or {}).get("aliases", [])
    }
    production_names = {f"node{n}.db.jaraba.io" for n in (1, 2, 3)}
    production_names |= {f"app{n}.jaraba.io" for n in (1, 2, 3)} | {"redis-master.jaraba.io"}
    assert production_names <= aliases
    for name, svc in services.items():
        deps = svc.get("depends_on", [])
        for dep in deps if isinstance(deps, list) else deps.keys():
            assert dep in services, f"{name} depends on unknown {dep}"
        for vol in svc.get("volumes", []):
            src = vol.split(":")[0]
            if src.startswith("./.run/"):
                continue  # runtime state, created by docker on first start
            if src.startswith("."):
                assert (HA / src).exists(), f"{name} mounts missing {src}"
            else:
                assert src in compose["volumes"], f"{name} uses undeclared volume {src}"
        build = svc.get("build")
        if build:
            assert (HA / build["context"] / build["dockerfile"]).exists(), name
    # Production configs are mounted, not copies.
    haproxy_vols = services["haproxy"]["volumes"]
    assert "./haproxy/haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro" in haproxy_vols
    assert "./.run/maps:/etc/haproxy/maps" in haproxy_vols
    assert (
        "cp /ha/haproxy/maps/bluegreen.map /etc/haproxy/maps/"
        in services["haproxy"]["entrypoint"][2]
    )
    assert ".run/" in (HA / ".gitignore").read_text().split()
    script = (HA / "compose" / "healthcheck.sh").read_text()
    for check in ("wsrep_cluster_size", "get-master-addr-by-name jaraba-master", "stats;csv"):
        assert check in script


@pytest.mark.skipif(
    shutil.which("docker") is None
    or run(["docker", "compose", "version"], timeout=20).returncode != 0,
    reason="docker compose plugin not installed",
)
def test_docker_compose_config_parses() -> None:
    out = run(["docker", "compose", "-f", str(COMPOSE), "config", "-q"], cwd=HA, timeout=60)
    assert out.returncode == 0, out.stderr


@pytest.mark.slow
@need("curl", "flock")
def test_deploy_script_writes_the_map_where_this_host_sees_it(fresh_edge: Edge) -> None:
    """BLUEGREEN_MAP names the map at runtime; BLUEGREEN_MAP_FILE is the file to persist."""
    elsewhere = fresh_edge.tmp / "bind-mount" / "bluegreen.map"
    elsewhere.parent.mkdir(exist_ok=True)
    shutil.copy(BLUEGREEN_MAP, elsewhere)
    before = fresh_edge.paths.map.read_text()
    out = deploy(fresh_edge, "switch", BLUEGREEN_MAP_FILE=str(elsewhere))
    assert out.returncode == 0, out.stderr
    assert fresh_edge.runtime_map()["live"] == "green"
    assert "live green" in elsewhere.read_text()
    assert fresh_edge.paths.map.read_text() == before
    status = deploy(fresh_edge, "status", BLUEGREEN_MAP_FILE=str(elsewhere))
    assert f"map file:   {elsewhere} (in sync)" in status.stdout
    assert "DIFFERS" in deploy(fresh_edge, "status").stdout
