'use strict'
// The per-platform package that carries the prebuilt native addon and the m2m-auth binary, named as
// napi-rs names them: @m2m-auth/<platform>-<arch>[-<libc>].

function platformPackage () {
  const { platform, arch } = process
  const libc = platform === 'linux' ? (process.report?.getReport?.().header?.glibcVersionRuntime ? '-gnu' : '-musl') : ''
  return `@m2m-auth/${platform}-${arch}${libc}`
}

module.exports = { platformPackage }
