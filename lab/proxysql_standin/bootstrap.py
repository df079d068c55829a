"""Initial configuration, the way ProxySQL builds it at start-up.

* A disk database under ``--state-dir`` that already holds a configuration wins (ProxySQL
  reads ``proxysql.db`` and ignores its config file once the database exists).
* Otherwise the tables are filled from ``--config`` (a proxysql.cnf) when given, and from the
  ``--backend`` list for anything the file does not provide, then saved to disk.
* Either way the credentials given through environment variables are applied on top (the lab's
  environment is the source of truth for its secrets) and everything is loaded to RUNTIME.
"""

from __future__ import annotations

import logging
from typing import Any

from lab.proxysql_standin import STANDIN_VERSION
from lab.proxysql_standin.config import (
    BACKUP_WRITER_HOSTGROUP,
    MAX_TRANSACTIONS_BEHIND,
    MAX_WRITERS,
    OFFLINE_HOSTGROUP,
    READER_HOSTGROUP,
    WRITER_HOSTGROUP,
    WRITER_IS_ALSO_READER,
    StandinConfig,
    cnf_rows,
    cnf_variables,
    load_cnf,
)
from lab.proxysql_standin.store import MODULES, AdminStore, native_password_hash

log = logging.getLogger(__name__)


def default_variables(cfg: StandinConfig) -> dict[str, str]:
    """ProxySQL's global_variables that the stand-in reads or that clients commonly read."""
    interval = str(cfg.monitor_interval_ms)
    return {
        "admin-admin_credentials": f"{cfg.admin_user}:{cfg.admin_password}",
        "admin-hash_passwords": "true",
        "admin-mysql_ifaces": f"{cfg.bind}:{cfg.admin_port}",
        "admin-read_only": "false",
        "admin-refresh_interval": "2000",
        "admin-restapi_enabled": "false",
        "admin-stats_credentials": "stats:stats",
        "admin-version": STANDIN_VERSION,
        "admin-web_enabled": "false",
        "admin-prometheus_memory_metrics_interval": "61",
        "mysql-connect_timeout_server": "3000",
        "mysql-connect_timeout_server_max": "10000",
        "mysql-default_query_timeout": "36000000",
        "mysql-default_schema": "information_schema",
        "mysql-interfaces": f"{cfg.bind}:{cfg.mysql_port}",
        "mysql-long_query_time": "1000",
        "mysql-max_connections": "2048",
        "mysql-monitor_enabled": "true",
        "mysql-monitor_username": cfg.monitor_user,
        "mysql-monitor_password": cfg.monitor_password,
        "mysql-monitor_connect_interval": "60000",
        "mysql-monitor_connect_timeout": "1000",
        "mysql-monitor_ping_interval": interval,
        "mysql-monitor_ping_timeout": "1000",
        "mysql-monitor_ping_max_failures": "3",
        "mysql-monitor_galera_healthcheck_interval": interval,
        "mysql-monitor_galera_healthcheck_timeout": "1000",
        "mysql-monitor_galera_healthcheck_max_timeout_count": "3",
        "mysql-monitor_history": "600000",
        "mysql-query_digests": "true",
        "mysql-server_version": "5.5.30",
        "mysql-threads": "4",
    }


def _insert(store: AdminStore, table: str, row: dict[str, Any]) -> None:
    columns = ", ".join(row)
    marks = ", ".join("?" for _ in row)
    store.execute(
        f"INSERT OR REPLACE INTO main.{table} ({columns}) VALUES ({marks})",  # noqa: S608
        list(row.values()),
    )


def populate_memory(store: AdminStore, cfg: StandinConfig) -> str:
    """Fill MEMORY from the config file and/or the CLI. Returns where the config came from."""
    cnf: dict[str, Any] = load_cnf(cfg.config_file) if cfg.config_file else {}
    variables = default_variables(cfg)
    variables.update(cnf_variables(cnf))
    for name, value in variables.items():
        _insert(store, "global_variables", {"variable_name": name, "variable_value": value})

    servers = cnf_rows(cnf, "mysql_servers")
    if not servers:
        servers = [
            {"hostgroup_id": WRITER_HOSTGROUP, "hostname": host, "port": port}
            for host, port in cfg.backends
        ]
    for row in servers:
        _insert(store, "mysql_servers", row)

    galera = cnf_rows(cnf, "mysql_galera_hostgroups")
    if not galera:
        galera = [
            {
                "writer_hostgroup": WRITER_HOSTGROUP,
                "backup_writer_hostgroup": BACKUP_WRITER_HOSTGROUP,
                "reader_hostgroup": READER_HOSTGROUP,
                "offline_hostgroup": OFFLINE_HOSTGROUP,
                "active": 1,
                "max_writers": MAX_WRITERS,
                "writer_is_also_reader": WRITER_IS_ALSO_READER,
                "max_transactions_behind": MAX_TRANSACTIONS_BEHIND,
                "comment": "jaraba galera",
            }
        ]
    for row in galera:
        _insert(store, "mysql_galera_hostgroups", row)

    users = cnf_rows(cnf, "mysql_users")
    if not users and cfg.app_user:
        users = [{"username": cfg.app_user, "default_hostgroup": WRITER_HOSTGROUP}]
    for row in users:
        _insert(store, "mysql_users", row)

    rules = cnf_rows(cnf, "mysql_query_rules")
    if not rules:
        rules = [
            {
                "rule_id": 1,
                "active": 1,
                "match_digest": r"^SELECT.*FOR UPDATE",
                "destination_hostgroup": WRITER_HOSTGROUP,
                "apply": 1,
                "comment": "locking reads go to the writer",
            },
            {
                "rule_id": 2,
                "active": 1,
                "match_digest": r"^SELECT",
                "destination_hostgroup": READER_HOSTGROUP,
                "apply": 1,
                "comment": "reads go to the readers",
            },
        ]
    for row in rules:
        _insert(store, "mysql_query_rules", row)
    for section in ("mysql_replication_hostgroups", "scheduler"):
        for row in cnf_rows(cnf, section):
            _insert(store, section, row)
    return f"config file {cfg.config_file}" if cfg.config_file else "command line"


def apply_secrets(store: AdminStore, cfg: StandinConfig) -> None:
    """Write the env-provided credentials and the listening addresses into MEMORY.

    The command line decides where the stand-in listens, whatever a config file or the disk
    database says (``mysql-interfaces`` and ``admin-mysql_ifaces`` are informational here).

    The application user's password is stored hashed (``*HEX``), which ProxySQL accepts in
    mysql_users; the cleartext stays in the process to log in to the backends.
    """
    _, rows = store.query(
        "SELECT variable_value FROM main.global_variables "
        "WHERE variable_name='admin-admin_credentials'"
    )
    pairs = [p for p in str(rows[0][0]).split(";") if p] if rows else []
    others = [p for p in pairs if p.partition(":")[0] != cfg.admin_user]
    credentials = ";".join([f"{cfg.admin_user}:{cfg.admin_password}", *others])
    for name, value in (
        ("admin-admin_credentials", credentials),
        ("mysql-monitor_username", cfg.monitor_user),
        ("mysql-monitor_password", cfg.monitor_password),
        ("admin-mysql_ifaces", f"{cfg.bind}:{cfg.admin_port}"),
        ("mysql-interfaces", f"{cfg.bind}:{cfg.mysql_port}"),
    ):
        store.execute("INSERT OR REPLACE INTO main.global_variables VALUES (?, ?)", (name, value))
    if cfg.app_user:
        store.user_secrets[cfg.app_user] = cfg.app_password
        changed = store.execute(
            "UPDATE main.mysql_users SET password=? WHERE username=?",
            (native_password_hash(cfg.app_password), cfg.app_user),
        )
        if not changed:
            _insert(
                store,
                "mysql_users",
                {
                    "username": cfg.app_user,
                    "password": native_password_hash(cfg.app_password),
                    "default_hostgroup": WRITER_HOSTGROUP,
                },
            )


def bootstrap(store: AdminStore, cfg: StandinConfig) -> None:
    """Build MEMORY (from disk, or from config and CLI), then load everything to RUNTIME."""
    if store.disk_has_config():
        for module in MODULES:
            store.disk_to_memory(module)
        log.info("configuration loaded from disk database %s", store.disk_path)
    else:
        source = populate_memory(store, cfg)
        log.info("initial configuration from %s", source)
    apply_secrets(store, cfg)
    if not store.disk_has_config():
        for module in MODULES:
            store.memory_to_disk(module)
    for module in MODULES:
        store.memory_to_runtime(module)
