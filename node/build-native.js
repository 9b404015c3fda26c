#!/usr/bin/env node
// Builds the native addon from the Rust workspace and copies it to node/m2m-auth.node, where index.js
// loads it. Runs on `npm install`. M2M_AUTH_BUILD_PROFILE=debug gives a faster, unoptimised build (tests, CI).
'use strict'

const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const root = path.resolve(__dirname, '..')
const profile = process.env.M2M_AUTH_BUILD_PROFILE === 'debug' ? 'debug' : 'release'
const args = ['build', '--package', 'm2m-auth-node', '--locked']
if (profile === 'release') args.push('--release')
// The core's test hooks, for this repository's tests (the Makefile sets it); packages are built without.
if (process.env.M2M_AUTH_TEST_HOOKS === '1') args.push('--features', 'test-hooks')

const libName = {
  linux: 'libm2m_auth_node.so',
  darwin: 'libm2m_auth_node.dylib',
  win32: 'm2m_auth_node.dll',
}[process.platform]
if (!libName) {
  console.error(`m2m-auth: no native build for platform ${process.platform}`)
  process.exit(1)
}

try {
  execFileSync('cargo', args, { cwd: root, stdio: 'inherit' })
} catch (e) {
  console.error('m2m-auth: building the native addon failed; is a Rust toolchain (cargo) installed?')
  process.exit(typeof e.status === 'number' ? e.status : 1)
}

const targetDir = process.env.CARGO_TARGET_DIR || path.join(root, 'target')
const built = path.join(targetDir, profile, libName)
const dest = path.join(__dirname, 'm2m-auth.node')
// Copy to a temporary name and rename, so that a running process never loads a half-written file.
fs.copyFileSync(built, dest + '.tmp')
fs.renameSync(dest + '.tmp', dest)
console.log(`m2m-auth: native addon (${profile}) -> ${path.relative(root, dest)}`)
