#!/usr/bin/env bash
# `make dev`: debug build, `chat serve --log-level debug`, and a rebuild + restart whenever a file under
# Sources/, migrations/ or static/ (or Package.swift) changes. Polls once a second with `find -newer`,
# so it needs nothing beyond coreutils/findutils. Arguments are passed on to `chat serve`.
# A failed build keeps the running server (if any) and waits for the next change. Ctrl-C stops everything.
set -uo pipefail

cd "$(dirname "$0")/.." || exit 1

SWIFT="${SWIFT:-swift}"
BIN=.build/debug/chat
WATCH=(Sources migrations static Package.swift)
serve_args=("$@")

stamp=$(mktemp "${TMPDIR:-/tmp}/chat-dev.XXXXXX")
server_pid=""

stop_server() {
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null
        # Graceful shutdown first; after 10 s, kill.
        for _ in $(seq 100); do
            kill -0 "$server_pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$server_pid" 2>/dev/null
        wait "$server_pid" 2>/dev/null
    fi
    server_pid=""
}

cleanup() {
    trap - EXIT INT TERM
    stop_server
    rm -f "$stamp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

build_and_start() {
    touch "$stamp"  # changes made during the build are picked up by the next poll
    echo "dev: building (debug)"
    if ! "$SWIFT" build; then
        echo "dev: build failed; waiting for the next change"
        return
    fi
    stop_server
    echo "dev: starting $BIN serve --log-level debug ${serve_args[*]}"
    "$BIN" serve --log-level debug "${serve_args[@]}" &
    server_pid=$!
}

existing_watch_paths() {
    for path in "${WATCH[@]}"; do
        [ -e "$path" ] && echo "$path"
    done
}

build_and_start
echo "dev: watching ${WATCH[*]} (Ctrl-C to stop)"
while true; do
    sleep 1
    mapfile -t paths < <(existing_watch_paths)
    changed=$(find "${paths[@]}" -newer "$stamp" -print -quit 2>/dev/null)
    if [ -n "$changed" ]; then
        echo "dev: $changed changed"
        build_and_start
    elif [ -n "$server_pid" ] && ! kill -0 "$server_pid" 2>/dev/null; then
        wait "$server_pid"
        echo "dev: server exited (status $?); waiting for a change to rebuild"
        server_pid=""
    fi
done
