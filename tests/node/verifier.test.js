'use strict'
// The Node Verifier's own part: a token the core accepted is answered again from the package's mirror until
// the use-by the core gave, for the route policies it met; a policy it did not meet, a certificate-bound
// token and an expired one always go back to the core. The checks themselves are the shared vectors'.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { setTimeout: sleep } = require('node:timers/promises')

const { Verifier, Policy, TokenInvalid, InsufficientScope } = require('../../node')
const { MockAuthServer, selfSignedCertificate } = require('../../node/testing')

let mock
before(async () => { mock = await MockAuthServer.start() })
after(() => mock.close())

async function mint(body = {}) {
  const answer = await fetch(`${mock.url}/mock/tokens`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  })
  assert.equal(answer.status, 200)
  return (await answer.json()).token
}

test('a repeated token is answered with the same frozen claims', async () => {
  const verifier = new Verifier({ issuer: mock.issuer, audience: mock.issuer })
  const token = await mint()
  const first = await verifier.verify(token)
  const again = await verifier.verify(token)
  assert.equal(again, first)
  assert.ok(Object.isFrozen(first) && Object.isFrozen(first.claims) && Object.isFrozen(first.scopes))
  assert.throws(() => { first.scopes.push('admin') }, TypeError)
})

test('a policy the token met is remembered with it; one it did not meet is asked every time', async () => {
  const verifier = new Verifier({ issuer: mock.issuer, audience: mock.issuer })
  const token = await mint({ claims: { scope: 'orders.read' } })
  const read = Policy.allScopes(['orders.read'])
  const write = Policy.allScopes(['orders.write'])
  assert.equal((await verifier.verify(token, { policy: read })).clientId, 'svc-vectors')
  assert.equal((await verifier.verify(token, { policy: read })).clientId, 'svc-vectors')
  for (let i = 0; i < 3; i++) {
    await assert.rejects(verifier.verify(token, { policy: write }), InsufficientScope)
  }
  // Another Policy object with the same requirement is its own policy: checked by the core, and passes.
  assert.equal((await verifier.verify(token, { policy: Policy.allScopes(['orders.read']) })).clientId, 'svc-vectors')
})

test('a certificate-bound token is checked against the request every time', async () => {
  const verifier = new Verifier({ issuer: mock.issuer, audience: mock.issuer })
  const cert = selfSignedCertificate('CN=mirror')
  const other = selfSignedCertificate('CN=other')
  const token = await mint({ claims: { cnf: { 'x5t#S256': cert.x5tS256 } } })
  assert.equal((await verifier.verify(token, { clientCert: cert.certPem })).clientId, 'svc-vectors')
  await assert.rejects(verifier.verify(token), TokenInvalid)
  await assert.rejects(verifier.verify(token, { clientCert: other.certPem }), TokenInvalid)
  assert.equal((await verifier.verify(token, { clientCert: cert.certPem })).clientId, 'svc-vectors')
})

test('a mirrored token is refused once its use-by has passed', async () => {
  const verifier = new Verifier({ issuer: mock.issuer, audience: mock.issuer, leewayMs: 0 })
  const token = await mint({ exp_in: 2 })
  await verifier.verify(token)
  await verifier.verify(token)
  await sleep(2100)
  await assert.rejects(verifier.verify(token), (e) => e instanceof TokenInvalid && /expired/.test(e.message))
})
