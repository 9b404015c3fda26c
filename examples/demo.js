// m2m-auth in Node, against the bundled mock authorization server (no network, no account needed).
'use strict'

const { TokenClient, OAuthError, Verifier, Policy, InsufficientScope } = require('../node')
const { MockAuthServer } = require('../node/testing')

async function main() {
  const server = await MockAuthServer.start() // registers demo-client / demo-secret
  console.log(`mock authorization server at ${server.url}`)
  const client = new TokenClient({
    tokenUrl: server.tokenUrl,
    clientId: 'demo-client',
    clientSecret: 'demo-secret',
    scopes: ['payments.read'],
  })
  console.log(String(client)) // the secret is never shown

  // 200 Promises ask at once: the token endpoint sees one request.
  const tokens = new Set(await Promise.all(Array.from({ length: 200 }, () => client.getToken())))
  const token = await client.fetchToken()
  const claims = server.verifyAccessToken(token.accessToken)
  console.log(`200 callers got ${tokens.size} token; token endpoint requests: ${server.tokenRequests()}`)
  console.log(String(token))
  console.log(`claims: sub=${claims.sub} scope=${claims.scope} aud=${claims.aud}`)

  // The receiving side: the API checks the token (signature with the issuer's JWKS, claims, scopes).
  const verifier = new Verifier({ issuer: server.issuer, audience: server.issuer, realm: 'payments' })
  const checked = await verifier.verify(token.accessToken)
  console.log(`verified: client=${checked.clientId} scopes=${checked.scopes.join(' ')}`)
  try {
    await verifier.verify(token.accessToken, { policy: Policy.allScopes(['payments.write']) })
  } catch (e) {
    if (!(e instanceof InsufficientScope)) throw e
    console.log(`route needs payments.write -> ${e.status} WWW-Authenticate: ${e.wwwAuthenticate(verifier.realm)}`)
  }

  try {
    await new TokenClient({ tokenUrl: server.tokenUrl, clientId: 'demo-client', clientSecret: 'not-the-secret' }).getToken()
  } catch (e) {
    if (!(e instanceof OAuthError)) throw e
    console.log(`wrong secret -> ${e.name} code=${e.code} error=${e.error} status=${e.status}`)
  }
  server.close()
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
