'use strict'
// What the Node test files share: one mock authorization server per file, reset before each test, and a
// client of its demo client.

const crypto = require('node:crypto')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { before, after, beforeEach } = require('node:test')

const { TokenClient } = require('../../node')
const { MockAuthServer } = require('../../node/testing')

// The client MockAuthServer.start() registers without a config.
const CLIENT_ID = 'demo-client'
const SECRET = 'demo-secret'

/** Starts a mock server for the calling test file; `mock.server` is it, from the first test on. */
function useMockServer() {
  const mock = { server: undefined }
  before(async () => {
    mock.server = await MockAuthServer.start()
  })
  after(() => {
    if (mock.server) mock.server.close()
  })
  beforeEach(() => {
    mock.server.reset()
  })
  return mock
}

/** A client of the demo client at `server`, with `extra` options on top. */
function demoClient(server, extra = {}) {
  return new TokenClient({ tokenUrl: server.tokenUrl, clientId: CLIENT_ID, clientSecret: SECRET, ...extra })
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** Like useMockServer, with a mock-server `config` (e.g. `{ tls: true }`); `mock.server` is it. */
function useMockServerWith(config) {
  const mock = { server: undefined }
  before(async () => {
    mock.server = await MockAuthServer.start(config)
  })
  after(() => {
    if (mock.server) mock.server.close()
  })
  beforeEach(() => {
    mock.server.reset()
  })
  return mock
}

/** A distinctive stretch of a PEM's base64 body, from within one middle line (so that it is found in any
 *  output that shows the PEM, line breaks and all): it must never show up anywhere. */
function pemFragment(pem) {
  const lines = String(pem).split(/\r?\n/).filter((l) => l !== '' && !l.startsWith('-----'))
  const line = lines[Math.floor(lines.length / 2)]
  const mid = Math.floor(line.length / 2)
  return line.slice(Math.max(0, mid - 12), mid + 12)
}

/** base64url SHA-256 of a PEM certificate's DER: the `x5t#S256` of RFC 8705 that bound tokens carry. */
function certThumbprint(certPem) {
  return crypto.createHash('sha256').update(new crypto.X509Certificate(certPem).raw).digest('base64url')
}

/** The decoded header and claims of a compact JWS (an access token or a client assertion). */
function jwtParts(jwt) {
  const parts = String(jwt).split('.')
  if (parts.length !== 3) throw new Error(`not a compact JWS: ${parts.length} parts`)
  const decode = (p) => JSON.parse(Buffer.from(p, 'base64url').toString('utf8'))
  return { header: decode(parts[0]), claims: decode(parts[1]) }
}

/** A new directory under os.tmpdir(): `write(name, content)` puts a file there and returns its path;
 *  `remove()` deletes the directory and everything in it. */
function tempDir(prefix = 'm2m-auth-test-') {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix))
  return {
    dir,
    write(name, content) {
      const file = path.join(dir, name)
      fs.writeFileSync(file, content, { mode: 0o600 })
      return file
    },
    remove() {
      fs.rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** Saves every M2M_* variable, clears them, sets `vars`, runs `fn`, and puts the environment back as it was. */
async function withM2MEnv(vars, fn) {
  const saved = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('M2M_')))
  for (const k of Object.keys(saved)) delete process.env[k]
  Object.assign(process.env, vars)
  try {
    return await fn()
  } finally {
    for (const k of Object.keys(process.env)) if (k.startsWith('M2M_')) delete process.env[k]
    Object.assign(process.env, saved)
  }
}

module.exports = {
  CLIENT_ID, SECRET, useMockServer, demoClient, sleep,
  useMockServerWith, pemFragment, certThumbprint, jwtParts, tempDir, withM2MEnv,
}
