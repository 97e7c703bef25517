#!/usr/bin/env bash
# `make bench` (chat part): with `chat seed` data (BENCH_MESSAGES messages, default 1,000,000, in 500 rooms of
# 1,000 users), over HTTP keep-alive: a history page of 50 (p50/p99), unread counts for a user in all 500
# rooms, full-text search, and POST message throughput through the writer's group commit. Prints figures.
#
# Environment: CHAT_BIN (default .build/release/chat), BENCH_MESSAGES, BENCH_DURATION (default 10s),
# BENCH_POST_CONNECTIONS (default 64), BENCH_SYNCHRONOUS (default normal).
set -euo pipefail

cd "$(dirname "$0")/.."
CHAT_BIN=${CHAT_BIN:-.build/release/chat}
MESSAGES=${BENCH_MESSAGES:-1000000}
DURATION=${BENCH_DURATION:-10s}
POST_CONNECTIONS=${BENCH_POST_CONNECTIONS:-64}
SYNCHRONOUS=${BENCH_SYNCHRONOUS:-normal}

command -v wrk >/dev/null || { echo "bench: wrk is not installed (make deps-bench)" >&2; exit 1; }
[ -x "$CHAT_BIN" ] || { echo "bench: $CHAT_BIN missing: make build" >&2; exit 1; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/chat-chat-bench.XXXXXX")
PID=""
cleanup() {
    if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
        kill -TERM "$PID" 2>/dev/null || true
        for _ in $(seq 100); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$PID" 2>/dev/null || true
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

export CHAT_LOG_ACCESS=false CHAT_DATABASE_SYNCHRONOUS=$SYNCHRONOUS
export CHAT_RATE_LIMIT_API_PER_MINUTE=10000000 CHAT_RATE_LIMIT_LOGIN_PER_MINUTE=1000000

echo "== chat data (seed: 1000 users, 500 rooms, $MESSAGES messages)"
START=$(date +%s.%N)
SEED=$("$CHAT_BIN" seed --users 1000 --rooms 500 --messages "$MESSAGES" --data-dir "$TMP/data" --log-level error)
END=$(date +%s.%N)
EVERYWHERE=$(echo "$SEED" | sed -n 's/.*; \(.*\) is in every room/\1/p')
printf 'seeding took %.1f s; database %s\n' "$(echo "$END - $START" | bc)" "$(du -h "$TMP/data/chat.db" | cut -f1)"

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
URL="http://127.0.0.1:$PORT"
"$CHAT_BIN" serve --listen "127.0.0.1:$PORT" --data-dir "$TMP/data" --log-level warn >"$TMP/chat.log" 2>&1 &
PID=$!
for _ in $(seq 100); do curl -fs "$URL/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
TOKEN=$(curl -fs -X POST "$URL/api/v1/auth/login" -H 'Content-Type: application/json' \
    -d "{\"login\":\"$EVERYWHERE\",\"password\":\"seed-password\"}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["tokens"]["access_token"])')
ROOM=$(curl -fs "$URL/api/v1/unread" -H "Authorization: Bearer $TOKEN" |
    python3 -c 'import json,sys; r=json.load(sys.stdin)["rooms"]; print(max(r, key=lambda e: e["last_seq"])["room_id"]); print(len(r), file=sys.stderr)' 2>"$TMP/rooms")
echo "user $EVERYWHERE is in $(cat "$TMP/rooms") rooms; busiest room $ROOM"

latency() { awk '/^ +50%/ {p50=$2} /^ +99%/ {p99=$2} /^Requests\/sec/ {rps=$2} END {print "p50 " p50 ", p99 " p99 " (" rps " req/s)"}' "$1"; }
get() { # name path
    wrk -t1 -c4 -d"$DURATION" --latency -s bench/get_with_token.lua "$URL$2" -- "$TOKEN" >"$TMP/$1.txt"
    printf '%-32s %s\n' "$1:" "$(latency "$TMP/$1.txt")"
}
get "history page of 50" "/api/v1/rooms/$ROOM/messages?limit=50"
get "unread in all rooms" "/api/v1/unread"
get "search 'coffee release'" "/api/v1/search/messages?q=coffee%20release&limit=20"

wrk -t2 -c"$POST_CONNECTIONS" -d"$DURATION" -s bench/post_message.lua "$URL" -- "$TOKEN" "$ROOM" >"$TMP/post.txt"
NON2XX=$(awk '/Non-2xx/ {print $5}' "$TMP/post.txt")
printf '%-32s %s msgs/s (synchronous=%s, %s connections, non-2xx: %s)\n' "POST messages:" \
    "$(awk '/^Requests\/sec/ {print $2}' "$TMP/post.txt")" "$SYNCHRONOUS" "$POST_CONNECTIONS" "${NON2XX:-0}"
