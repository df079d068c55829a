#!/bin/sh
# render-config.sh - fill the ${VAR} placeholders of an infrastructure/ha template from the
# environment and print the result.
#
#   render-config.sh TEMPLATE > OUTPUT
#
# MariaDB, ProxySQL and Redis do not expand environment variables in their configuration
# files, so galera.cnf, proxysql.cnf, redis.conf and sentinel.conf carry placeholders that
# are rendered at install time (config management, a systemd ExecStartPre, or a container
# entrypoint) from the secrets manager's environment.
#
# Only the variables of the README's "Environment Variables Reference" table are
# substituted. The script fails (exit 1, nothing on stdout) if the template references a
# variable outside that list or one that is unset or empty: production has no defaults.
# Comment lines (first non-blank character # or ;) are copied verbatim, so the rendered
# file documents which variable each secret came from without repeating the secret.
# HAProxy expands "${VAR}" itself; haproxy.cfg is installed as is.
#
# POSIX sh + awk only, so it runs inside the stock mariadb/proxysql/redis images as well.
set -eu

if [ "$#" -ne 1 ] || [ ! -r "$1" ]; then
    echo "usage: ${0##*/} TEMPLATE > OUTPUT" >&2
    exit 2
fi

ALLOWED="MYSQL_ROOT_PASSWORD DRUPAL_DB_USER DRUPAL_DB_PASSWORD REPLICATION_USER REPLICATION_PASSWORD MONITOR_USER MONITOR_PASSWORD PROXYSQL_ADMIN_PASSWORD REDIS_PASSWORD HAPROXY_STATS_USER HAPROXY_STATS_PASSWORD"

# Render into a buffer first: a failure must not leave a half-written file behind the
# caller's redirection, so awk prints only when every placeholder resolved.
ALLOWED="$ALLOWED" awk -v template="$1" '
BEGIN {
    n = split(ENVIRON["ALLOWED"], names, " ")
    for (i = 1; i <= n; i++) allowed[names[i]] = 1
    failed = 0
}
/^[ \t]*[#;]/ { buf[NR] = $0; next }
{
    line = $0
    out = ""
    while (match(line, /\$\{[A-Za-z_][A-Za-z0-9_]*\}/)) {
        name = substr(line, RSTART + 2, RLENGTH - 3)
        out = out substr(line, 1, RSTART - 1)
        if (!(name in allowed)) {
            printf "%s:%d: ${%s} is not a known infrastructure variable\n", template, NR, name > "/dev/stderr"
            failed = 1
            out = out substr(line, RSTART, RLENGTH)
        } else if (!(name in ENVIRON) || ENVIRON[name] == "") {
            printf "%s:%d: ${%s} is unset or empty\n", template, NR, name > "/dev/stderr"
            failed = 1
            out = out substr(line, RSTART, RLENGTH)
        } else {
            out = out ENVIRON[name]
        }
        line = substr(line, RSTART + RLENGTH)
    }
    buf[NR] = out line
}
END {
    if (failed) exit 1
    for (i = 1; i <= NR; i++) print buf[i]
}' "$1"
