'use strict'
// Where the token and the secret must not go, from Node: plain http to another host (every integration), a
// proxy for a loopback token endpoint, encoded copies of the secret in errors, events and stats; and the
// mirror, which never serves a token past its use-by even when the event loop was blocked.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const net = require('node:net')

const undici = require('undici')
const axios = require('axios')

const { bearerInterceptor } = require('../../node/undici')
const { useBearerAuth } = require('../../node/axios')
const { TokenClient, ConfigError, M2MAuthError } = require('../../node')
const { useMockServer, demoClient } = require('./helpers')

const mock = useMockServer()
const REMOTE = 'http://api.example/payments'

test('every integration refuses plain http to another host before connecting', async () => {
  const client = demoClient(mock.server)
  const isRefusal = (e) => e instanceof ConfigError && e.field === 'url' && /clear text/.test(e.message)
  await assert.rejects(client.call('GET', REMOTE), isRefusal)
  await assert.rejects(client.fetch(REMOTE), isRefusal)
  const agent = new undici.Agent().compose(bearerInterceptor(client, { origins: ['http://api.example'] }))
  await assert.rejects(undici.request(REMOTE, { dispatcher: agent }), isRefusal)
  const api = axios.create()
  useBearerAuth(api, client)
  await assert.rejects(api.get(REMOTE), isRefusal)
  assert.equal(mock.server.tokenRequests(), 0, 'no token was even fetched')
  assert.equal(demoClient(mock.server, { allowInsecureHttp: true }).checkApiUrl(REMOTE), REMOTE)
})

test('a caller\'s own Authorization header is a ConfigError, never a second header', async () => {
  const client = demoClient(mock.server)
  const headers = { authorization: 'Basic eDp5' }
  await assert.rejects(client.fetch(`${mock.server.apiUrl}/payments`, { headers }), (e) => e instanceof ConfigError && e.field === 'headers')
  await assert.rejects(client.call('GET', `${mock.server.apiUrl}/payments`, { headers }), (e) => e instanceof ConfigError && e.field === 'headers')
  assert.equal(mock.server.apiRequestCount(), 0)
})

/** A proxy on loopback that records each request line and answers 502. */
async function recordingProxy () {
  const seen = []
  const server = net.createServer((socket) => {
    socket.once('data', (chunk) => {
      seen.push(chunk.toString('latin1').split('\r\n')[0])
      socket.end('HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n')
    })
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${server.address().port}`, seen, close: () => server.close() }
}

test('a loopback token endpoint never goes through the proxy; other hosts do', async () => {
  const proxy = await recordingProxy()
  const names = ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'ALL_PROXY', 'NO_PROXY', 'no_proxy']
  const saved = Object.fromEntries(names.map((n) => [n, process.env[n]]))
  try {
    for (const n of names.slice(0, 4)) process.env[n] = proxy.url
    delete process.env.NO_PROXY
    delete process.env.no_proxy
    for (const tokenUrl of [mock.server.tokenUrl, mock.server.tokenUrl.replace('127.0.0.1', 'localhost')]) {
      const client = new TokenClient({ tokenUrl, clientId: 'demo-client', clientSecret: 'demo-secret' })
      assert.ok(await client.getToken())
    }
    assert.equal(mock.server.tokenRequests(), 2)
    assert.deepEqual(proxy.seen, [], 'the secret went to the proxy')
    const remote = new TokenClient({
      tokenUrl: 'http://idp.example/oauth2/token', clientId: 'demo-client', clientSecret: 'demo-secret',
      allowInsecureHttp: true, maxAttempts: 1,
    })
    await assert.rejects(remote.getToken(), (e) => e instanceof M2MAuthError && e.status === 502)
    assert.deepEqual(proxy.seen, ['POST http://idp.example/oauth2/token HTTP/1.1'])
  } finally {
    for (const [n, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[n]
      else process.env[n] = v
    }
    proxy.close()
  }
})

for (const method of ['client_secret_post', 'client_secret_basic']) {
  for (const secret of ['p%s+w:d "ö" x', 'a b+c', '%2B', 'é']) {
    test(`${method}: every sent form of ${JSON.stringify(secret)} is scrubbed from errors, events and stats`, async () => {
      const clientId = 'svc-echo'
      mock.server.registerClient({ client_id: clientId, client_secret: secret, auth_methods: [method] })
      const form = new URLSearchParams({ s: secret }).toString().slice(2)
      const forms = new Set([
        secret, form, Buffer.from(`${clientId}:${form}`).toString('base64'), JSON.stringify(secret).slice(1, -1),
        JSON.stringify(secret).slice(1, -1).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`),
      ])
      const echo = [...forms].sort().join(' | ')
      mock.server.pushFaults([{
        status: 400, headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ error: 'invalid_request', error_description: `you sent: ${echo}` }),
      }])
      const events = []
      const client = new TokenClient({
        tokenUrl: mock.server.tokenUrl, clientId, clientSecret: secret, authMethod: method, onEvent: (e) => events.push(e),
      })
      const err = await client.getToken().catch((e) => e)
      assert.ok(err instanceof M2MAuthError, String(err))
      assert.match(err.message, /\[redacted\]/)
      await new Promise((resolve) => setTimeout(resolve, 50)) // events arrive through the event loop
      const texts = [err.message, String(err.errorDescription), JSON.stringify(err), String(client.stats().lastError),
        ...events.map((e) => e.message)]
      assert.ok(events.some((e) => e.kind === 'fetch_failed'), 'the failure was reported')
      for (const text of texts) {
        for (const f of forms) assert.ok(f.length <= 2 || !text.includes(f), `${JSON.stringify(f)} in ${text}`)
      }
    })
  }
}

test('the mirror never serves a token past its use-by, even after the event loop was blocked', async () => {
  mock.server.setTokenLifetime(2)
  const client = demoClient(mock.server, { refreshRatio: 1 }) // no refresh-ahead: only the expiry decides
  const first = await client.fetchToken()
  assert.equal(await client.getToken(), first.accessToken, 'served from the mirror')
  // Block the event loop past the token's use-by: no timer can fire meanwhile.
  const until = first.expiresAt.getTime()
  while (Date.now() < until) { /* busy */ }
  const next = await client.getToken()
  assert.notEqual(next, first.accessToken, 'an expired token came from the mirror')
  assert.equal(mock.server.tokenRequests(), 2)
})

test('clocks that differ are reported as a warning event', async () => {
  mock.server.setTokenLifetime(60)
  mock.server.pushFaults([{ expires_in: '3600' }]) // exp says 60 s, expires_in an hour: the clocks differ
  const events = []
  const client = demoClient(mock.server, { onEvent: (e) => events.push(e) })
  const token = await client.fetchToken()
  assert.ok(token.expiresIn > 3_500_000, 'expires_in counts')
  await new Promise((resolve) => setTimeout(resolve, 50))
  const warnings = events.filter((e) => e.kind === 'clock_skew')
  assert.equal(warnings.length, 1)
  assert.equal(warnings[0].level, 'warn')
  assert.match(warnings[0].message, /clocks/)
})
