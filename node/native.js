'use strict'
// Loads the native addon: the one built from source next to this file (node/m2m-auth.node, by
// build-native.js in a checkout), else the prebuilt one of the platform package (@m2m-auth/linux-x64-gnu,
// installed with the package from `make dist`).
const fs = require('node:fs')
const path = require('node:path')
const { platformPackage } = require('./platform')

function load () {
  const local = path.join(__dirname, 'm2m-auth.node')
  if (fs.existsSync(local)) return require(local)
  try {
    return require(platformPackage())
  } catch (e) {
    const hint = `install ${platformPackage()}, or run \`npm run build\` in the m2m-auth package (needs a Rust toolchain)`
    throw new Error(`m2m-auth: cannot load the native addon: ${e.message}; ${hint}`)
  }
}

module.exports = load()
