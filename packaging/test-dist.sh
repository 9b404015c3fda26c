#!/usr/bin/env bash
# `make test-dist`: what `make dist` left in target/dist/ installs and runs with no Rust toolchain on PATH —
# the wheel into a fresh virtualenv, the npm packages into an empty project — and each runs the README's
# first use (against the bundled mock server) and `m2m-auth --help`.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DIST=$ROOT/target/dist
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost

# No cargo, rustc or rustup anywhere on PATH: only the system's and Node's directories are kept.
PATH=$(printf '%s' "$PATH" | tr ':' '\n' | grep -v -e cargo -e rustup | paste -sd: -)
export PATH
if command -v cargo >/dev/null 2>&1; then
    echo "test-dist: cargo is still on PATH ($(command -v cargo))" >&2
    exit 1
fi

fail() { echo "test-dist: $*" >&2; exit 1; }
wheel=$(ls "$DIST"/m2m_auth-*.whl 2>/dev/null | head -n 1)
[ -n "$wheel" ] || fail "no wheel in $DIST: run make dist"
case "$wheel" in *abi3-manylinux*) ;; *) fail "$wheel is not an abi3 manylinux wheel" ;; esac

echo "=== Python: $(basename "$wheel") into a fresh virtualenv" >&2
python3 -m venv "$WORK/venv"
"$WORK/venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-index "$wheel"
"$WORK/venv/bin/python" - <<'PY'
from m2m_auth import TokenClient
from m2m_auth.testing import MockAuthServer

with MockAuthServer() as server:
    client = TokenClient(token_url=server.token_url, client_id="demo-client", client_secret="demo-secret",
                         scopes=["payments.read"])
    token = client.get_token()               # str; cached, fetched again near expiry
    assert server.verify_access_token(token)["sub"] == "demo-client"
    assert client.get_token() == token and server.token_requests() == 1
print("python: the first use works")
PY
"$WORK/venv/bin/m2m-auth" --help | grep -q "client credentials" || fail "the Python package's m2m-auth --help"
echo "python: m2m-auth --help works" >&2

echo "=== Node: the npm packages into an empty project" >&2
mkdir -p "$WORK/app"
cd "$WORK/app"
npm init -y >/dev/null
npm install --no-audit --no-fund --loglevel=error "$DIST"/m2m-auth-linux-*.tgz "$DIST"/m2m-auth-[0-9]*.tgz
[ ! -e node_modules/m2m-auth/node/m2m-auth.node ] || fail "the main package carries an addon of its own"
node - <<'JS'
const assert = require('node:assert/strict')
const { TokenClient } = require('m2m-auth')
const { MockAuthServer } = require('m2m-auth/testing')

async function main () {
  const server = await MockAuthServer.start()
  try {
    const client = new TokenClient({ tokenUrl: server.tokenUrl, clientId: 'demo-client', clientSecret: 'demo-secret',
      scopes: ['payments.read'] })
    const token = await client.getToken()    // cached; one request however many Promises ask
    assert.equal(server.verifyAccessToken(token).sub, 'demo-client')
    assert.equal(await client.getToken(), token)
    assert.equal(server.tokenRequests(), 1)
    console.log('node: the first use works')
  } finally {
    server.close()
  }
}
main().catch((e) => { console.error(e); process.exit(1) })
JS
npx --no-install m2m-auth --help | grep -q "client credentials" || fail "the npm package's m2m-auth --help"
echo "node: npx m2m-auth --help works" >&2

"$DIST"/m2m-auth --help | grep -q "client credentials" || fail "the standalone binary's --help"
echo "test-dist: the wheel, the npm packages and the binary install and run without Rust"
