#!/usr/bin/env bash
# Every test, from a fresh Debian 12 machine: installs what is missing, builds and installs
# the extension, runs the pure C++ core tests, then the SQL suites twice against a
# throwaway cluster: without and with shared_preload_libraries = 'vitaluxe_security'.
#
#   bash test/run_all.sh
#
# Env: VLX_PORT (default 54329), VLX_SCRIPT_TIMEOUT (seconds per crash/stress script, 300).
# Last line: "run_all: N passed, M failed" (steps); exit status non-zero when M > 0.
set -euo pipefail

# shellcheck source=test/lib/cluster.sh
source "$(dirname "$0")/lib/cluster.sh"
# shellcheck source=test/lib/deps.sh
source "$VLX_ROOT/test/lib/deps.sh"
cd "$VLX_ROOT"

# ---- steps ------------------------------------------------------------------------------

step_core_tests() {
    [[ -f CMakeLists.txt ]] || { echo "CMakeLists.txt is missing"; return 1; }
    # Same build type as `make core-test`, so both share build/.
    cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
    cmake --build build -j2
    (cd build && ctest --output-on-failure)
}

# Show the diffs files named, right here, so a CI log alone tells what differed.
print_diffs() {
    local f
    for f in "$@"; do
        if [[ -s "$f" ]]; then
            printf '\n----- %s -----\n' "$f"
            cat "$f"
        fi
    done
}

# pg_regress over sql/*.sql against expected/, through PGXS (make installcheck with the
# isolation part switched off, so a failure here does not hide the isolation results).
# PGXS appends --dbname=$(CONTRIB_TESTDB) after REGRESS_OPTS and pg_regress keeps the last
# --dbname, so the database is named through that variable.
step_regress() {
    compgen -G 'sql/*.sql' >/dev/null || { echo "no sql/*.sql yet"; return 77; }
    rm -f regression.diffs regression.out
    # pg_regress stops at the first test without an expected file; say which, up front.
    local t
    for t in sql/*.sql; do
        t="$(basename "$t" .sql)"
        [[ -f "expected/$t.out" ]] || echo "note: expected/$t.out is missing (the actual output lands in results/$t.out)"
    done
    make installcheck PG_CONFIG="$VLX_PG_CONFIG" ISOLATION= CONTRIB_TESTDB=vlx_regress \
        || { print_diffs regression.diffs; return 1; }
}

# pg_isolation_regress over test/isolation/specs/*.spec against test/isolation/expected/.
step_isolation() {
    compgen -G 'test/isolation/specs/*.spec' >/dev/null \
        || { echo "no test/isolation/specs/*.spec yet"; return 77; }
    # ISOLATION_OPTS sends the output to test/isolation/results; PGXS's default is output_iso.
    local diffs=(test/isolation/results/regression.diffs output_iso/regression.diffs)
    rm -f "${diffs[@]}"
    make installcheck PG_CONFIG="$VLX_PG_CONFIG" REGRESS= ISOLATION_TESTDB=vlx_isolation \
        || { print_diffs "${diffs[@]}"; return 1; }
}

step_pgtap() {
    if [[ -z "$(find test/pgtap -name '*.sql' -print -quit 2>/dev/null)" ]]; then
        echo "no test/pgtap/**/*.sql yet"
        return 77
    fi
    vlx_psql -q -d postgres -c 'SET client_min_messages = warning' \
        -c 'DROP DATABASE IF EXISTS vlx_tap' -c 'CREATE DATABASE vlx_tap'
    vlx_psql -q -d vlx_tap -c 'CREATE EXTENSION pgtap' -c 'CREATE EXTENSION vitaluxe_security CASCADE'
    pg_prove --recurse --ext .sql -d vlx_tap test/pgtap/
}

# A crash/stress script: own process, inherits the cluster env, bounded in time.
step_script() {
    local script="$1" rc=0
    timeout --kill-after=10 "${VLX_SCRIPT_TIMEOUT:-300}" bash "$script" || rc=$?
    [[ $rc -eq 124 ]] && echo "timed out after ${VLX_SCRIPT_TIMEOUT:-300}s"
    # The script may have stopped or crashed the server: bring it back for the next one.
    vlx_cluster_ensure_running || { echo "server did not come back after $script"; return 1; }
    return "$rc"
}

step_restart_with_preload() {
    vlx_cluster_stop fast
    vlx_cluster_preload "$1"
    vlx_cluster_start
    vlx_psql -At -d postgres \
        -c "SELECT format('shared_preload_libraries = %L', current_setting('shared_preload_libraries'))"
}

# One pass of every SQL-level suite, with preload $1 (on|off).
sql_pass() {
    local preload="$1" script
    export VLX_PRELOAD="$preload"   # for the crash/stress scripts
    vlx_step "cluster restart [preload=$preload]" step_restart_with_preload "$preload"
    if [[ $VLX_STEP_RC -ne 0 ]]; then
        vlx_step_not_run "sql suites [preload=$preload]" "cluster did not start"
        return 0
    fi
    vlx_step "pg_regress [preload=$preload]" step_regress
    vlx_step "isolation [preload=$preload]" step_isolation
    vlx_step "pgTAP [preload=$preload]" step_pgtap
    for script in test/integration/*.sh test/crash/*.sh test/stress/*.sh; do
        [[ -f "$script" ]] || continue
        vlx_step "$script [preload=$preload]" step_script "$script"
    done
}

# ---- main -------------------------------------------------------------------------------

main() {
    local started
    started=$(date +%s)
    # Nothing else can run without the packages: a failure here ends the run.
    vlx_ensure_deps
    vlx_use_pg_path

    vlx_step "build + install" vlx_build_install
    local build_rc=$VLX_STEP_RC
    vlx_step "core unit tests (cmake/ctest)" step_core_tests

    if [[ $build_rc -ne 0 ]]; then
        vlx_step_not_run "sql suites" "the extension did not build"
    else
        vlx_cluster_setup test 54329
        vlx_cluster_trap
        vlx_cluster_init
        vlx_log "cluster: $VLX_CLUSTER_DIR (port $PGPORT, unix socket only)"
        sql_pass off
        sql_pass on
        vlx_cluster_stop fast
    fi

    echo
    echo "total time: $(( $(date +%s) - started ))s"
    vlx_step_summary run_all
}

main "$@"
