'use strict'
// m2m-auth/express and m2m-auth/fastify in real apps listening on 127.0.0.1, called with fetch, verifying the
// mock authorization server's tokens: claims reach the handler; no token, a tampered one, a missing scope, a
// route policy and an unreachable issuer get 401/403/503 with the RFC 6750 challenge and a JSON body that never
// holds the token; a certificate from a proxy header or the server's own TLS connection binds a token.
//
//   node --test tests/node/frameworks.test.js

const { describe, test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const http = require('node:http')
const https = require('node:https')

// Required, not optional: a missing framework fails this file instead of skipping it.
const express = require('express')
const Fastify = require('fastify')

const { TokenClient, Verifier, Policy, ConfigError } = require('../../node')
const { MockAuthServer, selfSignedCertificate } = require('../../node/testing')
const expressAuth = require('../../node/express')
const m2mAuth = require('../../node/fastify')

const REALM = 'payments'

let mock
let verifier
// A verifier whose issuer nobody listens on: every new token is a 503.
let downVerifier
// The demo client's token with both scopes, and one with payments.read only.
let fullToken
let readToken
// A client certificate, and a token bound to it (cnf.x5t#S256) with the claim tenant=acme.
let cert
let boundToken

before(async () => {
  mock = await MockAuthServer.start()
  verifier = new Verifier({ issuer: mock.issuer, audience: mock.issuer, realm: REALM })
  downVerifier = new Verifier({ issuer: 'http://127.0.0.1:1', audience: 'payments-api', realm: REALM, timeoutMs: 500 })
  const client = (scopes) => new TokenClient({ tokenUrl: mock.tokenUrl, clientId: 'demo-client', clientSecret: 'demo-secret', scopes })
  fullToken = await client(undefined).getToken()
  readToken = await client(['payments.read']).getToken()
  cert = selfSignedCertificate('CN=svc,O=Acme')
  boundToken = await mint({ claims: { cnf: { 'x5t#S256': cert.x5tS256 }, tenant: 'acme' } })
})

after(() => {
  if (mock) mock.close()
})

/** A token made to order by the mock (POST /mock/tokens): client svc-vectors, scope payments.read. */
async function mint(body) {
  const res = await fetch(`${mock.url}/mock/tokens`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  })
  assert.equal(res.status, 200)
  return (await res.json()).token
}

/** `token` with one character of its signature changed. */
function tampered(token) {
  const i = token.lastIndexOf('.') + 10
  return token.slice(0, i) + (token[i] === 'A' ? 'B' : 'A') + token.slice(i + 1)
}

/** What the handler of every protected route answers: the claims it was given. */
function claimsBody(auth) {
  return { clientId: auth.clientId, subject: auth.subject, scopes: auth.scopes, tenant: auth.claims.tenant ?? null }
}

// Each app has the same routes:
//   /payments  scopes payments.read        /refunds  scopes payments.write
//   /admin     clientIds billing-service   /tenant   claims tenant=acme and a policy: client svc-vectors
//   /bound     clientCertHeader x-client-cert   /down  the unreachable verifier   /open  no token needed
const ROUTES = {
  '/payments': { scopes: ['payments.read'] },
  '/refunds': { scopes: ['payments.write'] },
  '/admin': { clientIds: ['billing-service'] },
  '/tenant': { claims: { tenant: 'acme' }, policy: Policy.clientIds(['svc-vectors']).or(Policy.clientIds(['billing-service'])) },
  '/bound': { clientCertHeader: 'x-client-cert' },
}

const FRAMEWORKS = {
  async express() {
    const app = express()
    for (const [path, options] of Object.entries(ROUTES)) {
      app.get(path, expressAuth.requireToken(verifier, options), (req, res) => res.json(claimsBody(req.auth)))
    }
    app.get('/down', expressAuth.requireToken(downVerifier), (req, res) => res.json(claimsBody(req.auth)))
    app.get('/open', (req, res) => res.json({ auth: req.auth ?? null }))
    return listenExpress(app)
  },

  async fastify() {
    const app = Fastify()
    await app.register(m2mAuth, { verifier })
    for (const [path, options] of Object.entries(ROUTES)) {
      app.get(path, { preHandler: app.requireToken(options) }, async (request) => claimsBody(request.auth))
    }
    // The standalone hook, for a second verifier.
    app.get('/down', { preHandler: m2mAuth.requireToken(downVerifier) }, async (request) => claimsBody(request.auth))
    app.get('/open', async (request) => ({ auth: request.auth }))
    return listenFastify(app)
  },
}

/** Starts `app` on 127.0.0.1, port 0: { url, close }. `tls`: https.createServer options. */
async function listenExpress(app, tls) {
  const server = tls ? https.createServer(tls, app) : app.listen(0, '127.0.0.1')
  if (tls) server.listen(0, '127.0.0.1')
  await new Promise((resolve, reject) => {
    server.once('listening', resolve)
    server.once('error', reject)
  })
  return {
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${server.address().port}`,
    close: () => new Promise((resolve) => {
      server.close(resolve)
      server.closeAllConnections()
    }),
  }
}

async function listenFastify(app) {
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  return { url, close: () => app.close() }
}

/** GET `url` with `token` (if any) and `headers`: { status, wwwAuthenticate, body, text, rawHeaders }. */
async function get(url, { token, headers = {} } = {}) {
  const res = await fetch(url, { headers: token === undefined ? headers : { authorization: `Bearer ${token}`, ...headers } })
  const text = await res.text()
  let body
  try { body = JSON.parse(text) } catch { body = undefined }
  return { status: res.status, wwwAuthenticate: res.headers.get('www-authenticate'), body, text, rawHeaders: [...res.headers].flat().join('\n') }
}

/** GET with node:http, which can send a header twice (fetch joins them): { status, text, rawHeaders }. */
function rawGet(url, headers) {
  return new Promise((resolve, reject) => {
    http.get(url, { headers }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk) => { text += chunk })
      res.on('end', () => resolve({ status: res.statusCode, text, rawHeaders: res.rawHeaders.join('\n') }))
    }).on('error', reject)
  })
}

/** Neither the body nor any header of `res` holds `token` (nor its signature). */
function assertNoToken(res, token) {
  for (const secret of [token, token.slice(token.lastIndexOf('.') + 1)]) {
    assert.ok(!res.text.includes(secret), 'the body holds the token')
    assert.ok(!res.rawHeaders.includes(secret), 'a header holds the token')
  }
}

for (const [name, start] of Object.entries(FRAMEWORKS)) {
  describe(name, () => {
    let app

    before(async () => {
      app = await start()
    })

    after(async () => {
      if (app) await app.close()
    })

    test(`${name}: a valid token reaches the handler with its claims`, async () => {
      const res = await get(`${app.url}/payments`, { token: fullToken })
      assert.equal(res.status, 200)
      assert.deepEqual(res.body, { clientId: 'demo-client', subject: 'demo-client', scopes: ['payments.read', 'payments.write'], tenant: null })
      assert.equal(res.wwwAuthenticate, null)
    })

    test(`${name}: a request without a token is 401 with a bare challenge`, async () => {
      const res = await get(`${app.url}/payments`)
      assert.equal(res.status, 401)
      assert.equal(res.wwwAuthenticate, `Bearer realm="${REALM}"`)
      assert.equal(res.body.error, null)
      assert.equal(typeof res.body.error_description, 'string')
      assert.deepEqual(Object.keys(res.body).sort(), ['error', 'error_description'])
    })

    test(`${name}: another scheme than Bearer counts as no token`, async () => {
      const res = await get(`${app.url}/payments`, { headers: { authorization: 'Basic ZGVtbzpzZWNyZXQ=' } })
      assert.equal(res.status, 401)
      assert.equal(res.wwwAuthenticate, `Bearer realm="${REALM}"`)
    })

    test(`${name}: a tampered token is 401 invalid_token, and the answer does not hold it`, async () => {
      const bad = tampered(fullToken)
      const res = await get(`${app.url}/payments`, { token: bad })
      assert.equal(res.status, 401)
      assert.match(res.wwwAuthenticate, new RegExp(`^Bearer realm="${REALM}", error="invalid_token"`))
      assert.equal(res.body.error, 'invalid_token')
      assertNoToken(res, bad)
    })

    test(`${name}: a token without the route's scope is 403 insufficient_scope naming it`, async () => {
      const res = await get(`${app.url}/refunds`, { token: readToken })
      assert.equal(res.status, 403)
      assert.match(res.wwwAuthenticate, new RegExp(`^Bearer realm="${REALM}", error="insufficient_scope"`))
      assert.match(res.wwwAuthenticate, /, scope="payments\.write"$/)
      assert.equal(res.body.error, 'insufficient_scope')
      assertNoToken(res, readToken)
      // The same token is fine where its scope suffices.
      assert.equal((await get(`${app.url}/payments`, { token: readToken })).status, 200)
    })

    test(`${name}: a clientIds policy turns away another client with 403`, async () => {
      const res = await get(`${app.url}/admin`, { token: fullToken })
      assert.equal(res.status, 403)
      assert.equal(res.body.error, 'insufficient_scope')
      assert.match(res.wwwAuthenticate, /error="insufficient_scope"/)
      assertNoToken(res, fullToken)
    })

    test(`${name}: a claims policy with a Policy: the matching token passes, another does not`, async () => {
      const unbound = await mint({ claims: { tenant: 'acme' } })
      const pass = await get(`${app.url}/tenant`, { token: unbound })
      assert.equal(pass.status, 200)
      assert.deepEqual(pass.body, { clientId: 'svc-vectors', subject: 'svc-vectors', scopes: ['payments.read'], tenant: 'acme' })
      const otherTenant = await get(`${app.url}/tenant`, { token: await mint({ claims: { tenant: 'globex' } }) })
      assert.equal(otherTenant.status, 403)
      const demo = await get(`${app.url}/tenant`, { token: fullToken })
      assert.equal(demo.status, 403)
      assert.equal(demo.body.error, 'insufficient_scope')
    })

    test(`${name}: a certificate-bound token passes with its certificate in the proxy header (URL-encoded PEM, base64 DER)`, async () => {
      const base64Der = cert.certPem.split('\n').filter((line) => line && !line.startsWith('-----')).join('')
      for (const value of [encodeURIComponent(cert.certPem), base64Der]) {
        const res = await get(`${app.url}/bound`, { token: boundToken, headers: { 'x-client-cert': value } })
        assert.equal(res.status, 200, res.text)
        assert.equal(res.body.clientId, 'svc-vectors')
      }
      const other = selfSignedCertificate('CN=other')
      const wrong = await get(`${app.url}/bound`, { token: boundToken, headers: { 'x-client-cert': encodeURIComponent(other.certPem) } })
      assert.equal(wrong.status, 401)
      assert.equal(wrong.body.error, 'invalid_token')
    })

    test(`${name}: garbage in the certificate header counts as no certificate, not a crash`, async () => {
      for (const garbage of [
        'garbage', '%%%zz', '%E0%A4%A', '-----BEGIN CERTIFICATE----- not base64 -----END CERTIFICATE-----',
        encodeURIComponent(cert.certPem).slice(0, 200), 'A'.repeat(5000),
      ]) {
        // An unbound token does not need one,
        const free = await get(`${app.url}/bound`, { token: fullToken, headers: { 'x-client-cert': garbage } })
        assert.equal(free.status, 200, free.text)
        // a bound one does.
        const bound = await get(`${app.url}/bound`, { token: boundToken, headers: { 'x-client-cert': garbage } })
        assert.equal(bound.status, 401)
        assert.equal(bound.body.error, 'invalid_token')
        assertNoToken(bound, boundToken)
      }
      // The server still answers.
      assert.equal((await get(`${app.url}/payments`, { token: fullToken })).status, 200)
    })

    test(`${name}: a header sent twice is not believed (certificate), or rejected (Authorization)`, async () => {
      const pem = encodeURIComponent(cert.certPem)
      const twice = await rawGet(`${app.url}/bound`, { authorization: `Bearer ${boundToken}`, 'x-client-cert': [pem, pem] })
      assert.equal(twice.status, 401)
      assert.equal((await rawGet(`${app.url}/bound`, { authorization: `Bearer ${boundToken}`, 'x-client-cert': pem })).status, 200)
      const two = await rawGet(`${app.url}/payments`, { authorization: [`Bearer ${fullToken}`, `Bearer ${fullToken}`] })
      assert.equal(two.status, 401)
      assertNoToken(two, fullToken)
    })

    test(`${name}: an unreachable issuer is 503 without an error code`, async () => {
      const res = await get(`${app.url}/down`, { token: fullToken })
      assert.equal(res.status, 503)
      assert.equal(res.wwwAuthenticate, `Bearer realm="${REALM}"`)
      assert.equal(res.body.error, null)
      assert.equal(typeof res.body.error_description, 'string')
      // The caller learns what failed, not where or why: no URL, no network error.
      assert.ok(!JSON.stringify(res.body).includes('127.0.0.1') && !/refused/i.test(JSON.stringify(res.body)), JSON.stringify(res.body))
      assertNoToken(res, fullToken)
    })

    test(`${name}: a route without requireToken sees no claims`, async () => {
      const res = await get(`${app.url}/open`, { token: fullToken })
      assert.equal(res.status, 200)
      assert.deepEqual(res.body, { auth: null })
    })
  })
}

// -------------------------------------------------------------------------------------------------------
// The certificate of the server's own TLS connection, and errors that are not the token's.

/** HTTPS GET with a client certificate (the test server's own certificate is self-signed). */
function httpsGet(url, { token, clientCert }) {
  return new Promise((resolve, reject) => {
    const req = https.get(url, {
      headers: { authorization: `Bearer ${token}` },
      rejectUnauthorized: false,
      ...(clientCert ? { cert: clientCert.certPem, key: clientCert.keyPem } : {}),
    }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk) => { text += chunk })
      res.on('end', () => resolve({ status: res.statusCode, text }))
    })
    req.on('error', reject)
  })
}

describe('mutual TLS on the server itself', () => {
  const serverCert = selfSignedCertificate('CN=127.0.0.1')
  // The client's certificate is self-signed: binding (RFC 8705) checks its thumbprint, not a CA.
  const tls = { cert: serverCert.certPem, key: serverCert.keyPem, requestCert: true, rejectUnauthorized: false }
  const servers = []

  after(async () => {
    await Promise.all(servers.map((s) => s.close()))
  })

  test('express: the TLS client certificate binds a token', async () => {
    const app = express()
    app.get('/bound', expressAuth.requireToken(verifier), (req, res) => res.json(claimsBody(req.auth)))
    const server = await listenExpress(app, tls)
    servers.push(server)
    assert.equal((await httpsGet(`${server.url}/bound`, { token: boundToken, clientCert: cert })).status, 200)
    assert.equal((await httpsGet(`${server.url}/bound`, { token: boundToken })).status, 401)
    assert.equal((await httpsGet(`${server.url}/bound`, { token: boundToken, clientCert: selfSignedCertificate('CN=x') })).status, 401)
  })

  test('fastify: the TLS client certificate binds a token', async () => {
    const app = Fastify({ https: tls })
    await app.register(m2mAuth, { verifier })
    app.get('/bound', { preHandler: app.requireToken() }, async (request) => claimsBody(request.auth))
    const url = await app.listen({ port: 0, host: '127.0.0.1' })
    servers.push({ close: () => app.close() })
    assert.equal((await httpsGet(`${url}/bound`, { token: boundToken, clientCert: cert })).status, 200)
    assert.equal((await httpsGet(`${url}/bound`, { token: boundToken })).status, 401)
  })
})

describe('configuration and other errors', () => {
  test('fastify: the plugin\'s clientCertHeader is every route\'s default', async (t) => {
    const app = Fastify()
    await app.register(m2mAuth, { verifier, clientCertHeader: 'x-client-cert' })
    app.get('/bound', { preHandler: app.requireToken() }, async (request) => claimsBody(request.auth))
    const url = await app.listen({ port: 0, host: '127.0.0.1' })
    t.after(() => app.close())
    const ok = await get(`${url}/bound`, { token: boundToken, headers: { 'x-client-cert': encodeURIComponent(cert.certPem) } })
    assert.equal(ok.status, 200)
    assert.equal((await get(`${url}/bound`, { token: boundToken })).status, 401)
  })

  test('a misspelt option, a missing verifier or a bad header name is a ConfigError when the route is made', () => {
    assert.throws(() => expressAuth.requireToken(verifier, { scope: ['payments.read'] }), { name: 'ConfigError', field: 'scope' })
    assert.throws(() => m2mAuth.requireToken(verifier, { scope: ['payments.read'] }), ConfigError)
    assert.throws(() => expressAuth.requireToken({ verify: async () => ({}) }), { name: 'ConfigError', field: 'verifier' })
    assert.throws(() => expressAuth.requireToken(verifier, { clientCertHeader: '' }), { field: 'clientCertHeader' })
    assert.throws(() => expressAuth.requireToken(verifier, { policy: { all_scopes: ['x'] } }), { field: 'policy' })
  })

  test('fastify: registering without a Verifier fails', async () => {
    const app = Fastify()
    await assert.rejects(async () => {
      await app.register(m2mAuth, {})
      await app.ready()
    }, { name: 'ConfigError', field: 'verifier' })
    await app.close()
  })

  // A verifier failing in a way that is not the token's (a bug, an exhausted process): the framework's own error
  // handling answers (500), not a 401 that would blame the caller.
  class BrokenVerifier extends Verifier {
    async verify() { throw new Error('boom') }
  }

  test('express: an error that is not a VerificationError goes to next(err)', async (t) => {
    const broken = new BrokenVerifier({ issuer: mock.issuer, audience: mock.issuer })
    const app = express()
    let seen
    app.get('/x', expressAuth.requireToken(broken), (req, res) => res.json({}))
    app.use((err, req, res, next) => {
      seen = err
      res.status(500).json({ handled: true })
    })
    const server = await listenExpress(app)
    t.after(() => server.close())
    const res = await get(`${server.url}/x`, { token: fullToken })
    assert.equal(res.status, 500)
    assert.deepEqual(res.body, { handled: true })
    assert.equal(seen.message, 'boom')
  })

  test('fastify: an error that is not a VerificationError goes to the error handler', async (t) => {
    const broken = new BrokenVerifier({ issuer: mock.issuer, audience: mock.issuer })
    const app = Fastify()
    app.get('/x', { preHandler: m2mAuth.requireToken(broken) }, async () => ({}))
    const url = await app.listen({ port: 0, host: '127.0.0.1' })
    t.after(() => app.close())
    const res = await get(`${url}/x`, { token: fullToken })
    assert.equal(res.status, 500)
    assert.equal(res.wwwAuthenticate, null)
  })
})
