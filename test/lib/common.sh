# shellcheck shell=bash
# Shared helpers for the shell runners (run_all.sh, run_demo.sh, bench/run.sh).
# Source it; it only defines variables and functions.

[[ -n "${VLX_COMMON_SOURCED:-}" ]] && return 0
VLX_COMMON_SOURCED=1

# Repository root, whatever the caller's working directory.
VLX_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export VLX_ROOT

# The PostgreSQL we build against and run. Debian may carry several majors; /usr/bin/pg_config
# and /usr/bin/psql are wrappers that may pick another one, so name 15's own binaries.
VLX_PG_CONFIG="${VLX_PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}"
export VLX_PG_CONFIG

# A locale that exists on every Debian (glibc ships C.UTF-8 built in): initdb and perl
# (pg_prove) fail or complain when LANG names a locale that was never generated.
export LANG=C.UTF-8 LC_ALL=C.UTF-8

vlx_log()  { printf '==> %s\n' "$*"; }
vlx_warn() { printf 'WARNING: %s\n' "$*" >&2; }
vlx_die()  { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

vlx_is_root() { [[ "$(id -u)" -eq 0 ]]; }

# Run a command as root: directly when we are root, else through sudo.
vlx_as_root() {
    if vlx_is_root; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        vlx_die "need root for: $* (run as root, or install sudo)"
    fi
}

# PostgreSQL's bin directory (initdb, pg_ctl, psql, pgbench); valid once deps are installed.
vlx_pg_bindir() {
    if [[ -x "$VLX_PG_CONFIG" ]]; then
        "$VLX_PG_CONFIG" --bindir
    else
        echo /usr/lib/postgresql/15/bin
    fi
}

# Put PostgreSQL 15's own client binaries first so psql/pgbench/pg_prove's psql are 15's,
# not Debian's pg_wrapper guessing a cluster.
vlx_use_pg_path() {
    VLX_BINDIR="$(vlx_pg_bindir)"
    export VLX_BINDIR
    case ":$PATH:" in
        *":$VLX_BINDIR:"*) ;;
        *) export PATH="$VLX_BINDIR:$PATH" ;;
    esac
}

# make + make install of the extension (PGXS). Install writes into /usr, so needs root.
vlx_build_install() {
    vlx_log "building the extension (make -j2)"
    make -C "$VLX_ROOT" -j2 PG_CONFIG="$VLX_PG_CONFIG" || return 1
    vlx_log "installing the extension (make install)"
    vlx_as_root make -C "$VLX_ROOT" install PG_CONFIG="$VLX_PG_CONFIG" || return 1
}

# psql as the runners use it: no ~/.psqlrc, stop at the first error.
vlx_psql() {
    psql -X -v ON_ERROR_STOP=1 "$@"
}

# ---------------------------------------------------------------------------------------
# Steps: run a function, record PASS/FAIL/SKIP, keep going after a failure.
#
# Each step runs in a subshell with errexit on. It is a plain statement (not inside
# `if`/`||`), because bash ignores `set -e` in any function called from such a context,
# which would let a failing command in the middle of a step go unnoticed.
# A step returns 77 to say "skipped" (the automake convention).
VLX_STEP_NAMES=()
VLX_STEP_RESULTS=()
VLX_STEP_SECONDS=()
VLX_STEP_RC=0   # exit status of the last step, read by the runners

vlx_step() {
    local name="$1"; shift
    local start rc result
    start=$(date +%s)
    printf '\n=== %s\n' "$name"
    set +e
    # stderr joins stdout so a CI log shows an error next to the step that printed it.
    ( set -euo pipefail; "$@" ) 2>&1
    rc=$?
    set -e
    case "$rc" in
        0)  result=PASS ;;
        77) result=SKIP ;;
        *)  result=FAIL ;;
    esac
    # shellcheck disable=SC2034  # read by the runners
    VLX_STEP_RC=$rc
    VLX_STEP_NAMES+=("$name")
    VLX_STEP_RESULTS+=("$result")
    VLX_STEP_SECONDS+=("$(( $(date +%s) - start ))")
    printf -- '--- %s %s (%ss)\n' "$result" "$name" "${VLX_STEP_SECONDS[-1]}"
    return 0
}

# Record a step that could not run because an earlier one failed.
vlx_step_not_run() {
    VLX_STEP_NAMES+=("$1")
    VLX_STEP_RESULTS+=("FAIL")
    VLX_STEP_SECONDS+=(0)
    printf -- '--- FAIL %s (not run: %s)\n' "$1" "$2"
}

# Print the summary; the last line is "<label>: N passed, M failed". Returns 1 if M > 0.
vlx_step_summary() {
    local label="$1" i passed=0 failed=0 skipped=0
    printf '\n===== summary =====\n'
    for i in "${!VLX_STEP_NAMES[@]}"; do
        printf '%-4s %-45s %5ss\n' "${VLX_STEP_RESULTS[$i]}" "${VLX_STEP_NAMES[$i]}" "${VLX_STEP_SECONDS[$i]}"
        case "${VLX_STEP_RESULTS[$i]}" in
            PASS) passed=$((passed + 1)) ;;
            FAIL) failed=$((failed + 1)) ;;
            SKIP) skipped=$((skipped + 1)) ;;
        esac
    done
    [[ $skipped -gt 0 ]] && printf '(%d step(s) skipped: nothing to run yet)\n' "$skipped"
    printf '%s: %d passed, %d failed\n' "$label" "$passed" "$failed"
    [[ $failed -eq 0 ]]
}
