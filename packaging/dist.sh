#!/usr/bin/env bash
# `make dist`: packages that install without a Rust toolchain, in target/dist/:
#   - an abi3 manylinux wheel of the Python package, carrying the m2m-auth binary (its console script runs it);
#   - the npm package and its per-platform package (napi-rs's convention: @m2m-auth/linux-x64-gnu holds the
#     prebuilt addon and the m2m-auth binary; the main package names it as an optional dependency);
#   - the standalone m2m-auth binary.
# Release builds. Only the registries it already uses (none: everything is local).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$ROOT/target/dist
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
VERSION=$(node -p "require('$ROOT/package.json').version")
case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) PLATFORM=linux-x64-gnu ;;
    Linux-aarch64) PLATFORM=linux-arm64-gnu ;;
    *) echo "dist: no package layout for $(uname -s)-$(uname -m)" >&2; exit 1 ;;
esac
rm -rf "$OUT" && mkdir -p "$OUT"

echo "=== release builds: the m2m-auth binary and the Node addon" >&2
(cd "$ROOT" && cargo build --release --locked -p m2m-auth-cli -p m2m-auth-node >&2)
cp "$TARGET/release/m2m-auth" "$OUT/m2m-auth"

# manylinux_2_34: glibc 2.34 or later (Debian 12, Ubuntu 22.04, RHEL 9), what a build on this Debian 12 machine
# links against; an older baseline needs a manylinux build container.
echo "=== the wheel (abi3, manylinux_2_34), with the binary" >&2
BIN_DIR=$ROOT/python/m2m_auth/bin
cleanup() { rm -rf "$BIN_DIR"; }
trap cleanup EXIT
mkdir -p "$BIN_DIR" && cp "$TARGET/release/m2m-auth" "$BIN_DIR/m2m-auth"
(cd "$ROOT" && "$ROOT/.venv/bin/maturin" build --release --locked --quiet --compatibility manylinux_2_34 \
    --out "$OUT" >&2)
cleanup

echo "=== the npm packages: m2m-auth and @m2m-auth/$PLATFORM" >&2
STAGE=$OUT/stage
mkdir -p "$STAGE/platform" "$STAGE/main/node"
cp "$TARGET/release/libm2m_auth_node.so" "$STAGE/platform/m2m-auth.$PLATFORM.node"
cp "$TARGET/release/m2m-auth" "$STAGE/platform/m2m-auth"
node - "$ROOT" "$STAGE" "$PLATFORM" "$VERSION" <<'JS'
const fs = require('node:fs')
const path = require('node:path')
const [root, stage, platform, version] = process.argv.slice(2)
const main = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'))
const [os, cpu, libc] = platform.split('-')
fs.writeFileSync(path.join(stage, 'platform', 'package.json'), JSON.stringify({
  name: `@m2m-auth/${platform}`, version, description: `The prebuilt native addon and m2m-auth binary of m2m-auth for ${platform}`,
  license: main.license, os: [os], cpu: [cpu], libc: libc === 'gnu' ? ['glibc'] : undefined,
  main: `m2m-auth.${platform}.node`, files: [`m2m-auth.${platform}.node`, 'm2m-auth'], engines: main.engines,
}, null, 2))
// The main package as published: its JavaScript and types, the platform package as an optional dependency,
// the command as its bin; no sources and no install script (nothing to build).
const published = {
  name: main.name, version, description: main.description, license: main.license, main: main.main, types: main.types,
  exports: main.exports, bin: { 'm2m-auth': 'node/cli.js' }, files: ['node/*.js', 'node/*.d.ts'],
  engines: main.engines, optionalDependencies: { [`@m2m-auth/${platform}`]: version },
  peerDependencies: main.peerDependencies, peerDependenciesMeta: main.peerDependenciesMeta,
}
fs.writeFileSync(path.join(stage, 'main', 'package.json'), JSON.stringify(published, null, 2))
JS
for f in "$ROOT"/node/*.js "$ROOT"/node/*.d.ts; do
    case "$(basename "$f")" in build-native.js) ;; *) cp "$f" "$STAGE/main/node/" ;; esac
done
cp "$ROOT/README.md" "$STAGE/main/"
chmod +x "$STAGE/platform/m2m-auth" "$STAGE/main/node/cli.js"
(cd "$STAGE/platform" && npm pack --silent --pack-destination "$OUT" >/dev/null)
(cd "$STAGE/main" && npm pack --silent --pack-destination "$OUT" >/dev/null)
rm -rf "$STAGE"
ls -1 "$OUT"
