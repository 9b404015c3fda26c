'use strict'
// m2m-auth for Node: OAuth 2.0 client credentials tokens, cached, refreshed and fetched once however many
// Promises ask. A thin wrapper: the Rust core decides; this file converts options and errors.

const util = require('node:util')
const native = require('./native')
const errors = require('./errors')

const { fromNative, ConfigError } = errors

function nativeOptions(options) {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new ConfigError('TokenClient options must be an object', { field: 'options' })
  }
  const known = new Set([
    'tokenUrl', 'clientId', 'clientSecret', 'authMethod', 'scopes', 'audience', 'resources', 'extraParams',
    'timeoutMs', 'expirySkewMs', 'defaultLifetimeMs', 'maxResponseBytes', 'allowInsecureHttp',
    'tenant', 'region', 'workspace',
  ])
  for (const key of Object.keys(options)) {
    // A typo such as `clientSecert` would otherwise be ignored and fail later with a vaguer error.
    if (!known.has(key)) throw new ConfigError(`unknown TokenClient option "${key}"`, { field: key })
  }
  return { ...options }
}

function nativeParams(params) {
  if (params === undefined || params === null) return undefined
  if (typeof params !== 'object' || Array.isArray(params)) {
    throw new ConfigError('token parameters must be an object like { scopes: [...] }', { field: 'params' })
  }
  return params
}

function call(fn) {
  try {
    return fn()
  } catch (e) {
    throw fromNative(e)
  }
}

class TokenClient {
  #native

  /**
   * @param {object} options tokenUrl, clientId, clientSecret, and optionally authMethod, scopes, audience,
   *   resources, extraParams, timeoutMs, expirySkewMs, defaultLifetimeMs, maxResponseBytes, allowInsecureHttp.
   */
  constructor(options = {}) {
    const opts = nativeOptions(options)
    this.#native = call(() => new native.NativeTokenClient(opts))
  }

  /** A client for a SecureAuth Connect workspace: { tenant, region, workspace, clientId, clientSecret, ... }. */
  static secureauth(options = {}) {
    const { tenant, region, workspace } = options
    for (const [field, value] of Object.entries({ tenant, region, workspace })) {
      if (typeof value !== 'string' || value === '') {
        throw new ConfigError(`SecureAuth ${field} is required`, { field })
      }
    }
    return new TokenClient(options)
  }

  /** A client configured from the M2M_* environment variables. */
  static fromEnv() {
    const client = Object.create(TokenClient.prototype)
    client.#native = call(() => native.NativeTokenClient.fromEnv())
    return client
  }

  /** The access token (a string); cached while fresh. */
  async getToken(params) {
    const p = nativeParams(params)
    const cached = call(() => this.#native.cachedToken(p))
    if (cached !== null && cached !== undefined) return cached
    try {
      return await this.#native.getToken(p)
    } catch (e) {
      throw fromNative(e)
    }
  }

  /** The token with tokenType, scope, expiresIn (ms left) and expiresAt (a Date). */
  async fetchToken(params) {
    const p = nativeParams(params)
    let t
    try {
      t = await this.#native.fetchToken(p)
    } catch (e) {
      throw fromNative(e)
    }
    return new Token(t)
  }

  /** Drops cached tokens; the next call fetches a new one. */
  invalidate() {
    this.#native.invalidate()
  }

  /** Counters: hits, misses, fetches, failures, lastError. */
  stats() {
    const s = this.#native.stats()
    return { hits: s.hits, misses: s.misses, fetches: s.fetches, failures: s.failures, lastError: s.lastError ?? null }
  }

  get tokenUrl() { return this.#native.tokenUrl }
  get clientId() { return this.#native.clientId }
  get authMethod() { return this.#native.authMethod }
  get scopes() { return this.#native.scopes }

  toString() { return this.#native.describe() }
  toJSON() { return { tokenUrl: this.tokenUrl, clientId: this.clientId, authMethod: this.authMethod, scopes: this.scopes } }
  [util.inspect.custom]() { return this.#native.describe() }
}

class Token {
  #accessToken

  constructor(t) {
    this.#accessToken = t.accessToken
    this.tokenType = t.tokenType
    this.scope = t.scope ?? null
    this.expiresAt = new Date(t.expiresAtMs)
    Object.freeze(this)
  }

  /** The string for `Authorization: Bearer …`. Not an own enumerable property, so logging a Token omits it. */
  get accessToken() { return this.#accessToken }

  /** Milliseconds left until expiry (0 once expired). */
  get expiresIn() { return Math.max(0, this.expiresAt.getTime() - Date.now()) }

  toString() {
    return `Token(tokenType=${this.tokenType}, scope=${this.scope ?? ''}, expiresAt=${this.expiresAt.toISOString()}, accessToken=[redacted])`
  }

  toJSON() { return { tokenType: this.tokenType, scope: this.scope, expiresAt: this.expiresAt.toISOString() } }
  [util.inspect.custom]() { return this.toString() }
}

module.exports = { TokenClient, Token, ...errors }
delete module.exports.fromNative
