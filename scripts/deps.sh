#!/usr/bin/env bash
# Installs what the build, the tests or the benchmark need, by group.
#
#   scripts/deps.sh base         Debian packages the server builds and runs with
#   scripts/deps.sh bench        Debian packages for `make bench` (nginx, wrk)
#   scripts/deps.sh test         Python packages for the end-to-end suite (Tests/requirements.txt)
#   scripts/deps.sh base test    several groups at once
#
# Only what is missing is installed. Debian packages: as root, with apt-get (`apt-get update` runs only
# when something is missing); otherwise the exact `sudo apt-get install ...` line is printed and the
# script fails. Nothing is done, and nothing printed, when everything is already there.
set -euo pipefail

cd "$(dirname "$0")/.."

apt_group() {
    case "$1" in
        base) echo "libsqlite3-dev libssl-dev libcrypt-dev pkg-config curl sqlite3" ;;
        bench) echo "nginx wrk golang-go golang-github-gorilla-websocket-dev" ;;
        test) echo "chromium chromium-driver" ;;  # headless browser tests; Python packages: see pip_group.
        *) return 1 ;;
    esac
}

if [ "$#" -eq 0 ]; then
    echo "usage: $0 GROUP... (groups: base bench test)" >&2
    exit 2
fi

want_apt=()
want_python=false
for group in "$@"; do
    if ! packages=$(apt_group "$group"); then
        echo "deps: unknown group '$group' (groups: base bench test)" >&2
        exit 2
    fi
    # shellcheck disable=SC2206
    want_apt+=($packages)
    if [ "$group" = test ]; then
        want_python=true
        # A machine without any python3 gets Debian's.
        command -v python3 >/dev/null 2>&1 || want_apt+=(python3 python3-pip)
    fi
done

is_installed() {
    [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}

missing=()
for package in ${want_apt[@]+"${want_apt[@]}"}; do
    is_installed "$package" || missing+=("$package")
done

if [ "${#missing[@]}" -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ]; then
        echo "deps: installing ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -q
        apt-get install -q -y --no-install-recommends "${missing[@]}"
    else
        echo "deps: missing Debian packages: ${missing[*]}" >&2
        echo "deps: install them with:" >&2
        echo "    sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
        exit 1
    fi
fi

if $want_python; then
    # Exit 0 when every requirement in the file is installed at a version it accepts.
    if ! python3 scripts/check-requirements.py Tests/requirements.txt; then
        echo "deps: installing Python packages from Tests/requirements.txt"
        pip_args=(-m pip install -q --disable-pip-version-check --no-warn-script-location -r Tests/requirements.txt)
        # Debian's own python3 refuses pip installs (PEP 668) unless told otherwise; pyenv's or a venv's does not.
        if python3 -c 'import os, sys, sysconfig; sys.exit(sys.prefix != sys.base_prefix or not os.path.exists(os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED")))'; then
            pip_args+=(--break-system-packages)
        fi
        python3 "${pip_args[@]}"
        python3 scripts/check-requirements.py Tests/requirements.txt
    fi
fi
