'use strict'
// Runs every shared case in tests/vectors/token/ against one mock authorization server (or, for a case whose
// "server" asks for TLS, other auth methods or a skewed clock, a dedicated one), as the Rust runner
// (crates/m2m-auth/tests/vectors.rs) does. The format is described in tests/vectors/README.md. Keys and
// certificates are generated per run, never stored.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const util = require('node:util')
const { setTimeout: sleep } = require('node:timers/promises')

const m2m = require('../../node')
const { MockAuthServer, generateSigningKey, selfSignedCertificate } = require('../../node/testing')
const { certThumbprint, pemFragment } = require('./helpers')

const { TokenClient, M2MAuthError } = m2m

const VECTORS = path.join(__dirname, '..', 'vectors')
const mockConfig = JSON.parse(fs.readFileSync(path.join(VECTORS, 'mock-server.json'), 'utf8'))
const caseFiles = fs
  .readdirSync(path.join(VECTORS, 'token'))
  .filter((f) => f.endsWith('.json'))
  .sort()

/** Calls getToken() without pause for `ms`: { calls, expired }, expired counting the calls handed a token whose
 *  exp had passed when the call began (a token handed out in time cannot), so it must be 0. Every 50 calls
 *  the loop lets the event loop run, as a busy service's would. */
async function callsUntil (client, ms) {
  const end = Date.now() + ms
  let calls = 0
  let expired = 0
  while (Date.now() < end) {
    const began = Date.now() / 1000
    const token = await client.getToken()
    calls += 1
    const exp = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()).exp
    if (began >= exp) expired += 1
    if (calls % 50 === 0) await new Promise((resolve) => setImmediate(resolve))
  }
  return { calls, expired }
}

// Every key the format knows, declared once for the three runners (tests/vectors/keys.json). A key outside
// these fails the case, so that a new vector key is never silently ignored by this runner.
const KEYS = JSON.parse(fs.readFileSync(path.join(VECTORS, 'keys.json'), 'utf8'))

// The "server" keys that give a case a mock of its own, and the "jwks" placeholders of "register".
const DEDICATED_SERVER_KEYS = ['tls', 'auth_methods_supported', 'assertion_clock_skew_secs']
const JWKS_PLACEHOLDERS = ['{key}', '{other_key}', '{cert}', '{other_cert}']

const CODES = {
  OAuthError: 'ERR_OAUTH',
  TransportError: 'ERR_TRANSPORT',
  InvalidResponse: 'ERR_INVALID_RESPONSE',
  ConfigError: 'ERR_CONFIG',
  InternalError: 'ERR_INTERNAL',
}

function onlyKeys(obj, allowed, where) {
  assert.ok(obj !== null && typeof obj === 'object' && !Array.isArray(obj), `${where} must be an object`)
  for (const key of Object.keys(obj)) {
    assert.ok(allowed.includes(key), `${where}: unknown key ${JSON.stringify(key)} (this runner knows ${allowed.join(', ')})`)
  }
}

/** The option name of the Node package for a snake_case vector/core field name (token_url -> tokenUrl). */
function camel(field) {
  return /^[a-z][a-z0-9]*(_[a-z0-9]+)+$/.test(field)
    ? field.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase())
    : field
}

/** The secret a case's client uses: its own, else its registration's ("register", then mock-server.json), else
 *  none (undefined: the client gets no clientSecret option). */
function secretOf(kase) {
  const c = kase.client
  if (typeof c.client_secret === 'string') return c.client_secret
  if (kase.register !== undefined && typeof kase.register.client_secret === 'string') return kase.register.client_secret
  const registered = mockConfig.clients.find((r) => r.client_id === c.client_id)
  return registered && typeof registered.client_secret === 'string' ? registered.client_secret : undefined
}

/** The keys and certificates a case uses, generated for it (never stored), and its {placeholder}s. */
class Material {
  constructor(kase, server, secret) {
    this.server = server
    this.secret = secret ?? ''
    this.key = undefined
    this.cert = undefined // { certPem, keyPem, x5t, jwk (self-signed only) }
    const c = kase.client
    if (c.private_key !== undefined) {
      onlyKeys(c.private_key, KEYS.private_key, 'client.private_key')
      assert.equal(typeof c.private_key.alg, 'string', 'client.private_key.alg is required')
      this.key = generateSigningKey(c.private_key.alg)
    }
    if (c.client_cert !== undefined) {
      onlyKeys(c.client_cert, KEYS.client_cert, 'client.client_cert')
      const spec = c.client_cert
      assert.equal(Object.keys(spec).length, 1, 'client.client_cert has exactly one of issue, self_signed')
      if (spec.issue !== undefined) {
        assert.ok(server.caPem, 'client_cert.issue needs a TLS mock ("server": {"tls": true})')
        const { certPem, keyPem } = server.issueClientCertificate(spec.issue)
        this.cert = { certPem, keyPem, x5t: certThumbprint(certPem), jwk: undefined }
      } else {
        assert.equal(typeof spec.self_signed, 'string', 'client_cert.self_signed is a subject')
        const g = selfSignedCertificate(spec.self_signed)
        const x5t = certThumbprint(g.certPem)
        assert.equal(g.x5tS256, x5t, 'selfSignedCertificate().x5tS256 is the certificate thumbprint')
        this.cert = { certPem: g.certPem, keyPem: g.keyPem, x5t, jwk: g.jwk }
      }
    }
  }

  /** The private material in text form that must never be shown: parts of the key and certificate key. */
  secrets() {
    const out = []
    if (this.secret.length >= 4) out.push(this.secret)
    if (this.key) out.push(pemFragment(this.key.pkcs8Pem), pemFragment(this.key.traditionalPem), this.key.privateJwk.d)
    if (this.cert) out.push(pemFragment(this.cert.keyPem))
    return out.filter((s) => typeof s === 'string' && s.length >= 4)
  }

  /** `text` with its {placeholder}s filled in for this run. */
  subst(text) {
    const s = this.server
    let out = text
      .replaceAll('{secret}', this.secret)
      .replaceAll('{mock}', s.url)
      .replaceAll('{issuer}', s.issuer)
      .replaceAll('{token_url}', s.tokenUrl)
      .replaceAll('{mtls_token_url}', s.mtlsTokenUrl ?? '')
    if (this.key) out = out.replaceAll('{kid}', this.key.kid)
    if (this.cert) out = out.replaceAll('{cert_x5t}', this.cert.x5t)
    return out
  }

  /** `v` with every string's placeholders filled in. */
  substValue(v) {
    if (typeof v === 'string') return this.subst(v)
    if (Array.isArray(v)) return v.map((x) => this.substValue(x))
    if (v !== null && typeof v === 'object') {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, this.substValue(x)]))
    }
    return v
  }

  /** The case's "register" entry as a registration: "jwks" may name {key}, {other_key}, {cert} or {other_cert}. */
  registration(register) {
    onlyKeys(register, KEYS.register, 'register')
    const r = { ...register }
    if (typeof register.jwks === 'string') {
      assert.ok(JWKS_PLACEHOLDERS.includes(register.jwks), `unknown jwks placeholder ${register.jwks}`)
      let jwk
      switch (register.jwks) {
        case '{key}':
          assert.ok(this.key, 'jwks {key} needs a client.private_key')
          jwk = this.key.publicJwk
          break
        case '{other_key}':
          assert.ok(this.key, 'jwks {other_key} needs a client.private_key')
          jwk = generateSigningKey(this.key.alg).publicJwk
          break
        case '{cert}':
          assert.ok(this.cert && this.cert.jwk, 'jwks {cert} needs a client_cert.self_signed')
          jwk = this.cert.jwk
          break
        case '{other_cert}':
          jwk = selfSignedCertificate('CN=someone-else').jwk
          break
      }
      r.jwks = { keys: [jwk] }
    }
    return r
  }
}

function clientOptions(c, server, secret, m) {
  assert.equal(typeof c.client_id, 'string', 'client.client_id is required')
  const options = { clientId: c.client_id }
  if (c.token_url === undefined && typeof c.issuer === 'string') {
    // Discovery: only the issuer.
    options.issuer = m.subst(c.issuer)
  } else {
    options.tokenUrl = typeof c.token_url === 'string' ? m.subst(c.token_url) : server.tokenUrl
    if (typeof c.issuer === 'string') options.issuer = m.subst(c.issuer)
  }
  if (secret !== undefined) options.clientSecret = secret
  if (c.private_key !== undefined) {
    const format = c.private_key.format ?? 'pkcs8'
    switch (format) {
      case 'pkcs8': options.privateKey = m.key.pkcs8Pem; break
      case 'traditional': options.privateKey = m.key.traditionalPem; break
      case 'jwk': options.privateKey = m.key.privateJwk; break
      default: assert.fail(`unknown private_key format ${format}`)
    }
  }
  if (c.private_key_id !== undefined) options.privateKeyId = m.subst(c.private_key_id)
  if (c.signing_alg !== undefined) options.signingAlg = c.signing_alg
  if (c.assertion_audience !== undefined) options.assertionAudience = m.subst(c.assertion_audience)
  if (m.cert) {
    options.clientCert = m.cert.certPem
    options.clientKey = m.cert.keyPem
  }
  if (c.ca_bundle !== undefined) {
    assert.equal(c.ca_bundle, '{mock_ca}', 'client.ca_bundle: only "{mock_ca}" is known')
    assert.ok(server.caPem, 'ca_bundle {mock_ca} needs a TLS mock')
    options.caBundle = server.caPem
  }
  if (c.auth_method !== undefined) options.authMethod = c.auth_method
  if (c.scopes !== undefined) options.scopes = c.scopes
  if (c.audience !== undefined) options.audience = c.audience
  if (c.resources !== undefined) options.resources = c.resources
  if (c.extra_params !== undefined) options.extraParams = c.extra_params
  if (c.max_response_bytes !== undefined) options.maxResponseBytes = c.max_response_bytes
  if (c.timeout_ms !== undefined) options.timeoutMs = c.timeout_ms
  if (c.refresh_ratio !== undefined) options.refreshRatio = c.refresh_ratio
  if (c.expiry_skew_ms !== undefined) options.expirySkewMs = c.expiry_skew_ms
  if (c.retry !== undefined) {
    onlyKeys(c.retry, KEYS.retry, 'client.retry')
    const r = c.retry
    if (r.max_attempts !== undefined) options.maxAttempts = r.max_attempts
    if (r.initial_backoff_ms !== undefined) options.retryBackoffMs = r.initial_backoff_ms
    if (r.max_backoff_ms !== undefined) options.retryMaxBackoffMs = r.max_backoff_ms
    if (r.deadline_ms !== undefined) options.retryDeadlineMs = r.deadline_ms
    if (r.max_retry_after_ms !== undefined) options.maxRetryAfterMs = r.max_retry_after_ms
  }
  return options
}

/** `secrets`: the client secret and fragments of private keys (Material.secrets()). */
function assertNoSecret(label, text, secrets, where) {
  for (const secret of secrets) {
    if (secret.length < 4) continue
    assert.ok(!String(text).includes(secret), `${label}: secret material leaked into ${where}: ${text}`)
  }
}

function checkError(label, e, want, secrets) {
  onlyKeys(want, KEYS.error, `${label} error expectation`)
  assert.ok(e instanceof Error, `${label}: not an Error: ${util.inspect(e)}`)
  assert.ok(e instanceof M2MAuthError, `${label}: not an M2MAuthError: ${util.inspect(e)}`)
  assertNoSecret(label, e.message, secrets, 'e.message')
  assertNoSecret(label, e.stack, secrets, 'e.stack')
  assertNoSecret(label, util.inspect(e), secrets, 'util.inspect(e)')
  assertNoSecret(label, JSON.stringify(e), secrets, 'JSON.stringify(e)')
  if (want.kind !== undefined) {
    assert.ok(Object.hasOwn(CODES, want.kind), `${label}: unknown error kind ${want.kind}`)
    assert.equal(e.name, want.kind, `${label}: kind of ${util.inspect(e)}`)
    assert.ok(e instanceof m2m[want.kind], `${label}: ${util.inspect(e)} is not an instance of ${want.kind}`)
    assert.equal(e.code, CODES[want.kind], `${label}: code of ${util.inspect(e)}`)
  }
  if (want.status !== undefined) assert.equal(e.status, want.status, `${label}: status of ${util.inspect(e)}`)
  if (want.error !== undefined) assert.equal(e.error, want.error, `${label}: error of ${util.inspect(e)}`)
  if (want.error_description !== undefined) {
    assert.equal(e.errorDescription, want.error_description, `${label}: errorDescription of ${util.inspect(e)}`)
  }
  if (want.error_uri !== undefined) assert.equal(e.errorUri, want.error_uri, `${label}: errorUri of ${util.inspect(e)}`)
  if (want.attempts !== undefined) assert.equal(e.attempts, want.attempts, `${label}: attempts of ${util.inspect(e)}`)
  if (want.field !== undefined) {
    assert.equal(e.name, 'ConfigError', `${label}: a field is expected only on a ConfigError, got ${util.inspect(e)}`)
    assert.equal(e.field, camel(want.field), `${label}: field of ${util.inspect(e)}`)
  }
  for (const part of want.message_contains ?? []) {
    assert.ok(e.message.includes(part), `${label}: ${JSON.stringify(e.message)} does not contain ${JSON.stringify(part)}`)
  }
}

function claimsOf(accessToken) {
  const parts = accessToken.split('.')
  assert.equal(parts.length, 3, 'the access token is a JWT')
  return JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'))
}

/** The decoded header and claims of a JWS. */
function jwsParts(jwt) {
  const parts = jwt.split('.')
  assert.equal(parts.length, 3, 'a compact JWS')
  const decode = (p) => JSON.parse(Buffer.from(p, 'base64url').toString('utf8'))
  return { header: decode(parts[0]), claims: decode(parts[1]) }
}

function formField(request, name) {
  const pair = request.form.find(([n]) => n === name)
  return pair === undefined ? undefined : pair[1]
}

function checkAssertion(name, requests, want) {
  onlyKeys(want, KEYS.assertion, `${name} wire.assertion`)
  const last = requests.at(-1)
  const jwt = formField(last, 'client_assertion')
  assert.ok(jwt, `${name}: no client_assertion sent`)
  const got = jwsParts(jwt)
  for (const part of ['header', 'claims']) {
    for (const [k, v] of Object.entries(want[part] ?? {})) {
      assert.deepEqual(got[part][k], v, `${name}: assertion ${part} ${k}`)
    }
  }
  if (want.max_lifetime_secs !== undefined) {
    const { iat, exp } = got.claims
    assert.ok(Number.isInteger(iat) && Number.isInteger(exp), `${name}: assertion iat/exp are whole numbers`)
    assert.ok(exp > iat && exp - iat <= want.max_lifetime_secs, `${name}: assertion lives ${exp - iat}s`)
  }
  if (want.jti_unique === true) {
    const jtis = requests
      .map((r) => formField(r, 'client_assertion'))
      .filter((a) => a !== undefined)
      .map((a) => jwsParts(a).claims.jti)
    assert.ok(jtis.every((j) => typeof j === 'string' && j !== ''), `${name}: every assertion has a jti`)
    assert.ok(jtis.length > 1, `${name}: jti_unique needs several requests`)
    assert.equal(new Set(jtis).size, jtis.length, `${name}: a jti was sent twice: ${jtis}`)
  }
}

function checkToken(label, token, want, earlier) {
  onlyKeys(want, KEYS.token, `${label} token expectation`)
  if (want.token_type !== undefined) assert.equal(token.tokenType, want.token_type, `${label}: tokenType`)
  if (want.scope !== undefined) assert.equal(token.scope, want.scope, `${label}: scope`)
  const left = token.expiresIn / 1000
  if (want.expires_in_min !== undefined) {
    assert.ok(left >= want.expires_in_min, `${label}: expires in ${left}s, want >= ${want.expires_in_min}`)
  }
  if (want.expires_in_max !== undefined) {
    assert.ok(left <= want.expires_in_max, `${label}: expires in ${left}s, want <= ${want.expires_in_max}`)
  }
  if (want.claims !== undefined) {
    const got = claimsOf(token.accessToken)
    for (const [k, v] of Object.entries(want.claims)) {
      assert.deepEqual(got[k], v, `${label}: claim ${k}`)
    }
  }
  const earlierToken = (key) => {
    const i = want[key]
    assert.ok(Number.isInteger(i) && i >= 0 && i < earlier.length, `${label}: ${key} ${i} is not an earlier step`)
    assert.ok(earlier[i], `${label}: step ${i} has no token`)
    return earlier[i].accessToken
  }
  if (want.same_as_step !== undefined) {
    assert.equal(token.accessToken, earlierToken('same_as_step'), `${label}: expected the cached token`)
  }
  if (want.differs_from_step !== undefined) {
    assert.notEqual(token.accessToken, earlierToken('differs_from_step'), `${label}: expected a new token`)
  }
}

function decodeFormPart(s) {
  return decodeURIComponent(s.replace(/\+/g, ' '))
}

function checkWire(name, server, want, clientId, m) {
  onlyKeys(want, KEYS.wire, `${name} wire`)
  const requests = server.requests()
  const last = requests.at(-1)
  assert.ok(last, `${name}: no request recorded`)
  const subst = (v) => m.subst(v)
  const field = (k) => formField(last, k)
  if (want.auth_method !== undefined) {
    assert.equal(last.auth_method, want.auth_method, `${name}: auth method`)
  }
  if (want.assertion !== undefined) checkAssertion(name, requests, m.substValue(want.assertion))
  if (want.client_cert !== undefined) {
    assert.equal(typeof want.client_cert, 'boolean', `${name}: wire.client_cert is true or false`)
    if (want.client_cert) assert.ok(m.cert, `${name}: wire.client_cert needs a client.client_cert`)
    const expected = want.client_cert ? m.cert.x5t : null
    assert.equal(last.client_cert_x5t_s256, expected, `${name}: client certificate presented`)
  }
  for (const [k, v] of Object.entries(want.form ?? {})) {
    assert.equal(typeof v, 'string', `${name}: wire.form.${k} must be a string`)
    assert.equal(field(k), subst(v), `${name}: form field ${k}`)
  }
  for (const [k, v] of Object.entries(want.form_all ?? {})) {
    const got = last.form.filter(([n]) => n === k).map(([, value]) => value)
    assert.deepEqual(got, m.substValue(v), `${name}: all of form field ${k}`)
  }
  for (const k of want.form_absent ?? []) {
    assert.equal(field(k), undefined, `${name}: form field ${k} must not be sent`)
  }
  if (Object.hasOwn(want, 'basic_auth')) {
    const header = last.headers.find(([n]) => n === 'authorization')
    if (want.basic_auth === null) {
      assert.equal(header, undefined, `${name}: no Authorization header expected`)
    } else {
      assert.ok(Array.isArray(want.basic_auth) && want.basic_auth.length === 2, `${name}: bad basic_auth expectation`)
      assert.ok(header, `${name}: no Authorization header`)
      const value = header[1]
      assert.ok(value.startsWith('Basic '), `${name}: Authorization is not Basic: ${value}`)
      const decoded = Buffer.from(value.slice('Basic '.length), 'base64').toString('utf8')
      const colon = decoded.indexOf(':')
      assert.ok(colon >= 0, `${name}: Basic credentials without ':'`)
      const id = decodeFormPart(decoded.slice(0, colon))
      const sec = decodeFormPart(decoded.slice(colon + 1))
      assert.equal(id, want.basic_auth[0], `${name}: Basic id`)
      assert.equal(sec, subst(want.basic_auth[1]), `${name}: Basic secret`)
      assert.equal(id, clientId, `${name}: Basic id is the client's`)
    }
  }
}

let shared

before(async () => {
  assert.ok(caseFiles.length >= 30, `expected the shared vectors, found ${caseFiles.length}`)
  shared = await MockAuthServer.start(mockConfig)
})

after(() => {
  if (shared) shared.close()
})

/** A case that needs a server set up differently from the shared one gets its own (the caller closes it). */
async function dedicatedServer(serverSpec) {
  if (!DEDICATED_SERVER_KEYS.some((k) => serverSpec[k] !== undefined)) return undefined
  const config = { ...mockConfig }
  if (serverSpec.tls !== undefined) {
    assert.equal(typeof serverSpec.tls, 'boolean', 'server.tls is true or false')
    config.tls = serverSpec.tls
  }
  if (serverSpec.auth_methods_supported !== undefined) {
    assert.ok(Array.isArray(serverSpec.auth_methods_supported), 'server.auth_methods_supported is a list')
    config.auth_methods_supported = serverSpec.auth_methods_supported
  }
  if (serverSpec.assertion_clock_skew_secs !== undefined) {
    assert.ok(Number.isInteger(serverSpec.assertion_clock_skew_secs), 'server.assertion_clock_skew_secs is whole')
    config.assertion_clock_skew_secs = serverSpec.assertion_clock_skew_secs
  }
  return MockAuthServer.start(config)
}

async function runCase(name, kase) {
  onlyKeys(kase, KEYS.case, name)
  onlyKeys(kase.client, KEYS.client, `${name} client`)
  const serverSpec = kase.server ?? {}
  onlyKeys(serverSpec, KEYS.server, `${name} server`)

  const dedicated = await dedicatedServer(serverSpec)
  try {
    await runCaseOn(name, kase, dedicated ?? shared)
  } finally {
    if (dedicated) dedicated.close()
  }
}

async function runCaseOn(name, kase, server) {
  const serverSpec = kase.server ?? {}
  server.reset()
  if (serverSpec.token_lifetime_secs !== undefined) server.setTokenLifetime(serverSpec.token_lifetime_secs)
  if (serverSpec.faults !== undefined) server.pushFaults(serverSpec.faults)

  const secret = secretOf(kase)
  const clientId = kase.client.client_id
  const m = new Material(kase, server, secret)
  const secrets = m.secrets()
  if (kase.register !== undefined) {
    try {
      server.registerClient(m.registration(kase.register))
    } catch (e) {
      assert.fail(`${name}: registration refused: ${util.inspect(e)}`)
    }
  }
  const options = clientOptions(kase.client, server, secret, m)

  let client
  let buildError
  try {
    client = new TokenClient(options)
  } catch (e) {
    buildError = e
  }
  if (kase.build_error !== undefined) {
    assert.ok(buildError, `${name}: expected a build error, got ${util.inspect(client)}`)
    checkError(name, buildError, m.substValue(kase.build_error), secrets)
    return
  }
  if (buildError) assert.fail(`${name}: build failed: ${util.inspect(buildError)}`)

  assertNoSecret(name, util.inspect(client), secrets, 'util.inspect(client)')
  assertNoSecret(name, String(client), secrets, 'String(client)')
  assertNoSecret(name, JSON.stringify(client), secrets, 'JSON.stringify(client)')

  const steps = kase.steps ?? [{ do: 'get_token' }]
  assert.ok(Array.isArray(steps), `${name}: steps must be an array`)
  const tokens = []
  for (const [i, step] of steps.entries()) {
    const label = `${name} step ${i}`
    assert.ok(Object.hasOwn(KEYS.step, step.do), `${label}: unknown step ${JSON.stringify(step.do)}`)
    onlyKeys(step, KEYS.step[step.do], label)
    let got = null
    switch (step.do) {
      case 'get_token': {
        const want = m.substValue(step.expect ?? {})
        onlyKeys(want, KEYS.expect, `${label} expect`)
        const params = step.scopes !== undefined ? { scopes: step.scopes } : undefined
        let token
        let error
        try {
          token = await client.fetchToken(params)
        } catch (e) {
          error = e
        }
        if (want.error !== undefined) {
          assert.ok(error, `${label}: expected an error, got ${util.inspect(token)}`)
          checkError(label, error, want.error, secrets)
        } else {
          if (error) assert.fail(`${label}: unexpected error ${util.inspect(error)}`)
          assertNoSecret(label, util.inspect(token), secrets, 'util.inspect(token)')
          assertNoSecret(label, JSON.stringify(token), secrets, 'JSON.stringify(token)')
          if (want.token !== undefined) checkToken(label, token, want.token, tokens)
          got = token
        }
        break
      }
      case 'invalidate':
        client.invalidate()
        break
      case 'invalidate_token': {
        const earlier = tokens[step.of_step]
        assert.ok(earlier, `${label}: step ${step.of_step} has no token`)
        for (let n = 0; n < (step.times ?? 1); n++) client.invalidate(earlier.accessToken)
        break
      }
      case 'push_faults':
        server.pushFaults(step.faults)
        break
      case 'get_token_concurrently': {
        const want = m.substValue(step.expect ?? {})
        onlyKeys(want, KEYS.expect, `${label} expect`)
        // All Promises are created before any settles: every caller asks while the first fetch is in flight.
        const results = await Promise.allSettled(Array.from({ length: step.callers }, () => client.fetchToken()))
        if (want.error !== undefined) {
          for (const r of results) {
            assert.equal(r.status, 'rejected', `${label}: every caller gets the error`)
            checkError(label, r.reason, want.error, secrets)
          }
        } else {
          for (const r of results) assert.equal(r.status, 'fulfilled', `${label}: every caller gets a token`)
          const first = results[0].value
          assert.ok(results.every((r) => r.value.accessToken === first.accessToken), `${label}: one token for all`)
          if (want.token !== undefined) checkToken(label, first, want.token, tokens)
          got = first
        }
        break
      }
      case 'get_token_continuously': {
        assert.deepEqual(step.expect, { never_expired: true }, `${label}: the expectation of get_token_continuously`)
        const counts = await Promise.all(Array.from({ length: step.callers }, () => callsUntil(client, step.ms)))
        const calls = counts.reduce((n, c) => n + c.calls, 0)
        const expired = counts.reduce((n, c) => n + c.expired, 0)
        assert.ok(calls > step.callers * 10, `${label}: only ${calls} calls`)
        assert.equal(expired, 0, `${label}: ${expired} of ${calls} calls got an expired token`)
        break
      }
      case 'sleep':
        assert.ok(Number.isInteger(step.ms) && step.ms >= 0, `${label}: ms must be a whole number`)
        await sleep(step.ms)
        break
    }
    tokens.push(got)
  }

  if (kase.token_requests !== undefined) {
    assert.equal(server.tokenRequests(), kase.token_requests, `${name}: token requests`)
  }
  if (kase.wire !== undefined) checkWire(name, server, kase.wire, clientId, m)
}

for (const file of caseFiles) {
  const name = path.basename(file, '.json')
  const kase = JSON.parse(fs.readFileSync(path.join(VECTORS, 'token', file), 'utf8'))
  test(name, () => runCase(name, kase))
}
