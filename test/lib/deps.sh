# shellcheck shell=bash
# The ONE list of Debian 12 packages the runners need, and the function that installs
# whatever is missing. Source after common.sh.

VLX_DEPS=(
    build-essential                          # g++, make
    cmake                                    # the pure C++ core's unit tests
    libgtest-dev                             # GoogleTest
    pkg-config
    libssl-dev                               # OpenSSL libcrypto
    clang-14 llvm-14                         # Debian's PGXS also compiles LLVM bitcode with clang-14
    postgresql-15                            # server; ships contrib (pgcrypto, pgbench) on Debian 12
    postgresql-server-dev-15                 # PGXS, server headers, pg_regress, pg_isolation_regress
    postgresql-15-pgtap                      # pgTAP extension
    libtap-parser-sourcehandler-pgtap-perl   # pg_prove
    python3 python3-cryptography-vectors     # NIST AES-GCM vectors read by the unit tests
    util-linux                               # runuser: run the server as postgres when we are root
)

# Packages from VLX_DEPS that dpkg does not report as installed.
vlx_missing_deps() {
    local pkg status
    for pkg in "${VLX_DEPS[@]}"; do
        status="$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)"
        [[ "$status" == "install ok installed" ]] || printf '%s\n' "$pkg"
    done
}

# Install what is missing; touch apt only when something is.
vlx_ensure_deps() {
    local missing
    mapfile -t missing < <(vlx_missing_deps)
    if [[ ${#missing[@]} -eq 0 ]]; then
        vlx_log "dependencies: all ${#VLX_DEPS[@]} packages present"
        return 0
    fi
    vlx_log "dependencies: installing ${missing[*]}"
    vlx_as_root apt-get update
    # Installing postgresql-15 creates and starts Debian's own cluster 15/main on 5432;
    # we never use it (our clusters have their own socket folder and port).
    vlx_as_root env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y --no-install-recommends "${missing[@]}"
    mapfile -t missing < <(vlx_missing_deps)
    [[ ${#missing[@]} -eq 0 ]] || vlx_die "still missing after apt-get install: ${missing[*]}"
}
