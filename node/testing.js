'use strict'
// An OAuth 2.0 authorization server for your tests, offline: the bundled mock server (the same one
// `m2m-auth mock` runs), on 127.0.0.1 inside this process. Real signed JWTs, real client authentication,
// request counters and fault injection.

const fs = require('node:fs')
const native = require('./native')

function configJson(config) {
  if (config === undefined || config === null) return undefined
  if (typeof config === 'string') {
    return config.trimStart().startsWith('{') ? config : fs.readFileSync(config, 'utf8')
  }
  return JSON.stringify(config)
}

class MockAuthServer {
  #native

  /** Starts a server. `config`: an object in the mock-server JSON format, a path to such a file, a JSON string,
   *  or nothing for one client `demo-client` / `demo-secret`. */
  static async start(config) {
    const server = new MockAuthServer()
    server.#native = await native.NativeMockServer.start(configJson(config))
    return server
  }

  get url() { return this.#native.url }
  get issuer() { return this.#native.issuer }
  get tokenUrl() { return this.#native.tokenUrl }

  /** Requests the token endpoint saw since start or reset(), for one client or all. */
  tokenRequests(clientId) { return this.#native.tokenRequests(clientId) }
  tokensIssued() { return this.#native.tokensIssued() }

  /** Makes the next token requests misbehave, in order: { count, delay_ms, body_delay_ms, status,
   *  headers, body, expires_in, omit_expires_in, token_type, extra }. */
  pushFaults(faults) { this.#native.pushFaults(JSON.stringify(faults)) }

  /** The token requests received: { method, path, headers, form, client_id, outcome }. */
  requests() { return JSON.parse(this.#native.requestsJson()) }

  setTokenLifetime(seconds) { this.#native.setTokenLifetime(seconds) }
  reset() { this.#native.reset() }

  /** Checks a token's signature and expiry and returns its claims; throws otherwise. */
  verifyAccessToken(token) { return JSON.parse(this.#native.verifyAccessToken(token)) }

  close() { this.#native.close() }
}

// `await using server = await MockAuthServer.start()` where the runtime supports explicit resource management.
if (typeof Symbol.asyncDispose === 'symbol') {
  MockAuthServer.prototype[Symbol.asyncDispose] = async function () { this.close() }
}

module.exports = { MockAuthServer }
