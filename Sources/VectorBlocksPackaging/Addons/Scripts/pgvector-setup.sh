#!/bin/sh
# Starts one PostgreSQL (with pgvector) replica of a VectorBlocks Cluster.
#
# The operator decides roles, not ordinals: VB_PRIMARY_POD (from the component's env ConfigMap, read when the
# container starts) names the pod that runs read-write. That pod starts its data directory read-write (initialising
# it when empty, ending recovery when it was a standby); every other pod starts as a hot standby streaming from it:
# cloning it when its data directory is empty, rewinding with pg_rewind when it was a primary whose timeline may
# have diverged, and cloning afresh when the rewind fails (the diverged directory is kept beside, renamed) or when the
# operator marked it (vectorblocks.reclone: the primary no longer has the WAL it needs); a standby the operator marked
# vectorblocks.rewind (it replayed past the fork of the primary's timeline) is rewound too. A standby streams through
# its own replication slot on the primary, _vb_<pod> (the operator makes it), which keeps the WAL it has not received.
#
# Environment (from the component's env ConfigMap and the podSpec):
#   VB_CLUSTER_NAME, VB_COMP_NAME, VB_NAMESPACE          the component
#   VB_PRIMARY_POD                                       the designated primary (default: ordinal 0)
#   POD_NAME                                             this pod (<cluster>-<component>-<ordinal>)
#   POSTGRES_USER, POSTGRES_PASSWORD                     the credential (the Cluster's conn-credential Secret)
#   PGDATA (/var/lib/postgresql/data/pgdata), VB_CONFIG_DIR (/etc/postgresql/vb), VB_CLUSTER_DOMAIN (cluster.local)
#   VB_PRIMARY_WAIT_ATTEMPTS (60), VB_PRIMARY_WAIT_SECONDS (2)
#   VB_PRIMARY_HOST, VB_PRIMARY_PORT                     where the primary listens (default: its pod's DNS name
#                                                        through the headless Service, port 5432)
#   VB_BACKUP_TOOL, VB_BACKUP_WAL_PREFIX (and VB_BACKUP_BUCKET, _REGION, _ENDPOINT, AWS_*: read by the tool)
#                                                        when set (spec.backup.pitrEnabled), every WAL segment is
#                                                        archived to S3 by `vectorblocks-backup wal-push`
#
# Restore phase (VB_SETUP_PHASE=restore: the operator's `restore` init container of a Cluster made from a
# pg-basebackup Backup, spec.restoreFrom): on the designated primary, while VB_RESTORE_PENDING is true (the env
# ConfigMap) and the data directory is empty, fills a directory beside it with `vectorblocks-backup restore`
# (VB_RESTORE_TOOL, VB_RESTORE_BUCKET, _REGION, _ENDPOINT, VB_RESTORE_BACKUP_PREFIX, VB_RESTORE_TARGET_TIME; the
# Backup repository's AWS_* keys), runs PostgreSQL on a private socket only until it has replayed to the target and
# promoted, sets POSTGRES_USER's password to POSTGRES_PASSWORD (the backup holds the source Cluster's), clears the
# recovery settings (a standby cloning this primary must not inherit them), stops it cleanly and moves it into
# place. Every other pod, and a pod whose data directory is initialised, does nothing; the main container then
# starts as usual. A restore that fails leaves the data directory empty, and the kubelet runs it again.
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
primary_pod="${VB_PRIMARY_POD:-${VB_CLUSTER_NAME}-${VB_COMP_NAME}-0}"
headless="${VB_CLUSTER_NAME}-${VB_COMP_NAME}-headless.${VB_NAMESPACE}.svc.${VB_CLUSTER_DOMAIN:-cluster.local}"
primary_host="${VB_PRIMARY_HOST:-${primary_pod}.${headless}}"
primary_port="${VB_PRIMARY_PORT:-5432}"

# The password reaches libpq (pg_basebackup, pg_rewind, and the server's WAL receiver) through a password file on
# the data volume, never through primary_conninfo, so it is in no configuration file the server reports.
export PGPASSFILE="$(dirname "$data")/.pgpass"
umask 077
escaped_password=$(printf '%s' "$POSTGRES_PASSWORD" | sed 's/\\/\\\\/g; s/:/\\:/g')
printf '*:*:*:%s:%s\n' "$POSTGRES_USER" "$escaped_password" >"$PGPASSFILE"

start_postgres() {
    if [ -n "${VB_BACKUP_WAL_PREFIX:-}" ] && [ -n "${VB_BACKUP_TOOL:-}" ]; then
        # Only a primary archives; the settings wait on a standby until it is promoted.
        exec postgres -D "$data" -c "config_file=$config_dir/postgresql.conf" -c "hba_file=$config_dir/pg_hba.conf" \
            -c archive_mode=on -c "archive_command=$VB_BACKUP_TOOL wal-push %p"
    fi
    exec postgres -D "$data" -c "config_file=$config_dir/postgresql.conf" -c "hba_file=$config_dir/pg_hba.conf"
}

initialised() {
    [ -s "$data/PG_VERSION" ]
}

restore_from_backup() {
    if [ "${VB_RESTORE_PENDING:-}" != "true" ]; then
        echo "pgvector-setup: no restore pending"
        return 0
    fi
    if [ "$POD_NAME" != "$primary_pod" ]; then
        echo "pgvector-setup: $POD_NAME is not the designated primary ($primary_pod); it clones the restored primary"
        return 0
    fi
    if initialised; then
        echo "pgvector-setup: $data holds a database already; nothing to restore"
        return 0
    fi
    for variable in VB_RESTORE_TOOL VB_RESTORE_BUCKET VB_RESTORE_REGION VB_RESTORE_BACKUP_PREFIX; do
        eval "value=\${$variable:-}"
        [ -n "$value" ] || fail "$variable is not set: the operator's restore init container sets it"
    done
    if [ -d "$data" ] && [ -n "$(ls -A "$data")" ]; then
        fail "$data holds files but no PG_VERSION; a restore fills only an empty data directory: look at it, and empty it to restore"
    fi
    # Restored beside the data directory and moved into place only once recovered, so a restore that stops midway
    # leaves no half-made database that a restart would take for a finished one; its leftovers are its own.
    restoring="$data.restoring"
    rm -rf "$restoring"
    set -- restore --bucket "$VB_RESTORE_BUCKET" --region "$VB_RESTORE_REGION" --backup-prefix "$VB_RESTORE_BACKUP_PREFIX" \
        --pgdata "$restoring" --self-path "$VB_RESTORE_TOOL"
    [ -z "${VB_RESTORE_ENDPOINT:-}" ] || set -- "$@" --endpoint "$VB_RESTORE_ENDPOINT"
    [ -z "${VB_RESTORE_TARGET_TIME:-}" ] || set -- "$@" --target-time "$VB_RESTORE_TARGET_TIME"
    echo "pgvector-setup: restoring s3://$VB_RESTORE_BUCKET/$VB_RESTORE_BACKUP_PREFIX into $data${VB_RESTORE_TARGET_TIME:+, to $VB_RESTORE_TARGET_TIME}"
    "$VB_RESTORE_TOOL" "$@" >/dev/null

    # Recovery runs on a socket only this container reaches, with trust there and nowhere else: the restored roles
    # have the source Cluster's passwords. No statement is logged (the password is set below), none waits for a
    # synchronous standby of the source, and nothing is archived (this server's WAL up to its promotion is the
    # source's history).
    run_dir=$(mktemp -d /tmp/vb-restore.XXXXXX)
    printf 'local all all trust\n' >"$run_dir/pg_hba.conf"
    pg_ctl start --pgdata="$restoring" --wait --timeout=60 --options="-c config_file=$config_dir/postgresql.conf \
        -c hba_file=$run_dir/pg_hba.conf -c listen_addresses='' -c unix_socket_directories='$run_dir' -c archive_mode=off \
        -c synchronous_standby_names='' -c log_statement=none -c log_min_error_statement=panic" ||
        pg_ctl status --pgdata="$restoring" >/dev/null 2>&1 ||
        fail "PostgreSQL stopped while recovering the backup (its log is above)"
    # It takes connections once consistent (hot_standby), and answers 'f' once it has promoted.
    while :; do
        pg_ctl status --pgdata="$restoring" >/dev/null 2>&1 || fail "PostgreSQL stopped before its recovery finished (its log is above)"
        if pg_isready --host="$run_dir" --username="$POSTGRES_USER" --dbname=postgres --timeout=3 >/dev/null 2>&1; then
            if ! answer=$(psql --host="$run_dir" --username="$POSTGRES_USER" --dbname=postgres --no-psqlrc -At -c 'select pg_is_in_recovery()' 2>&1); then
                pg_ctl status --pgdata="$restoring" >/dev/null 2>&1 || fail "PostgreSQL stopped before its recovery finished (its log is above)"
                fail "cannot connect to the restored server as $POSTGRES_USER: $answer"
            fi
            [ "$answer" != f ] || break
        fi
        sleep 1
    done
    echo "pgvector-setup: recovered and promoted; setting $POSTGRES_USER's password to this Cluster's"
    psql --host="$run_dir" --username="$POSTGRES_USER" --dbname=postgres --no-psqlrc --quiet -v ON_ERROR_STOP=1 <<'SQL' ||
\set role `printf '%s' "$POSTGRES_USER"`
\set password `printf '%s' "$POSTGRES_PASSWORD"`
ALTER ROLE :"role" WITH PASSWORD :'password';
ALTER SYSTEM RESET restore_command;
ALTER SYSTEM RESET recovery_target_time;
ALTER SYSTEM RESET recovery_target_action;
ALTER SYSTEM RESET recovery_target_inclusive;
ALTER SYSTEM RESET recovery_target_timeline;
ALTER SYSTEM RESET synchronous_standby_names;
SQL
        fail "could not set $POSTGRES_USER's password in the restored database (does the backup have that role?)"
    pg_ctl stop --pgdata="$restoring" --mode=fast --wait --timeout=300
    rm -rf "$run_dir"
    [ ! -d "$data" ] || rmdir "$data"
    mv "$restoring" "$data"
    echo "pgvector-setup: $data restored"
}

if [ "${VB_SETUP_PHASE:-}" = restore ]; then
    restore_from_backup
    exit 0
fi

reclone_marker="$data/vectorblocks.reclone"
rewind_marker="$data/vectorblocks.rewind"
# The slot name the operator gives this pod: its name in the characters a slot name may hold (as
# ReplicationSlots.name(forPod:); pod names are short enough for PostgreSQL's 63 characters).
slot_name="_vb_$(printf '%s' "$POD_NAME" | tr 'A-Z' 'a-z' | tr -c 'a-z0-9_' '_')"

if [ "$POD_NAME" = "$primary_pod" ]; then
    if initialised; then
        # A mark for a standby means nothing to a primary, and it must not outlive its role.
        rm -f "$reclone_marker" "$rewind_marker"
        if [ -f "$data/standby.signal" ]; then
            # The operator promoted this pod while it was away: it ends recovery and starts a new timeline.
            echo "pgvector-setup: $POD_NAME is the designated primary; starting $data read-write"
            rm -f "$data/standby.signal"
        fi
        start_postgres
    fi
    echo "pgvector-setup: initialising $data as the primary"
    mkdir -p "$data"
    chmod 700 "$data"
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
until pg_isready --host="$primary_host" --port="$primary_port" --timeout=3 >/dev/null 2>&1; do
    [ "$attempt" -lt "$attempts" ] || fail "the primary $primary_host did not answer after $attempts attempts; a standby can only start from a running primary"
    attempt=$((attempt + 1))
    sleep "$pause"
done

clone() {
    echo "pgvector-setup: cloning $primary_pod ($primary_host) into $data as a hot standby"
    mkdir -p "$data"
    chmod 700 "$data"
    pg_basebackup --host="$primary_host" --port="$primary_port" --username="$POSTGRES_USER" \
        --pgdata="$data" --wal-method=stream --checkpoint=fast --no-password
}

# pg_rewind has the target replay from the source's latest checkpoint when that is older than their last common one,
# as it is on a primary promoted a moment ago whose first checkpoint has not finished; the WAL from there is often gone
# from both servers, and the rewound standby would wait for it for ever. So the primary first completes a checkpoint
# on its own timeline, as Patroni has it do. A primary that cannot say (it is itself still in recovery) is rewound
# from as it is.
checkpoint_primary_timeline() {
    primary_sql() {
        psql --host="$primary_host" --port="$primary_port" --username="$POSTGRES_USER" --dbname=postgres \
            --no-password --no-psqlrc -At -c "$1"
    }
    checkpointed=$(primary_sql "SELECT upper(lpad(to_hex(timeline_id), 8, '0')) = substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8) FROM pg_control_checkpoint()" 2>&1) ||
        checkpointed="unknown: $checkpointed"
    case "$checkpointed" in
    t) ;;
    f)
        echo "pgvector-setup: $primary_pod has not checkpointed since its promotion; asking it to, before rewinding"
        primary_sql CHECKPOINT >/dev/null || echo "pgvector-setup: $primary_pod refused the checkpoint; rewinding from it as it is"
        ;;
    *) echo "pgvector-setup: could not read $primary_pod's latest checkpoint ($checkpointed); rewinding from it as it is" ;;
    esac
}

if initialised && [ -f "$reclone_marker" ]; then
    # The operator found this standby stopped before the oldest WAL the primary still has: it can never catch up.
    # A standby's data is a copy of the primary's (it never ran read-write: a former primary has no standby.signal
    # and is rewound below), so nothing is lost by cloning afresh.
    echo "pgvector-setup: the primary no longer has the WAL $data needs; cloning it afresh"
    rm -rf "$data"
fi

if ! initialised; then
    clone
elif [ ! -f "$data/standby.signal" ] || [ -f "$rewind_marker" ]; then
    # This pod ran read-write and another was promoted since: what it wrote after the promotion exists nowhere else
    # and must go before it can follow the new timeline. pg_rewind keeps the rest (it first finishes crash recovery).
    # A standby that replayed WAL the promoted one never had is in the same place, with nothing of its own to lose.
    if [ -f "$rewind_marker" ]; then
        echo "pgvector-setup: $data replayed past the fork of $primary_pod's timeline; rewinding it onto that timeline"
    else
        echo "pgvector-setup: $data was a primary; rewinding it onto $primary_pod's timeline"
    fi
    checkpoint_primary_timeline
    if ! pg_rewind --target-pgdata="$data" --progress \
        --source-server="host=$primary_host port=$primary_port user=$POSTGRES_USER dbname=postgres"; then
        aside="$data.diverged-$(date +%Y%m%dT%H%M%S)"
        echo "pgvector-setup: pg_rewind failed; keeping the diverged data directory as $aside and cloning afresh" >&2
        mv "$data" "$aside"
        clone
    fi
    rm -f "$rewind_marker"
fi

# Streams from the designated primary: the last primary_conninfo in postgresql.auto.conf wins, and the operator
# re-points a running standby with ALTER SYSTEM, which rewrites the file.
auto_conf="$data/postgresql.auto.conf"
touch "$auto_conf"
sed -i '/^primary_conninfo/d; /^primary_slot_name/d' "$auto_conf"
printf "primary_conninfo = 'host=%s port=%s user=%s application_name=%s'\n" \
    "$primary_host" "$primary_port" "$POSTGRES_USER" "$POD_NAME" >>"$auto_conf"
printf "primary_slot_name = '%s'\n" "$slot_name" >>"$auto_conf"
touch "$data/standby.signal"
echo "pgvector-setup: starting $data as a hot standby of $primary_pod"
start_postgres
