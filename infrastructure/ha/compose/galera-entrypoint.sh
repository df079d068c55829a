#!/bin/bash
# galera-entrypoint.sh NODE [mariadbd options...] - docker-compose entrypoint of galera-node1..3.
#
# Installs the production mariadb/galera.cnf (rendered with render-config.sh) with laptop
# sizing, creates the stack's users on first start, bootstraps the cluster from node1 when
# that is safe, then hands over to the image's own docker-entrypoint.sh.
# Compose only: production nodes use galera.cnf directly (see ../README.md).
set -euo pipefail

node="${1:?usage: galera-entrypoint.sh node1|node2|node3 [mariadbd options]}"
shift
ha=/ha
datadir=/var/lib/mysql

# Production file, dev sizing: 11G buffer pool / 1G redo log / 2G gcache do not fit a laptop,
# and /var/log/mysql does not exist in the image (logs go to stderr -> docker logs).
"${ha}/scripts/render-config.sh" "${ha}/mariadb/galera.cnf" |
    sed -e 's/^innodb_buffer_pool_size .*/innodb_buffer_pool_size        = 256M/' \
        -e 's/^innodb_log_file_size .*/innodb_log_file_size           = 96M/' \
        -e 's/gcache\.size=2G/gcache.size=128M/' \
        -e 's|/var/log/mysql/|/var/lib/mysql/|' \
        -e "s/^gtid_domain_id .*/gtid_domain_id                 = ${node#node}/" \
        >/etc/mysql/conf.d/60-galera.cnf

# Users of the stack (the image runs this once, on an empty datadir, with wsrep off; the
# other nodes receive them through SST).
cat >/docker-entrypoint-initdb.d/10-jaraba-users.sql <<SQL
CREATE USER IF NOT EXISTS '${REPLICATION_USER}'@'localhost' IDENTIFIED BY '${REPLICATION_PASSWORD}';
GRANT RELOAD, PROCESS, LOCK TABLES, REPLICATION CLIENT ON *.* TO '${REPLICATION_USER}'@'localhost';
CREATE USER IF NOT EXISTS '${MONITOR_USER}'@'%' IDENTIFIED BY '${MONITOR_PASSWORD}';
GRANT USAGE ON *.* TO '${MONITOR_USER}'@'%';
CREATE USER IF NOT EXISTS 'exporter'@'%' IDENTIFIED BY '${EXPORTER_PASSWORD}' WITH MAX_USER_CONNECTIONS 3;
GRANT PROCESS, REPLICATION CLIENT, SLAVE MONITOR, SELECT ON *.* TO 'exporter'@'%';
SQL

args=(
    --wsrep-node-name="${node}"
    --wsrep-node-address="${node}.db.jaraba.io"
    --skip-log-error
)
# node1 bootstraps a new cluster on its first start, or when Galera marked it as the
# node that left last (safe_to_bootstrap: 1). Anything else joins the running cluster.
if [[ "$node" == node1 ]]; then
    if [[ ! -s "${datadir}/grastate.dat" ]] || grep -q '^safe_to_bootstrap: *1' "${datadir}/grastate.dat"; then
        args+=(--wsrep-new-cluster)
    fi
fi

exec docker-entrypoint.sh mariadbd "${args[@]}" "$@"
