#!/bin/sh
# The e2e PostgreSQL stand-in's entrypoint: what the upstream image documents, in small.
# POSTGRES_PASSWORD (required unless POSTGRES_HOST_AUTH_METHOD=trust), POSTGRES_USER (postgres),
# POSTGRES_DB (= user), POSTGRES_HOST_AUTH_METHOD, POSTGRES_INITDB_ARGS; on an empty PGDATA it
# runs initdb, then /docker-entrypoint-initdb.d/*.sh (executable: run; else sourced) and *.sql.
# As upstream, all of that only when the command is the server (`postgres ...`); any other
# command (`sh -c ...`, `postgres --version` aside) runs as given.
set -eu
if [ "${1:-}" != postgres ] || [ "${2:-}" = --version ]; then
    exec "$@"
fi
if [ "$(id -u)" = 0 ]; then
    chown -R postgres:postgres "$PGDATA" /var/run/postgresql
    exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi
: "${POSTGRES_USER:=postgres}"
: "${POSTGRES_DB:=$POSTGRES_USER}"
: "${POSTGRES_HOST_AUTH_METHOD:=scram-sha-256}"
export POSTGRES_USER POSTGRES_DB
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "$POSTGRES_HOST_AUTH_METHOD" != trust ]; then
        echo "standin-entrypoint: POSTGRES_PASSWORD is required" >&2
        exit 1
    fi
    pwfile=$(mktemp)
    printf '%s\n' "${POSTGRES_PASSWORD:-}" > "$pwfile"
    # shellcheck disable=SC2086 # POSTGRES_INITDB_ARGS is a list of arguments, as upstream
    initdb --username="$POSTGRES_USER" --pwfile="$pwfile" ${POSTGRES_INITDB_ARGS:-}
    rm -f "$pwfile"
    printf 'host all all all %s\n' "$POSTGRES_HOST_AUTH_METHOD" >> "$PGDATA/pg_hba.conf"
    "$@" -c listen_addresses='' -c unix_socket_directories=/var/run/postgresql -p "${PGPORT:-5432}" &
    pid=$!
    until pg_isready -q -h /var/run/postgresql; do sleep 0.2; done
    if [ "$POSTGRES_DB" != postgres ]; then
        psql -v ON_ERROR_STOP=1 -h /var/run/postgresql --username "$POSTGRES_USER" --dbname postgres \
            -c "CREATE DATABASE \"$POSTGRES_DB\""
    fi
    export PGHOST=/var/run/postgresql
    for f in /docker-entrypoint-initdb.d/*; do
        case "$f" in
            *.sh)
                # shellcheck source=/dev/null
                if [ -x "$f" ]; then "$f"; else . "$f"; fi
                ;;
            *.sql) psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" -f "$f" ;;
        esac
    done
    unset PGHOST
    kill -INT "$pid"
    wait "$pid" || true
fi
exec "$@"
