#!/bin/bash
# healthcheck.sh - the docker-compose "healthcheck" service: every INTERVAL seconds, log one
# line per layer (Galera cluster size, Sentinel's master, HAProxy servers UP) so that
# `docker compose logs healthcheck` answers "is the stack healthy?".
set -uo pipefail

INTERVAL="${INTERVAL:-10}"
export MYSQL_PWD="${MYSQL_ROOT_PASSWORD:?}"

check_galera() {
    local node size state
    for node in galera-node1 galera-node2 galera-node3; do
        size="$(mariadb -h "$node" -uroot -N -B --connect-timeout=3 \
            -e "SHOW STATUS LIKE 'wsrep_cluster_size'" 2>/dev/null | awk '{print $2}')"
        state="$(mariadb -h "$node" -uroot -N -B --connect-timeout=3 \
            -e "SHOW STATUS LIKE 'wsrep_local_state_comment'" 2>/dev/null | awk '{print $2}')"
        if [[ "$size" == 3 && "$state" == Synced ]]; then
            echo "OK   galera   ${node}: wsrep_cluster_size=3 ${state}"
        else
            echo "FAIL galera   ${node}: wsrep_cluster_size=${size:-?} state=${state:-unreachable}"
        fi
    done
}

check_sentinel() {
    local s addr
    for s in sentinel1 sentinel2 sentinel3; do
        addr="$(redis-cli -h "$s" -p 26379 --raw SENTINEL get-master-addr-by-name jaraba-master 2>/dev/null | paste -sd: -)"
        if [[ -n "$addr" ]]; then
            echo "OK   sentinel ${s}: jaraba-master at ${addr}"
        else
            echo "FAIL sentinel ${s}: no master for jaraba-master"
        fi
    done
}

check_haproxy() {
    local csv up total
    csv="$(curl -fsS --max-time 3 -u "${HAPROXY_STATS_USER}:${HAPROXY_STATS_PASSWORD}" \
        'http://haproxy:8404/stats;csv' 2>/dev/null)" || {
        echo "FAIL haproxy  stats page unreachable"
        return
    }
    total="$(awk -F, '$1 ~ /^bk_app_/ && $2 !~ /^(FRONTEND|BACKEND)$/' <<<"$csv" | wc -l)"
    up="$(awk -F, '$1 ~ /^bk_app_/ && $2 !~ /^(FRONTEND|BACKEND)$/ && $18 == "UP"' <<<"$csv" | wc -l)"
    if ((total > 0 && up == total)); then
        echo "OK   haproxy  ${up}/${total} app servers UP"
    else
        echo "FAIL haproxy  ${up}/${total} app servers UP"
    fi
}

while :; do
    echo "--- $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    check_galera
    check_sentinel
    check_haproxy
    sleep "$INTERVAL"
done
