#!/usr/bin/env bash
# blue-green-deploy.sh - blue/green deployment orchestrator for the Jaraba HA stack.
#
# HAProxy routes every request through /etc/haproxy/maps/bluegreen.map (see
# haproxy/haproxy.cfg, frontend fe_jaraba):
#     live        blue|green        pool that takes the traffic
#     canary      blue|green|none   pool that takes canary_pct % of requests
#     canary_pct  0-100
# This script changes those keys over the HAProxy runtime API ("set map", effective at
# once, no reload) and then rewrites the map file atomically (temp file + mv) so a reload
# or restart keeps the switch.
#
# Usage:
#   blue-green-deploy.sh deploy BRANCH   deploy BRANCH to the idle colour, health-gate it,
#                                        then switch traffic to it
#   blue-green-deploy.sh switch          health-gate the idle colour, then make it live
#   blue-green-deploy.sh rollback        switch back to the previous colour (health-gated;
#                                        FORCE=1 skips the gate in an emergency)
#   blue-green-deploy.sh canary PCT      send PCT % of requests to the idle colour
#                                        (health-gated; PCT 0 turns the canary off)
#   blue-green-deploy.sh status          live colour, canary and per-server state
#
# Environment (production defaults in brackets):
#   HAPROXY_SOCKET   runtime API: a UNIX socket path or HOST:PORT  [/run/haproxy/admin.sock]
#   BLUEGREEN_MAP    the map's runtime name = its path in haproxy.cfg [/etc/haproxy/maps/bluegreen.map]
#   BLUEGREEN_MAP_FILE  where this host sees that file, if elsewhere (container bind
#                    mount, chroot)                        [$BLUEGREEN_MAP]
#   BLUEGREEN_LOCK   lock file serialising runs            [/run/lock/jaraba-bluegreen.lock]
#   APP_HOSTS_BLUE   ssh targets of the blue pool   [app1.jaraba.io app2.jaraba.io app3.jaraba.io]
#   APP_HOSTS_GREEN  ssh targets of the green pool  [same hosts as blue]
#   APP_DIR_BLUE     Drupal checkout of the blue pool       [/var/www/jaraba-blue]
#   APP_DIR_GREEN    Drupal checkout of the green pool      [/var/www/jaraba-green]
#   DEPLOY_CMD       bash script run on each idle host with BRANCH, APP_DIR and COLOUR in its
#                    environment [git fetch/checkout, composer install, drush updb -y, drush cr]
#   SSH_BIN, SSH_OPTS  ssh client and its options   [ssh, -o BatchMode=yes -o ConnectTimeout=10]
#   HEALTH_TIMEOUT   seconds to wait for every idle server to be UP in "show stat"  [120]
#   SMOKE_PATH, SMOKE_HOST  smoke request sent to every idle server   [/health, jaraba.io]
#   SMOKE_TIMEOUT    seconds per smoke request                         [5]
#   FORCE=1          skip the health gate (rollback in an emergency) / allow deploy over a canary
#
# Database note: blue and green share the Galera cluster. "drush updb" on the idle colour
# changes the schema under the live colour too, so every update hook must be backwards
# compatible (expand now, contract in a later release).
set -euo pipefail

readonly PROG="${0##*/}"
HAPROXY_SOCKET="${HAPROXY_SOCKET:-/run/haproxy/admin.sock}"
BLUEGREEN_MAP="${BLUEGREEN_MAP:-/etc/haproxy/maps/bluegreen.map}"
BLUEGREEN_MAP_FILE="${BLUEGREEN_MAP_FILE:-${BLUEGREEN_MAP}}"
BLUEGREEN_LOCK="${BLUEGREEN_LOCK:-/run/lock/jaraba-bluegreen.lock}"
BACKEND_PREFIX="${BACKEND_PREFIX:-bk_app_}"
APP_HOSTS_BLUE="${APP_HOSTS_BLUE:-app1.jaraba.io app2.jaraba.io app3.jaraba.io}"
APP_HOSTS_GREEN="${APP_HOSTS_GREEN:-${APP_HOSTS_BLUE}}"
APP_DIR_BLUE="${APP_DIR_BLUE:-/var/www/jaraba-blue}"
APP_DIR_GREEN="${APP_DIR_GREEN:-/var/www/jaraba-green}"
SSH_BIN="${SSH_BIN:-ssh}"
SSH_OPTS="${SSH_OPTS:--o BatchMode=yes -o ConnectTimeout=10}"
HEALTH_TIMEOUT="${HEALTH_TIMEOUT:-120}"
HEALTH_INTERVAL="${HEALTH_INTERVAL:-2}"
SMOKE_PATH="${SMOKE_PATH:-/health}"
SMOKE_HOST="${SMOKE_HOST:-jaraba.io}"
SMOKE_TIMEOUT="${SMOKE_TIMEOUT:-5}"
FORCE="${FORCE:-0}"

# shellcheck disable=SC2016  # expanded by the remote bash, not here
DEFAULT_DEPLOY_CMD='set -euo pipefail
cd "$APP_DIR"
git fetch --prune origin
git checkout --force -B "$BRANCH" "origin/$BRANCH"
composer install --no-dev --no-interaction --prefer-dist --optimize-autoloader
vendor/bin/drush updatedb -y
vendor/bin/drush cache:rebuild'
DEPLOY_CMD="${DEPLOY_CMD:-${DEFAULT_DEPLOY_CMD}}"

log() { printf '%s %s: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$PROG" "$*" >&2; }
die() {
    log "ERROR: $*"
    exit 1
}
audit() {
    log "$*"
    if command -v logger >/dev/null 2>&1; then
        logger -t jaraba-bluegreen -- "$*" 2>/dev/null || true
    fi
}

usage() {
    sed -n '/^# Usage:/,/^# Environment/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
    exit 2
}

# --- HAProxy runtime API --------------------------------------------------------------

# hapx CMD: send one command to the runtime API, print the answer.
hapx() {
    local cmd="$1" addr
    if [[ "$HAPROXY_SOCKET" == */* ]]; then
        [[ -S "$HAPROXY_SOCKET" ]] || die "runtime API socket not found: $HAPROXY_SOCKET"
        addr="UNIX-CONNECT:${HAPROXY_SOCKET}"
    else
        addr="TCP:${HAPROXY_SOCKET}"
    fi
    if command -v socat >/dev/null 2>&1; then
        printf '%s\n' "$cmd" | socat -t 10 stdio "$addr"
    else
        python3 - "$HAPROXY_SOCKET" "$cmd" <<'PY'
import socket, sys
target, cmd = sys.argv[1], sys.argv[2]
if "/" in target:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(target)
else:
    host, _, port = target.rpartition(":")
    s = socket.create_connection((host, int(port)), timeout=10)
s.sendall(cmd.encode() + b"\n")
chunks = []
while True:
    data = s.recv(65536)
    if not data:
        break
    chunks.append(data)
sys.stdout.write(b"".join(chunks).decode())
PY
    fi
}

# check_api: fail early and clearly if the runtime API or the map is unreachable.
check_api() {
    local out
    out="$(hapx "show map")" || die "cannot talk to the HAProxy runtime API at ${HAPROXY_SOCKET}"
    grep -qF "(${BLUEGREEN_MAP})" <<<"$out" ||
        die "HAProxy has no map loaded from ${BLUEGREEN_MAP} (BLUEGREEN_MAP must be the path haproxy.cfg uses)"
}

# map_get KEY: value of KEY in the running map ("" if absent).
map_get() {
    hapx "show map ${BLUEGREEN_MAP}" | awk -v k="$1" '$2 == k { print $3; exit }'
}

# map_set KEY VALUE: set (or add) KEY in the running map and read it back. Returns 1 on
# failure (the caller decides how to recover).
map_set() {
    local key="$1" value="$2" out
    out="$(hapx "set map ${BLUEGREEN_MAP} ${key} ${value}")" || return 1
    if [[ -n "${out//[[:space:]]/}" ]]; then
        # "set map" only updates existing keys; a hand-edited map may lack one.
        out="$(hapx "add map ${BLUEGREEN_MAP} ${key} ${value}")" || return 1
        if [[ -n "${out//[[:space:]]/}" ]]; then
            log "runtime API refused ${key}=${value}: ${out}"
            return 1
        fi
    fi
    if [[ "$(map_get "$key")" != "$value" ]]; then
        log "runtime map did not take ${key}=${value}"
        return 1
    fi
}

# stat_rows BACKEND: "server status check_status weight addr" per server of BACKEND.
stat_rows() {
    hapx "show stat" | awk -F, -v be="$1" '
        NR == 1 {
            sub(/^# /, "")
            for (i = 1; i <= NF; i++) col[$i] = i
            next
        }
        $col["pxname"] == be && $col["svname"] != "FRONTEND" && $col["svname"] != "BACKEND" {
            status = $col["status"]; gsub(/ /, "_", status)   # "UP 1/3", "no check"
            check = $col["check_status"]; gsub(/ /, "_", check)
            printf "%s %s %s %s %s\n", $col["svname"], status,
                (check == "" ? "-" : check), $col["weight"],
                ($col["addr"] == "" ? "-" : $col["addr"])
        }'
}

# server_addrs BACKEND: "server addr port" per server, as HAProxy resolved them.
server_addrs() {
    hapx "show servers state $1" | awk '
        /^# be_id/ { sub(/^# /, ""); for (i = 1; i <= NF; i++) col[$i] = i; next }
        /^#/ || NF < 5 { next }
        col["srv_name"] { print $col["srv_name"], $col["srv_addr"], $col["srv_port"] }'
}

# --- colour logic ---------------------------------------------------------------------

other() {
    case "$1" in
        blue) echo green ;;
        green) echo blue ;;
        *) die "unknown colour '$1' in ${BLUEGREEN_MAP} (expected blue or green)" ;;
    esac
}

current_live() {
    local live
    live="$(map_get live)"
    [[ -n "$live" ]] || die "key 'live' missing from running map ${BLUEGREEN_MAP}"
    other "$live" >/dev/null # validates
    echo "$live"
}

# write_map_file LIVE CANARY PCT: persist the routing state atomically.
write_map_file() {
    local live="$1" canary="$2" pct="$3" dir tmp
    dir="$(dirname -- "$BLUEGREEN_MAP_FILE")"
    tmp="$(mktemp "${dir}/.bluegreen.map.XXXXXX")"
    {
        printf '# Blue/green routing state for fe_jaraba. Managed by %s; keys: live, canary, canary_pct.\n' "$PROG"
        printf '# Last change: %s by %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "${SUDO_USER:-${USER:-$(id -un)}}"
        printf 'live %s\ncanary %s\ncanary_pct %s\n' "$live" "$canary" "$pct"
    } >"$tmp"
    chmod 0644 "$tmp"
    mv -f -- "$tmp" "$BLUEGREEN_MAP_FILE"
}

# apply LIVE CANARY PCT: runtime first (instant), then the file (survives reloads).
apply() {
    local live="$1" canary="$2" pct="$3"
    local old_live old_canary old_pct
    old_live="$(map_get live)"
    old_canary="$(map_get canary)"
    old_pct="$(map_get canary_pct)"
    # Order matters: turn the canary off before moving live, so no request is routed to
    # a pool that is neither the old nor the new target.
    if ! { map_set canary_pct "$pct" && map_set canary "$canary" && map_set live "$live"; }; then
        log "restoring previous runtime routing"
        map_set live "${old_live:-blue}" || true
        map_set canary "${old_canary:-none}" || true
        map_set canary_pct "${old_pct:-0}" || true
        die "switch failed; routing restored to live=${old_live} canary=${old_canary}"
    fi
    write_map_file "$live" "$canary" "$pct" ||
        die "runtime switched to live=${live} but ${BLUEGREEN_MAP_FILE} could not be written: fix it before any reload"
    audit "routing now live=${live} canary=${canary} canary_pct=${pct} (was live=${old_live} canary=${old_canary} canary_pct=${old_pct})"
}

# --- health gate ----------------------------------------------------------------------

# wait_all_up COLOUR: every server of the pool UP in "show stat", within HEALTH_TIMEOUT.
wait_all_up() {
    local backend="${BACKEND_PREFIX}$1" deadline rows bad
    deadline=$((SECONDS + HEALTH_TIMEOUT))
    while :; do
        rows="$(stat_rows "$backend")"
        [[ -n "$rows" ]] || die "backend ${backend} has no servers (is ${BACKEND_PREFIX}$1 in haproxy.cfg?)"
        bad="$(awk '$2 != "UP" { printf "%s=%s ", $1, $2 }' <<<"$rows")"
        if [[ -z "$bad" ]]; then
            log "all servers of ${backend} are UP"
            return 0
        fi
        if ((SECONDS >= deadline)); then
            log "servers of ${backend} not UP after ${HEALTH_TIMEOUT}s: ${bad}"
            return 1
        fi
        sleep "$HEALTH_INTERVAL"
    done
}

# smoke COLOUR: one request straight to every server of the pool; all must answer 2xx.
smoke() {
    local backend="${BACKEND_PREFIX}$1" srv addr port code failed=0 n=0
    while read -r srv addr port; do
        [[ -n "$srv" ]] || continue
        n=$((n + 1))
        [[ "$addr" == *:* ]] && addr="[${addr}]"
        code="$(curl -sS -o /dev/null -w '%{http_code}' --max-time "$SMOKE_TIMEOUT" \
            -H "Host: ${SMOKE_HOST}" "http://${addr}:${port}${SMOKE_PATH}" 2>/dev/null)" || code="000"
        if [[ "$code" == 2?? ]]; then
            log "smoke ${backend}/${srv} http://${addr}:${port}${SMOKE_PATH} -> ${code}"
        else
            log "smoke ${backend}/${srv} http://${addr}:${port}${SMOKE_PATH} -> ${code} (FAILED)"
            failed=1
        fi
    done < <(server_addrs "$backend")
    ((n > 0)) || die "no servers found for ${backend} in 'show servers state'"
    return "$failed"
}

gate() {
    local colour="$1"
    if [[ "$FORCE" == 1 ]]; then
        log "FORCE=1: skipping the health gate for ${colour}"
        return 0
    fi
    wait_all_up "$colour" || die "health gate failed for ${colour}: not switching"
    smoke "$colour" || die "smoke test failed for ${colour}: not switching"
}

# --- commands -------------------------------------------------------------------------

cmd_status() {
    local live canary pct colour
    live="$(map_get live)"
    canary="$(map_get canary)"
    pct="$(map_get canary_pct)"
    printf 'live:       %s\n' "${live:-<unset>}"
    if [[ -z "$canary" || "$canary" == none || "${pct:-0}" == 0 ]]; then
        printf 'canary:     none\n'
    else
        printf 'canary:     %s (%s%%)\n' "$canary" "$pct"
    fi
    if [[ -r "$BLUEGREEN_MAP_FILE" ]]; then
        local f_live f_canary f_pct
        f_live="$(awk '$1 == "live" { print $2 }' "$BLUEGREEN_MAP_FILE")"
        f_canary="$(awk '$1 == "canary" { print $2 }' "$BLUEGREEN_MAP_FILE")"
        f_pct="$(awk '$1 == "canary_pct" { print $2 }' "$BLUEGREEN_MAP_FILE")"
        if [[ "$f_live $f_canary $f_pct" == "$live $canary $pct" ]]; then
            printf 'map file:   %s (in sync)\n' "$BLUEGREEN_MAP_FILE"
        else
            printf 'map file:   %s DIFFERS: live=%s canary=%s canary_pct=%s (a reload would apply it)\n' \
                "$BLUEGREEN_MAP_FILE" "$f_live" "$f_canary" "$f_pct"
        fi
    else
        printf 'map file:   %s NOT READABLE (a reload would lose the routing)\n' "$BLUEGREEN_MAP_FILE"
    fi
    printf '\n%-14s %-8s %-10s %-12s %-6s %s\n' BACKEND SERVER STATUS CHECK WEIGHT ADDR
    for colour in blue green; do
        while read -r srv status check weight addr; do
            [[ -n "$srv" ]] || continue
            printf '%-14s %-8s %-10s %-12s %-6s %s\n' \
                "${BACKEND_PREFIX}${colour}" "$srv" "$status" "$check" "$weight" "$addr"
        done < <(stat_rows "${BACKEND_PREFIX}${colour}")
    done
}

cmd_switch() {
    local live idle
    live="$(current_live)"
    idle="$(other "$live")"
    log "live=${live}; gating ${idle} before the switch"
    gate "$idle"
    apply "$idle" none 0
}

cmd_rollback() {
    local live previous
    live="$(current_live)"
    previous="$(other "$live")"
    log "rolling back: ${live} -> ${previous}"
    gate "$previous"
    apply "$previous" none 0
}

cmd_canary() {
    local pct="$1" live idle
    if [[ ! "$pct" =~ ^[0-9]{1,3}$ ]] || ((10#$pct > 100)); then
        die "canary percentage must be 0-100, got '${pct}'"
    fi
    pct=$((10#$pct))
    live="$(current_live)"
    idle="$(other "$live")"
    if ((pct == 0)); then
        apply "$live" none 0
        return
    fi
    gate "$idle"
    apply "$live" "$idle" "$pct"
}

cmd_deploy() {
    local branch="$1" live idle hosts dir host q_branch q_dir
    [[ "$branch" =~ ^[A-Za-z0-9][A-Za-z0-9._/-]*$ && "$branch" != *..* ]] ||
        die "refusing suspicious branch name '${branch}'"
    live="$(current_live)"
    idle="$(other "$live")"
    local canary
    canary="$(map_get canary)"
    if [[ -n "$canary" && "$canary" != none && "$FORCE" != 1 ]]; then
        die "a canary to ${canary} is active; finish it (switch or 'canary 0') or set FORCE=1"
    fi
    if [[ "$idle" == blue ]]; then
        hosts="$APP_HOSTS_BLUE" dir="$APP_DIR_BLUE"
    else
        hosts="$APP_HOSTS_GREEN" dir="$APP_DIR_GREEN"
    fi
    [[ -n "${hosts// /}" ]] || die "no hosts configured for ${idle} (APP_HOSTS_${idle^^})"
    printf -v q_branch '%q' "$branch"
    printf -v q_dir '%q' "$dir"
    local -a ssh_opts
    read -r -a ssh_opts <<<"$SSH_OPTS"
    audit "deploying ${branch} to ${idle} (${hosts}); live stays ${live} until the gate passes"
    for host in $hosts; do
        log "deploy ${branch} on ${host}:${dir}"
        "$SSH_BIN" "${ssh_opts[@]}" "$host" \
            "BRANCH=${q_branch} APP_DIR=${q_dir} COLOUR=${idle} bash -s" <<<"$DEPLOY_CMD" ||
            die "deploy failed on ${host}; ${live} is still live, nothing was switched"
    done
    gate "$idle"
    apply "$idle" none 0
    audit "deploy of ${branch} complete: ${idle} is live, ${live} kept for rollback"
}

main() {
    (($# >= 1)) || usage
    local cmd="$1"
    shift
    case "$cmd" in
        status)
            (($# == 0)) || usage
            check_api
            cmd_status
            return
            ;;
        deploy) (($# == 1)) || usage ;;
        canary) (($# == 1)) || usage ;;
        switch | rollback) (($# == 0)) || usage ;;
        -h | --help | help) usage ;;
        *) usage ;;
    esac
    check_api
    command -v curl >/dev/null 2>&1 || die "curl is required for the smoke test"
    # One change at a time, across operators and the console.
    exec 9>>"$BLUEGREEN_LOCK"
    flock -n 9 || die "another blue/green operation holds ${BLUEGREEN_LOCK}"
    case "$cmd" in
        deploy) cmd_deploy "$1" ;;
        canary) cmd_canary "$1" ;;
        switch) cmd_switch ;;
        rollback) cmd_rollback ;;
    esac
}

main "$@"
