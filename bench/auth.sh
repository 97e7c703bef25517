#!/usr/bin/env bash
# `make bench` (accounts part): logins per second at the configured bcrypt cost (default 12) on this machine,
# and GET /healthz latency while logins saturate the worker pool — the event loops must not notice bcrypt.
# Then in-process JWT verification rate (chat-bench). Prints figures; asserts nothing.
#
# Environment: CHAT_BIN (default .build/release/chat), CHAT_BENCH_BIN (default .build/release/chat-bench),
# BENCH_DURATION (default 10s), BENCH_LOGIN_CONNECTIONS (default 8), BENCH_BCRYPT_COST (default 12).
set -euo pipefail

cd "$(dirname "$0")/.."
CHAT_BIN=${CHAT_BIN:-.build/release/chat}
CHAT_BENCH_BIN=${CHAT_BENCH_BIN:-.build/release/chat-bench}
DURATION=${BENCH_DURATION:-10s}
LOGIN_CONNECTIONS=${BENCH_LOGIN_CONNECTIONS:-8}
COST=${BENCH_BCRYPT_COST:-12}

command -v wrk >/dev/null || { echo "bench: wrk is not installed (make deps-bench)" >&2; exit 1; }
[ -x "$CHAT_BIN" ] || { echo "bench: $CHAT_BIN missing: make build" >&2; exit 1; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/chat-auth-bench.XXXXXX")
PID=""
cleanup() {
    if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
        kill -TERM "$PID" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$PID" 2>/dev/null || true
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
URL="http://127.0.0.1:$PORT"
CHAT_LOG_ACCESS=false CHAT_AUTH_BCRYPT_COST=$COST CHAT_RATE_LIMIT_LOGIN_PER_MINUTE=1000000 \
    CHAT_RATE_LIMIT_REGISTER_PER_HOUR=1000000 \
    "$CHAT_BIN" serve --listen "127.0.0.1:$PORT" --data-dir "$TMP/data" --log-level warn >"$TMP/chat.log" 2>&1 &
PID=$!
for _ in $(seq 100); do curl -fs "$URL/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fs "$URL/healthz" >/dev/null || { echo "bench: chat did not start:" >&2; cat "$TMP/chat.log" >&2; exit 1; }
curl -fs -o /dev/null -X POST "$URL/api/v1/auth/register" -H 'Content-Type: application/json' \
    -d '{"username":"benchuser","email":"bench@example.com","password":"bench password 1"}'

latency() { # p50 and p99 of GET /healthz from a wrk --latency report
    awk '/^ +50%/ {p50=$2} /^ +99%/ {p99=$2} END {print "p50 " p50 ", p99 " p99}' "$1"
}

echo "== accounts (bcrypt cost $COST, $(nproc) cores, $DURATION per run)"
wrk -t1 -c4 -d"$DURATION" --latency "$URL/healthz" >"$TMP/healthz-idle.txt"
echo "GET /healthz alone:               $(latency "$TMP/healthz-idle.txt")"
wrk -t1 -c"$LOGIN_CONNECTIONS" -d"$DURATION" -s bench/login.lua "$URL/api/v1/auth/login" >"$TMP/login.txt" &
LOGIN=$!
sleep 1
wrk -t1 -c4 -d"$DURATION" --latency "$URL/healthz" >"$TMP/healthz-busy.txt"
wait "$LOGIN"
LOGINS=$(awk '/^Requests\/sec/ {print $2}' "$TMP/login.txt")
NON2XX=$(awk '/Non-2xx/ {print $5}' "$TMP/login.txt")
echo "POST /auth/login:                 $LOGINS logins/s (non-2xx: ${NON2XX:-0})"
echo "GET /healthz during the logins:   $(latency "$TMP/healthz-busy.txt")"

if [ -x "$CHAT_BENCH_BIN" ]; then
    "$CHAT_BENCH_BIN" jwt 3
fi
