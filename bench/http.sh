#!/usr/bin/env bash
# `make bench`: cold start, memory and GET /healthz throughput of `chat serve`, with nginx as the yardstick.
# Prints figures and asserts nothing (exit status is non-zero only when a measurement could not be made).
#
# Environment:
#   CHAT_BIN            binary to measure (default .build/release/chat)
#   BENCH_DURATION      wrk duration per measured run (default 10s)
#   BENCH_CONNECTIONS   wrk connections (default 256)
#   BENCH_THREADS       wrk threads (default 2)
#   BENCH_WARMUP        unrecorded wrk run before each measured one (default 2s; 0 to skip)
#   BENCH_RUNS          cold-start runs per mode (default 5)
#   BENCH_TARGETS       what to measure, any of "chat nginx" (default both)
# Raw outputs go to bench/out/<timestamp>/ (bench/out/latest points at the last run).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)

CHAT_BIN=${CHAT_BIN:-.build/release/chat}
DURATION=${BENCH_DURATION:-10s}
CONNECTIONS=${BENCH_CONNECTIONS:-256}
THREADS=${BENCH_THREADS:-2}
WARMUP=${BENCH_WARMUP:-2s}
RUNS=${BENCH_RUNS:-5}
TARGETS=${BENCH_TARGETS:-chat nginx}

want() { [[ " $TARGETS " == *" $1 "* ]]; }

die() {
    echo "bench: $*" >&2
    exit 1
}

command -v wrk >/dev/null || die "wrk is not installed (make deps-bench)"
command -v python3 >/dev/null || die "python3 is not installed"
if want nginx; then
    NGINX=$(command -v nginx || true)
    [ -n "$NGINX" ] || [ ! -x /usr/sbin/nginx ] || NGINX=/usr/sbin/nginx
    [ -n "$NGINX" ] || die "nginx is not installed (make deps-bench)"
fi
if want chat; then
    [ -x "$CHAT_BIN" ] || die "$CHAT_BIN is not an executable: run \`make build\` or set CHAT_BIN"
    CHAT_BIN=$(cd "$(dirname "$CHAT_BIN")" && pwd)/$(basename "$CHAT_BIN")
fi

STAMP=$(date +%Y%m%d-%H%M%S)
OUT="$ROOT/bench/out/$STAMP"
mkdir -p "$OUT"
ln -sfn "$STAMP" "$ROOT/bench/out/latest"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/chat-bench.XXXXXX")

# Every server this script starts is listed here and stopped on exit, whatever the exit.
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

# More file descriptors for 256+ connections, as far as the hard limit allows.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

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

rss_mib() {
    awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status" 2>/dev/null || echo "n/a"
}

# run_wrk NAME URL: warm-up, then the measured run (saved to $OUT/wrk-NAME.txt). Sets RPS P50 P99 ERRORS.
run_wrk() {
    local name=$1 url=$2 file="$OUT/wrk-$1.txt"
    if [ "$WARMUP" != 0 ] && [ "$WARMUP" != 0s ]; then
        wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" "$url" >"$OUT/wrk-$name-warmup.txt" 2>&1 || true
    fi
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$url" >"$file" 2>&1 ||
        die "wrk against $name failed: $(cat "$file")"
    RPS=$(awk '/^Requests\/sec:/ { print $2 }' "$file")
    P50=$(awk '/^ +50%/ { print $2 }' "$file")
    P99=$(awk '/^ +99%/ { print $2 }' "$file")
    local non2xx socket
    non2xx=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$file")
    socket=$(awk -F'Socket errors: ' '/Socket errors:/ { print $2 }' "$file")
    ERRORS="non-2xx ${non2xx:-0}; socket errors ${socket:-none}"
}

echo "bench: raw outputs in bench/out/$STAMP"
{
    echo "date: $(date -Is)"
    echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo none)"
    echo "cpus: $(nproc)"
    echo "kernel: $(uname -r)"
    echo "wrk: -t$THREADS -c$CONNECTIONS -d$DURATION (warm-up $WARMUP)"
    if want chat; then echo "chat: $CHAT_BIN ($("$CHAT_BIN" version 2>/dev/null | head -1 || true))"; fi
    if want nginx; then echo "nginx: $("$NGINX" -v 2>&1)"; fi
} >"$OUT/environment.txt"

SUMMARY=()
add() { SUMMARY+=("$(printf '%-26s %s' "$1" "$2")"); }

CHAT_RPS=""
NGINX_RPS=""

# 1-3. Cold start (fresh and migrated data dir) and RSS after start.
if want chat; then
    echo
    echo "== cold start: spawn to first 200 on /healthz ($RUNS runs each)"
    for mode in fresh migrated; do
        if python3 bench/coldstart.py --bin "$CHAT_BIN" --runs "$RUNS" --mode "$mode" \
            --log-dir "$OUT" --json "$OUT/coldstart-$mode.json"; then
            add "cold start ($mode dir)" "$(python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print("min %.1f ms, median %.1f ms (%d runs)" % (d["min_ms"], d["median_ms"], d["ok_runs"]))' "$OUT/coldstart-$mode.json")"
        else
            add "cold start ($mode dir)" "FAILED (see bench/out/$STAMP/coldstart-$mode.log)"
        fi
    done
fi

# 4. Throughput against chat.
if want chat; then
    echo
    echo "== chat: wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency /healthz"
    PORT=$(free_port)
    mkdir -p "$TMP/chat-data"
    CHAT_LOG_ACCESS=false "$CHAT_BIN" serve --listen "127.0.0.1:$PORT" --data-dir "$TMP/chat-data" \
        --loops 2 --log-level warn </dev/null >"$OUT/chat-server.log" 2>&1 &
    CHAT_PID=$!
    PIDS+=("$CHAT_PID")
    wait_ready "http://127.0.0.1:$PORT/healthz" "$CHAT_PID" || die "chat did not become ready (bench/out/$STAMP/chat-server.log)"
    RSS_START=$(rss_mib "$CHAT_PID")
    echo "chat RSS after start: $RSS_START MiB"
    add "RSS after start" "$RSS_START MiB"
    run_wrk chat "http://127.0.0.1:$PORT/healthz"
    CHAT_RPS=$RPS
    RSS_LOAD=$(rss_mib "$CHAT_PID")
    echo "chat: $RPS req/s, latency p50 $P50, p99 $P99 ($ERRORS); RSS after load $RSS_LOAD MiB"
    add "chat /healthz" "$RPS req/s, p50 $P50, p99 $P99 ($ERRORS)"
    add "RSS after load" "$RSS_LOAD MiB"
    kill -TERM "$CHAT_PID"
    if wait "$CHAT_PID"; then CHAT_EXIT=0; else CHAT_EXIT=$?; fi
    add "chat exit on SIGTERM" "$CHAT_EXIT$([ "$CHAT_EXIT" = 0 ] || echo ' (expected 0)')"
fi

# 4. Throughput against nginx, from its own config in a temporary prefix (the system's nginx is not touched).
if want nginx; then
    echo
    echo "== nginx: wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency /healthz"
    PORT2=$(free_port)
    PREFIX="$TMP/nginx"
    mkdir -p "$PREFIX/tmp"
    cat >"$PREFIX/nginx.conf" <<EOF
worker_processes 2;
pid $PREFIX/nginx.pid;
error_log $PREFIX/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $PREFIX/tmp/body;
    proxy_temp_path $PREFIX/tmp/proxy;
    fastcgi_temp_path $PREFIX/tmp/fastcgi;
    uwsgi_temp_path $PREFIX/tmp/uwsgi;
    scgi_temp_path $PREFIX/tmp/scgi;
    server {
        listen 127.0.0.1:$PORT2;
        location = /healthz { return 200 "ok"; }
    }
}
EOF
    cp "$PREFIX/nginx.conf" "$OUT/nginx.conf"
    "$NGINX" -p "$PREFIX" -e "$PREFIX/error.log" -c "$PREFIX/nginx.conf" -g 'daemon off;' \
        </dev/null >"$OUT/nginx-server.log" 2>&1 &
    NGINX_PID=$!
    PIDS+=("$NGINX_PID")
    wait_ready "http://127.0.0.1:$PORT2/healthz" "$NGINX_PID" || die "nginx did not start ($(cat "$OUT/nginx-server.log" "$PREFIX/error.log" 2>/dev/null))"
    run_wrk nginx "http://127.0.0.1:$PORT2/healthz"
    NGINX_RPS=$RPS
    echo "nginx: $RPS req/s, latency p50 $P50, p99 $P99 ($ERRORS)"
    add "nginx /healthz" "$RPS req/s, p50 $P50, p99 $P99 ($ERRORS)"
    kill -TERM "$NGINX_PID"
    wait "$NGINX_PID" 2>/dev/null || true
    cp "$PREFIX/error.log" "$OUT/nginx-error.log" 2>/dev/null || true
fi

if [ -n "$CHAT_RPS" ] && [ -n "$NGINX_RPS" ]; then
    RATIO=$(awk -v a="$CHAT_RPS" -v b="$NGINX_RPS" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')
    VERDICT=$(awk -v r="$RATIO" 'BEGIN { print (r + 0 >= 0.8) ? "meets" : "below" }')
    add "ratio chat/nginx" "$RATIO ($VERDICT the 0.80 target)"
fi

{
    echo
    echo "==== bench summary ($(date -Is), $(nproc) cores, wrk -t$THREADS -c$CONNECTIONS -d$DURATION) ===="
    for line in ${SUMMARY[@]+"${SUMMARY[@]}"}; do echo "$line"; done
    echo "raw outputs                bench/out/$STAMP"
} | tee "$OUT/summary.txt"
