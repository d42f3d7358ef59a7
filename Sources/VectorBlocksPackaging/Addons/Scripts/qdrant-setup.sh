#!/bin/sh
# Starts one Qdrant peer of a VectorBlocks Cluster.
#
# A peer with storage joins through any peer that answers and bootstraps a new cluster only when its storage is
# empty and no peer answers after every attempt. "Pod 0 bootstraps" is wrong: a pod 0 that lost its volume would
# found a second cluster beside the running one.
#
# Environment (from the component's env ConfigMap and the podSpec):
#   VB_CLUSTER_NAME, VB_COMP_NAME, VB_NAMESPACE, VB_REPLICA_COUNT   the component
#   POD_NAME                                                        this pod (<cluster>-<component>-<ordinal>)
#   QDRANT__SERVICE__API_KEY                                        sent as api-key when asking peers
#   CURL (curl)                                                     the Qdrant image has none; the pod copies one in
#   VB_CLUSTER_DOMAIN (cluster.local), VB_JOIN_ATTEMPTS (30), VB_JOIN_RETRY_SECONDS (2)
#   QDRANT_STORAGE_PATH (/qdrant/storage), QDRANT_CONFIG_PATH (/qdrant/config-vb/config.yaml), QDRANT_BIN (/qdrant/qdrant)
set -eu

fail() {
    echo "qdrant-setup: $*" >&2
    exit 1
}

[ -n "${VB_CLUSTER_NAME:-}" ] || fail "VB_CLUSTER_NAME is not set: the pod must load the component's env ConfigMap"
[ -n "${VB_COMP_NAME:-}" ] || fail "VB_COMP_NAME is not set: the pod must load the component's env ConfigMap"
[ -n "${VB_NAMESPACE:-}" ] || fail "VB_NAMESPACE is not set: the pod must load the component's env ConfigMap"
[ -n "${POD_NAME:-}" ] || fail "POD_NAME is not set: add it to the container's env from metadata.name"
replicas="${VB_REPLICA_COUNT:-1}"
case "$replicas" in
    '' | *[!0-9]*) fail "VB_REPLICA_COUNT is \"$replicas\", not a number" ;;
esac

storage="${QDRANT_STORAGE_PATH:-/qdrant/storage}"
config="${QDRANT_CONFIG_PATH:-/qdrant/config-vb/config.yaml}"
qdrant="${QDRANT_BIN:-/qdrant/qdrant}"
attempts="${VB_JOIN_ATTEMPTS:-30}"
pause="${VB_JOIN_RETRY_SECONDS:-2}"
curl_bin="${CURL:-curl}"
headless="${VB_CLUSTER_NAME}-${VB_COMP_NAME}-headless.${VB_NAMESPACE}.svc.${VB_CLUSTER_DOMAIN:-cluster.local}"
self_uri="http://${POD_NAME}.${headless}:6335"

# Storage is used once Qdrant has written its consensus state; a fresh volume may hold lost+found.
storage_is_used() {
    [ -e "$storage/raft_state.json" ] || [ -d "$storage/collections" ]
}

# Prints the first peer whose REST API answers, or nothing.
answering_peer() {
    ordinal=0
    while [ "$ordinal" -lt "$replicas" ]; do
        peer="${VB_CLUSTER_NAME}-${VB_COMP_NAME}-${ordinal}"
        if [ "$peer" != "$POD_NAME" ] &&
            "$curl_bin" --silent --fail --max-time 3 --header "api-key: ${QDRANT__SERVICE__API_KEY:-}" \
                "http://${peer}.${headless}:6333/cluster" >/dev/null 2>&1; then
            echo "$peer"
            return 0
        fi
        ordinal=$((ordinal + 1))
    done
    return 0
}

if storage_is_used; then
    # The peer knows its cluster from its consensus state; bootstrapping again would be refused or split it.
    echo "qdrant-setup: $storage holds consensus state; restarting as $self_uri"
    exec "$qdrant" --config-path "$config" --uri "$self_uri"
fi

attempt=1
while :; do
    peer=$(answering_peer)
    if [ -n "$peer" ]; then
        echo "qdrant-setup: joining the cluster through $peer"
        exec "$qdrant" --config-path "$config" --bootstrap "http://${peer}.${headless}:6335" --uri "$self_uri"
    fi
    [ "$attempt" -lt "$attempts" ] || break
    attempt=$((attempt + 1))
    sleep "$pause"
done

echo "qdrant-setup: empty storage and no peer answered after $attempts attempts; bootstrapping a new cluster"
exec "$qdrant" --config-path "$config" --uri "$self_uri"
