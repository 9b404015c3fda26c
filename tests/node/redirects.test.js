'use strict'
// The shared redirect matrix (tests/vectors/redirects.json) for every Node path — the core's call,
// client.fetch, the undici interceptor and the axios interceptors: no credential (the token, the caller's
// Cookie and Proxy-Authorization) follows a redirect to another origin; within the origin the token stays.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const dns = require('node:dns')
const fs = require('node:fs')
const https = require('node:https')
const path = require('node:path')

const undici = require('undici')
const axios = require('axios')

const { bearerInterceptor } = require('../../node/undici')
const { useBearerAuth } = require('../../node/axios')
const { TokenClient } = require('../../node')
const { MockAuthServer } = require('../../node/testing')

const MATRIX = JSON.parse(fs.readFileSync(path.join(__dirname, '../vectors/redirects.json'), 'utf8'))
const CALLER_HEADERS = { cookie: 'session=caller-cookie', 'proxy-authorization': 'Basic cHJveHk6c2VjcmV0' }

/** api.localhost is this host, as the matrix says; for this process only. */
function lookup (hostname, options, callback) {
  const host = hostname.toLowerCase().endsWith('.localhost') ? '127.0.0.1' : hostname
  return dns.lookup(host, options, callback)
}

let servers
let client

before(async () => {
  const [a, b, t] = await Promise.all([MockAuthServer.start(), MockAuthServer.start(), MockAuthServer.start({ tls: true })])
  servers = { a, b, t }
  // Global fetch and undici trust the HTTPS mock and resolve api.localhost through this dispatcher.
  undici.setGlobalDispatcher(new undici.Agent({ connect: { ca: t.caPem, lookup } }))
  client = new TokenClient({ tokenUrl: a.tokenUrl, clientId: 'demo-client', clientSecret: 'demo-secret', caBundle: t.caPem })
})

after(() => {
  for (const s of Object.values(servers ?? {})) s.close()
})

function fill (text) {
  let out = text
  for (const [name, server] of Object.entries(servers)) out = out.replaceAll(`{${name}}`, new URL(server.url).port)
  return out
}

function redirectUrl (kase, landing) {
  const url = new URL(`${fill(kase.from)}/api/redirect`)
  url.searchParams.set('to', `${fill(kase.to)}${landing}`)
  url.searchParams.set('status', '307')
  return url.toString()
}

const PATHS = {
  'core call': async (url) => {
    await client.call('GET', url, { headers: CALLER_HEADERS })
  },
  fetch: async (url) => {
    const res = await client.fetch(url, { headers: CALLER_HEADERS })
    await res.arrayBuffer()
  },
  undici: async (url) => {
    const origin = new URL(url).origin
    const agent = new undici.Agent({ connect: { ca: servers.t.caPem, lookup } })
      .compose(undici.interceptors.redirect({ maxRedirections: 5 }), bearerInterceptor(client, { origins: [origin] }))
    const res = await undici.request(url, { dispatcher: agent, headers: CALLER_HEADERS })
    await res.body.arrayBuffer()
    await agent.close()
  },
  axios: async (url) => {
    const api = axios.create({
      httpsAgent: new https.Agent({ ca: servers.t.caPem }),
      lookup,
      validateStatus: () => true,
    })
    useBearerAuth(api, client)
    await api.get(url, { headers: CALLER_HEADERS })
  },
}

for (const [pathName, send] of Object.entries(PATHS)) {
  MATRIX.cases.forEach((kase, i) => {
    test(`${pathName}: ${kase.name}`, async () => {
      const landing = `/api/landing-${i}-${pathName.replaceAll(' ', '-')}`
      await send(redirectUrl(kase, landing))
      const arrived = servers[kase.target].apiRequests().filter((r) => r.path === landing)
      if (kase.keeps) {
        assert.ok(arrived.length > 0, 'followed within the origin')
        const auth = arrived.at(-1).headers.find(([n]) => n === 'authorization')
        assert.deepEqual(auth, ['authorization', `Bearer ${await client.getToken()}`])
        return
      }
      // The core does not follow a redirect that leaves the origin; the libraries do, without credentials.
      assert.equal(arrived.length, pathName === 'core call' ? 0 : 1, 'requests that reached the target')
      for (const r of arrived) {
        const leaked = r.headers.map(([n]) => n).filter((n) => MATRIX.credential_headers.includes(n))
        assert.deepEqual(leaked, [], `${leaked.join(', ')} reached the other origin`)
      }
    })
  })
}

test('the matrix covers what the issue names', () => {
  const names = new Set(MATRIX.cases.map((c) => c.name))
  for (const n of ['other port', 'other host', 'subdomain', 'https to http', 'http to https', 'case of the host']) {
    assert.ok(names.has(n), n)
  }
})
