#!/usr/bin/env bash
# `make bench` (WebSocket part): chat's /ws against a Go hub on gorilla/websocket, with chat-wsbench as the
# client for both. Fan-out deliveries/s (one sender, BENCH_WS_SUBSCRIBERS subscribers in one room), send→receive
# latency p50/p99/p999 (BENCH_WS_CLIENTS clients in BENCH_WS_ROOMS rooms, BENCH_WS_RATE msgs/s in aggregate) and
# server RSS per idle connection (BENCH_WS_IDLE counts). Prints figures and asserts nothing: the exit status is
# non-zero only when a measurement could not be made.
#
# Environment:
#   CHAT_BIN                 chat binary (default .build/release/chat)
#   WSBENCH_BIN              load generator (default .build/release/chat-wsbench)
#   BENCH_DURATION           measured seconds per run (default 10s), after BENCH_WS_WARMUP (default 1s)
#   BENCH_WS_SUBSCRIBERS     fan-out subscribers (default 1000)
#   BENCH_WS_WINDOW          fan-out messages in flight (default 64)
#   BENCH_WS_CLIENTS         latency clients (default 10000), BENCH_WS_ROOMS rooms (default 1000)
#   BENCH_WS_RATE            latency messages/s in aggregate (default 5000)
#   BENCH_WS_PAYLOAD         message content bytes (default 64)
#   BENCH_WS_IDLE            idle connection counts (default "10000 50000")
#   BENCH_WS_THREADS         chat-wsbench threads (default 1: the server gets the other core)
#   BENCH_TARGETS            any of "chat gohub" (default both)
# Raw outputs go to bench/out/ws-<timestamp>/ (bench/out/ws-latest points at the last run).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)

CHAT_BIN=${CHAT_BIN:-.build/release/chat}
WSBENCH_BIN=${WSBENCH_BIN:-.build/release/chat-wsbench}
DURATION=${BENCH_DURATION:-10s}
DURATION=${DURATION%s}
WARMUP=${BENCH_WS_WARMUP:-1s}
WARMUP=${WARMUP%s}
SUBSCRIBERS=${BENCH_WS_SUBSCRIBERS:-1000}
WINDOW=${BENCH_WS_WINDOW:-64}
CLIENTS=${BENCH_WS_CLIENTS:-10000}
ROOMS=${BENCH_WS_ROOMS:-1000}
RATE=${BENCH_WS_RATE:-5000}
PAYLOAD=${BENCH_WS_PAYLOAD:-64}
IDLE=${BENCH_WS_IDLE:-10000 50000}
THREADS=${BENCH_WS_THREADS:-1}
TARGETS=${BENCH_TARGETS:-chat gohub}

want() { [[ " $TARGETS " == *" $1 "* ]]; }

die() {
    echo "bench: $*" >&2
    exit 1
}

command -v python3 >/dev/null || die "python3 is not installed"
command -v curl >/dev/null || die "curl is not installed"
[ -x "$WSBENCH_BIN" ] || die "$WSBENCH_BIN is not an executable: swift build -c release --product chat-wsbench"
WSBENCH_BIN=$(cd "$(dirname "$WSBENCH_BIN")" && pwd)/$(basename "$WSBENCH_BIN")
if want chat; then
    [ -x "$CHAT_BIN" ] || die "$CHAT_BIN is not an executable: run \`make build\` or set CHAT_BIN"
    CHAT_BIN=$(cd "$(dirname "$CHAT_BIN")" && pwd)/$(basename "$CHAT_BIN")
fi
if want gohub; then
    command -v go >/dev/null || die "go is not installed (make deps-bench: golang-go golang-github-gorilla-websocket-dev)"
    [ -d /usr/share/gocode/src/github.com/gorilla/websocket ] ||
        die "gorilla/websocket is not installed (make deps-bench: golang-github-gorilla-websocket-dev)"
fi
[ $((CLIENTS / ROOMS)) -ge 2 ] || die "BENCH_WS_CLIENTS / BENCH_WS_ROOMS must be at least 2"

STAMP=$(date +%Y%m%d-%H%M%S)
OUT="$ROOT/bench/out/ws-$STAMP"
mkdir -p "$OUT"
ln -sfn "ws-$STAMP" "$ROOT/bench/out/ws-latest"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/chat-ws-bench.XXXXXX")

# Every process this script starts is listed here and stopped on exit, whatever the exit.
PIDS=()
cleanup() {
    local pid
    for pid in ${PIDS[@]+"${PIDS[@]}"}; do
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null || true
            for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            kill -KILL "$pid" 2>/dev/null || true
        fi
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# One descriptor per connection on each side: as many as the hard limit allows (raising the hard limit itself
# needs CAP_SYS_RESOURCE, which containers often lack).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
NOFILE=$(ulimit -n)
[ "$NOFILE" = unlimited ] && NOFILE=1048576

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_ready URL PID: poll until URL answers 200 (up to 30 s), failing early if PID dies.
wait_ready() {
    local url=$1 pid=$2
    for _ in $(seq 3000); do
        if [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$url" 2>/dev/null)" = 200 ]; then
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.01
    done
    return 1
}

rss_kib() {
    awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0
}

# result FILE KEY: a value from the RESULT line chat-wsbench printed ("" when missing).
result() {
    sed -n 's/^RESULT .*/&/p' "$1" 2>/dev/null | tr ' ' '\n' | sed -n "s/^$2=//p" | tail -1
}

# wsbench NAME ARGS...: one chat-wsbench run, output shown and kept in $OUT/NAME.txt.
wsbench() {
    local name=$1
    shift
    echo "-- chat-wsbench $*" >"$OUT/$name.txt"
    "$WSBENCH_BIN" "$@" --threads "$THREADS" 2>&1 | tee -a "$OUT/$name.txt" | sed 's/^/   /' || true
}

# idle NAME PID COUNT ARGS...: opens COUNT connections with chat-wsbench idle, and reads the server's VmRSS
# before and once they are all connected (after a 1 s settle). Sets IDLE_RESULT to "KiB per connection" text.
idle() {
    local name=$1 pid=$2 count=$3
    shift 3
    local file="$OUT/$name.txt"
    local before after idle_pid connected note=""
    if [ $((count + 200)) -gt "$NOFILE" ]; then
        # Server and client each hold one descriptor per connection: measure the most that fit instead.
        local fits=$(((NOFILE - 1000) / 1000 * 1000))
        note="; $count need $((count + 200)) descriptors per process, the hard limit is $NOFILE: measured at $fits"
        if [ "$fits" -lt 1000 ]; then
            IDLE_RESULT="skipped${note/: measured at*/}"
            echo "   $IDLE_RESULT"
            return 0
        fi
        echo "   $count connections need $((count + 200)) descriptors per process, the hard limit (ulimit -Hn) is $NOFILE: measuring $fits"
        count=$fits
    fi
    before=$(rss_kib "$pid")
    echo "-- chat-wsbench idle --clients $count $*" >"$file"
    "$WSBENCH_BIN" idle --clients "$count" --hold 120 --threads "$THREADS" "$@" >>"$file" 2>&1 &
    idle_pid=$!
    PIDS+=("$idle_pid")
    for _ in $(seq 1200); do
        grep -q '^ready ' "$file" && break
        kill -0 "$idle_pid" 2>/dev/null || break
        sleep 0.1
    done
    if ! grep -q '^ready ' "$file"; then
        kill -TERM "$idle_pid" 2>/dev/null || true
        wait "$idle_pid" 2>/dev/null || true
        sed 's/^/   /' "$file"
        IDLE_RESULT="FAILED (see bench/out/ws-$STAMP/$name.txt)"
        return 0
    fi
    # Steady state: chat gives the buffers of a connection back after a quiet second (checked once a second).
    sleep 3
    after=$(rss_kib "$pid")
    connected=$(sed -n 's/^ready //p' "$file")
    note="; connected in $(sed -n 's/^connected [0-9/]* in \([0-9.]*\) s.*/\1/p' "$file") s$note"
    kill -TERM "$idle_pid" 2>/dev/null || true
    wait "$idle_pid" 2>/dev/null || true
    sed 's/^/   /' "$file"
    IDLE_RESULT=$(awk -v b="$before" -v a="$after" -v n="$connected" -v c="$count" 'BEGIN {
        printf "%.1f KiB/connection (RSS %.1f -> %.1f MiB, %d of %d connected)", (a - b) / n, b / 1024, a / 1024, n, c }')$note
    echo "   server RSS $IDLE_RESULT"
}

echo "bench: raw outputs in bench/out/ws-$STAMP"
{
    echo "date: $(date -Is)"
    echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo none)"
    echo "cpus: $(nproc)"
    echo "kernel: $(uname -r)"
    echo "open files: $NOFILE"
    if want chat; then echo "chat: $CHAT_BIN ($("$CHAT_BIN" version 2>/dev/null | head -1 || true))"; fi
    if want gohub; then echo "go: $(go version)"; fi
} >"$OUT/environment.txt"

MAX_IDLE=0
for count in $IDLE; do [ "$count" -gt "$MAX_IDLE" ] && MAX_IDLE=$count; done
# Latency users in the small rooms, fan-out users apart (their big room would make every connect announce itself
# to a thousand co-members).
USERS=$((CLIENTS / ROOMS * ROOMS + SUBSCRIBERS + 1))
# Room for every run's connections, within the descriptors the server can have.
MAX_CONNECTIONS=$((MAX_IDLE > CLIENTS ? MAX_IDLE + 1000 : CLIENTS + 1000))
[ "$MAX_CONNECTIONS" -le $((NOFILE - 200)) ] || MAX_CONNECTIONS=$((NOFILE - 200))
declare -A CHAT GOHUB

# start_chat NAME: chat on a free port over $TMP/chat-data (the same accounts and keys every time); sets
# CHAT_PID and URL. Cheap bcrypt and no API or realtime rate limits: the benchmark measures delivery, not throttling.
start_chat() {
    local port
    port=$(free_port)
    CHAT_LOG_ACCESS=false CHAT_AUTH_BCRYPT_COST=4 \
        CHAT_RATE_LIMIT_REGISTER_PER_HOUR=1000000 CHAT_RATE_LIMIT_LOGIN_PER_MINUTE=1000000 \
        CHAT_RATE_LIMIT_API_PER_MINUTE=1000000 CHAT_CHAT_MAX_ROOM_MEMBERS=$((SUBSCRIBERS >= 10000 ? SUBSCRIBERS + 1 : 10000)) \
        CHAT_REALTIME_MESSAGES_PER_SECOND=1000000 CHAT_REALTIME_MESSAGES_BURST=1000000 \
        CHAT_SERVER_MAX_CONNECTIONS=$MAX_CONNECTIONS \
        "$CHAT_BIN" serve --listen "127.0.0.1:$port" --data-dir "$TMP/chat-data" --log-level warn \
        </dev/null >"$OUT/chat-server-$1.log" 2>&1 &
    CHAT_PID=$!
    PIDS+=("$CHAT_PID")
    wait_ready "http://127.0.0.1:$port/healthz" "$CHAT_PID" || die "chat did not become ready (bench/out/ws-$STAMP/chat-server-$1.log)"
    URL="ws://127.0.0.1:$port/ws"
    HTTP_URL="http://127.0.0.1:$port"
}

# stop_chat: SIGTERM; the exit statuses are listed in CHAT[exit] (graceful shutdown should give 0).
stop_chat() {
    local code=0
    kill -TERM "$CHAT_PID"
    wait "$CHAT_PID" || code=$?
    CHAT[exit]="${CHAT[exit]:-}${CHAT[exit]:+ }$code"
}

start_gohub() {
    local port
    port=$(free_port)
    "$TMP/gohub" -addr "127.0.0.1:$port" </dev/null >"$OUT/gohub-server-$1.log" 2>&1 &
    GOHUB_PID=$!
    PIDS+=("$GOHUB_PID")
    wait_ready "http://127.0.0.1:$port/healthz" "$GOHUB_PID" || die "the Go hub did not start (bench/out/ws-$STAMP/gohub-server-$1.log)"
    URL="ws://127.0.0.1:$port/ws"
}

stop_gohub() {
    kill -TERM "$GOHUB_PID" 2>/dev/null || true
    wait "$GOHUB_PID" 2>/dev/null || true
}

# 1. chat: accounts and rooms through the API; then idle memory (a fresh process per count, so that one count's
# freed memory does not hide the next one's), fan-out and latency.
if want chat; then
    echo
    echo "== chat: $USERS users: $ROOMS rooms of $((CLIENTS / ROOMS)), and one room of $((SUBSCRIBERS + 1)) other users"
    mkdir -p "$TMP/chat-data" "$TMP/chat-setup"
    start_chat setup
    "$WSBENCH_BIN" setup --http "$HTTP_URL" --users "$USERS" --rooms "$ROOMS" \
        --room-size $((CLIENTS / ROOMS)) --fanout-members "$SUBSCRIBERS" --out "$TMP/chat-setup" |
        tee "$OUT/chat-setup.txt" | sed 's/^/   /'
    [ -s "$TMP/chat-setup/fanout-room" ] || die "setup made no fan-out room (bench/out/ws-$STAMP/chat-setup.txt)"
    head -n $((CLIENTS / ROOMS * ROOMS)) "$TMP/chat-setup/tokens" >"$TMP/chat-setup/latency-tokens"
    stop_chat

    for count in $IDLE; do
        echo
        echo "== chat: idle $count connections (tokens reused when there are more connections than users)"
        start_chat "idle-$count"
        sleep 0.5
        idle "chat-idle-$count" "$CHAT_PID" "$count" --url "$URL" --tokens "$TMP/chat-setup/latency-tokens"
        CHAT[idle_$count]=$IDLE_RESULT
        stop_chat
    done

    start_chat load
    CHAT[rss_start]=$(rss_kib "$CHAT_PID")
    echo
    echo "== chat: fanout, 1 sender + $SUBSCRIBERS subscribers, window $WINDOW"
    wsbench chat-fanout fanout --url "$URL" --tokens "$TMP/chat-setup/fanout-tokens" \
        --room "$(cat "$TMP/chat-setup/fanout-room")" --subscribers "$SUBSCRIBERS" --window "$WINDOW" \
        --duration "$DURATION" --warmup "$WARMUP" --payload "$PAYLOAD"
    echo
    echo "== chat: latency, $CLIENTS clients in $ROOMS rooms, $RATE msgs/s"
    wsbench chat-latency latency --url "$URL" --tokens "$TMP/chat-setup/latency-tokens" \
        --room-ids "$TMP/chat-setup/rooms" --clients "$CLIENTS" --rooms "$ROOMS" --rate "$RATE" \
        --duration "$DURATION" --warmup "$WARMUP" --payload "$PAYLOAD"
    CHAT[rss_end]=$(rss_kib "$CHAT_PID")
    stop_chat
fi

# 2. The Go hub: same client, same shapes (no accounts: rooms by query string).
if want gohub; then
    echo
    echo "== go hub (gorilla/websocket): build"
    mkdir -p "$TMP/gocache"
    GOCACHE="$TMP/gocache" GO111MODULE=off GOPATH=/usr/share/gocode go build -o "$TMP/gohub" bench/gohub/main.go \
        >"$OUT/gohub-build.txt" 2>&1 || die "go build bench/gohub failed: $(cat "$OUT/gohub-build.txt")"
    for count in $IDLE; do
        echo
        echo "== go hub: idle $count connections"
        start_gohub "idle-$count"
        sleep 0.5
        idle "gohub-idle-$count" "$GOHUB_PID" "$count" --url "$URL" --protocol gorilla
        GOHUB[idle_$count]=$IDLE_RESULT
        stop_gohub
    done
    start_gohub load
    GOHUB[rss_start]=$(rss_kib "$GOHUB_PID")
    echo
    echo "== go hub: fanout, 1 sender + $SUBSCRIBERS subscribers, window $WINDOW"
    wsbench gohub-fanout fanout --url "$URL" --protocol gorilla --subscribers "$SUBSCRIBERS" --window "$WINDOW" \
        --duration "$DURATION" --warmup "$WARMUP" --payload "$PAYLOAD"
    echo
    echo "== go hub: latency, $CLIENTS clients in $ROOMS rooms, $RATE msgs/s"
    wsbench gohub-latency latency --url "$URL" --protocol gorilla --clients "$CLIENTS" --rooms "$ROOMS" --rate "$RATE" \
        --duration "$DURATION" --warmup "$WARMUP" --payload "$PAYLOAD"
    GOHUB[rss_end]=$(rss_kib "$GOHUB_PID")
    stop_gohub
fi

# 3. Side by side.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "" && b != "" && b + 0 > 0) printf "%.2f", a / b; else print "-" }'; }
row() { printf '%-34s %-16s %-16s %s\n' "$1" "${2:--}" "${3:--}" "${4:--}"; }
metric() { # row for a RESULT field of the fanout or latency run
    local label=$1 run=$2 key=$3 c g
    c=$(result "$OUT/chat-$run.txt" "$key")
    g=$(result "$OUT/gohub-$run.txt" "$key")
    row "$label" "$c" "$g" "$(ratio "$c" "$g")"
}
pair() { # delivered/expected of a run, no ratio
    local label=$1 run=$2 c="" g=""
    [ -f "$OUT/chat-$run.txt" ] && c="$(result "$OUT/chat-$run.txt" delivered)/$(result "$OUT/chat-$run.txt" expected)"
    [ -f "$OUT/gohub-$run.txt" ] && g="$(result "$OUT/gohub-$run.txt" delivered)/$(result "$OUT/gohub-$run.txt" expected)"
    row "$label" "$c" "$g" ""
}
{
    echo
    echo "==== ws bench summary ($(date -Is), $(nproc) cores, ${DURATION}s runs, payload $PAYLOAD B, $THREADS client thread(s)) ===="
    row "" "chat" "go hub" "chat/go"
    metric "fanout deliveries/s ($SUBSCRIBERS subs)" fanout deliveries_per_s
    metric "fanout messages/s" fanout msgs_per_s
    pair "fanout delivered / expected" fanout
    metric "latency p50 ms ($CLIENTS clients)" latency p50_ms
    metric "latency p99 ms" latency p99_ms
    metric "latency p999 ms" latency p999_ms
    metric "latency messages/s sent" latency msgs_per_s
    pair "latency delivered / expected" latency
    metric "latency connect s ($CLIENTS)" latency connect_s
    metric "dropped connections (latency)" latency dropped
    for count in $IDLE; do
        echo "idle $count, chat:   ${CHAT[idle_$count]:--}"
        echo "idle $count, go hub: ${GOHUB[idle_$count]:--}"
    done
    if want chat; then
        printf 'chat RSS: %.1f MiB at start, %.1f MiB after fanout and latency; exits on SIGTERM: %s\n' \
            "$(awk -v k="${CHAT[rss_start]:-0}" 'BEGIN { print k / 1024 }')" \
            "$(awk -v k="${CHAT[rss_end]:-0}" 'BEGIN { print k / 1024 }')" "${CHAT[exit]:-?}"
    fi
    if want gohub; then
        printf 'go hub RSS: %.1f MiB at start, %.1f MiB after fanout and latency\n' \
            "$(awk -v k="${GOHUB[rss_start]:-0}" 'BEGIN { print k / 1024 }')" \
            "$(awk -v k="${GOHUB[rss_end]:-0}" 'BEGIN { print k / 1024 }')"
    fi
    echo "raw outputs                        bench/out/ws-$STAMP"
} | tee "$OUT/summary.txt"
