#!/bin/sh
# Starts one PostgreSQL (with pgvector) replica of a VectorBlocks Cluster.
#
# Ordinal 0 initialises an empty data directory as the primary; the others clone the primary with pg_basebackup and
# run as streaming hot standbys. A data directory that is already initialised is started as it is (its
# standby.signal, or its absence, says its role), so a restart never re-clones or re-initialises.
#
# Environment (from the component's env ConfigMap and the podSpec):
#   VB_CLUSTER_NAME, VB_COMP_NAME, VB_NAMESPACE          the component
#   POD_NAME                                             this pod (<cluster>-<component>-<ordinal>)
#   POSTGRES_USER, POSTGRES_PASSWORD                     the credential (the Cluster's conn-credential Secret)
#   PGDATA (/var/lib/postgresql/data/pgdata), VB_CONFIG_DIR (/etc/postgresql/vb), VB_CLUSTER_DOMAIN (cluster.local)
#   VB_PRIMARY_WAIT_ATTEMPTS (60), VB_PRIMARY_WAIT_SECONDS (2)
set -eu

fail() {
    echo "pgvector-setup: $*" >&2
    exit 1
}

[ -n "${VB_CLUSTER_NAME:-}" ] || fail "VB_CLUSTER_NAME is not set: the pod must load the component's env ConfigMap"
[ -n "${VB_COMP_NAME:-}" ] || fail "VB_COMP_NAME is not set: the pod must load the component's env ConfigMap"
[ -n "${VB_NAMESPACE:-}" ] || fail "VB_NAMESPACE is not set: the pod must load the component's env ConfigMap"
[ -n "${POD_NAME:-}" ] || fail "POD_NAME is not set: add it to the container's env from metadata.name"
[ -n "${POSTGRES_USER:-}" ] || fail "POSTGRES_USER is not set: take it from the conn-credential Secret's username"
[ -n "${POSTGRES_PASSWORD:-}" ] || fail "POSTGRES_PASSWORD is not set: take it from the conn-credential Secret's password"

data="${PGDATA:-/var/lib/postgresql/data/pgdata}"
config_dir="${VB_CONFIG_DIR:-/etc/postgresql/vb}"
attempts="${VB_PRIMARY_WAIT_ATTEMPTS:-60}"
pause="${VB_PRIMARY_WAIT_SECONDS:-2}"
ordinal="${POD_NAME##*-}"
case "$ordinal" in
    '' | *[!0-9]*) fail "POD_NAME \"$POD_NAME\" does not end in a StatefulSet ordinal" ;;
esac
headless="${VB_CLUSTER_NAME}-${VB_COMP_NAME}-headless.${VB_NAMESPACE}.svc.${VB_CLUSTER_DOMAIN:-cluster.local}"
primary_host="${VB_CLUSTER_NAME}-${VB_COMP_NAME}-0.${headless}"

start_postgres() {
    exec postgres -D "$data" -c "config_file=$config_dir/postgresql.conf" -c "hba_file=$config_dir/pg_hba.conf"
}

if [ -s "$data/PG_VERSION" ]; then
    echo "pgvector-setup: $data is initialised; starting it as it is"
    start_postgres
fi

mkdir -p "$data"
chmod 700 "$data"

if [ "$ordinal" = 0 ]; then
    echo "pgvector-setup: initialising $data as the primary"
    password_file=$(mktemp)
    trap 'rm -f "$password_file"' EXIT
    printf '%s\n' "$POSTGRES_PASSWORD" >"$password_file"
    initdb --pgdata="$data" --username="$POSTGRES_USER" --pwfile="$password_file" \
        --auth-host=scram-sha-256 --auth-local=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8
    rm -f "$password_file"
    trap - EXIT
    start_postgres
fi

attempt=1
until pg_isready --host="$primary_host" --port=5432 --timeout=3 >/dev/null 2>&1; do
    [ "$attempt" -lt "$attempts" ] || fail "the primary $primary_host did not answer after $attempts attempts; a standby can only start from a running primary"
    attempt=$((attempt + 1))
    sleep "$pause"
done

echo "pgvector-setup: cloning $primary_host into $data as a hot standby"
# --write-recovery-conf writes standby.signal and primary_conninfo, so the server starts streaming from the primary.
PGPASSWORD="$POSTGRES_PASSWORD" pg_basebackup --host="$primary_host" --port=5432 --username="$POSTGRES_USER" \
    --pgdata="$data" --wal-method=stream --write-recovery-conf --checkpoint=fast --no-password
start_postgres
