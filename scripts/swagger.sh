#!/usr/bin/env bash
# `make swagger`: build `chat`, start it briefly on a free loopback port with a throwaway data directory, save
# the documents it serves to docs/openapi.json (OpenAPI 3.1, every REST route) and docs/asyncapi.json (the /ws
# protocol), and validate the OpenAPI document with openapi-spec-validator (PyPI, Tests/requirements.txt).
# The source of truth is Sources/ChatServer/OpenAPI/; the files under docs/ are snapshots for readers and tools.
set -euo pipefail

cd "$(dirname "$0")/.."

SWIFT="${SWIFT:-swift}"
BIN=.build/debug/chat

"$SWIFT" build --product chat

work=$(mktemp -d "${TMPDIR:-/tmp}/chat-swagger.XXXXXX")
server_pid=""
cleanup() {
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$work/static"
env -u CHAT_SERVER_LISTEN "$BIN" serve --data-dir "$work/data" --static-dir "$work/static" \
    --listen "127.0.0.1:$port" --log-level warn >"$work/server.log" 2>&1 &
server_pid=$!

for _ in $(seq 1 100); do
    curl -fsS --noproxy '*' "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
    if ! kill -0 "$server_pid" 2>/dev/null; then
        echo "swagger: chat serve exited:" >&2
        cat "$work/server.log" >&2
        exit 1
    fi
    sleep 0.1
done

mkdir -p docs
curl -fsS --noproxy '*' "http://127.0.0.1:$port/openapi.json" -o "$work/openapi.json"
curl -fsS --noproxy '*' "http://127.0.0.1:$port/asyncapi.json" -o "$work/asyncapi.json"
python3 - "$work/openapi.json" "$work/asyncapi.json" <<'PY'
import json
import sys

from openapi_spec_validator import validate

openapi = json.load(open(sys.argv[1]))
validate(openapi)
asyncapi = json.load(open(sys.argv[2]))
assert asyncapi.get("asyncapi") == "3.0.0", "asyncapi.json is not an AsyncAPI 3.0 document"
operations = sum(1 for item in openapi["paths"].values() for method in item if method in {"get", "put", "post", "delete", "patch"})
print(f"swagger: OpenAPI {openapi['openapi']} valid: {len(openapi['paths'])} paths, {operations} operations; "
      f"AsyncAPI {asyncapi['asyncapi']}: {len(asyncapi['components']['messages'])} messages")
PY
cp "$work/openapi.json" docs/openapi.json
cp "$work/asyncapi.json" docs/asyncapi.json
echo "swagger: wrote docs/openapi.json and docs/asyncapi.json"
