"""The checklist: the seed's Production Deployment Checklist, item by item, in its order."""

from __future__ import annotations

from jaraba_tui.verify import items_post, items_pre
from jaraba_tui.verify.model import ItemSpec

ITEMS: tuple[ItemSpec, ...] = (
    # -- Pre-deployment --------------------------------------------------------------------
    ItemSpec(
        "no-dev-secrets",
        "pre",
        "No secret holds a seed development default",
        "All environment variables populated in secrets manager (no defaults)",
        items_pre.no_dev_secrets,
        critical=True,
    ),
    ItemSpec(
        "tls-certificate",
        "pre",
        "TLS certificate present, names covered, not close to expiry",
        "TLS certificates generated and placed at /etc/haproxy/certs/jaraba.pem",
        items_pre.tls_certificate,
    ),
    ItemSpec(
        "dns-records",
        "pre",
        "DNS names resolve",
        "DNS records created for node{1,2,3}.db.jaraba.io, app{1,2,3}.jaraba.io, "
        "redis-master.jaraba.io",
        items_pre.dns_records,
    ),
    ItemSpec(
        "firewall-closed-ports",
        "pre",
        "Galera and Redis ports closed to the bastion",
        "Firewall rules: Galera 3306, 4444, 4567, 4568 between DB nodes only; "
        "Redis 6379 and Sentinel 26379 between Redis nodes only",
        items_pre.firewall_closed_ports,
    ),
    ItemSpec(
        "monitor-user",
        "pre",
        "ProxySQL monitor user exists (USAGE)",
        "ProxySQL monitor user created: GRANT USAGE ON *.* TO 'monitor'@'%';",
        items_pre.monitor_user,
    ),
    ItemSpec(
        "replication-user",
        "pre",
        "Replication user has the seed's grants",
        "MariaDB replication user created: GRANT RELOAD, PROCESS, LOCK TABLES, "
        "REPLICATION CLIENT ON *.* TO 'repl'@'%';",
        items_pre.replication_user,
    ),
    ItemSpec(
        "innodb-buffer-pool",
        "pre",
        "InnoDB buffer pool ~70 % of each DB node's RAM",
        "InnoDB buffer pool sized to ~70% of available RAM per DB node",
        items_pre.innodb_buffer_pool,
    ),
    ItemSpec(
        "redis-maxmemory",
        "pre",
        "Redis maxmemory ~70 % of each Redis node's RAM",
        "Redis maxmemory set to ~70% of available RAM per Redis node",
        items_pre.redis_maxmemory,
    ),
    # -- Post-deployment verification ------------------------------------------------------
    ItemSpec(
        "galera-cluster",
        "post",
        "Galera: cluster size N and wsrep_ready ON on every node",
        "SHOW STATUS LIKE 'wsrep_cluster_size' returns 3 on all nodes; "
        "SHOW STATUS LIKE 'wsrep_ready' returns ON on all nodes",
        items_post.galera_cluster,
    ),
    ItemSpec(
        "proxysql-backends",
        "post",
        "ProxySQL: no backend out of service",
        "ProxySQL admin: SELECT * FROM stats_mysql_connection_pool; shows all backends ONLINE",
        items_post.proxysql_backends,
    ),
    ItemSpec(
        "haproxy-backends",
        "post",
        "HAProxy: every backend and server UP",
        "HAProxy stats page shows all backends UP (green)",
        items_post.haproxy_backends,
    ),
    ItemSpec(
        "sentinel-master",
        "post",
        "Sentinel names the master; quorum reachable",
        "Redis Sentinel: sentinel master jaraba-master shows correct master",
        items_post.sentinel_master,
    ),
    ItemSpec(
        "prometheus-targets",
        "post",
        "Prometheus: every target UP",
        "Prometheus targets all UP",
        items_post.prometheus_targets,
    ),
    ItemSpec(
        "grafana-dashboard",
        "post",
        "Grafana dashboard answers",
        "Grafana dashboard loading with live data",
        items_post.grafana_dashboard,
    ),
    ItemSpec(
        "bluegreen-switch",
        "post",
        "Blue/green switch would pass its checks (dry run)",
        "Blue-green deploy test: ./scripts/blue-green-deploy.sh deploy main",
        items_post.bluegreen_switch,
    ),
)

ITEM_IDS: tuple[str, ...] = tuple(i.id for i in ITEMS)


def item(item_id: str) -> ItemSpec:
    for spec in ITEMS:
        if spec.id == item_id:
            return spec
    raise KeyError(item_id)
