'use strict'
// Runs every shared case in tests/vectors/token/ against one mock authorization server, as the Rust runner
// (crates/m2m-auth/tests/vectors.rs) does. The format is described in tests/vectors/README.md.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const util = require('node:util')
const { setTimeout: sleep } = require('node:timers/promises')

const m2m = require('../../node')
const { MockAuthServer } = require('../../node/testing')

const { TokenClient, M2MAuthError } = m2m

const VECTORS = path.join(__dirname, '..', 'vectors')
const mockConfig = JSON.parse(fs.readFileSync(path.join(VECTORS, 'mock-server.json'), 'utf8'))
const caseFiles = fs
  .readdirSync(path.join(VECTORS, 'token'))
  .filter((f) => f.endsWith('.json'))
  .sort()

// Every key the format knows. A key outside these fails the case, so that a new vector key is never
// silently ignored by this runner.
const KEYS = {
  case: ['description', 'client', 'build_error', 'server', 'steps', 'token_requests', 'wire'],
  client: [
    'client_id', 'client_secret', 'auth_method', 'scopes', 'audience', 'resources', 'extra_params',
    'token_url', 'max_response_bytes', 'timeout_ms', 'refresh_ratio', 'retry',
  ],
  retry: ['max_attempts', 'initial_backoff_ms', 'max_backoff_ms', 'deadline_ms', 'max_retry_after_ms'],
  server: ['token_lifetime_secs', 'faults'],
  step: {
    get_token: ['do', 'scopes', 'expect'],
    invalidate: ['do'],
    invalidate_token: ['do', 'of_step', 'times'],
    push_faults: ['do', 'faults'],
    get_token_concurrently: ['do', 'callers', 'expect'],
    sleep: ['do', 'ms'],
  },
  expect: ['token', 'error'],
  token: ['token_type', 'scope', 'expires_in_min', 'expires_in_max', 'claims', 'same_as_step', 'differs_from_step'],
  error: ['kind', 'error', 'error_description', 'error_uri', 'status', 'attempts', 'field', 'message_contains'],
  wire: ['form', 'form_all', 'form_absent', 'basic_auth'],
}

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

/** The secret a case's client uses: its own, or the one registered in mock-server.json. */
function secretOf(c) {
  if (typeof c.client_secret === 'string') return c.client_secret
  const registered = mockConfig.clients.find((r) => r.client_id === c.client_id)
  return registered ? registered.client_secret : ''
}

function clientOptions(c, server, secret) {
  assert.equal(typeof c.client_id, 'string', 'client.client_id is required')
  const options = {
    tokenUrl: typeof c.token_url === 'string' ? c.token_url.replaceAll('{mock}', server.url) : server.tokenUrl,
    clientId: c.client_id,
    clientSecret: secret,
  }
  if (c.auth_method !== undefined) options.authMethod = c.auth_method
  if (c.scopes !== undefined) options.scopes = c.scopes
  if (c.audience !== undefined) options.audience = c.audience
  if (c.resources !== undefined) options.resources = c.resources
  if (c.extra_params !== undefined) options.extraParams = c.extra_params
  if (c.max_response_bytes !== undefined) options.maxResponseBytes = c.max_response_bytes
  if (c.timeout_ms !== undefined) options.timeoutMs = c.timeout_ms
  if (c.refresh_ratio !== undefined) options.refreshRatio = c.refresh_ratio
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

function assertNoSecret(label, text, secret, where) {
  if (secret.length < 4) return
  assert.ok(!String(text).includes(secret), `${label}: the client secret leaked into ${where}: ${text}`)
}

function checkError(label, e, want, secret) {
  onlyKeys(want, KEYS.error, `${label} error expectation`)
  assert.ok(e instanceof Error, `${label}: not an Error: ${util.inspect(e)}`)
  assert.ok(e instanceof M2MAuthError, `${label}: not an M2MAuthError: ${util.inspect(e)}`)
  assertNoSecret(label, e.message, secret, 'e.message')
  assertNoSecret(label, e.stack, secret, 'e.stack')
  assertNoSecret(label, util.inspect(e), secret, 'util.inspect(e)')
  assertNoSecret(label, JSON.stringify(e), secret, 'JSON.stringify(e)')
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

function checkWire(name, server, want, clientId, secret) {
  onlyKeys(want, KEYS.wire, `${name} wire`)
  const last = server.requests().at(-1)
  assert.ok(last, `${name}: no request recorded`)
  const subst = (v) => v.replaceAll('{secret}', secret)
  const field = (k) => {
    const pair = last.form.find(([n]) => n === k)
    return pair === undefined ? undefined : pair[1]
  }
  for (const [k, v] of Object.entries(want.form ?? {})) {
    assert.equal(typeof v, 'string', `${name}: wire.form.${k} must be a string`)
    assert.equal(field(k), subst(v), `${name}: form field ${k}`)
  }
  for (const [k, v] of Object.entries(want.form_all ?? {})) {
    const got = last.form.filter(([n]) => n === k).map(([, value]) => value)
    assert.deepEqual(got, v, `${name}: all of form field ${k}`)
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

let server

before(async () => {
  assert.ok(caseFiles.length >= 30, `expected the shared vectors, found ${caseFiles.length}`)
  server = await MockAuthServer.start(mockConfig)
})

after(() => {
  if (server) server.close()
})

async function runCase(name, kase) {
  onlyKeys(kase, KEYS.case, name)
  onlyKeys(kase.client, KEYS.client, `${name} client`)
  const serverSpec = kase.server ?? {}
  onlyKeys(serverSpec, KEYS.server, `${name} server`)

  server.reset()
  if (serverSpec.token_lifetime_secs !== undefined) server.setTokenLifetime(serverSpec.token_lifetime_secs)
  if (serverSpec.faults !== undefined) server.pushFaults(serverSpec.faults)

  const secret = secretOf(kase.client)
  const clientId = kase.client.client_id
  const options = clientOptions(kase.client, server, secret)

  let client
  let buildError
  try {
    client = new TokenClient(options)
  } catch (e) {
    buildError = e
  }
  if (kase.build_error !== undefined) {
    assert.ok(buildError, `${name}: expected a build error, got ${util.inspect(client)}`)
    checkError(name, buildError, kase.build_error, secret)
    return
  }
  if (buildError) assert.fail(`${name}: build failed: ${util.inspect(buildError)}`)

  assertNoSecret(name, util.inspect(client), secret, 'util.inspect(client)')
  assertNoSecret(name, String(client), secret, 'String(client)')
  assertNoSecret(name, JSON.stringify(client), secret, 'JSON.stringify(client)')

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
        const want = step.expect ?? {}
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
          checkError(label, error, want.error, secret)
        } else {
          if (error) assert.fail(`${label}: unexpected error ${util.inspect(error)}`)
          assertNoSecret(label, util.inspect(token), secret, 'util.inspect(token)')
          assertNoSecret(label, JSON.stringify(token), secret, 'JSON.stringify(token)')
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
        const want = step.expect ?? {}
        onlyKeys(want, KEYS.expect, `${label} expect`)
        // All Promises are created before any settles: every caller asks while the first fetch is in flight.
        const results = await Promise.allSettled(Array.from({ length: step.callers }, () => client.fetchToken()))
        if (want.error !== undefined) {
          for (const r of results) {
            assert.equal(r.status, 'rejected', `${label}: every caller gets the error`)
            checkError(label, r.reason, want.error, secret)
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
  if (kase.wire !== undefined) checkWire(name, server, kase.wire, clientId, secret)
}

for (const file of caseFiles) {
  const name = path.basename(file, '.json')
  const kase = JSON.parse(fs.readFileSync(path.join(VECTORS, 'token', file), 'utf8'))
  test(name, () => runCase(name, kase))
}
