'use strict'
// The receiving side: a Verifier checks the access tokens a service is called with.
//
//   const { Verifier } = require('m2m-auth')
//   const verifier = new Verifier({ issuer: 'https://idp.example/acme', audience: 'payments-api' })
//   const claims = await verifier.verify(token)     // TokenInvalid (401), InsufficientScope (403), …
//
// A thin wrapper: the core checks everything; a token seen before is answered synchronously by the addon
// (`verifyKnown`), a new one in a Promise.

const native = require('./native')
const { fromNative, ConfigError } = require('./errors')

function call(fn) {
  try {
    return fn()
  } catch (e) {
    throw fromNative(e)
  }
}

/** What a route asks of a token, beyond what every token of the verifier passes. Build once per route. */
class Policy {
  #description
  #native

  constructor(description) {
    this.#description = description
    this.#native = call(() => new native.NativePolicy(description))
  }

  /** Every one of `scopes`. */
  static allScopes(scopes) { return new Policy({ all_scopes: scopes }) }
  /** At least one of `scopes`. */
  static anyScope(scopes) { return new Policy({ any_scope: scopes }) }
  /** The token's client (`client_id`, else `azp`, else `sub`) is one of `clientIds`. */
  static clientIds(clientIds) { return new Policy({ client_ids: clientIds }) }
  /** The claim `name` is exactly `value` (any JSON value). */
  static claimEquals(name, value) { return new Policy({ claim: name, equals: value }) }
  /** The claim `name` is exactly one of `values`. */
  static claimOneOf(name, values) { return new Policy({ claim: name, one_of: values }) }
  /** Every one of `policies`. */
  static allOf(policies) { return new Policy({ all_of: descriptions(policies) }) }
  /** At least one of `policies`. */
  static anyOf(policies) { return new Policy({ any_of: descriptions(policies) }) }

  /** This and `other`. */
  and(other) { return Policy.allOf([this, other]) }
  /** This or `other`. */
  or(other) { return Policy.anyOf([this, other]) }

  /** The policy of `require({ scopes, anyScopes, clientIds, claims, policy })` style options, or undefined. */
  static of({ scopes, anyScopes, clientIds, claims, policy } = {}) {
    const parts = []
    if (scopes?.length) parts.push(Policy.allScopes(scopes))
    if (anyScopes?.length) parts.push(Policy.anyScope(anyScopes))
    if (clientIds?.length) parts.push(Policy.clientIds(clientIds))
    for (const [name, value] of Object.entries(claims ?? {})) parts.push(Policy.claimEquals(name, value))
    if (policy !== undefined) parts.push(checkedPolicy(policy))
    if (parts.length === 0) return undefined
    return parts.length === 1 ? parts[0] : Policy.allOf(parts)
  }

  static nativeOf(policy) { return policy.#native }
  static descriptionOf(policy) { return policy.#description }
}

function checkedPolicy(policy) {
  if (!(policy instanceof Policy)) throw new ConfigError('policy must be a Policy', { field: 'policy' })
  return policy
}

function descriptions(policies) {
  if (!Array.isArray(policies)) throw new ConfigError('allOf and anyOf take an array of Policy objects', { field: 'policy' })
  return policies.map((p) => Policy.descriptionOf(checkedPolicy(p)))
}

// Tokens the mirror answers at most; beyond, the oldest is forgotten (a Map iterates in insertion order).
const MAX_MIRRORED = 10000

/** Checks access tokens for one issuer and audience. Share one per service: it caches keys and tokens. */
class Verifier {
  #native
  // The core's answers for tokens it accepted, until when it said they hold (`mirrorUntilMs`), and the route
  // policies they met: a machine caller sends one token thousands of times, and a repeated one is answered
  // here without a call into the addon. Certificate-bound tokens are never mirrored (the core sends no
  // use-by for them): their request's certificate is checked every time.
  #mirror = new Map()

  /**
   * @param {object} options issuer, audience (a string or several), and optionally jwksUrl, algorithms,
   *   leewayMs, requiredScopes, jwksCooldownMs, jwksMaxAgeMs, strictTyp, timeoutMs, caBundle, realm, and
   *   clientId with its credentials for opaque tokens (introspection).
   */
  constructor(options = {}) {
    if (options === null || typeof options !== 'object' || Array.isArray(options)) {
      throw new ConfigError('Verifier options must be an object', { field: 'options' })
    }
    const opts = {}
    for (const [key, value] of Object.entries(options)) {
      if (value === undefined) continue
      opts[key] = Buffer.isBuffer(value) ? value.toString('utf8') : (typeof value === 'number' && !Number.isFinite(value) ? String(value) : value)
    }
    this.#native = call(() => new native.NativeVerifier(opts))
  }

  /** The realm of the `WWW-Authenticate` challenges (the `realm` option). */
  get realm() { return this.#native.realm ?? undefined }

  /**
   * The token's claims if it is valid here (and meets `policy`), else a rejected Promise with TokenInvalid,
   * InsufficientScope or VerifierUnavailable. `clientCert`: the request's certificate, a Buffer (DER) or text
   * (PEM, URL-encoded PEM or base64 DER, as a proxy passes it).
   */
  async verify(token, { clientCert, policy } = {}) {
    if (typeof token !== 'string') throw new ConfigError('verify(token): token must be a string', { field: 'token' })
    if (clientCert === undefined) {
      const mirrored = this.#mirror.get(token)
      if (mirrored !== undefined && Date.now() < mirrored.untilMs && (policy === undefined || mirrored.passed.has(policy))) {
        return mirrored.claims
      }
    }
    const nativePolicy = policy === undefined ? undefined : Policy.nativeOf(checkedPolicy(policy))
    const known = call(() => this.#native.verifyKnown(token, clientCert, nativePolicy))
    if (known !== null && known !== undefined) return this.#mirrored(token, known, clientCert, policy)
    const der = typeof clientCert === 'string' ? this.#native.certificateDer(clientCert) ?? undefined : clientCert
    let accepted
    try {
      accepted = await call(() => this.#native.verify(token, der, nativePolicy))
    } catch (e) {
      throw fromNative(e)
    }
    return this.#mirrored(token, accepted, clientCert, policy)
  }

  /** The claims of a token the core accepted, kept in the mirror when the core gave a use-by. */
  #mirrored(token, native, clientCert, policy) {
    if (native.mirrorUntilMs === undefined || native.mirrorUntilMs === null || clientCert !== undefined) return claimsOf(native)
    let entry = this.#mirror.get(token)
    if (entry === undefined) {
      entry = { claims: claimsOf(native), untilMs: native.mirrorUntilMs, passed: new Set() }
      if (this.#mirror.size >= MAX_MIRRORED) this.#mirror.delete(this.#mirror.keys().next().value)
      this.#mirror.set(token, entry)
    }
    entry.untilMs = native.mirrorUntilMs
    if (policy !== undefined) entry.passed.add(policy)
    return entry.claims
  }
}

/** The claims as users read them; frozen, since the same object answers every request with the token. */
function claimsOf(n) {
  return deepFreeze({
    issuer: n.issuer,
    subject: n.subject ?? undefined,
    clientId: n.clientId ?? undefined,
    scopes: n.scopes,
    audience: n.audience,
    expiresAt: new Date(n.expiresAtMs),
    claims: n.claims,
  })
}

function deepFreeze(value) {
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    for (const v of Object.values(value)) deepFreeze(v)
    Object.freeze(value)
  }
  return value
}

/** The token of an `Authorization` header value, else a thrown TokenInvalid (the core's rule, RFC 6750 §2.1). */
function bearerToken(authorization) {
  return call(() => native.bearerToken(typeof authorization === 'string' ? authorization : null))
}

/** The certificate a trusted proxy passed, from every value the request has of its header (the core's rule:
 *  exactly one counts), or undefined. For the framework integrations. */
function forwardedCertificate(values) {
  return native.forwardedCertificate(values) ?? undefined
}

module.exports = { Verifier, Policy, bearerToken, forwardedCertificate }
