'use strict'
// The token lifecycle seen from Node beyond the shared vectors: a Rust panic becomes an InternalError, tokens
// of a 2-second lifetime rotate under continuous Promises with no error and no expired token, a cold herd of a
// thousand Promises makes one request, and events (onEvent, NODE_DEBUG) never carry a secret or a token.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { execFile } = require('node:child_process')
const path = require('node:path')

const { InternalError, M2MAuthError } = require('../../node')
const { CLIENT_ID, SECRET, useMockServer, demoClient, sleep } = require('./helpers')

const mock = useMockServer()
const newClient = (extra) => demoClient(mock.server, extra)

/** The JWT `exp` claim, in Unix seconds. */
function jwtExp(token) {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')).exp
}

test('a panic inside the Rust core rejects with an InternalError and the process goes on', async () => {
  const client = newClient({ _panicOnFetch: true })
  for (const call of [() => client.getToken(), () => client.fetchToken()]) {
    const error = await call().then(() => assert.fail('expected a rejection'), (e) => e)
    assert.ok(error instanceof InternalError, String(error))
    assert.ok(error instanceof M2MAuthError)
    assert.equal(error.code, 'ERR_INTERNAL')
    assert.match(error.message, /panic/i)
  }
  // The same process, and a normal client, still work.
  assert.equal(typeof (await newClient().getToken()), 'string')
})

test('1000 concurrent getToken() calls on a cold cache make exactly one request', async () => {
  const client = newClient()
  const tokens = await Promise.all(Array.from({ length: 1000 }, () => client.getToken()))
  assert.equal(mock.server.tokenRequests(), 1)
  assert.equal(new Set(tokens).size, 1)
  const stats = client.stats()
  assert.equal(stats.fetches, 1)
  assert.equal(stats.hits + stats.misses, 1000)
})

test('tokens of a 2 s lifetime rotate under continuous Promises with no error and no expired token', async () => {
  mock.server.setTokenLifetime(2)
  const client = newClient()
  const end = Date.now() + 7500
  const lastSeen = new Map() // access token -> last time (Unix seconds) a caller was handed it
  let calls = 0

  async function caller() {
    while (Date.now() < end) {
      const token = await client.getToken()
      if (!lastSeen.has(token)) {
        // First sight, moments after it was issued: the server's signature and `exp` check out.
        mock.server.verifyAccessToken(token)
      }
      lastSeen.set(token, Date.now() / 1000)
      calls += 1
      await sleep(2)
    }
  }
  await Promise.all(Array.from({ length: 50 }, caller))

  for (const [token, at] of lastSeen) {
    // JWT `exp` has whole-second resolution and the server truncates `iat`, so `exp` can fall up to one
    // second before the `expires_in` the client goes by.
    assert.ok(at < jwtExp(token) + 1, `a token was handed out ${at - jwtExp(token)} s after its exp`)
  }
  const rotations = lastSeen.size
  const requests = mock.server.tokenRequests()
  const stats = client.stats()
  assert.ok(rotations >= 3, `only ${rotations} tokens`)
  assert.ok(requests <= rotations + 1, `${requests} token requests for ${rotations} tokens`)
  assert.equal(stats.failures, 0)
  assert.ok(stats.refreshes >= rotations - 1, JSON.stringify(stats))
  assert.ok(calls > 1000, `only ${calls} calls`)
})

test('onEvent sees requests, retries, tokens and failures, and never the secret or a token', async () => {
  const events = []
  const client = newClient({ onEvent: (e) => events.push(e), maxAttempts: 2, retryBackoffMs: 1 })
  mock.server.pushFaults([{ status: 503, headers: { 'retry-after': '0' } }])
  const token = await client.getToken()
  mock.server.pushFaults([{ status: 401, headers: { 'content-type': 'application/json' }, body: '{"error":"invalid_client"}' }])
  await client.getToken({ scopes: ['payments.read'] }).then(() => assert.fail('expected a rejection'), () => {})

  // Events arrive on the event loop after the call that caused them settles.
  for (let i = 0; i < 100 && !events.some((e) => e.kind === 'fetch_failed'); i += 1) await sleep(10)
  const kinds = events.map((e) => e.kind)
  for (const kind of ['request', 'retry', 'token_received', 'fetch_failed']) {
    assert.ok(kinds.includes(kind), `no ${kind} event in ${kinds}`)
  }
  for (const event of events) {
    assert.equal(event.clientId, CLIENT_ID)
    assert.ok(['debug', 'info', 'warn', 'error'].includes(event.level), event.level)
    const text = JSON.stringify(event)
    assert.ok(!text.includes(SECRET), `an event shows the secret: ${text}`)
    assert.ok(!text.includes(token), `an event shows the token: ${text}`)
    assert.ok(!text.includes(token.split('.')[2]), `an event shows the token's signature: ${text}`)
  }
})

test('a listener that throws does not break token fetching', async () => {
  const warnings = []
  const onWarning = (w) => warnings.push(w.message)
  process.on('warning', onWarning)
  try {
    const client = newClient({ onEvent: () => { throw new Error('listener bug') } })
    assert.equal(typeof (await client.getToken()), 'string')
    for (let i = 0; i < 100 && warnings.length === 0; i += 1) await sleep(10)
    assert.ok(warnings.some((m) => m.includes('listener bug')), String(warnings))
  } finally {
    process.off('warning', onWarning)
  }
})

test('NODE_DEBUG=m2m-auth prints the events to stderr without the secret or the token', async () => {
  const script = `
    const { TokenClient } = require(${JSON.stringify(path.resolve(__dirname, '../../node'))})
    const client = new TokenClient({ tokenUrl: process.env.URL, clientId: ${JSON.stringify(CLIENT_ID)},
      clientSecret: ${JSON.stringify(SECRET)} })
    client.getToken().then((t) => process.stdout.write(t))`
  const { stdout, stderr } = await new Promise((resolve, reject) => {
    execFile(process.execPath, ['-e', script], { env: { ...process.env, NODE_DEBUG: 'm2m-auth', URL: mock.server.tokenUrl } },
      (error, stdout, stderr) => (error ? reject(error) : resolve({ stdout, stderr })))
  })
  assert.equal(stdout.split('.').length, 3, 'the child printed its token')
  assert.match(stderr, /M2M-AUTH \d+: \w+ request \[demo-client\]/)
  assert.match(stderr, /token_received/)
  assert.ok(!stderr.includes(SECRET))
  assert.ok(!stderr.includes(stdout))
})
