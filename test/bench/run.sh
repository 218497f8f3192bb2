#!/usr/bin/env bash
# Benchmark runner (SPEC §10): throughput ratios, subject vs baseline, side by side.
#
#   bash test/bench/run.sh            every case in test/bench/cases/
#   bash test/bench/run.sh clock ...  only the named cases
#
# A case is a folder test/bench/cases/<name>/ with
#   setup.sql     run once (psql, ON_ERROR_STOP) in database vlx_bench
#   subject.sql   pgbench script measured
#   baseline.sql  pgbench script it is compared with
#   target        lines "min_ratio=0.6" and "describe=what is compared"
# Each script runs VLX_BENCH_ROUNDS (5) times for VLX_BENCH_SECONDS (5) s, subject and
# baseline alternating in ABBA order (which goes first flips every round) so drift and
# after-effects hit both alike; the medians give ratio = subject/baseline.
# A ratio below target is reported ("below"), never a failure: the exit status is
# non-zero only when something broke (setup or pgbench error).
# Env: VLX_PORT (default 54327), VLX_BENCH_SECONDS, VLX_BENCH_ROUNDS, VLX_BENCH_CLIENTS (2).
# Raw pgbench output goes to test/bench/results/.
set -euo pipefail

# shellcheck source=test/lib/cluster.sh
source "$(dirname "$0")/../lib/cluster.sh"
# shellcheck source=test/lib/deps.sh
source "$VLX_ROOT/test/lib/deps.sh"

CASES_DIR="$VLX_ROOT/test/bench/cases"
RESULTS_DIR="$VLX_ROOT/test/bench/results"
SECONDS_PER_RUN="${VLX_BENCH_SECONDS:-5}"
ROUNDS="${VLX_BENCH_ROUNDS:-5}"
CLIENTS="${VLX_BENCH_CLIENTS:-2}"
BENCH_DB=vlx_bench

TABLE_ROWS=()
BROKEN=0

# Value of KEY in a case's target file ("key=value" lines; the file is read, not sourced).
target_value() {
    sed -n "s/^[[:space:]]*$2[[:space:]]*=[[:space:]]*//p" "$1/target" 2>/dev/null | head -n 1
}

# The case's description, safe inside a markdown table cell.
case_describe() {
    local d
    d="$(target_value "$1" describe)"
    printf '%s' "${d//|/\\|}"
}

median() {
    printf '%s\n' "$@" | LC_ALL=C sort -g | awk '{ v[NR] = $1 } END {
        if (NR == 0) exit 1
        if (NR % 2) printf "%.1f\n", v[(NR + 1) / 2]
        else        printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# One pgbench run of script $2 for case $1; prints its tps.
pgbench_tps() {
    local name="$1" script="$2" out="$3" tps
    if ! pgbench -n -c "$CLIENTS" -j "$CLIENTS" -T "$SECONDS_PER_RUN" -f "$script" "$BENCH_DB" \
            >"$out" 2>&1; then
        sed 's/^/    /' "$out" >&2
        echo "pgbench failed for $name ($(basename "$script"))" >&2
        return 1
    fi
    tps="$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time)$/\1/p' "$out")"
    [[ -n "$tps" ]] || { echo "no tps line in $out" >&2; return 1; }
    echo "$tps"
}

run_case() {
    local name="$1" dir="$CASES_DIR/$1" f round tps min_ratio describe
    local subject=() baseline=() s_med b_med ratio verdict
    for f in setup.sql subject.sql baseline.sql target; do
        [[ -f "$dir/$f" ]] || { echo "case $name: missing $f" >&2; return 1; }
    done
    min_ratio="$(target_value "$dir" min_ratio)"
    describe="$(case_describe "$dir")"
    [[ "$min_ratio" =~ ^[0-9]+([.][0-9]+)?$ ]] || { echo "case $name: bad min_ratio" >&2; return 1; }

    printf '\n=== %s: %s\n' "$name" "$describe"
    vlx_psql -q -d "$BENCH_DB" -f "$dir/setup.sql" >"$RESULTS_DIR/$name.setup.log" 2>&1 \
        || { cat "$RESULTS_DIR/$name.setup.log" >&2; echo "case $name: setup.sql failed" >&2; return 1; }

    for ((round = 1; round <= ROUNDS; round++)); do
        # ABBA: odd rounds run the subject first, even rounds the baseline, so what one
        # script leaves behind (autovacuum, dirty buffers) lands on both alike.
        local first=subject
        (( round % 2 == 0 )) && first=baseline
        if [[ $first == baseline ]]; then
            tps="$(pgbench_tps "$name" "$dir/baseline.sql" "$RESULTS_DIR/$name.baseline.$round.log")" || return 1
            baseline+=("$tps")
        fi
        tps="$(pgbench_tps "$name" "$dir/subject.sql" "$RESULTS_DIR/$name.subject.$round.log")" || return 1
        subject+=("$tps")
        if [[ $first == subject ]]; then
            tps="$(pgbench_tps "$name" "$dir/baseline.sql" "$RESULTS_DIR/$name.baseline.$round.log")" || return 1
            baseline+=("$tps")
        fi
        printf '  round %d/%d: subject %10.1f tps   baseline %10.1f tps\n' \
            "$round" "$ROUNDS" "${subject[-1]}" "${baseline[-1]}"
    done

    s_med="$(median "${subject[@]}")"
    b_med="$(median "${baseline[@]}")"
    ratio="$(awk -v s="$s_med" -v b="$b_med" 'BEGIN { if (b > 0) printf "%.2f", s / b; else print "nan" }')"
    verdict="$(awk -v r="$ratio" -v m="$min_ratio" 'BEGIN { print (r + 0 >= m + 0) ? "meets" : "below" }')"
    printf '  subject median %s tps, baseline median %s tps, ratio %s, target >= %s: %s\n' \
        "$s_med" "$b_med" "$ratio" "$min_ratio" "$verdict"
    TABLE_ROWS+=("| $name | $describe | $s_med | $b_med | ${ratio}× | ≥ ${min_ratio}× | $verdict |")
}

print_table() {
    printf '\n<!-- test/bench/run.sh: %s clients, %s x %ss per script, medians; %s -->\n' \
        "$CLIENTS" "$ROUNDS" "$SECONDS_PER_RUN" "$(date -u +%Y-%m-%d)"
    echo '| case | compares | subject tps | baseline tps | ratio | target | result |'
    echo '| --- | --- | ---: | ---: | ---: | ---: | --- |'
    local row
    for row in "${TABLE_ROWS[@]}"; do echo "$row"; done
}

main() {
    local cases=() name
    if [[ $# -gt 0 ]]; then
        cases=("$@")
    else
        for name in "$CASES_DIR"/*/; do cases+=("$(basename "$name")"); done
    fi
    for name in "${cases[@]}"; do
        [[ -d "$CASES_DIR/$name" ]] || vlx_die "no such benchmark case: $name (see $CASES_DIR)"
    done

    vlx_ensure_deps
    vlx_use_pg_path
    vlx_build_install || vlx_die "the extension did not build or install"
    mkdir -p "$RESULTS_DIR"

    vlx_cluster_setup bench 54327
    vlx_cluster_trap
    vlx_cluster_init
    vlx_cluster_preload on
    # A setting for this cluster only: the SPEC's measurements run without the commit flush.
    vlx_cluster_set synchronous_commit off
    vlx_cluster_start || vlx_die "the bench cluster did not start"
    vlx_psql -q -d postgres -c "CREATE DATABASE $BENCH_DB"
    vlx_psql -q -d "$BENCH_DB" -c 'CREATE EXTENSION vitaluxe_security CASCADE'

    for name in "${cases[@]}"; do
        if ! run_case "$name"; then
            BROKEN=$((BROKEN + 1))
            TABLE_ROWS+=("| $name | $(case_describe "$CASES_DIR/$name") | - | - | - | - | error |")
        fi
    done

    vlx_cluster_stop fast
    print_table
    if [[ $BROKEN -gt 0 ]]; then
        echo "bench: $BROKEN case(s) broke (see above and $RESULTS_DIR)" >&2
        return 1
    fi
}

main "$@"
