'use strict'
// m2m-auth for Node: OAuth 2.0 client credentials tokens, cached, refreshed and fetched once however many
// Promises ask. A thin wrapper: the Rust core decides; this file converts options and errors.

const util = require('node:util')
const native = require('./native')
const errors = require('./errors')

const { fromNative, ConfigError } = errors
const { tokenParams } = require('./http')
const { authorizedFetch } = require('./fetch')
const { TokenMirror } = require('./mirror')

// The kind of every option, as the core declares it: which take PEM or key text (a Buffer or a JWK object is
// turned into text here). Names, types, bounds and defaults are the core's; it checks them.
const SETTING_KINDS = Object.fromEntries(JSON.parse(native.clientSettings()).map((s) => [s.node, s.kind]))
const PARAM_TYPES = { scopes: 'string[]', audience: 'string', resources: 'string[]', extraParams: 'record' }

// NODE_DEBUG=m2m-auth prints the client's events (requests, retries, failures, refreshes) to stderr.
const debug = util.debuglog('m2m-auth')

/** The native event callback, or undefined when nobody listens (then the core skips the work). */
function eventListener(onEvent) {
  if (!onEvent && !debug.enabled) return undefined
  return (json) => {
    const event = JSON.parse(json)
    if (debug.enabled) debug('%s %s [%s]: %s', event.level, event.kind, event.clientId, event.message)
    if (onEvent) {
      try {
        onEvent(event)
      } catch (e) {
        // A throwing listener must not break token fetching; make it visible instead.
        process.emitWarning(`m2m-auth onEvent listener threw: ${e && e.message}`)
      }
    }
  }
}

function typeOk(value, type) {
  switch (type) {
    case 'headers': return (value !== null && typeof value === 'object')
    case 'body': return typeof value === 'string' || value instanceof Uint8Array
    case 'pem': return typeof value === 'string' || Buffer.isBuffer(value)
    case 'key': return typeof value === 'string' || Buffer.isBuffer(value) ||
      (value !== null && typeof value === 'object' && !Array.isArray(value))
    case 'string[]': return Array.isArray(value) && value.every((v) => typeof v === 'string')
    case 'record': return value !== null && typeof value === 'object' && !Array.isArray(value) &&
      Object.values(value).every((v) => typeof v === 'string')
    default: return typeof value === type
  }
}

/** `object`'s own keys checked against `types` (keys outside them are an error unless `strict` is false: the
 *  native side checks those). */
function checked(object, types, what, field, strict = true) {
  if (object === null || typeof object !== 'object' || Array.isArray(object)) {
    throw new ConfigError(`${what}s must be an object`, { field })
  }
  for (const [key, value] of Object.entries(object)) {
    const type = types[key]
    if (type === undefined && !strict) continue
    // A typo such as `clientSecert` would otherwise be ignored and fail later with a vaguer error.
    if (type === undefined) throw new ConfigError(`unknown ${what} "${key}"`, { field: key })
    if (value !== undefined && !typeOk(value, type)) {
      const expected = {
        record: 'an object of strings', 'string[]': 'an array of strings', pem: 'PEM text (a string or Buffer)',
        key: 'PEM or JWK text, a Buffer, or a JWK object',
      }[type] ?? `a ${type}`
      throw new ConfigError(`${what} "${key}" must be ${expected}`, { field: key })
    }
  }
  return { ...object }
}

/** The options object as the native side takes it: text for PEM and keys (from a Buffer, or a JWK object as
 *  JSON), and numbers JSON cannot carry (NaN, Infinity) as text, so that the core's bounds check names them. */
function nativeOptions(opts) {
  const out = {}
  for (const [key, value] of Object.entries(opts)) {
    const kind = SETTING_KINDS[key]
    if (Buffer.isBuffer(value) && (kind === 'Pem' || kind === 'SecretPem' || kind === 'Key')) out[key] = value.toString('utf8')
    else if (kind === 'Key' && value !== null && typeof value === 'object' && !Array.isArray(value)) out[key] = JSON.stringify(value)
    else if (typeof value === 'number' && !Number.isFinite(value)) out[key] = String(value)
    else out[key] = value
  }
  return out
}

function nativeParams(params) {
  if (params === undefined || params === null) return undefined
  return checked(params, PARAM_TYPES, 'token parameter', 'params')
}

function convert(e) {
  return fromNative(e)
}

function call(fn) {
  try {
    return fn()
  } catch (e) {
    throw convert(e)
  }
}

// Lets fromEnv() build a client around a native one through the constructor (private fields need it).
const WRAP = Symbol('wrap native client')

class TokenClient {
  #native
  #mirror = new TokenMirror()

  /**
   * @param {object} options tokenUrl, clientId, clientSecret, and optionally authMethod, scopes, audience,
   *   resources, extraParams, timeoutMs, expirySkewMs, defaultLifetimeMs, maxResponseBytes, allowInsecureHttp.
   */
  constructor(options = {}, nativeClient = undefined) {
    if (options === WRAP) {
      this.#native = nativeClient(this.#mirror.listener())
      return
    }
    const { onEvent, _panicOnFetch, ...opts } = checked(options, { onEvent: 'function', _panicOnFetch: 'boolean' }, 'TokenClient option', 'options', false)
    if (_panicOnFetch) opts.panicOnFetch = true
    this.#native = call(() => new native.NativeTokenClient(nativeOptions(opts), eventListener(onEvent), this.#mirror.listener()))
  }

  /** A client for a SecureAuth Connect workspace: { tenant, region, workspace, clientId, clientSecret, ... }. */
  static secureauth(options = {}) {
    const { onEvent, ...opts } = checked(options, { onEvent: 'function' }, 'TokenClient option', 'options', false)
    return new TokenClient(WRAP, (onToken) => call(() => native.NativeTokenClient.secureauth(nativeOptions(opts), eventListener(onEvent), onToken)))
  }

  /** A client whose token endpoint is read from the issuer's metadata (RFC 8414 / OIDC Discovery) at first use. */
  static fromIssuer(issuer, options = {}) {
    if (typeof issuer !== 'string' || issuer === '') {
      throw new ConfigError('fromIssuer(issuer): issuer must be a non-empty string', { field: 'issuer' })
    }
    if (options !== null && typeof options === 'object' && (options.tokenUrl !== undefined || options.issuer !== undefined)) {
      const field = options.tokenUrl !== undefined ? 'tokenUrl' : 'issuer'
      throw new ConfigError(`fromIssuer() takes the issuer as its first argument; do not pass ${field}`, { field })
    }
    return new TokenClient({ ...checked(options, {}, 'TokenClient option', 'options', false), issuer })
  }

  /** A client configured from the M2M_* environment variables. */
  static fromEnv(options = {}) {
    const { onEvent } = checked(options, { onEvent: 'function' }, 'fromEnv option', 'options')
    return new TokenClient(WRAP, (onToken) => call(() => native.NativeTokenClient.fromEnv(eventListener(onEvent), onToken)))
  }

  /** The access token (a string); cached while fresh. */
  async getToken(params) {
    if (params === undefined) {
      const mirrored = this.#mirror.current
      if (mirrored !== undefined) {
        this.#mirror.hits += 1
        return mirrored
      }
    }
    const p = nativeParams(params)
    const cached = call(() => this.#native.cachedToken(p))
    if (cached !== null && cached !== undefined) return cached
    try {
      return await this.#native.getToken(p)
    } catch (e) {
      throw convert(e)
    }
  }

  /**
   * fetch() with the access token: `Authorization: Bearer …` on the request, kept on redirects within the
   * origin and dropped on any other, and — when the API answers 401 invalid_token — a new token and one more
   * try, if the body can be sent again. `options`: scopes, audience, resources, extraParams for the token.
   */
  async fetch(input, init = {}, options = {}) {
    // A token bound to the client certificate must travel with it: the core's HTTP client presents it.
    if (this.#native.hasClientCertificate) return fetchThroughCore(this, input, init)
    return authorizedFetch(this, input, init, tokenParams(options))
  }

  /**
   * One request to a protected API through the core: the client certificate is presented (certificate-bound
   * tokens need it) and a rejected token is replaced once. `options`: headers (object or [name, value]
   * pairs), body (string, Buffer or Uint8Array), timeoutMs. Resolves to an ApiResponse.
   */
  async call(method, url, options = {}) {
    const { headers, body, timeoutMs } = checked(options, CALL_TYPES, 'call option', 'options')
    let answer
    try {
      answer = await this.#native.call({
        method: String(method), url: String(url), headers: headerPairs(headers), body: bodyBuffer(body), timeoutMs,
      })
    } catch (e) {
      throw convert(e)
    }
    return new ApiResponse(answer)
  }

  /** The token with tokenType, scope, expiresIn (ms left) and expiresAt (a Date). */
  async fetchToken(params) {
    const p = nativeParams(params)
    let t
    try {
      t = await this.#native.fetchToken(p)
    } catch (e) {
      throw convert(e)
    }
    return new Token(t)
  }

  /** Drops cached tokens; the next call fetches a new one. With `token` (one an API rejected), drops it only
   *  if it is still cached, so that many callers rejecting one token cause one new fetch. */
  invalidate(token) {
    if (token !== undefined && typeof token !== 'string') {
      throw new ConfigError('invalidate(token): token must be a string', { field: 'token' })
    }
    const outcome = this.#native.invalidate(token, token !== undefined && this.#mirror.holds(token))
    if (outcome.forgetMirror) this.#mirror.drop(outcome.fence ?? undefined)
    return outcome.dropped
  }

  /** `url`, normalised, if this client may send its token there: https, or plain http to loopback or with
   *  allowInsecureHttp. Throws a ConfigError otherwise. Every HTTP integration asks before a request. */
  checkApiUrl(url) {
    return call(() => this.#native.checkApiUrl(String(url)))
  }

  /** Counters: hits, misses, fetches, refreshes, failures, lastError, and the shared cache's sharedHits,
   *  sharedMisses, sharedErrors, sharedRejected, lockWaits. */
  stats() {
    const s = this.#native.stats()
    return {
      hits: s.hits + this.#mirror.hits, misses: s.misses, fetches: s.fetches, refreshes: s.refreshes, failures: s.failures,
      lastError: s.lastError ?? null,
      sharedHits: s.sharedHits, sharedMisses: s.sharedMisses, sharedErrors: s.sharedErrors,
      sharedRejected: s.sharedRejected, lockWaits: s.lockWaits,
    }
  }

  /** The token endpoint; null until discovery (fromIssuer) has found it. */
  get tokenUrl() { return this.#native.tokenUrl ?? null }
  get issuer() { return this.#native.issuer ?? null }
  get clientId() { return this.#native.clientId }
  get authMethod() { return this.#native.authMethod }
  get scopes() { return this.#native.scopes }

  toString() { return this.#native.describe() }
  toJSON() {
    return { tokenUrl: this.tokenUrl, issuer: this.issuer, clientId: this.clientId, authMethod: this.authMethod, scopes: this.scopes }
  }
  [util.inspect.custom]() { return this.#native.describe() }
}

const CALL_TYPES = { headers: 'headers', body: 'body', timeoutMs: 'number' }

function headerPairs(headers) {
  if (headers === undefined || headers === null) return undefined
  return Array.isArray(headers) ? headers.map(([n, v]) => [String(n), String(v)]) : Object.entries(headers).map(([n, v]) => [n, String(v)])
}

function bodyBuffer(body) {
  if (body === undefined || body === null) return undefined
  return typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body.buffer ?? body, body.byteOffset ?? 0, body.byteLength)
}

/** A request through the core's HTTP client, answered as a fetch Response. */
async function fetchThroughCore(client, input, init) {
  const fromRequest = typeof Request !== 'undefined' && input instanceof Request
  const headers = new Headers(fromRequest ? input.headers : undefined)
  for (const [k, v] of new Headers(init.headers ?? undefined)) headers.set(k, v)
  let body = init.body !== undefined ? init.body : fromRequest ? input.body : undefined
  if (body !== undefined && body !== null && typeof body !== 'string' && !(body instanceof Uint8Array)) {
    // The core takes the whole body; read what fetch would have sent.
    body = Buffer.from(await new Response(body).arrayBuffer())
  }
  const answer = await client.call(init.method ?? (fromRequest ? input.method : 'GET'), fromRequest ? input.url : String(input), {
    headers: [...headers], body: body ?? undefined,
  })
  const nullBody = answer.status === 204 || answer.status === 304 || answer.status < 200
  return new Response(nullBody ? null : answer.body, { status: answer.status, headers: answer.headers })
}

/** The answer of client.call(). */
class ApiResponse {
  constructor(a) {
    this.status = a.status
    this.url = a.url
    this.headers = a.headers.map(([n, v]) => [n, v])
    this.body = a.body
    this.retried = a.retried
    Object.freeze(this)
  }

  text() { return this.body.toString('utf8') }
  json() { return JSON.parse(this.text()) }
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

const { Verifier, Policy, bearerToken } = require('./verifier')

module.exports = { TokenClient, Token, ApiResponse, Verifier, Policy, bearerToken, ...errors }
delete module.exports.fromNative
