#!/usr/bin/env node
'use strict'
// The `m2m-auth` command of the npm package (`npx m2m-auth …`): runs the standalone binary that the
// platform package carries (@m2m-auth/linux-x64-gnu), so the command behaves exactly as everywhere else.

const { spawnSync } = require('node:child_process')
const path = require('node:path')
const { platformPackage } = require('./platform')

function binary () {
  try {
    return path.join(path.dirname(require.resolve(`${platformPackage()}/package.json`)), 'm2m-auth')
  } catch {
    return null
  }
}

const bin = binary()
if (bin === null) {
  console.error(`m2m-auth: no m2m-auth binary for this platform (${platformPackage()} is not installed); ` +
    'build it with `cargo install --path crates/m2m-auth-cli`')
  process.exit(127)
}
const result = spawnSync(bin, process.argv.slice(2), { stdio: 'inherit' })
if (result.error) {
  console.error(`m2m-auth: cannot run ${bin}: ${result.error.message}`)
  process.exit(127)
}
process.exit(result.status ?? 1)
