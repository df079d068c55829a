"""ProxySQL 2.x admin table definitions (ProxySQL_Admin_Tables_Definitions.h, MySQL_Monitor.hpp).

The column lists, defaults and CHECK constraints are ProxySQL's own, so that a client written
against real ProxySQL sees the same tables here. Only the tables the stand-in uses, plus a few
that a ProxySQL admin is expected to have, are created.
"""

from __future__ import annotations

MYSQL_SERVERS_COLUMNS = (
    "hostgroup_id INT CHECK (hostgroup_id>=0) NOT NULL DEFAULT 0 , hostname VARCHAR NOT NULL , "
    "port INT CHECK (port >= 0 AND port <= 65535) NOT NULL DEFAULT 3306 , "
    "gtid_port INT CHECK ((gtid_port <> port OR gtid_port=0) AND gtid_port >= 0 AND "
    "gtid_port <= 65535) NOT NULL DEFAULT 0 , "
    "status VARCHAR CHECK (UPPER(status) IN ('ONLINE','SHUNNED','OFFLINE_SOFT', 'OFFLINE_HARD')) "
    "NOT NULL DEFAULT 'ONLINE' , "
    "weight INT CHECK (weight >= 0 AND weight <=10000000) NOT NULL DEFAULT 1 , "
    "compression INT CHECK (compression IN(0,1)) NOT NULL DEFAULT 0 , "
    "max_connections INT CHECK (max_connections >=0) NOT NULL DEFAULT 1000 , "
    "max_replication_lag INT CHECK (max_replication_lag >= 0 AND max_replication_lag <= 126144000) "
    "NOT NULL DEFAULT 0 , use_ssl INT CHECK (use_ssl IN(0,1)) NOT NULL DEFAULT 0 , "
    "max_latency_ms INT UNSIGNED CHECK (max_latency_ms>=0) NOT NULL DEFAULT 0 , "
    "comment VARCHAR NOT NULL DEFAULT '' , PRIMARY KEY (hostgroup_id, hostname, port) "
)

MYSQL_USERS_COLUMNS = (
    "username VARCHAR NOT NULL , password VARCHAR , "
    "active INT CHECK (active IN (0,1)) NOT NULL DEFAULT 1 , "
    "use_ssl INT CHECK (use_ssl IN (0,1)) NOT NULL DEFAULT 0 , "
    "default_hostgroup INT NOT NULL DEFAULT 0 , default_schema VARCHAR , "
    "schema_locked INT CHECK (schema_locked IN (0,1)) NOT NULL DEFAULT 0 , "
    "transaction_persistent INT CHECK (transaction_persistent IN (0,1)) NOT NULL DEFAULT 1 , "
    "fast_forward INT CHECK (fast_forward IN (0,1)) NOT NULL DEFAULT 0 , "
    "backend INT CHECK (backend IN (0,1)) NOT NULL DEFAULT 1 , "
    "frontend INT CHECK (frontend IN (0,1)) NOT NULL DEFAULT 1 , "
    "max_connections INT CHECK (max_connections >=0) NOT NULL DEFAULT 10000 , "
    "attributes VARCHAR CHECK (JSON_VALID(attributes) OR attributes = '') NOT NULL DEFAULT '' , "
    "comment VARCHAR NOT NULL DEFAULT '' , PRIMARY KEY (username, backend) , "
    "UNIQUE (username, frontend)"
)

MYSQL_QUERY_RULES_COLUMNS = (
    "rule_id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL , "
    "active INT CHECK (active IN (0,1)) NOT NULL DEFAULT 0 , username VARCHAR , "
    "schemaname VARCHAR , flagIN INT CHECK (flagIN >= 0) NOT NULL DEFAULT 0 , "
    "client_addr VARCHAR , proxy_addr VARCHAR , "
    "proxy_port INT CHECK (proxy_port >= 0 AND proxy_port <= 65535) , digest VARCHAR , "
    "match_digest VARCHAR , match_pattern VARCHAR , "
    "negate_match_pattern INT CHECK (negate_match_pattern IN (0,1)) NOT NULL DEFAULT 0 , "
    "re_modifiers VARCHAR DEFAULT 'CASELESS' , flagOUT INT CHECK (flagOUT >= 0) , "
    "replace_pattern VARCHAR CHECK(CASE WHEN replace_pattern IS NULL THEN 1 WHEN replace_pattern "
    "IS NOT NULL AND match_pattern IS NOT NULL THEN 1 ELSE 0 END) , "
    "destination_hostgroup INT DEFAULT NULL , cache_ttl INT CHECK(cache_ttl > 0) , "
    "cache_empty_result INT CHECK (cache_empty_result IN (0,1)) DEFAULT NULL , "
    "cache_timeout INT CHECK(cache_timeout >= 0) , "
    "reconnect INT CHECK (reconnect IN (0,1)) DEFAULT NULL , "
    "timeout INT UNSIGNED CHECK (timeout >= 0) , "
    "retries INT CHECK (retries>=0 AND retries <=1000) , delay INT UNSIGNED CHECK (delay >=0) , "
    "next_query_flagIN INT UNSIGNED , mirror_flagOUT INT UNSIGNED , "
    "mirror_hostgroup INT UNSIGNED , error_msg VARCHAR , OK_msg VARCHAR , "
    "sticky_conn INT CHECK (sticky_conn IN (0,1)) , multiplex INT CHECK (multiplex IN (0,1,2)) , "
    "gtid_from_hostgroup INT UNSIGNED , log INT CHECK (log IN (0,1)) , "
    "apply INT CHECK(apply IN (0,1)) NOT NULL DEFAULT 0 , "
    "attributes VARCHAR CHECK (JSON_VALID(attributes) OR attributes = '') NOT NULL DEFAULT '' , "
    "comment VARCHAR"
)

GALERA_HOSTGROUPS_COLUMNS = (
    "writer_hostgroup INT CHECK (writer_hostgroup>=0) NOT NULL PRIMARY KEY , "
    "backup_writer_hostgroup INT CHECK (backup_writer_hostgroup>=0 AND "
    "backup_writer_hostgroup<>writer_hostgroup) NOT NULL , "
    "reader_hostgroup INT NOT NULL CHECK (reader_hostgroup<>writer_hostgroup AND "
    "backup_writer_hostgroup<>reader_hostgroup AND reader_hostgroup>0) , "
    "offline_hostgroup INT NOT NULL CHECK (offline_hostgroup<>writer_hostgroup AND "
    "offline_hostgroup<>reader_hostgroup AND backup_writer_hostgroup<>offline_hostgroup AND "
    "offline_hostgroup>=0) , active INT CHECK (active IN (0,1)) NOT NULL DEFAULT 1 , "
    "max_writers INT NOT NULL CHECK (max_writers >= 0) DEFAULT 1 , "
    "writer_is_also_reader INT CHECK (writer_is_also_reader IN (0,1,2)) NOT NULL DEFAULT 0 , "
    "max_transactions_behind INT CHECK (max_transactions_behind>=0) NOT NULL DEFAULT 0 , "
    "comment VARCHAR , UNIQUE (reader_hostgroup) , UNIQUE (offline_hostgroup) , "
    "UNIQUE (backup_writer_hostgroup)"
)

REPLICATION_HOSTGROUPS_COLUMNS = (
    "writer_hostgroup INT CHECK (writer_hostgroup>=0) NOT NULL PRIMARY KEY , "
    "reader_hostgroup INT NOT NULL CHECK (reader_hostgroup<>writer_hostgroup AND "
    "reader_hostgroup>=0) , check_type VARCHAR CHECK (LOWER(check_type) IN ('read_only',"
    "'innodb_read_only','super_read_only','read_only|innodb_read_only',"
    "'read_only&innodb_read_only')) NOT NULL DEFAULT 'read_only' , "
    "comment VARCHAR NOT NULL DEFAULT '', UNIQUE (reader_hostgroup)"
)

GROUP_REPLICATION_HOSTGROUPS_COLUMNS = GALERA_HOSTGROUPS_COLUMNS

SCHEDULER_COLUMNS = (
    "id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL , "
    "active INT CHECK (active IN (0,1)) NOT NULL DEFAULT 1 , "
    "interval_ms INTEGER CHECK (interval_ms>=100 AND interval_ms<=100000000) NOT NULL , "
    "filename VARCHAR NOT NULL , arg1 VARCHAR , arg2 VARCHAR , arg3 VARCHAR , arg4 VARCHAR , "
    "arg5 VARCHAR , comment VARCHAR NOT NULL DEFAULT ''"
)

GLOBAL_VARIABLES_COLUMNS = (
    "variable_name VARCHAR NOT NULL PRIMARY KEY , variable_value VARCHAR NOT NULL"
)

#: Configuration tables: in ``main`` and in ``disk``, each with a ``runtime_`` twin in ``main``.
CONFIG_TABLES: dict[str, str] = {
    "mysql_servers": MYSQL_SERVERS_COLUMNS,
    "mysql_users": MYSQL_USERS_COLUMNS,
    "mysql_query_rules": MYSQL_QUERY_RULES_COLUMNS,
    "mysql_galera_hostgroups": GALERA_HOSTGROUPS_COLUMNS,
    "mysql_replication_hostgroups": REPLICATION_HOSTGROUPS_COLUMNS,
    "mysql_group_replication_hostgroups": GROUP_REPLICATION_HOSTGROUPS_COLUMNS,
    "scheduler": SCHEDULER_COLUMNS,
    "global_variables": GLOBAL_VARIABLES_COLUMNS,
}

CONNECTION_POOL_COLUMNS = (
    "hostgroup INT , srv_host VARCHAR , srv_port INT , status VARCHAR , ConnUsed INT , "
    "ConnFree INT , ConnOK INT , ConnERR INT , MaxConnUsed INT , Queries INT , "
    "Queries_GTID_sync INT , Bytes_data_sent INT , Bytes_data_recv INT , Latency_us INT"
)

QUERY_DIGEST_COLUMNS = (
    "hostgroup INT , schemaname VARCHAR NOT NULL , username VARCHAR NOT NULL , "
    "client_address VARCHAR NOT NULL , digest VARCHAR NOT NULL , digest_text VARCHAR NOT NULL , "
    "count_star INTEGER NOT NULL , first_seen INTEGER NOT NULL , last_seen INTEGER NOT NULL , "
    "sum_time INTEGER NOT NULL , min_time INTEGER NOT NULL , max_time INTEGER NOT NULL , "
    "sum_rows_affected INTEGER NOT NULL , sum_rows_sent INTEGER NOT NULL , "
    "PRIMARY KEY(hostgroup, schemaname, username, client_address, digest)"
)

STATS_TABLES: dict[str, str] = {
    "stats_mysql_connection_pool": CONNECTION_POOL_COLUMNS,
    "stats_mysql_connection_pool_reset": CONNECTION_POOL_COLUMNS,
    "stats_mysql_global": (
        "Variable_Name VARCHAR NOT NULL PRIMARY KEY , Variable_Value VARCHAR NOT NULL"
    ),
    "stats_mysql_query_digest": QUERY_DIGEST_COLUMNS,
    "stats_mysql_query_digest_reset": QUERY_DIGEST_COLUMNS,
    "stats_mysql_users": (
        "username VARCHAR PRIMARY KEY , frontend_connections INT NOT NULL , "
        "frontend_max_connections INT NOT NULL"
    ),
    "stats_mysql_processlist": (
        "ThreadID INT NOT NULL , SessionID INTEGER PRIMARY KEY , user VARCHAR , db VARCHAR , "
        "cli_host VARCHAR , cli_port INT , hostgroup INT , l_srv_host VARCHAR , l_srv_port INT , "
        "srv_host VARCHAR , srv_port INT , command VARCHAR , time_ms INT NOT NULL , "
        "info VARCHAR , status_flags INT , extended_info VARCHAR"
    ),
}

MONITOR_TABLES: dict[str, str] = {
    "mysql_server_connect_log": (
        "hostname VARCHAR NOT NULL , port INT NOT NULL DEFAULT 3306 , "
        "time_start_us INT NOT NULL DEFAULT 0 , connect_success_time_us INT DEFAULT 0 , "
        "connect_error VARCHAR , PRIMARY KEY (hostname, port, time_start_us)"
    ),
    "mysql_server_ping_log": (
        "hostname VARCHAR NOT NULL , port INT NOT NULL DEFAULT 3306 , "
        "time_start_us INT NOT NULL DEFAULT 0 , ping_success_time_us INT DEFAULT 0 , "
        "ping_error VARCHAR , PRIMARY KEY (hostname, port, time_start_us)"
    ),
    "mysql_server_galera_log": (
        "hostname VARCHAR NOT NULL , port INT NOT NULL DEFAULT 3306 , "
        "time_start_us INT NOT NULL DEFAULT 0 , success_time_us INT DEFAULT 0 , "
        "primary_partition VARCHAR NOT NULL DEFAULT 'NO' , "
        "read_only VARCHAR NOT NULL DEFAULT 'YES' , wsrep_local_recv_queue INT DEFAULT 0 , "
        "wsrep_local_state INT DEFAULT 0 , wsrep_desync VARCHAR NOT NULL DEFAULT 'NO' , "
        "wsrep_reject_queries VARCHAR NOT NULL DEFAULT 'NO' , "
        "wsrep_sst_donor_rejects_queries VARCHAR NOT NULL DEFAULT 'NO' , "
        "pxc_maint_mode VARCHAR NOT NULL DEFAULT 'NO' , error VARCHAR , "
        "PRIMARY KEY (hostname, port, time_start_us)"
    ),
}


def create_statements(schema: str, tables: dict[str, str], prefix: str = "") -> list[str]:
    """``CREATE TABLE IF NOT EXISTS schema.prefix+name (...)`` for each table."""
    return [
        f"CREATE TABLE IF NOT EXISTS {schema}.{prefix}{name} ({columns})"
        for name, columns in tables.items()
    ]


#: Columns of ``mysql_servers`` in table order (the order ``SELECT *`` returns).
SERVER_COLUMNS = (
    "hostgroup_id",
    "hostname",
    "port",
    "gtid_port",
    "status",
    "weight",
    "compression",
    "max_connections",
    "max_replication_lag",
    "use_ssl",
    "max_latency_ms",
    "comment",
)

GALERA_COLUMNS = (
    "writer_hostgroup",
    "backup_writer_hostgroup",
    "reader_hostgroup",
    "offline_hostgroup",
    "active",
    "max_writers",
    "writer_is_also_reader",
    "max_transactions_behind",
    "comment",
)
