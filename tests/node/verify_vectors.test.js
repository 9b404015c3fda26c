'use strict'
// Runs every shared Verifier case in tests/vectors/verify/ against one mock authorization server (its counters
// reset per case), as the Rust runner (crates/m2m-auth/tests/verify_vectors.rs) does. The format is described
// in tests/vectors/README.md.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { setTimeout: sleep } = require('node:timers/promises')

const { Verifier, Policy, VerificationError } = require('../../node')
const { MockAuthServer, selfSignedCertificate } = require('../../node/testing')

const VECTORS = path.join(__dirname, '..', 'vectors')
const mockConfig = JSON.parse(fs.readFileSync(path.join(VECTORS, 'mock-server.json'), 'utf8'))
const KEYS = JSON.parse(fs.readFileSync(path.join(VECTORS, 'keys.json'), 'utf8'))
const caseFiles = fs.readdirSync(path.join(VECTORS, 'verify')).filter((f) => f.endsWith('.json')).sort()

/** A vector key no runner understands would silently test nothing. */
function known(what, object, keys) {
  const unknown = Object.keys(object).filter((k) => !keys.includes(k))
  assert.deepEqual(unknown, [], `unknown ${what} keys ${unknown}`)
}

function checkKeys(c) {
  known('case', c, KEYS.verify_case)
  known('verifier', c.verifier, KEYS.verifier)
  if (c.verifier.introspection) known('introspection', c.verifier.introspection, KEYS.introspection)
  for (const step of c.steps) {
    assert.ok(KEYS.verify_step[step.do], `unknown step ${step.do}`)
    known(`${step.do} step`, step, KEYS.verify_step[step.do])
    if (step.expect) {
      known('expect', step.expect, KEYS.verify_expect)
      if (step.expect.error) known('error', step.expect.error, KEYS.verify_error)
    }
  }
}

let mock
before(async () => { mock = await MockAuthServer.start(mockConfig) })
after(() => mock.close())

async function admin(p, body) {
  const answer = await fetch(mock.url + p, body === undefined
    ? {}
    : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  const json = await answer.json()
  assert.ok(answer.ok, `${p} answered ${answer.status}: ${JSON.stringify(json)}`)
  return json
}

function subst(v, x5t) {
  if (typeof v === 'string') return v.replaceAll('{issuer}', mock.issuer).replaceAll('{mock}', mock.url).replaceAll('{cert_x5t}', x5t)
  if (Array.isArray(v)) return v.map((x) => subst(x, x5t))
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, subst(x, x5t)]))
  return v
}

const camel = (name) => name.replace(/_([a-z])/g, (_, c) => c.toUpperCase())

/** Core setting names as Node options: camelCase, durations in ms; the introspection client's secret from
 *  mock-server.json. */
function verifierOf(spec) {
  const options = {}
  for (const [key, value] of Object.entries(spec)) {
    if (key === 'introspection') {
      const secret = mockConfig.clients.find((c) => c.client_id === value.client_id).client_secret
      Object.assign(options, { clientId: value.client_id, authMethod: value.auth_method, clientSecret: secret })
    } else if (key.endsWith('_ms')) {
      options[`${camel(key.slice(0, -3))}Ms`] = value
    } else {
      options[camel(key)] = value
    }
  }
  return new Verifier(options)
}

/** The JSON description, built with the public constructors. */
function policyOf(d) {
  if (d.all_scopes) return Policy.allScopes(d.all_scopes)
  if (d.any_scope) return Policy.anyScope(d.any_scope)
  if (d.client_ids) return Policy.clientIds(d.client_ids)
  if ('equals' in d) return Policy.claimEquals(d.claim, d.equals)
  if (d.one_of) return Policy.claimOneOf(d.claim, d.one_of)
  if (d.all_of) return Policy.allOf(d.all_of.map(policyOf))
  return Policy.anyOf(d.any_of.map(policyOf))
}

function checkClaims(claims, expect) {
  assert.equal(expect.error, undefined, `verified, expected ${JSON.stringify(expect.error)}`)
  if ('client_id' in expect) assert.equal(claims.clientId, expect.client_id)
  if (expect.scopes) assert.deepEqual(claims.scopes, expect.scopes)
  if (expect.audience) assert.deepEqual(claims.audience, expect.audience)
  for (const [name, value] of Object.entries(expect.claims ?? {})) assert.deepEqual(claims.claims[name], value, name)
  assert.ok(claims.expiresAt instanceof Date)
}

function checkError(e, expect, token) {
  if (!(e instanceof VerificationError)) throw e
  assert.ok(expect.error, `rejected (${e.message}), expected claims`)
  const want = expect.error
  assert.equal(e.name, want.kind, e.message)
  if ('status' in want) assert.equal(e.status, want.status)
  if ('error' in want) assert.equal(e.error, want.error)
  for (const part of want.message_contains ?? []) assert.ok(e.message.includes(part), `${e.message} lacks ${part}`)
  if (want.required_scopes) assert.deepEqual(e.requiredScopes, want.required_scopes)
  const challenge = e.wwwAuthenticate('vectors')
  if (want.www_authenticate) assert.equal(challenge, want.www_authenticate)
  if (token.length >= 8) assert.ok(!e.message.includes(token) && !challenge.includes(token), 'the error holds the token')
}

async function verifyOne(verifier, token, clientCert, policy, expect, times) {
  for (let i = 0; i < times; i++) {
    let claims
    try {
      claims = await verifier.verify(token, { clientCert, policy })
    } catch (e) {
      checkError(e, expect, token)
      continue
    }
    checkClaims(claims, expect)
  }
}

test('an unknown verify vector key fails the case', () => {
  for (const c of [{ verifier: { isuer: 'x' }, steps: [] }, { verifier: {}, steps: [{ do: 'verify', tokn: 't' }] }]) {
    assert.throws(() => checkKeys(c))
  }
  assert.ok(caseFiles.length >= 30, `expected the verify vectors, found ${caseFiles.length}`)
})

for (const file of caseFiles) {
  test(file.replace(/\.json$/, ''), async () => {
    const c = JSON.parse(fs.readFileSync(path.join(VECTORS, 'verify', file), 'utf8'))
    checkKeys(c)
    const cert = selfSignedCertificate('CN=vectors-cert')
    const other = selfSignedCertificate('CN=vectors-other')
    await admin('/mock/reset', {})
    const verifier = verifierOf(subst(c.verifier, cert.x5tS256))
    const tokens = {}
    for (const step of c.steps) {
      switch (step.do) {
        case 'mint':
          tokens[step.as] = (await admin('/mock/tokens', subst(step.token, cert.x5tS256))).tokens
          break
        case 'verify':
        case 'verify_all': {
          const all = 'literal' in step ? [step.literal] : tokens[step.token ?? 't']
          // `callers`: each token verified by that many requests at once.
          const batch = (step.do === 'verify' ? all.slice(0, 1) : all).flatMap((t) => Array(step.callers ?? 1).fill(t))
          // The certificate as a proxy header carries it (PEM text) for one, as DER for the other.
          const clientCert = { case: cert.certPem, other: Buffer.from(other.certPem.split('-----')[2].replace(/\s/g, ''), 'base64') }[step.client_cert]
          const policy = step.policy ? policyOf(step.policy) : undefined
          const expect = subst(step.expect, cert.x5tS256)
          await Promise.all(batch.map((t) => verifyOne(verifier, t, clientCert, policy, expect, step.times ?? 1)))
          break
        }
        case 'rotate_keys':
          await admin('/mock/keys/rotate', {})
          break
        case 'outage': {
          const { do: _, ...body } = step
          await admin('/mock/outage', body)
          break
        }
        case 'sleep':
          await sleep(step.ms)
          break
      }
    }
    const stats = await admin('/mock/stats')
    for (const counter of ['jwks_requests', 'introspection_requests', 'metadata_requests']) {
      if (counter in c) assert.equal(stats[counter], c[counter], counter)
    }
  })
}
