'use strict'
// client.fetch, the undici interceptor and the axios interceptors against the mock server's protected API:
// the token goes on, a rejected token is replaced once (one more token request, no more), a body that cannot
// be sent again is not retried, and no token crosses to another origin on a redirect.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { Readable } = require('node:stream')

const undici = require('undici')
const axios = require('axios')

const { bearerInterceptor } = require('../../node/undici')
const { useBearerAuth } = require('../../node/axios')
const { ConfigError } = require('../../node')
const { MockAuthServer } = require('../../node/testing')
const { useMockServer, demoClient } = require('./helpers')

const mock = useMockServer()
let other

before(async () => {
  other = await MockAuthServer.start()
})

after(() => {
  if (other) other.close()
})

/** The Authorization header of each API request `server` saw, oldest first. */
function authorizationSeen(server) {
  return server.apiRequests().map((r) => {
    const pair = r.headers.find(([name]) => name === 'authorization')
    return pair === undefined ? null : pair[1]
  })
}

function redirectUrl(server, to, status) {
  const url = new URL(`${server.apiUrl}/redirect`)
  url.searchParams.set('to', to)
  url.searchParams.set('status', String(status))
  return url.toString()
}

// -------------------------------------------------------------------------------------------------------
// client.fetch

test('fetch sends the token and the API accepts it', async () => {
  other.reset()
  const client = demoClient(mock.server)
  const res = await client.fetch(`${mock.server.apiUrl}/payments`)
  assert.equal(res.status, 200)
  const body = await res.json()
  assert.equal(body.sub, 'demo-client')
  assert.deepEqual(authorizationSeen(mock.server), [`Bearer ${await client.getToken()}`])
  assert.equal(mock.server.tokenRequests(), 1)
})

test('fetch replaces a rejected token once, with exactly one more token request', async () => {
  const client = demoClient(mock.server)
  const first = await client.getToken()
  mock.server.rejectNextApiTokens(1)
  const res = await client.fetch(`${mock.server.apiUrl}/payments`, { method: 'POST', body: '{"amount":1}' })
  assert.equal(res.status, 200)
  assert.equal((await res.json()).body, '{"amount":1}')
  assert.equal(mock.server.tokenRequests(), 2)
  const [a, b] = authorizationSeen(mock.server)
  assert.equal(a, `Bearer ${first}`)
  assert.notEqual(b, a)
})

test('fetch gives up after one retry and returns the 401', async () => {
  const client = demoClient(mock.server)
  mock.server.rejectNextApiTokens(5)
  const res = await client.fetch(`${mock.server.apiUrl}/payments`)
  assert.equal(res.status, 401)
  assert.match(res.headers.get('www-authenticate'), /error="invalid_token"/)
  assert.equal(mock.server.apiRequestCount(), 2)
})

test('fetch does not replay a streamed body', async () => {
  const client = demoClient(mock.server)
  mock.server.rejectNextApiTokens(1)
  const body = Readable.toWeb(Readable.from([Buffer.from('streamed '), Buffer.from('once')]))
  const res = await client.fetch(`${mock.server.apiUrl}/upload`, { method: 'POST', body, duplex: 'half' })
  assert.equal(res.status, 401)
  assert.equal(mock.server.apiRequestCount(), 1)
  assert.equal(mock.server.tokenRequests(), 1)
})

test('fetch keeps the token within the origin and drops it on a cross-origin redirect', async () => {
  other.reset()
  const client = demoClient(mock.server)
  const same = await client.fetch(redirectUrl(mock.server, `${mock.server.apiUrl}/landing`, 307))
  assert.equal(same.status, 200)
  assert.match((await same.json()).path, /landing$/)

  const away = await client.fetch(redirectUrl(mock.server, `${other.apiUrl}/landing`, 302))
  assert.equal(away.status, 401, 'the other origin got no token')
  assert.deepEqual(authorizationSeen(other), [null])
  assert.equal(mock.server.tokenRequests(), 1, 'no retry for the other origin')
})

test('a missing scope (403) is not retried', async () => {
  const client = demoClient(mock.server)
  const res = await client.fetch(`${mock.server.apiUrl}/admin?require_scope=admin.write`)
  assert.equal(res.status, 403)
  assert.match(res.headers.get('www-authenticate'), /insufficient_scope/)
  assert.equal(mock.server.tokenRequests(), 1)
})

// -------------------------------------------------------------------------------------------------------
// undici

test('undici interceptor: the token on requests to its origins, and one retry', async () => {
  const client = demoClient(mock.server)
  const agent = new undici.Agent().compose(bearerInterceptor(client, { origins: [mock.server.url] }))
  try {
    const ok = await undici.request(`${mock.server.apiUrl}/payments`, { dispatcher: agent })
    assert.equal(ok.statusCode, 200)
    assert.equal((await ok.body.json()).sub, 'demo-client')

    mock.server.rejectNextApiTokens(1)
    const retried = await undici.request(`${mock.server.apiUrl}/payments`, { dispatcher: agent, method: 'PUT', body: 'again' })
    assert.equal(retried.statusCode, 200)
    assert.equal((await retried.body.json()).body, 'again')
    assert.equal(mock.server.tokenRequests(), 2)
    assert.equal(mock.server.apiRequestCount(), 3)
  } finally {
    await agent.close()
  }
})

test('undici interceptor: no retry of a stream, no token to other origins, origins required', async () => {
  other.reset()
  const client = demoClient(mock.server)
  const agent = new undici.Agent().compose(
    undici.interceptors.redirect({ maxRedirections: 3 }),
    bearerInterceptor(client, { origins: mock.server.url }),
  )
  try {
    mock.server.rejectNextApiTokens(1)
    const streamed = await undici.request(`${mock.server.apiUrl}/upload`, {
      dispatcher: agent, method: 'POST', body: Readable.from([Buffer.from('once')]),
    })
    assert.equal(streamed.statusCode, 401)
    await streamed.body.dump()
    assert.equal(mock.server.apiRequestCount(), 1)

    const away = await undici.request(redirectUrl(mock.server, `${other.apiUrl}/landing`, 302), { dispatcher: agent })
    assert.equal(away.statusCode, 401)
    await away.body.dump()
    assert.deepEqual(authorizationSeen(other), [null])
  } finally {
    await agent.close()
  }
  assert.throws(() => bearerInterceptor(client, {}), ConfigError)
})

// -------------------------------------------------------------------------------------------------------
// axios

test('axios interceptors: the token, one retry, and removal', async () => {
  const client = demoClient(mock.server)
  const api = axios.create({ baseURL: mock.server.apiUrl })
  const remove = useBearerAuth(api, client)
  const ok = await api.get('/payments')
  assert.equal(ok.status, 200)
  assert.equal(ok.data.sub, 'demo-client')

  mock.server.rejectNextApiTokens(1)
  const retried = await api.post('/payments', { amount: 3 })
  assert.equal(retried.status, 200)
  assert.equal(JSON.parse(retried.data.body).amount, 3)
  assert.equal(mock.server.tokenRequests(), 2)

  mock.server.rejectNextApiTokens(5)
  const error = await api.get('/payments').then(() => assert.fail('expected a 401'), (e) => e)
  assert.equal(error.response.status, 401, 'one retry, then the 401')

  remove()
  const bare = await api.get('/payments').then(() => assert.fail('expected a 401'), (e) => e)
  assert.equal(bare.response.status, 401)
  assert.equal(authorizationSeen(mock.server).at(-1), null)
})

test('axios: no retry of a stream, no token across origins on a redirect', async () => {
  other.reset()
  const client = demoClient(mock.server)
  const api = axios.create({ baseURL: mock.server.apiUrl })
  useBearerAuth(api, client)
  mock.server.rejectNextApiTokens(1)
  const streamed = await api.post('/upload', Readable.from([Buffer.from('once')])).then(() => assert.fail('401'), (e) => e)
  assert.equal(streamed.response.status, 401)
  assert.equal(mock.server.apiRequestCount(), 1)

  const away = await api.get(redirectUrl(mock.server, `${other.apiUrl}/landing`, 302)).then(() => assert.fail('401'), (e) => e)
  assert.equal(away.response.status, 401)
  assert.deepEqual(authorizationSeen(other), [null])
  assert.equal(mock.server.tokenRequests(), 1)
})

test('axios: a 401 the caller accepts (validateStatus) is still retried once', async () => {
  const client = demoClient(mock.server)
  const api = axios.create({ baseURL: mock.server.apiUrl, validateStatus: () => true })
  useBearerAuth(api, client)
  mock.server.rejectNextApiTokens(1)
  const res = await api.get('/payments')
  assert.equal(res.status, 200)
  assert.equal(mock.server.tokenRequests(), 2)
})

// -------------------------------------------------------------------------------------------------------
// client.call, and fetch with a client certificate: through the core, which presents the certificate

test('call replaces a rejected token once', async () => {
  const client = demoClient(mock.server)
  mock.server.rejectNextApiTokens(1)
  const answer = await client.call('POST', `${mock.server.apiUrl}/payments`, { headers: { 'content-type': 'text/plain' }, body: 'hi' })
  assert.equal(answer.status, 200)
  assert.equal(answer.retried, true)
  assert.equal(answer.json().body, 'hi')
  assert.equal(mock.server.tokenRequests(), 2)
  await assert.rejects(client.call('GET', 'not a url'), (e) => e.code === 'ERR_CONFIG' && e.field === 'url')
})

test('a certificate-bound token goes out with its certificate, by call and by fetch', async () => {
  const tls = await MockAuthServer.start({ tls: true })
  try {
    tls.registerClient({ client_id: 'svc-bound', auth_methods: ['tls_client_auth'], tls_client_auth_subject_dn: 'CN=svc-bound' })
    const { certPem, keyPem } = tls.issueClientCertificate('CN=svc-bound')
    const { TokenClient } = require('../../node')
    const bound = TokenClient.fromIssuer(tls.issuer, { clientId: 'svc-bound', clientCert: certPem, clientKey: keyPem, caBundle: tls.caPem })
    const answer = await bound.call('GET', `${tls.mtlsApiUrl}/payments`)
    assert.equal(answer.status, 200, answer.text())
    assert.equal(answer.json().bound, true)
    const res = await bound.fetch(`${tls.mtlsApiUrl}/payments`, { method: 'POST', body: 'x' })
    assert.equal(res.status, 200)
    assert.equal((await res.json()).bound, true)
    assert.equal((await bound.call('GET', `${tls.apiUrl}/payments`)).status, 401, 'no certificate on the main port')
  } finally {
    tls.close()
  }
})
