'use strict'
// What a user of the npm package depends on beyond the shared vectors: error classes and codes, secrecy of
// the client secret and the access token, SecureAuth and environment configuration, single flight, the
// cache, stats, both client authentication methods, the testing server's API, and a free event loop.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const util = require('node:util')

const m2m = require('../../node')
const { MockAuthServer } = require('../../node/testing')
const { CLIENT_ID, SECRET, useMockServer, demoClient, tempDir } = require('./helpers')

const {
  TokenClient, Token, M2MAuthError, OAuthError, TransportError, InvalidResponse, ConfigError, InternalError,
} = m2m

const mock = useMockServer()

// stats() of a client without a shared cache (cacheUrl): its counters stay zero.
const NO_SHARED_CACHE = { sharedHits: 0, sharedMisses: 0, sharedErrors: 0, sharedRejected: 0, lockWaits: 0 }

// One attempt per fetch unless a test asks for retries: these tests count requests and look at single
// failures; retries have their own tests and vectors.
function newClient(extra = {}) {
  return demoClient(mock.server, { maxAttempts: 1, ...extra })
}

/** Runs `fn` (sync or async) and returns what it threw; fails if it did not throw. */
async function caught(fn) {
  try {
    await fn()
  } catch (e) {
    return e
  }
  assert.fail('expected an error')
}

function caughtSync(fn) {
  try {
    fn()
  } catch (e) {
    return e
  }
  assert.fail('expected an error')
}

/** Every string form of a value a log line or an error report could show. */
function renderings(value) {
  const out = [util.inspect(value), util.inspect(value, { showHidden: true, depth: Infinity }), String(value)]
  out.push(JSON.stringify(value))
  if (value instanceof Error) out.push(value.message, value.stack)
  return out
}

function assertNotIn(value, needle, what) {
  for (const text of renderings(value)) {
    assert.ok(!String(text).includes(needle), `${what} shows ${JSON.stringify(needle)}: ${text}`)
  }
}

function lastRequest() {
  const requests = mock.server.requests()
  assert.ok(requests.length > 0, 'no request recorded')
  return requests.at(-1)
}

function formValue(request, name) {
  const pair = request.form.find(([n]) => n === name)
  return pair === undefined ? undefined : pair[1]
}

function header(request, name) {
  const pair = request.headers.find(([n]) => n === name)
  return pair === undefined ? undefined : pair[1]
}

/** Saves every M2M_* variable, clears them, runs `fn`, and puts the environment back as it was. */
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

// ---------------------------------------------------------------------------------------------------------
// Error classes

test('the package exports exactly the client, the token, the verifier and the error classes', () => {
  assert.deepEqual(Object.keys(m2m).sort(), [
    'ApiResponse', 'ConfigError', 'InsufficientScope', 'InternalError', 'InvalidResponse', 'M2MAuthError', 'OAuthError',
    'Policy', 'Token', 'TokenClient', 'TokenInvalid', 'TransportError', 'VerificationError', 'Verifier',
    'VerifierUnavailable', 'bearerToken',
  ])
})

test('every error class is an M2MAuthError and an Error with a stable name and code', () => {
  const table = [
    [OAuthError, 'ERR_OAUTH'],
    [TransportError, 'ERR_TRANSPORT'],
    [InvalidResponse, 'ERR_INVALID_RESPONSE'],
    [ConfigError, 'ERR_CONFIG'],
    [InternalError, 'ERR_INTERNAL'],
  ]
  for (const [Class, code] of table) {
    const e = new Class('something went wrong')
    assert.ok(e instanceof Class, Class.name)
    assert.ok(e instanceof M2MAuthError, `${Class.name} is an M2MAuthError`)
    assert.ok(e instanceof Error, `${Class.name} is an Error`)
    assert.equal(e.name, Class.name)
    assert.equal(e.code, code)
    assert.equal(e.message, 'something went wrong')
    for (const [Other] of table) {
      if (Other !== Class) assert.ok(!(e instanceof Other), `${Class.name} is not a ${Other.name}`)
    }
  }
  assert.ok(new M2MAuthError('x') instanceof Error)
})

test('an OAuth error from the server is an OAuthError with every field', async () => {
  const client = newClient({ clientSecret: 'wrong-secret-Hq4Zt8' })
  const e = await caught(() => client.getToken())
  assert.ok(e instanceof OAuthError && e instanceof M2MAuthError && e instanceof Error)
  assert.equal(e.name, 'OAuthError')
  assert.equal(e.code, 'ERR_OAUTH')
  assert.equal(e.status, 401)
  assert.equal(e.error, 'invalid_client')
  assert.equal(e.errorDescription, 'client secret does not match')
  assert.equal(e.errorUri, null)
  assert.equal(mock.server.tokenRequests(), 1)
})

test('connection refused is a TransportError that is not a timeout', async () => {
  const client = new TokenClient({ tokenUrl: 'http://127.0.0.1:9/oauth2/token', clientId: CLIENT_ID, clientSecret: SECRET })
  const e = await caught(() => client.getToken())
  assert.ok(e instanceof TransportError && e instanceof M2MAuthError)
  assert.equal(e.name, 'TransportError')
  assert.equal(e.code, 'ERR_TRANSPORT')
  assert.equal(e.timeout, false)
  assert.equal(e.status, null)
})

test('a token endpoint slower than timeoutMs is a TransportError with timeout true', async () => {
  mock.server.pushFaults([{ delay_ms: 1500 }])
  const client = newClient({ timeoutMs: 200 })
  const e = await caught(() => client.getToken())
  assert.ok(e instanceof TransportError)
  assert.equal(e.code, 'ERR_TRANSPORT')
  assert.equal(e.timeout, true)
  assert.equal(e.status, null)
  assert.equal(mock.server.tokenRequests(), 1)
})

test('an HTML error page is an InvalidResponse with the HTTP status', async () => {
  mock.server.pushFaults([{ status: 404, headers: { 'content-type': 'text/html' }, body: '<h1>Not Found</h1>' }])
  const e = await caught(() => newClient().getToken())
  assert.ok(e instanceof InvalidResponse && e instanceof M2MAuthError)
  assert.equal(e.name, 'InvalidResponse')
  assert.equal(e.code, 'ERR_INVALID_RESPONSE')
  assert.equal(e.status, 404)
  assert.equal(mock.server.tokenRequests(), 1)
})

test('a missing setting is a ConfigError naming the option', () => {
  const cases = [
    [{ clientId: CLIENT_ID, clientSecret: SECRET }, 'tokenUrl'],
    [{ tokenUrl: 'https://idp.example/oauth2/token', clientSecret: SECRET }, 'clientId'],
    [{ tokenUrl: 'https://idp.example/oauth2/token', clientId: CLIENT_ID }, 'clientSecret'],
  ]
  for (const [options, field] of cases) {
    const e = caughtSync(() => new TokenClient(options))
    assert.ok(e instanceof ConfigError && e instanceof M2MAuthError, field)
    assert.equal(e.code, 'ERR_CONFIG')
    assert.equal(e.field, field)
    assert.equal(e.status, null)
  }
})

test('options that are not an object are a ConfigError', () => {
  for (const bad of [null, 'https://idp.example/t', [], 42]) {
    const e = caughtSync(() => new TokenClient(bad))
    assert.ok(e instanceof ConfigError, util.inspect(bad))
    assert.equal(e.field, 'options')
  }
})

test('an unknown option key (a typo) is a ConfigError naming the key, without its value', () => {
  const e = caughtSync(() => new TokenClient({ tokenUrl: mock.server.tokenUrl, clientId: CLIENT_ID, clientSecert: SECRET }))
  assert.ok(e instanceof ConfigError)
  assert.equal(e.code, 'ERR_CONFIG')
  assert.equal(e.field, 'clientSecert')
  assert.ok(e.message.includes('clientSecert'), e.message)
  assertNotIn(e, SECRET, 'the unknown-option error')
  assert.equal(mock.server.tokenRequests(), 0)
})

test('an option of the wrong type is a ConfigError', () => {
  const cases = [
    { tokenUrl: 42 },
    { timeoutMs: '100' },
    { scopes: 'payments.read' },
    { scopes: [1] },
    { resources: 'https://a.example' },
    { allowInsecureHttp: 'yes' },
    { extraParams: { tenant_hint: 1 } },
    { extraParams: 'tenant_hint=acme' },
  ]
  const wrong = []
  for (const extra of cases) {
    let e
    try {
      newClient(extra)
    } catch (err) {
      e = err
    }
    if (!(e instanceof ConfigError) || e.code !== 'ERR_CONFIG') {
      wrong.push(`${util.inspect(extra)} -> ${e === undefined ? 'no error' : `${e.name} ${e.code}: ${e.message}`}`)
    }
  }
  assert.deepEqual(wrong, [])
  assert.equal(mock.server.tokenRequests(), 0)
})

test('an out-of-range number is a ConfigError naming the option as it was passed', () => {
  const cases = [
    [{ timeoutMs: -1 }, 'timeoutMs'],
    [{ timeoutMs: 0 }, 'timeoutMs'],
    [{ expirySkewMs: -5 }, 'expirySkewMs'],
    [{ defaultLifetimeMs: Number.NaN }, 'defaultLifetimeMs'],
    [{ maxResponseBytes: 1.5 }, 'maxResponseBytes'],
  ]
  const wrong = []
  for (const [extra, field] of cases) {
    const e = caughtSync(() => newClient(extra))
    assert.ok(e instanceof ConfigError, util.inspect(extra))
    if (e.field !== field) wrong.push(`${util.inspect(extra)} -> field ${JSON.stringify(e.field)}: ${e.message}`)
    // Worded in the unit the caller used.
    if (field.endsWith('Ms') && !e.message.startsWith(`${field} must be a number of milliseconds`)) wrong.push(e.message)
  }
  assert.deepEqual(wrong, [])
})

test('a reserved extra parameter is a ConfigError naming extraParams', () => {
  const e = caughtSync(() => newClient({ extraParams: { grant_type: 'password' } }))
  assert.ok(e instanceof ConfigError)
  assert.equal(e.field, 'extraParams')
})

test('per-call parameters that are not an object reject with a ConfigError', async () => {
  const client = newClient()
  for (const bad of [42, 'payments.read', ['payments.read']]) {
    const e = await caught(() => client.getToken(bad))
    assert.ok(e instanceof ConfigError, util.inspect(bad))
    assert.equal(e.field, 'params')
    const f = await caught(() => client.fetchToken(bad))
    assert.ok(f instanceof ConfigError, util.inspect(bad))
  }
  assert.equal(mock.server.tokenRequests(), 0)
})

// ---------------------------------------------------------------------------------------------------------
// Secrecy

test('the secret is in no string form of a client', () => {
  for (const authMethod of ['client_secret_post', 'client_secret_basic']) {
    const client = newClient({ authMethod, scopes: ['payments.read'] })
    assertNotIn(client, SECRET, `a ${authMethod} client`)
    assert.equal(`${client}`, util.inspect(client))
    assert.deepEqual(JSON.parse(JSON.stringify(client)), {
      tokenUrl: mock.server.tokenUrl, issuer: null, clientId: CLIENT_ID, authMethod, scopes: ['payments.read'],
    })
    assert.deepEqual(Object.keys(client), [])
  }
})

test('the secret is in no string form of a token', async () => {
  const token = await newClient().fetchToken()
  assertNotIn(token, SECRET, 'a token')
})

test('the secret is in no message, stack or inspect output of any error', async () => {
  const errors = []
  // The server echoes the secret in its error description and URI.
  mock.server.pushFaults([{
    status: 401,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ error: 'invalid_client', error_description: `bad secret ${SECRET}`, error_uri: `https://x.example/${SECRET}` }),
  }])
  const echoed = await caught(() => newClient().getToken())
  assert.ok(echoed instanceof OAuthError)
  assert.ok(!echoed.errorDescription.includes(SECRET), echoed.errorDescription)
  assert.ok(!echoed.errorUri.includes(SECRET), echoed.errorUri)
  errors.push(echoed)
  // An HTML page that shows the secret.
  mock.server.pushFaults([{ status: 400, headers: { 'content-type': 'text/html' }, body: `<pre>${SECRET}</pre>` }])
  errors.push(await caught(() => newClient().getToken()))
  // A token response that is malformed around the secret.
  mock.server.pushFaults([{ extra: { token_type: SECRET } }])
  errors.push(await caught(() => newClient().getToken()))
  // The server refuses the secret.
  const wrong = 'wrong-secret-Hq4Zt8'
  const wrongClient = newClient({ clientSecret: wrong })
  const refused = await caught(() => wrongClient.getToken())
  assertNotIn(refused, wrong, 'an invalid_client error')
  assert.ok(!String(wrongClient.stats().lastError).includes(wrong))
  errors.push(refused)
  // Nothing listening; a timeout; a basic client.
  errors.push(await caught(() => new TokenClient({ tokenUrl: 'http://127.0.0.1:9/t', clientId: CLIENT_ID, clientSecret: SECRET }).getToken()))
  mock.server.pushFaults([{ delay_ms: 1000 }])
  errors.push(await caught(() => newClient({ timeoutMs: 100 }).getToken()))
  // Configuration errors.
  errors.push(caughtSync(() => new TokenClient({ tokenUrl: 'http://idp.example.com/t', clientId: CLIENT_ID, clientSecret: SECRET })))
  errors.push(caughtSync(() => newClient({ authMethod: 'client_secret_magic' })))
  errors.push(caughtSync(() => newClient({ scopes: ['bad"scope'] })))

  assert.equal(errors.length, 9)
  for (const e of errors) {
    assert.ok(e instanceof M2MAuthError, util.inspect(e))
    assertNotIn(e, SECRET, `${e.name} (${e.message})`)
  }
  const client = newClient()
  mock.server.pushFaults([{ status: 403, headers: { 'content-type': 'text/plain' }, body: SECRET }])
  await caught(() => client.getToken())
  assert.equal(typeof client.stats().lastError, 'string')
  assert.ok(!client.stats().lastError.includes(SECRET), client.stats().lastError)
})

test('credentials in the token URL are refused without being echoed', () => {
  const e = caughtSync(() => new TokenClient({ tokenUrl: 'https://svc:url-password-77@idp.example/t', clientId: CLIENT_ID, clientSecret: SECRET }))
  assert.ok(e instanceof ConfigError)
  assert.equal(e.field, 'tokenUrl')
  assertNotIn(e, 'url-password-77', 'the token URL error')
})

test('the access token is not shown by inspect or JSON of a Token, but token.accessToken returns it', async () => {
  const client = newClient()
  const token = await client.fetchToken()
  assert.ok(token instanceof Token)
  const at = token.accessToken
  assert.equal(typeof at, 'string')
  assert.equal(at.split('.').length, 3)
  assert.equal(mock.server.verifyAccessToken(at).sub, CLIENT_ID)
  assertNotIn(token, at, 'a Token')
  assert.deepEqual(Object.keys(token), ['tokenType', 'scope', 'expiresAt'])
  assert.deepEqual(JSON.parse(JSON.stringify(token)), {
    tokenType: 'Bearer', scope: 'payments.read payments.write', expiresAt: token.expiresAt.toISOString(),
  })
  assert.ok(!JSON.stringify({ ...token }).includes(at))
  assert.ok(Object.isFrozen(token))
  assert.equal(token.tokenType, 'Bearer')
  assert.equal(token.scope, 'payments.read payments.write')
  assert.ok(token.expiresAt instanceof Date)
  assert.ok(token.expiresIn > 3590_000 && token.expiresIn <= 3600_000, String(token.expiresIn))
  // The same token is what getToken hands out from the cache.
  assert.equal(await client.getToken(), at)
  assert.equal(mock.server.tokenRequests(), 1)
})

// ---------------------------------------------------------------------------------------------------------
// Configuration: SecureAuth, environment, plain http

test('TokenClient.secureauth builds the workspace token URL without a request', () => {
  const client = TokenClient.secureauth({
    tenant: 'acme', region: 'us', workspace: 'payments', clientId: 'svc', clientSecret: 's3cret-value-x',
  })
  assert.ok(client instanceof TokenClient)
  assert.equal(client.tokenUrl, 'https://acme.us.connect.secureauth.com/acme/payments/oauth2/token')
  assert.equal(client.clientId, 'svc')
  assert.equal(client.authMethod, 'client_secret_post')
  assert.deepEqual(client.scopes, [])
  assert.ok(!util.inspect(client).includes('s3cret-value-x'))
  const withScopes = TokenClient.secureauth({
    tenant: 'acme', region: 'eu', workspace: 'ops', clientId: 'svc', clientSecret: 's3cret-value-x',
    scopes: ['b', 'a'], authMethod: 'client_secret_basic',
  })
  assert.equal(withScopes.tokenUrl, 'https://acme.eu.connect.secureauth.com/acme/ops/oauth2/token')
  assert.deepEqual(withScopes.scopes, ['a', 'b'])
  assert.equal(withScopes.authMethod, 'client_secret_basic')
  assert.equal(mock.server.tokenRequests(), 0)
})

test('TokenClient.secureauth with a bad or missing part is a ConfigError naming it', () => {
  const base = { tenant: 'acme', region: 'us', workspace: 'payments', clientId: 'svc', clientSecret: 's3cret-value-x' }
  const cases = [
    [{ region: 'us/evil' }, 'region'],
    [{ region: 'us.evil.example' }, 'region'],
    [{ region: '' }, 'region'],
    [{ region: undefined }, 'region'],
    [{ tenant: 'ac me' }, 'tenant'],
    [{ workspace: undefined }, 'workspace'],
  ]
  for (const [patch, field] of cases) {
    const e = caughtSync(() => TokenClient.secureauth({ ...base, ...patch }))
    assert.ok(e instanceof ConfigError, util.inspect(patch))
    assert.equal(e.code, 'ERR_CONFIG')
    assert.equal(e.field, field, util.inspect(patch))
  }
})

test('TokenClient.fromEnv reads M2M_TOKEN_URL, M2M_CLIENT_ID and M2M_CLIENT_SECRET', async () => {
  const envBefore = { ...process.env }
  await withM2MEnv({ M2M_TOKEN_URL: mock.server.tokenUrl, M2M_CLIENT_ID: CLIENT_ID, M2M_CLIENT_SECRET: SECRET }, async () => {
    const client = TokenClient.fromEnv()
    assert.ok(client instanceof TokenClient)
    assert.equal(client.tokenUrl, mock.server.tokenUrl)
    assert.equal(client.clientId, CLIENT_ID)
    assertNotIn(client, SECRET, 'a client from the environment')
    const token = await client.getToken()
    assert.equal(mock.server.verifyAccessToken(token).sub, CLIENT_ID)
    assert.equal(await client.getToken(), token)
    assert.equal(mock.server.tokenRequests(), 1)
  })
  assert.deepEqual({ ...process.env }, envBefore)
})

test('TokenClient.fromEnv with a missing variable is a ConfigError naming the variable', async () => {
  const full = { M2M_TOKEN_URL: mock.server.tokenUrl, M2M_CLIENT_ID: CLIENT_ID, M2M_CLIENT_SECRET: SECRET }
  for (const missing of ['M2M_TOKEN_URL', 'M2M_CLIENT_ID', 'M2M_CLIENT_SECRET']) {
    const vars = { ...full }
    delete vars[missing]
    await withM2MEnv(vars, () => {
      const e = caughtSync(() => TokenClient.fromEnv())
      assert.ok(e instanceof ConfigError, `${missing}: ${util.inspect(e)}`)
      assert.equal(e.code, 'ERR_CONFIG')
      assert.equal(e.field, missing)
      assert.ok(e.message.includes(missing), e.message)
      assertNotIn(e, SECRET, 'the environment error')
    })
  }
  assert.equal(mock.server.tokenRequests(), 0)
})

test('plain http to a host that is not loopback is a ConfigError for tokenUrl, before any request', () => {
  for (const tokenUrl of ['http://idp.example.com/oauth2/token', 'http://10.0.0.1/oauth2/token']) {
    const e = caughtSync(() => new TokenClient({ tokenUrl, clientId: CLIENT_ID, clientSecret: SECRET }))
    assert.ok(e instanceof ConfigError, tokenUrl)
    assert.equal(e.code, 'ERR_CONFIG')
    assert.equal(e.field, 'tokenUrl')
    assert.ok(e.message.includes('https'), e.message)
  }
  // Loopback is always allowed; another host only when asked for explicitly.
  assert.equal(new TokenClient({ tokenUrl: 'http://localhost:1/t', clientId: CLIENT_ID, clientSecret: SECRET }).tokenUrl, 'http://localhost:1/t')
  const insecure = new TokenClient({ tokenUrl: 'http://idp.example.com/oauth2/token', clientId: CLIENT_ID, clientSecret: SECRET, allowInsecureHttp: true })
  assert.equal(insecure.tokenUrl, 'http://idp.example.com/oauth2/token')
  assert.equal(mock.server.tokenRequests(), 0)
})

// ---------------------------------------------------------------------------------------------------------
// Single flight, cache, stats

test('200 concurrent getToken() calls on a cold cache make exactly one request and share its token', async () => {
  const client = newClient()
  const tokens = await Promise.all(Array.from({ length: 200 }, () => client.getToken()))
  assert.equal(tokens.length, 200)
  assert.equal(new Set(tokens).size, 1)
  assert.equal(mock.server.tokenRequests(), 1)
  assert.equal(mock.server.tokensIssued(), 1)
  assert.equal(mock.server.verifyAccessToken(tokens[0]).sub, CLIENT_ID)
  const stats = client.stats()
  assert.equal(stats.fetches, 1)
  assert.equal(stats.failures, 0)
  assert.equal(stats.hits + stats.misses, 200)
})

test('an OAuth error rejects every concurrent waiter after exactly one request, and is not cached', async () => {
  const client = newClient({ clientSecret: 'wrong-secret-Hq4Zt8' })
  // The answer is slow, so that all 50 callers are waiting while the one request is in flight.
  mock.server.pushFaults([{ delay_ms: 300 }])
  const results = await Promise.allSettled(Array.from({ length: 50 }, () => client.getToken()))
  assert.equal(results.length, 50)
  for (const r of results) {
    assert.equal(r.status, 'rejected')
    assert.ok(r.reason instanceof OAuthError, util.inspect(r.reason))
    assert.equal(r.reason.code, 'ERR_OAUTH')
    assert.equal(r.reason.error, 'invalid_client')
    assert.equal(r.reason.status, 401)
  }
  assert.equal(mock.server.tokenRequests(), 1)
  assert.deepEqual(client.stats(), {
    hits: 0, misses: 50, fetches: 1, refreshes: 0, failures: 1, ...NO_SHARED_CACHE,
    lastError: 'token endpoint refused the request (HTTP 401): invalid_client: client secret does not match',
  })
  // A later call does not inherit the failure: it asks again.
  await assert.rejects(client.getToken(), OAuthError)
  assert.equal(mock.server.tokenRequests(), 2)
})

test('a cached token is served without a second request', async () => {
  const client = newClient()
  const first = await client.getToken()
  const second = await client.getToken()
  const third = await client.fetchToken()
  assert.equal(second, first)
  assert.equal(third.accessToken, first)
  assert.equal(mock.server.tokenRequests(), 1)
  client.invalidate()
  const fourth = await client.getToken()
  assert.notEqual(fourth, first)
  assert.equal(mock.server.tokenRequests(), 2)
})

test('stats() counts hits, misses, fetches and failures', async () => {
  const client = newClient()
  assert.deepEqual(client.stats(), { hits: 0, misses: 0, fetches: 0, refreshes: 0, failures: 0, lastError: null, ...NO_SHARED_CACHE })
  await client.getToken()
  assert.deepEqual(client.stats(), { hits: 0, misses: 1, fetches: 1, refreshes: 0, failures: 0, lastError: null, ...NO_SHARED_CACHE })
  await client.getToken()
  await client.getToken()
  assert.deepEqual(client.stats(), { hits: 2, misses: 1, fetches: 1, refreshes: 0, failures: 0, lastError: null, ...NO_SHARED_CACHE })
  client.invalidate()
  mock.server.pushFaults([{ status: 400, headers: { 'content-type': 'application/json' }, body: '{"error":"invalid_request"}' }])
  await assert.rejects(client.getToken(), OAuthError)
  const s = client.stats()
  assert.equal(s.hits, 2)
  assert.equal(s.misses, 2)
  assert.equal(s.fetches, 2)
  assert.equal(s.failures, 1)
  assert.equal(s.lastError, 'token endpoint refused the request (HTTP 400): invalid_request')
  assert.deepEqual(Object.keys(s).sort(), [
    'failures', 'fetches', 'hits', 'lastError', 'lockWaits', 'misses', 'refreshes', 'sharedErrors', 'sharedHits',
    'sharedMisses', 'sharedRejected',
  ])
})

test('per-call scopes get their own token and the client scopes stay the default', async () => {
  const client = newClient({ scopes: ['payments.read'] })
  assert.deepEqual(client.scopes, ['payments.read'])
  const write = await client.fetchToken({ scopes: ['payments.write'] })
  const read = await client.fetchToken()
  assert.equal(write.scope, 'payments.write')
  assert.equal(read.scope, 'payments.read')
  assert.notEqual(write.accessToken, read.accessToken)
  assert.equal(await client.getToken({ scopes: ['payments.write'] }), write.accessToken)
  assert.equal(await client.getToken(), read.accessToken)
  assert.equal(mock.server.tokenRequests(), 2)
})

// ---------------------------------------------------------------------------------------------------------
// Client authentication against the default mock client

test('client_secret_post (the default) sends the id and secret in the form', async () => {
  const client = newClient()
  assert.equal(client.authMethod, 'client_secret_post')
  const token = await client.getToken()
  const claims = mock.server.verifyAccessToken(token)
  assert.equal(claims.sub, CLIENT_ID)
  assert.equal(claims.client_id, CLIENT_ID)
  const req = lastRequest()
  assert.equal(formValue(req, 'grant_type'), 'client_credentials')
  assert.equal(formValue(req, 'client_id'), CLIENT_ID)
  assert.equal(formValue(req, 'client_secret'), SECRET)
  assert.equal(header(req, 'authorization'), undefined)
  assert.equal(req.client_id, CLIENT_ID)
  assert.equal(req.outcome, 'token')
})

test('client_secret_basic sends the id and secret in HTTP Basic and not in the form', async () => {
  const client = newClient({ authMethod: 'client_secret_basic' })
  assert.equal(client.authMethod, 'client_secret_basic')
  const token = await client.getToken()
  assert.equal(mock.server.verifyAccessToken(token).sub, CLIENT_ID)
  const req = lastRequest()
  assert.equal(formValue(req, 'grant_type'), 'client_credentials')
  assert.equal(formValue(req, 'client_id'), undefined)
  assert.equal(formValue(req, 'client_secret'), undefined)
  assert.equal(header(req, 'authorization'), `Basic ${Buffer.from(`${CLIENT_ID}:${SECRET}`).toString('base64')}`)
  assert.equal(req.client_id, CLIENT_ID)
  assert.equal(req.outcome, 'token')
})

// ---------------------------------------------------------------------------------------------------------
// The testing server

test('MockAuthServer: url, tokenUrl and issuer are on 127.0.0.1', () => {
  assert.match(mock.server.url, /^http:\/\/127\.0\.0\.1:\d+$/)
  assert.equal(mock.server.tokenUrl, `${mock.server.url}/oauth2/token`)
  assert.equal(mock.server.issuer, mock.server.url)
})

test('MockAuthServer: requests(), tokenRequests() and tokensIssued() report what the endpoint saw', async () => {
  assert.deepEqual(mock.server.requests(), [])
  const token = await newClient({ scopes: ['payments.read'] }).getToken()
  await assert.rejects(newClient({ clientSecret: 'wrong-secret-Hq4Zt8' }).getToken(), OAuthError)
  const requests = mock.server.requests()
  assert.equal(requests.length, 2)
  const [ok, refused] = requests
  assert.equal(ok.method, 'POST')
  assert.equal(ok.path, '/oauth2/token')
  assert.equal(ok.client_id, CLIENT_ID)
  assert.equal(ok.outcome, 'token')
  assert.deepEqual(ok.form, [
    ['grant_type', 'client_credentials'],
    ['client_id', CLIENT_ID],
    ['client_secret', SECRET],
    ['scope', 'payments.read'],
  ])
  assert.equal(header(ok, 'content-type'), 'application/x-www-form-urlencoded')
  assert.ok(ok.headers.every((h) => Array.isArray(h) && h.length === 2 && h[0] === h[0].toLowerCase()))
  assert.equal(refused.outcome, 'invalid_client')
  assert.equal(refused.client_id, CLIENT_ID)
  assert.equal(mock.server.tokenRequests(), 2)
  assert.equal(mock.server.tokenRequests(CLIENT_ID), 2)
  assert.equal(mock.server.tokenRequests('someone-else'), 0)
  assert.equal(mock.server.tokensIssued(), 1)

  const claims = mock.server.verifyAccessToken(token)
  assert.equal(claims.sub, CLIENT_ID)
  assert.equal(claims.iss, mock.server.issuer)
  assert.equal(claims.scope, 'payments.read')
})

test('MockAuthServer: verifyAccessToken rejects what it did not sign', async () => {
  const token = await newClient().getToken()
  assert.throws(() => mock.server.verifyAccessToken('not-a-jwt'))
  const [h, p, s] = token.split('.')
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'))
  const forged = Buffer.from(JSON.stringify({ ...claims, sub: 'admin' })).toString('base64url')
  assert.throws(() => mock.server.verifyAccessToken(`${h}.${forged}.${s}`))
  assert.equal(mock.server.verifyAccessToken(token).sub, CLIENT_ID)
})

test('MockAuthServer: pushFaults answers the next request with a 503, then serves normally', async () => {
  mock.server.pushFaults([{ status: 503, headers: { 'retry-after': '0', 'content-type': 'text/plain' }, body: 'busy' }])
  const post = () => fetch(mock.server.tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: CLIENT_ID, client_secret: SECRET }),
  })
  const first = await post()
  assert.equal(first.status, 503)
  assert.equal(first.headers.get('retry-after'), '0')
  assert.equal(await first.text(), 'busy')
  const second = await post()
  assert.equal(second.status, 200)
  const body = await second.json()
  assert.equal(body.token_type, 'Bearer')
  assert.equal(mock.server.verifyAccessToken(body.access_token).sub, CLIENT_ID)
  assert.deepEqual(mock.server.requests().map((r) => r.outcome), ['fault', 'token'])
  assert.equal(mock.server.tokenRequests(), 2)
  assert.equal(mock.server.tokensIssued(), 1)
})

test('MockAuthServer: a 503 fault reaches the client as an M2MAuthError with status 503', async () => {
  mock.server.pushFaults([{ status: 503, count: 50 }])
  const e = await caught(() => newClient().getToken())
  assert.ok(e instanceof M2MAuthError, util.inspect(e))
  assert.equal(e.status, 503)
  assert.ok(mock.server.requests().every((r) => r.outcome === 'fault'))
})

test('MockAuthServer: pushFaults refuses an unknown fault field', () => {
  assert.throws(() => mock.server.pushFaults([{ delay: 100 }]))
})

test('MockAuthServer: setTokenLifetime() changes expires_in and reset() restores everything', async () => {
  mock.server.setTokenLifetime(120)
  const short = await newClient().fetchToken()
  assert.ok(short.expiresIn > 110_000 && short.expiresIn <= 120_000, String(short.expiresIn))
  mock.server.pushFaults([{ status: 500 }, { status: 500 }])
  assert.equal(mock.server.tokenRequests(), 1)

  mock.server.reset()
  assert.equal(mock.server.tokenRequests(), 0)
  assert.equal(mock.server.tokensIssued(), 0)
  assert.deepEqual(mock.server.requests(), [])
  // The pending faults are gone and the configured lifetime (3600 s) is back.
  const token = await newClient().fetchToken()
  assert.ok(token.expiresIn > 3590_000 && token.expiresIn <= 3600_000, String(token.expiresIn))
  assert.deepEqual(mock.server.requests().map((r) => r.outcome), ['token'])
})

test('a MockAuthServer started with a config registers its clients', async () => {
  const other = await MockAuthServer.start({
    token_lifetime_secs: 60,
    clients: [{ client_id: 'svc-x', client_secret: 'svc-x-secret', auth_methods: ['client_secret_basic'], scopes: ['a.read'] }],
  })
  try {
    const client = new TokenClient({ tokenUrl: other.tokenUrl, clientId: 'svc-x', clientSecret: 'svc-x-secret', authMethod: 'client_secret_basic' })
    const token = await client.fetchToken()
    assert.equal(token.scope, 'a.read')
    assert.ok(token.expiresIn <= 60_000)
    assert.equal(other.verifyAccessToken(token.accessToken).sub, 'svc-x')
    const post = new TokenClient({ tokenUrl: other.tokenUrl, clientId: 'svc-x', clientSecret: 'svc-x-secret' })
    await assert.rejects(post.getToken(), (e) => e instanceof OAuthError && e.error === 'invalid_client')
    assert.equal(other.tokenRequests(), 2)
    assert.equal(mock.server.tokenRequests(), 0)
  } finally {
    other.close()
  }
})

// ---------------------------------------------------------------------------------------------------------
// The event loop

test('the event loop keeps running while a token request is slow', async () => {
  mock.server.pushFaults([{ delay_ms: 1500 }])
  const client = newClient()
  const order = []
  const pending = client.getToken().then((token) => {
    order.push('token')
    return token
  })
  setTimeout(() => order.push('timeout'), 10)
  setImmediate(() => order.push('immediate'))
  const token = await pending
  assert.equal(mock.server.verifyAccessToken(token).sub, CLIENT_ID)
  assert.equal(order.length, 3)
  assert.equal(order[2], 'token')
  assert.deepEqual(order.slice(0, 2).sort(), ['immediate', 'timeout'])
})

test('the shared cache options are in milliseconds, their errors name them, and stats() counts shared hits', async () => {
  for (const [options, field] of [
    [{ cacheUrl: 'memcached://cache' }, 'cacheUrl'],
    [{ cacheTimeoutMs: -1 }, 'cacheTimeoutMs'],
    [{ cacheLockTtlMs: '5000' }, 'cacheLockTtlMs'],
    [{ cacheEncryptionKey: 'c2hvcnQ=' }, 'cacheEncryptionKey'],
  ]) {
    const e = caughtSync(() => newClient(options))
    assert.ok(e instanceof ConfigError, `${field}: ${e}`)
    assert.equal(e.field, field, e.message)
  }
  const { dir } = tempDir()
  const shared = { cacheUrl: `file:${dir}/tokens`, cacheTimeoutMs: 500, cacheLockTtlMs: 2000 }
  const first = newClient(shared)
  const second = newClient(shared)
  mock.server.reset()
  assert.equal(await first.getToken(), await second.getToken())
  assert.equal(mock.server.tokenRequests(), 1)
  const stats = second.stats()
  assert.deepEqual([stats.fetches, stats.sharedHits, stats.sharedErrors], [0, 1, 0], JSON.stringify(stats))
  assert.equal(first.stats().sharedMisses, 1)
})
