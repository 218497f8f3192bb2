# shellcheck shell=bash
# A throwaway PostgreSQL 15 cluster for the runners and for test scripts.
#
# Runners:      source this, then  vlx_cluster_setup NAME PORT; vlx_cluster_init;
#               vlx_cluster_trap; vlx_cluster_start
# Test scripts (test/crash/*.sh, test/stress/*.sh) get VLX_CLUSTER_DIR etc. in their
# environment; sourcing this file attaches to that cluster, so they can call
#   vlx_cluster_restart | vlx_cluster_stop [mode] | vlx_cluster_start
#   vlx_cluster_crash            (immediate shutdown: the next start runs crash recovery)
#   vlx_cluster_kill_backend PID (SIGKILL one backend: the postmaster resets all backends)
#   vlx_cluster_wait_ready       (after a crash, until connections are accepted again)
#   vlx_cluster_set NAME VALUE   (a setting in the cluster's own conf file; restart after)
#   vlx_psql ...                 (psql -X -v ON_ERROR_STOP=1)
#
# Layout: $VLX_CLUSTER_DIR/ holds the unix socket, server.log, initdb.log and data/.
# The server listens on no TCP address (listen_addresses = ''), only on that socket.
# When we are root the server runs as the OS user postgres (PostgreSQL refuses root).

# shellcheck source=test/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# Run a server-side program (initdb, pg_ctl) as the user that owns the cluster.
# From root: as postgres, from a folder postgres can enter (the caller's may be /root/...).
vlx_as_pg() {
    if vlx_is_root; then
        ( cd / && runuser -u postgres -- "$@" )
    else
        "$@"
    fi
}

# Derive the variables of a cluster whose folder is VLX_CLUSTER_DIR (exported for children).
vlx_cluster_env() {
    vlx_use_pg_path
    export VLX_CLUSTER_DIR
    export VLX_PGDATA="$VLX_CLUSTER_DIR/data"
    export VLX_CLUSTER_LOG="$VLX_CLUSTER_DIR/server.log"
    export PGHOST="$VLX_CLUSTER_DIR"
    export PGPORT="${VLX_CLUSTER_PORT:?}"
    export VLX_CLUSTER_PORT
    export PGUSER=postgres
    # Never let a caller's PGDATABASE/PGPASSWORD/PGSERVICE etc. redirect our clients.
    unset PGDATABASE PGSERVICE PGSERVICEFILE PGPASSWORD PGOPTIONS PGHOSTADDR PGCLUSTER
}

# Is process $1 the one recorded with start time $2 (guards against PID reuse)?
vlx_pid_alive() {
    local pid="$1" start="$2"
    [[ -r "/proc/$pid/stat" ]] || return 1
    [[ "$(awk '{print $22}' "/proc/$pid/stat" 2>/dev/null)" == "$start" ]]
}

vlx_my_start_time() { awk '{print $22}' "/proc/$$/stat"; }

# Stop a leftover server in folder $1 (a run that was killed) and delete the folder.
vlx_cluster_remove_stale() {
    local dir="$1" owner pid start
    [[ -d "$dir" ]] || return 0
    if [[ -r "$dir/owner" ]]; then
        read -r pid start <"$dir/owner" || true
        if [[ -n "${pid:-}" && "$pid" != "$$" ]] && vlx_pid_alive "$pid" "${start:-}"; then
            vlx_die "cluster folder $dir is in use by a running runner (pid $pid); wait for it or kill it"
        fi
    fi
    if [[ -f "$dir/data/postmaster.pid" ]]; then
        vlx_log "stopping a stale server left in $dir"
        vlx_as_pg "$VLX_BINDIR/pg_ctl" -D "$dir/data" -m immediate -w -t 60 stop >/dev/null 2>&1 || true
    fi
    owner="$(stat -c %U "$dir" 2>/dev/null || echo '?')"
    rm -rf "$dir" 2>/dev/null || vlx_as_root rm -rf "$dir" \
        || vlx_die "cannot remove stale cluster folder $dir (owner $owner)"
}

# Choose and prepare the folder for cluster NAME, listening on PORT (VLX_PORT overrides).
# Sets and exports the connection environment. Does not initdb (vlx_cluster_init does).
vlx_cluster_setup() {
    local name="$1" port="${VLX_PORT:-$2}" base="$VLX_ROOT/.cluster" pointer dir old
    vlx_use_pg_path
    VLX_CLUSTER_PORT="$port"
    pointer="$base/$name.tmpdir"
    mkdir -p "$base"

    # A previous run may have left a server here, or in the /tmp folder it fell back to.
    vlx_cluster_remove_stale "$base/$name"
    if [[ -r "$pointer" ]]; then
        old="$(cat "$pointer")"
        case "$old" in
            /tmp/vitaluxe_security.*) vlx_cluster_remove_stale "$old" ;;
        esac
        rm -f "$pointer"
    fi

    dir="$base/$name"
    # The socket path (dir + "/.s.PGSQL.<port>.lock") must fit in sun_path (108 bytes).
    if (( ${#dir} + 20 > 107 )); then
        dir="$(mktemp -d /tmp/vitaluxe_security.XXXXXX)"
        echo "$dir" >"$pointer"
        vlx_log "cluster: $base/$name would make too long a socket path; using $dir instead"
    elif vlx_is_root && ! runuser -u postgres -- test -x "$VLX_ROOT"; then
        # CI may clone under /root, which the postgres user cannot traverse.
        dir="$(mktemp -d /tmp/vitaluxe_security.XXXXXX)"
        echo "$dir" >"$pointer"
        vlx_log "cluster: postgres cannot enter $VLX_ROOT; using $dir instead"
    else
        mkdir -p "$dir"
    fi
    case "$dir" in *"'"*) vlx_die "cluster folder path must not contain a quote: $dir" ;; esac
    chmod 755 "$dir"
    printf '%s %s\n' "$$" "$(vlx_my_start_time)" >"$dir/owner"
    vlx_is_root && chown postgres:postgres "$dir"
    VLX_CLUSTER_DIR="$dir"
    vlx_cluster_env
}

# initdb and the test configuration. fsync/synchronous_commit off: throwaway data, and
# the benchmarks must measure the logic rather than the disk flush.
vlx_cluster_init() {
    if ! vlx_as_pg "$VLX_BINDIR/initdb" -D "$VLX_PGDATA" -U postgres -A trust \
            -E UTF8 --locale=C.UTF-8 --no-sync >"$VLX_CLUSTER_DIR/initdb.log" 2>&1; then
        cat "$VLX_CLUSTER_DIR/initdb.log"
        vlx_die "initdb failed"
    fi
    local conf
    conf="$(cat <<CONF

# ---- vitaluxe_security test cluster (test/lib/cluster.sh) ----
listen_addresses = ''
port = $VLX_CLUSTER_PORT
unix_socket_directories = '$VLX_CLUSTER_DIR'
fsync = off
synchronous_commit = off
full_page_writes = off
lc_messages = 'C'
log_line_prefix = '%m [%p] %q%u@%d '
log_min_messages = warning
# Per-run settings (shared_preload_libraries, ...) written by vlx_cluster_set.
include_if_exists = 'vlx_local.conf'
CONF
)"
    printf '%s\n' "$conf" | vlx_as_pg tee -a "$VLX_PGDATA/postgresql.conf" >/dev/null
    vlx_as_pg touch "$VLX_PGDATA/vlx_local.conf"
}

# Set NAME = 'VALUE' in the cluster's vlx_local.conf (takes effect at the next restart,
# or reload for reloadable settings).
vlx_cluster_set() {
    local name="$1" value="$2" file="$VLX_PGDATA/vlx_local.conf" content
    content="$(grep -v -E "^[[:space:]]*${name}[[:space:]]*=" "$file" 2>/dev/null || true)"
    value="${value//\'/\'\'}"
    printf '%s\n%s = '\''%s'\''\n' "$content" "$name" "$value" | sed '/^$/d' \
        | vlx_as_pg tee "$file" >/dev/null
}

# shared_preload_libraries on or off for the next start.
vlx_cluster_preload() {
    case "$1" in
        on)  vlx_cluster_set shared_preload_libraries vitaluxe_security ;;
        off) vlx_cluster_set shared_preload_libraries '' ;;
        *)   vlx_die "vlx_cluster_preload on|off" ;;
    esac
    export VLX_PRELOAD="$1"
}

vlx_cluster_is_running() {
    [[ -f "$VLX_PGDATA/postmaster.pid" ]] \
        && vlx_as_pg "$VLX_BINDIR/pg_ctl" -D "$VLX_PGDATA" status >/dev/null 2>&1
}

# Wait until the server accepts connections (startup, crash recovery).
vlx_cluster_wait_ready() {
    local i
    for ((i = 0; i < 120; i++)); do
        pg_isready -q -h "$PGHOST" -p "$PGPORT" -d postgres && return 0
        sleep 0.5
    done
    tail -n 40 "$VLX_CLUSTER_LOG" 2>/dev/null || true
    vlx_warn "server in $VLX_CLUSTER_DIR did not become ready"
    return 1
}

vlx_cluster_start() {
    if ! vlx_as_pg "$VLX_BINDIR/pg_ctl" -D "$VLX_PGDATA" -l "$VLX_CLUSTER_LOG" -w -t 120 \
            start >/dev/null; then
        tail -n 40 "$VLX_CLUSTER_LOG" 2>/dev/null || true
        vlx_warn "server in $VLX_CLUSTER_DIR failed to start (log above: $VLX_CLUSTER_LOG)"
        return 1
    fi
    vlx_cluster_wait_ready
}

# Stop with MODE (default fast); fall back to immediate when fast does not finish.
vlx_cluster_stop() {
    local mode="${1:-fast}"
    [[ -f "$VLX_PGDATA/postmaster.pid" ]] || return 0
    vlx_as_pg "$VLX_BINDIR/pg_ctl" -D "$VLX_PGDATA" -m "$mode" -w -t 60 stop >/dev/null 2>&1 \
        || vlx_as_pg "$VLX_BINDIR/pg_ctl" -D "$VLX_PGDATA" -m immediate -w -t 60 stop >/dev/null 2>&1 \
        || { vlx_warn "could not stop the server in $VLX_CLUSTER_DIR"; return 1; }
}

vlx_cluster_restart() {
    vlx_cluster_stop fast && vlx_cluster_start
}

# Simulate a crash of the whole server: immediate shutdown, no checkpoint.
vlx_cluster_crash() {
    vlx_cluster_stop immediate
}

# SIGKILL one backend: the postmaster treats it as a crash and resets every backend.
vlx_cluster_kill_backend() {
    vlx_as_pg kill -KILL "$1"
}

# Start the server if a test left it stopped; wait for it to accept connections.
vlx_cluster_ensure_running() {
    if vlx_cluster_is_running; then
        vlx_cluster_wait_ready
    else
        vlx_cluster_start
    fi
}

# Stop the cluster when the runner exits, whatever the reason (error, Ctrl-C, kill).
# Runners may add commands to VLX_EXIT_HOOKS; they run first.
VLX_EXIT_HOOKS=()
vlx_cluster_on_exit() {
    local rc=$? hook
    trap - EXIT INT TERM HUP
    set +e
    for hook in "${VLX_EXIT_HOOKS[@]}"; do eval "$hook"; done
    if [[ -n "${VLX_CLUSTER_DIR:-}" && -d "$VLX_CLUSTER_DIR" ]]; then
        vlx_cluster_stop fast
        rm -f "$VLX_CLUSTER_DIR/owner"
        # A /tmp fallback folder is not reused by a fresh clone (CI): drop its data, keep logs.
        case "$VLX_CLUSTER_DIR" in
            /tmp/vitaluxe_security.*) rm -rf "$VLX_PGDATA" ;;
        esac
    fi
    exit "$rc"
}
vlx_cluster_trap() {
    trap vlx_cluster_on_exit EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    trap 'exit 129' HUP
}

# Attach when sourced by a test script that inherited a runner's cluster.
if [[ -n "${VLX_CLUSTER_DIR:-}" && -n "${VLX_CLUSTER_PORT:-}" ]]; then
    vlx_cluster_env
fi
