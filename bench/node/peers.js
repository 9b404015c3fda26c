'use strict'
// The Node implementations compared: m2m-auth, its peers used as their own docs show, and the floor.
//
// Each implementation's `create(ep)` resolves to one fresh client (empty cache) as `{ get }`: `get()` is the
// one call a service makes to get the current token, awaited. Discovery (openid-client, oauth4webapi)
// happens in `create`, as a service does it once at start-up.
//
// Hand-written caches re-fetch once the token has expired (no early margin), as the Python ones do.

const path = require('node:path')

// m2m-auth: the release build staged by bench/run.sh (package files + the release .node addon).
const M2M_AUTH = path.resolve(__dirname, '../.build/m2m-auth-node')

const floor = {
  name: 'floor',
  label: 'floor: awaited async function returning a property',
  floor: true,
  async create () {
    const holder = { token: 'eyJ.floor.token' }
    async function getToken () { return holder.token }
    return { get: getToken }
  },
}

const m2mAuth = {
  name: 'm2m-auth',
  label: 'm2m-auth await getToken()',
  module: M2M_AUTH,
  async create (ep) {
    const { TokenClient } = require(M2M_AUTH)
    const client = new TokenClient({ tokenUrl: ep.tokenUrl, clientId: ep.clientId, clientSecret: ep.clientSecret })
    return { get: () => client.getToken(), client }
  },
}

// m2m-auth with the shared cache: `new TokenClient({ …, cacheUrl: 'redis://…' })`. Only in the fleet metric and
// the cached get with Redis configured (FLEET, not ALL), so that the other metrics stay as they were. The
// endpoint brings the Redis URL and a prefix of the measurement's own (see metrics.freshCache).
const m2mAuthRedis = {
  name: 'm2m-auth-redis',
  label: 'm2m-auth await getToken(), cacheUrl: redis://…',
  module: M2M_AUTH,
  async create (ep) {
    const { TokenClient } = require(M2M_AUTH)
    const client = new TokenClient({
      tokenUrl: ep.tokenUrl, clientId: ep.clientId, clientSecret: ep.clientSecret, cacheUrl: ep.cacheUrl, cachePrefix: ep.cachePrefix,
    })
    return { get: () => client.getToken(), client }
  },
}

const simpleOauth2 = {
  name: 'simple-oauth2',
  label: 'simple-oauth2 ClientCredentials',
  module: 'simple-oauth2',
  async create (ep) {
    const { ClientCredentials } = require('simple-oauth2')
    const url = new URL(ep.tokenUrl)
    const client = new ClientCredentials({
      client: { id: ep.clientId, secret: ep.clientSecret },
      auth: { tokenHost: url.origin, tokenPath: url.pathname },
    })
    let accessToken
    async function getToken () {
      if (!accessToken || accessToken.expired()) accessToken = await client.getToken({})
      return accessToken.token.access_token
    }
    return { get: getToken }
  },
}

const openidClient = {
  name: 'openid-client',
  label: 'openid-client 6 + hand-written cache',
  module: 'openid-client',
  esm: true,
  async create (ep) {
    const client = await import('openid-client')
    // Plain http:// is refused unless allowed; the mock is on loopback.
    const config = await client.discovery(new URL(ep.issuer), ep.clientId, ep.clientSecret, undefined, {
      execute: [client.allowInsecureRequests],
    })
    let cached
    async function getToken () {
      if (!cached || cached.expiresAt <= Date.now()) {
        const tokens = await client.clientCredentialsGrant(config)
        cached = { token: tokens.access_token, expiresAt: Date.now() + tokens.expiresIn() * 1000 }
      }
      return cached.token
    }
    return { get: getToken }
  },
}

const oauth4webapi = {
  name: 'oauth4webapi',
  label: 'oauth4webapi + hand-written cache',
  module: 'oauth4webapi',
  esm: true,
  async create (ep) {
    const oauth = await import('oauth4webapi')
    const insecure = { [oauth.allowInsecureRequests]: true } // plain http:// on loopback
    const issuer = new URL(ep.issuer)
    const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, insecure))
    const client = { client_id: ep.clientId }
    const clientAuth = oauth.ClientSecretPost(ep.clientSecret)
    let cached
    async function getToken () {
      if (!cached || cached.expiresAt <= Date.now()) {
        const response = await oauth.clientCredentialsGrantRequest(as, client, clientAuth, new URLSearchParams(), insecure)
        const result = await oauth.processClientCredentialsResponse(as, client, response)
        cached = { token: result.access_token, expiresAt: Date.now() + result.expires_in * 1000 }
      }
      return cached.token
    }
    return { get: getToken }
  },
}

const vendorSnippet = {
  name: 'vendor-snippet',
  label: 'vendor snippet: fetch + naive cache',
  async create (ep) {
    let cached
    async function getToken () {
      if (cached && Date.now() < cached.expiresAt) return cached.token
      const res = await fetch(ep.tokenUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: ep.clientId, client_secret: ep.clientSecret }),
      })
      if (!res.ok) throw new Error(`token endpoint answered ${res.status}`)
      const body = await res.json()
      cached = { token: body.access_token, expiresAt: Date.now() + body.expires_in * 1000 }
      return cached.token
    }
    return { get: getToken }
  },
}

const ALL = [floor, m2mAuth, simpleOauth2, openidClient, oauth4webapi, vendorSnippet]
// The fleet metric: m2m-auth with Redis and with its memory cache only, and every peer.
const FLEET = [m2mAuthRedis, m2mAuth, simpleOauth2, openidClient, oauth4webapi, vendorSnippet]
const BY_NAME = Object.fromEntries([...ALL, ...FLEET].map((impl) => [impl.name, impl]))

// ---------------------------------------------------------------------------------------------- verifiers
// The receiving side: a service checking the access tokens it is called with. Each verifier's `create(iss)`
// resolves to one fresh verifier (no keys fetched yet) as `{ verify }`: `verify(token)` is the one call a
// service makes per request, awaited, resolving to the claims (or rejecting). jose is configured to make the
// checks m2m-auth makes by default: a key of the issuer's JWKS, ES256 only (m2m-auth accepts RS256, PS256,
// ES256 and EdDSA, never none or HMAC), iss, aud and exp required, nbf/iat not in the future, LEEWAY_SECS of
// clock difference (m2m-auth's default leeway). `iss`: { issuer, audience, jwksUri } (the metadata's).

const LEEWAY_SECS = 30
const ALGORITHMS = ['ES256']

const m2mAuthVerifier = {
  name: 'm2m-auth',
  label: 'm2m-auth await verifier.verify()',
  async create (iss) {
    const { Verifier } = require(M2M_AUTH)
    const verifier = new Verifier({ issuer: iss.issuer, audience: iss.audience })
    return { verify: (token) => verifier.verify(token), verifier }
  },
}

// jose 6 (ESM, Web Crypto; runs on Node 20, loaded with import()): createRemoteJWKSet(jwksUri) — keys cached,
// a refetch for an unknown kid at most every 30 s (cooldownDuration) — and jwtVerify, as its docs show.
const joseVerifier = {
  name: 'jose',
  label: 'jose createRemoteJWKSet + jwtVerify',
  async create (iss) {
    const { createRemoteJWKSet, jwtVerify } = await import('jose')
    const jwks = createRemoteJWKSet(new URL(iss.jwksUri))
    const options = {
      issuer: iss.issuer, audience: iss.audience, algorithms: ALGORITHMS, clockTolerance: LEEWAY_SECS, requiredClaims: ['exp'],
    }
    async function verify (token) { return (await jwtVerify(token, jwks, options)).payload }
    return { verify }
  },
}

const VERIFIERS = [m2mAuthVerifier, joseVerifier]

module.exports = { ALL, FLEET, BY_NAME, M2M_AUTH, VERIFIERS, LEEWAY_SECS, ALGORITHMS }
