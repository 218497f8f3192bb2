#!/usr/bin/env bash
# The demo, from a fresh Debian 12 machine: installs what is missing, builds and installs
# the extension, starts a throwaway cluster with shared_preload_libraries, loads a sample
# VitaLuxe app (test/demo/app_schema.sql, sample_data.sql) and runs the scenario
# (test/demo/scenario.sql -> steps/NN_*.sql), which prints the admin Security tabs.
#
#   bash test/run_demo.sh
#
# Env: VLX_PORT (default 54328). Any psql error stops the demo with a non-zero exit.
set -euo pipefail

# shellcheck source=test/lib/cluster.sh
source "$(dirname "$0")/lib/cluster.sh"
# shellcheck source=test/lib/deps.sh
source "$VLX_ROOT/test/lib/deps.sh"

DEMO_DIR="$VLX_ROOT/test/demo"
DEMO_DB=vitaluxe_demo

# scenario.sql must \ir every steps/*.sql, in name order, and nothing else: a step
# file that was added but not listed would silently never run.
# shellcheck disable=SC2001  # sed indents every line of a multi-line value
check_scenario_lists_steps() {
    local listed on_disk f
    listed="$(sed -n 's|^\\ir[[:space:]]\{1,\}steps/\([^[:space:]]*\.sql\).*|\1|p' "$DEMO_DIR/scenario.sql")"
    on_disk="$(for f in "$DEMO_DIR"/steps/*.sql; do basename "$f"; done | LC_ALL=C sort)"
    if [[ "$listed" != "$on_disk" ]]; then
        echo "test/demo/scenario.sql lists:"; sed 's/^/  /' <<<"$listed"
        echo "test/demo/steps/ holds:"; sed 's/^/  /' <<<"$on_disk"
        vlx_die "scenario.sql and steps/ disagree: list every step, in name order"
    fi
}

demo_psql() {
    vlx_psql -d "$DEMO_DB" "$@"
}

main() {
    check_scenario_lists_steps
    vlx_ensure_deps
    vlx_use_pg_path
    vlx_build_install || vlx_die "the extension did not build or install"

    vlx_cluster_setup demo 54328
    vlx_cluster_trap
    vlx_cluster_init
    vlx_cluster_preload on
    vlx_cluster_start || vlx_die "the demo cluster did not start"
    vlx_log "cluster: $VLX_CLUSTER_DIR (port $PGPORT, preload on)"

    vlx_psql -q -d postgres -c "CREATE DATABASE $DEMO_DB"
    vlx_log "loading the sample app schema"
    demo_psql -q -f "$DEMO_DIR/app_schema.sql"
    # Before the sample data: its last part mirrors app.accounts into security.accounts.
    vlx_log "CREATE EXTENSION vitaluxe_security"
    demo_psql -q -c 'CREATE EXTENSION vitaluxe_security CASCADE'
    vlx_log "loading the sample data"
    demo_psql -q -f "$DEMO_DIR/sample_data.sql"
    demo_psql -At -c "SELECT format('  %s practices, %s accounts (%s mirrored), %s patients, %s orders, %s order lines',
        (SELECT count(*) FROM app.practices), (SELECT count(*) FROM app.accounts),
        (SELECT count(*) FROM security.accounts), (SELECT count(*) FROM app.patients),
        (SELECT count(*) FROM app.orders), (SELECT count(*) FROM app.order_lines))"

    vlx_log "running the scenario (test/demo/scenario.sql)"
    demo_psql -f "$DEMO_DIR/scenario.sql"

    vlx_cluster_stop fast
    vlx_log "demo finished"
}

main "$@"
