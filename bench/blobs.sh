#!/usr/bin/env bash
# `make bench` (blob part): a BENCH_UPLOAD_BYTES (default 1 GiB) upload through the Cloudinary-compatible Upload
# API with curl (MB/s, and the server's peak RSS while it streams to disk), then `wrk` on the delivery URL of a
# 100 KB image (req/s, p50/p99). Prints figures; asserts nothing.
#
# Environment: CHAT_BIN (default .build/release/chat), BENCH_UPLOAD_BYTES, BENCH_DURATION (default 10s).
set -euo pipefail

cd "$(dirname "$0")/.."
CHAT_BIN=${CHAT_BIN:-.build/release/chat}
UPLOAD_BYTES=${BENCH_UPLOAD_BYTES:-1073741824}
DURATION=${BENCH_DURATION:-10s}
KEY=123456789012345
SECRET=benchmarksecretbenchmarksec

command -v wrk >/dev/null || { echo "bench: wrk is not installed (make deps-bench)" >&2; exit 1; }
[ -x "$CHAT_BIN" ] || { echo "bench: $CHAT_BIN missing: make build" >&2; exit 1; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/chat-blob-bench.XXXXXX")
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

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
URL="http://127.0.0.1:$PORT"
CHAT_LOG_ACCESS=false CHAT_BLOBS_API_KEY=$KEY CHAT_BLOBS_API_SECRET=$SECRET CHAT_BLOBS_MAX_RAW_BYTES=2g \
    "$CHAT_BIN" serve --listen "127.0.0.1:$PORT" --data-dir "$TMP/data" --log-level warn >"$TMP/chat.log" 2>&1 &
PID=$!
for _ in $(seq 100); do curl -fs "$URL/healthz" >/dev/null 2>&1 && break; sleep 0.1; done

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$PID/status"; }
# A signed upload of FILE as resource type TYPE with public id ID (the SDKs' signature: sorted params + secret).
upload() { # file type id
    local stamp signature
    stamp=$(date +%s)
    signature=$(printf 'public_id=%s&timestamp=%s%s' "$3" "$stamp" "$SECRET" | sha1sum | cut -d' ' -f1)
    curl -fsS -o "$TMP/answer.json" -w '%{time_total}' "$URL/v1_1/local/$2/upload" \
        -F "file=@$1" -F "public_id=$3" -F "timestamp=$stamp" -F "api_key=$KEY" -F "signature=$signature"
}

echo "== blobs: upload of $((UPLOAD_BYTES / 1048576)) MiB through the Upload API (curl, multipart, streamed)"
head -c "$UPLOAD_BYTES" /dev/urandom >"$TMP/big.bin"
BEFORE=$(rss_kib)
PEAK=$BEFORE
( while kill -0 "$PID" 2>/dev/null; do rss_kib; sleep 0.05; done ) >"$TMP/rss.txt" &
SAMPLER=$!
SECONDS_TAKEN=$(upload "$TMP/big.bin" raw big.bin)
kill "$SAMPLER" 2>/dev/null || true
wait "$SAMPLER" 2>/dev/null || true
PEAK=$(sort -n "$TMP/rss.txt" | tail -1)
printf 'upload: %.0f MB/s (%d bytes in %.2f s); server RSS %.1f MiB before, peak %.1f MiB during\n' \
    "$(echo "$UPLOAD_BYTES / $SECONDS_TAKEN / 1000000" | bc -l)" "$UPLOAD_BYTES" "$SECONDS_TAKEN" \
    "$(echo "$BEFORE / 1024" | bc -l)" "$(echo "${PEAK:-0} / 1024" | bc -l)"
rm -f "$TMP/big.bin"

echo "== blobs: delivery of a 100 KB image (wrk -t2 -c64)"
python3 - "$TMP/image.png" <<'PY'
import os, struct, sys, zlib
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)
width, height = 200, 170
rows = b"".join(b"\x00" + os.urandom(width * 3) for _ in range(height))
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
png += chunk(b"IDAT", zlib.compress(rows, 0)) + chunk(b"IEND", b"")
open(sys.argv[1], "wb").write(png)
PY
upload "$TMP/image.png" image picture >/dev/null
IMAGE_URL=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["url"])' "$TMP/answer.json")
wrk -t2 -c64 -d"$DURATION" --latency "$IMAGE_URL" >"$TMP/delivery.txt"
awk -v bytes="$(stat -c %s "$TMP/image.png")" '/^ +50%/ {p50=$2} /^ +99%/ {p99=$2} /^Requests\/sec/ {rps=$2}
    END {printf "delivery: %s req/s of a %d-byte image, p50 %s, p99 %s\n", rps, bytes, p50, p99}' "$TMP/delivery.txt"
