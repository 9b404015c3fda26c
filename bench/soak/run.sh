#!/usr/bin/env bash
# `make soak`: 10 minutes (SOAK_SECONDS to change it) of 1000 Python and 1000 Node callers against one mock
# token endpoint with 2-second tokens, 5 % 503s and some dropped connections; writes bench/soak.md and fails
# unless every caller got a valid token every time and memory and file descriptors stayed flat. Release
# builds, as users run them. Only loopback traffic.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SOAK=$ROOT/bench/soak
SECONDS_TO_RUN=${SOAK_SECONDS:-600}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
WORK=$(mktemp -d)
export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

mock_pid=
cleanup() {
    [ -n "$mock_pid" ] && kill "$mock_pid" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

echo "=== release builds: the Python package, the Node addon, the mock server" >&2
make -C "$ROOT" --no-print-directory setup PROFILE=release >&2
(cd "$ROOT" && cargo build --release --locked -p m2m-auth-cli >&2)

"$TARGET/release/m2m-auth" mock --config "$SOAK/mock.json" --json >"$WORK/mock.json" &
mock_pid=$!
for _ in $(seq 100); do [ -s "$WORK/mock.json" ] && break; sleep 0.1; done
[ -s "$WORK/mock.json" ] || { echo "soak: the mock server did not start" >&2; exit 1; }
url=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["url"])' "$WORK/mock.json")
token_url=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["token_url"])' "$WORK/mock.json")

echo "=== soak: ${SECONDS_TO_RUN}s against $token_url" >&2
"$ROOT/.venv/bin/python" "$SOAK/soak.py" "$token_url" "$SECONDS_TO_RUN" "$WORK/python.json" &
py_pid=$!
node "$SOAK/soak.js" "$token_url" "$SECONDS_TO_RUN" "$WORK/node.json" &
node_pid=$!
status=0
wait "$py_pid" || status=$?
wait "$node_pid" || status=$?
[ "$status" -eq 0 ] || { echo "soak: a soak process failed ($status)" >&2; exit 1; }
curl --silent --show-error --fail "$url/mock/stats" >"$WORK/stats.json"

"$ROOT/.venv/bin/python" "$SOAK/report.py" "$WORK/python.json" "$WORK/node.json" "$WORK/stats.json" \
    "$ROOT/bench/soak.md"
