#!/bin/sh
# Stand-in for the official postgres image's entrypoint: the first start initialises PGDATA with
# POSTGRES_USER / POSTGRES_PASSWORD (scram-sha-256 over TCP) and creates POSTGRES_DB.
set -eu
: "${POSTGRES_USER:=postgres}" "${POSTGRES_DB:=$POSTGRES_USER}" "${POSTGRES_PASSWORD:?}"
PGDATA="${PGDATA:-/var/lib/postgresql/data}"
mkdir -p "$PGDATA" /var/run/postgresql
chown -R postgres:postgres "$PGDATA" /var/run/postgresql
chmod 700 "$PGDATA"
as_pg() { runuser -u postgres -- "$@"; }
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    printf '%s\n' "$POSTGRES_PASSWORD" > /tmp/pwfile && chown postgres /tmp/pwfile
    as_pg initdb -D "$PGDATA" -U "$POSTGRES_USER" --pwfile=/tmp/pwfile --auth-local=trust \
        --auth-host=scram-sha-256 >/dev/null
    rm -f /tmp/pwfile
    echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
    as_pg pg_ctl -D "$PGDATA" -w -o "-c listen_addresses=''" start >/dev/null
    [ "$POSTGRES_DB" = postgres ] || as_pg createdb -U "$POSTGRES_USER" "$POSTGRES_DB"
    as_pg pg_ctl -D "$PGDATA" -w -m fast stop >/dev/null
fi
# setpriv execs postgres itself (runuser would stay PID 1 and not pass on SIGINT).
exec setpriv --reuid=postgres --regid=postgres --init-groups postgres -D "$PGDATA" -c listen_addresses='*'
