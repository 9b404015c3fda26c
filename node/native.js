'use strict'
// Loads the native addon built by build-native.js (or a prebuilt one placed next to this file).
const path = require('node:path')

let native
try {
  native = require(path.join(__dirname, 'm2m-auth.node'))
} catch (e) {
  const hint = 'run `npm run build` in the m2m-auth package (needs a Rust toolchain)'
  throw new Error(`m2m-auth: cannot load the native addon node/m2m-auth.node: ${e.message}; ${hint}`)
}
module.exports = native
