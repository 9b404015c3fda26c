#!/usr/bin/env bash
# `make bench`: sets up its own environment, builds m2m-auth in release, starts one local token endpoint,
# measures m2m-auth and its peers in Python and Node, and writes bench/results.{json,md,png}. Each language's
# runner starts its own redis-server on 127.0.0.1 for the shared-cache metrics (fleet, cached get with Redis).
# See bench/README.md. Only loopback traffic once set up (the set-up itself installs from PyPI and npm).
#
# BENCH_ONLY=verify (or client, shared, comma-separated) runs only those metric groups, after the same set-up
# and builds; its report goes to bench/.build/results.{json,md,png}, so that bench/results.* always come from a
# full run.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$ROOT/bench
BUILD=$BENCH/.build
VENV=$BENCH/.venv
PYTHON=${PYTHON:-python3}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
LATENCY_MS=20

# Tokens, admin calls and peers all talk to 127.0.0.1: never through a proxy.
export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost
# 1000 concurrent callers of a peer without single flight open 1000 connections.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || ulimit -n 8192 2>/dev/null || true

phases=()
phase_start=$SECONDS
phase() { # phase NAME: closes the current phase under NAME
    phases+=("$1=$((SECONDS - phase_start))")
    phase_start=$SECONDS
}
say() { printf '\n=== %s\n' "$*" >&2; }

mkdir -p "$BUILD"

# The shared-cache metrics need a real redis-server; without one their cells fail and the run goes on.
command -v redis-server >/dev/null ||
    echo "warning: no redis-server: the fleet and Redis metrics will fail (Debian: apt-get install redis-server)" >&2

say "Python environment: $VENV (peers, maturin, matplotlib)"
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$BENCH/requirements.txt"

say "Node peers: bench/node (npm ci)"
(cd "$BENCH/node" && npm ci --no-audit --no-fund --loglevel=error)

say "Release builds: m2m-auth CLI (mock server), Node addon, Python extension"
# One cargo invocation for the three, so that their dependencies are compiled once with one feature set;
# maturin then reuses them, rebuilding only the pyo3 crates and the extension for the wheel.
(cd "$ROOT" && PYO3_PYTHON="$VENV/bin/python" cargo build --release --locked \
    -p m2m-auth-cli -p m2m-auth-node -p m2m-auth-py)

say "Python wheel (release), installed into $VENV"
rm -rf "$BUILD/wheels"
(cd "$ROOT" && "$VENV/bin/maturin" build --release --locked --quiet --out "$BUILD/wheels" -i "$VENV/bin/python")
WHEEL=$(ls "$BUILD"/wheels/m2m_auth-*.whl)
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps "$WHEEL"

say "Node package: staged in $BUILD/m2m-auth-node with the release addon"
case "$(uname -s)" in
    Darwin) LIB=libm2m_auth_node.dylib ;;
    *) LIB=libm2m_auth_node.so ;;
esac
STAGE=$BUILD/m2m-auth-node
rm -rf "$STAGE" && mkdir -p "$STAGE/node"
cp "$ROOT/package.json" "$STAGE/"
cp "$ROOT"/node/*.js "$ROOT"/node/*.d.ts "$STAGE/node/"
cp "$TARGET/release/$LIB" "$STAGE/node/m2m-auth.node"
phase setup

say "Token endpoint: m2m-auth mock --token-latency-ms $LATENCY_MS on 127.0.0.1"
MOCK_OUT=$BUILD/mock.json
: >"$MOCK_OUT"
"$TARGET/release/m2m-auth" mock --config "$BENCH/mock-config.json" --token-latency-ms "$LATENCY_MS" --json \
    >"$MOCK_OUT" &
MOCK_PID=$!
trap 'kill "$MOCK_PID" 2>/dev/null || true' EXIT
for _ in $(seq 100); do
    [ -s "$MOCK_OUT" ] && break
    kill -0 "$MOCK_PID" 2>/dev/null || { echo "the mock server did not start" >&2; exit 1; }
    sleep 0.1
done
MOCK_URL=$("$VENV/bin/python" -c 'import json, sys; print(json.load(open(sys.argv[1]))["url"])' "$MOCK_OUT")
echo "mock at $MOCK_URL" >&2

say "Python: every metric"
(cd "$BENCH/python" && "$VENV/bin/python" run.py --mock-url "$MOCK_URL" --out "$BUILD/python.json" --wheel "$WHEEL")
phase python

say "Node: every metric"
(cd "$BENCH/node" && node run.js --mock-url "$MOCK_URL" --out "$BUILD/node.json")
phase node

kill "$MOCK_PID" 2>/dev/null || true
wait "$MOCK_PID" 2>/dev/null || true
trap - EXIT

REPORT_DIR=$BENCH
if [ -n "${BENCH_ONLY:-}" ]; then
    REPORT_DIR=$BUILD
    echo "BENCH_ONLY=$BENCH_ONLY: a partial run, reported in $REPORT_DIR (bench/results.* left as they are)" >&2
fi
say "Report"
"$VENV/bin/python" "$BENCH/report.py" --python "$BUILD/python.json" --node "$BUILD/node.json" --out-dir "$REPORT_DIR" \
    --latency-ms "$LATENCY_MS" --phases "$(IFS=,; echo "${phases[*]}")"
echo "make bench: done in $((SECONDS / 60)) min $((SECONDS % 60)) s" >&2
