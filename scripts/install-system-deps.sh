#!/usr/bin/env bash
# Installs the Debian packages the tests need, and only those that are missing:
#   postgresql    server binaries (initdb, pg_ctl) for the throwaway test cluster
#   chromium      /usr/bin/chromium, driven by Playwright in the browser tests
#   redis-server  a real Redis for the rate-limit tests (tests/security), started by the tests
#   wrk           HTTP load generator, only when asked for (`make bench`)
#   python3-venv  only when asked for (`make venv` does when `python3 -m venv` lacks ensurepip)
#   make          only when asked for (.ci/run does on a machine without it)
# Usage: scripts/install-system-deps.sh [postgresql] [chromium] [redis-server] [wrk]
#        [python3-venv] [make] (no arguments = postgresql chromium redis-server). Runs apt-get as root, through sudo otherwise.
set -euo pipefail

wanted=("$@")
[ ${#wanted[@]} -eq 0 ] && wanted=(postgresql chromium redis-server)

have_postgresql() {
    command -v initdb >/dev/null 2>&1 && return 0
    compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null
}
have_chromium() { [ -x /usr/bin/chromium ]; }
have_redis-server() { command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ]; }
have_wrk() { command -v wrk >/dev/null 2>&1; }
have_make() { command -v make >/dev/null 2>&1; }
have_python3-venv() { "${PYTHON:-python3}" -c 'import ensurepip' >/dev/null 2>&1; }

missing=()
for package in "${wanted[@]}"; do
    case "$package" in
        postgresql | chromium | redis-server | wrk | python3-venv | make) ;;
        *) echo "install-system-deps: unknown package '$package'" >&2; exit 2 ;;
    esac
    "have_$package" || missing+=("$package")
done

if [ ${#missing[@]} -eq 0 ]; then
    echo "System packages present: ${wanted[*]}"
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    as_root=()
elif command -v sudo >/dev/null 2>&1; then
    as_root=(sudo)
else
    echo "install-system-deps: need root to install ${missing[*]}; run as root:" >&2
    echo "  apt-get update && apt-get install -y ${missing[*]}" >&2
    exit 1
fi

echo "Installing system packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
