'use strict'
// An OAuth 2.0 authorization server for your tests, offline: the bundled mock server (the same one
// `m2m-auth mock` runs), on 127.0.0.1 inside this process. Real signed JWTs, real client authentication,
// request counters and fault injection, and a protected API that checks the tokens.

const fs = require('node:fs')
const native = require('./native')

function configJson(config) {
  if (config === undefined || config === null) return undefined
  if (typeof config === 'string') {
    return config.trimStart().startsWith('{') ? config : fs.readFileSync(config, 'utf8')
  }
  return JSON.stringify(config)
}

class MockAuthServer {
  #native

  /** Starts a server. `config`: an object in the mock-server JSON format, a path to such a file, a JSON string,
   *  or nothing for one client `demo-client` / `demo-secret`. */
  static async start(config) {
    const server = new MockAuthServer()
    server.#native = await native.NativeMockServer.start(configJson(config))
    return server
  }

  get url() { return this.#native.url }
  get issuer() { return this.#native.issuer }
  get tokenUrl() { return this.#native.tokenUrl }
  /** The token endpoint of the mutual-TLS alias; a server started with `{ tls: true }` has one. */
  get mtlsTokenUrl() { return this.#native.mtlsTokenUrl ?? null }
  /** With TLS: the CA certificate (PEM) that signed the server's certificate and issues client certificates;
   *  give it to clients as `caBundle`. */
  get caPem() { return this.#native.caPem ?? null }

  /** A client certificate for `subject` (e.g. 'CN=svc,O=Acme') from the server's CA: { certPem, keyPem }. */
  issueClientCertificate(subject) {
    const [certPem, keyPem] = this.#native.issueClientCertificate(subject)
    return { certPem, keyPem }
  }

  /** Registers (or replaces) a client while the server runs, e.g. with a key a test just generated:
   *  { client_id, auth_methods: ['private_key_jwt'], jwks: { keys: [key.publicJwk] } }. */
  registerClient(client) { this.#native.registerClient(JSON.stringify(client)) }

  supportedAuthMethods() { return this.#native.supportedAuthMethods() }

  /** Requests the token endpoint saw since start or reset(), for one client or all. */
  tokenRequests(clientId) { return this.#native.tokenRequests(clientId) }
  tokensIssued() { return this.#native.tokensIssued() }

  /** Makes the next token requests misbehave, in order: { count, delay_ms, body_delay_ms, status,
   *  headers, body, expires_in, omit_expires_in, token_type, extra }. */
  pushFaults(faults) { this.#native.pushFaults(JSON.stringify(faults)) }

  /** The token requests received: { method, path, headers, form, client_id, outcome }. */
  requests() { return JSON.parse(this.#native.requestsJson()) }

  /** A protected resource (API) that accepts this server's access tokens as a real one does, e.g.
   *  'http://127.0.0.1:54321/api': any method, any path below it. A valid `Authorization: Bearer` token → 200
   *  JSON { ok: true, sub, scope, method, path, query, body, bound }; no token → 401 with
   *  `WWW-Authenticate: Bearer realm="m2m-auth-mock"`; a bad, expired, other-audience or wrongly
   *  certificate-bound token → 401 error="invalid_token"; `?require_scope=payments.write` needs that scope
   *  (403 error="insufficient_scope" without it). `${apiUrl}/redirect?to=<url>&status=307` redirects (301,
   *  302, 303, 307, 308) whatever the token. */
  get apiUrl() { return this.#native.apiUrl }
  /** The API on the mutual-TLS alias (`{ tls: true }`), where a certificate-bound token is accepted from a
   *  client presenting its certificate. */
  get mtlsApiUrl() { return this.#native.mtlsApiUrl ?? null }

  /** The next `count` API requests whose token is otherwise valid get 401 invalid_token, "the access token
   *  expired", as a real API answers a token revoked early. Replaces any count still pending; 0 cancels. */
  rejectNextApiTokens(count) { this.#native.rejectNextApiTokens(count) }
  /** The API requests received, oldest first: { method, path, query, headers, body, client_cert_x5t_s256,
   *  token_sub, outcome }. */
  apiRequests() { return JSON.parse(this.#native.apiRequestsJson()) }
  /** API requests since start or reset(), whatever their outcome. */
  apiRequestCount() { return this.#native.apiRequestCount() }

  setTokenLifetime(seconds) { this.#native.setTokenLifetime(seconds) }
  /** Clears counters, pending faults, recorded token and API requests and pending API rejections. */
  reset() { this.#native.reset() }

  /** Checks a token's signature and expiry and returns its claims; throws otherwise. */
  verifyAccessToken(token) { return JSON.parse(this.#native.verifyAccessToken(token)) }

  close() { this.#native.close() }
}

// `await using server = await MockAuthServer.start()` where the runtime supports explicit resource management.
if (typeof Symbol.asyncDispose === 'symbol') {
  MockAuthServer.prototype[Symbol.asyncDispose] = async function () { this.close() }
}

/** A new key pair for private_key_jwt ('RS256', 'PS256' or 'ES256'): { alg, kid, pkcs8Pem, traditionalPem
 *  (PKCS#1 or SEC1), privateJwk, publicJwk (register this one) }. Generated now; nothing is stored. */
function generateSigningKey(alg = 'ES256') {
  const k = JSON.parse(native.generateSigningKey(alg))
  return {
    alg: k.alg, kid: k.kid, pkcs8Pem: k.pkcs8_pem, traditionalPem: k.traditional_pem,
    privateJwk: k.private_jwk, publicJwk: k.public_jwk,
  }
}

/** A new self-signed certificate for self_signed_tls_client_auth: { certPem, keyPem, jwk (register it: it
 *  carries the certificate in x5c), x5tS256 }. */
function selfSignedCertificate(subject) {
  const c = JSON.parse(native.selfSignedCertificate(subject))
  return { certPem: c.cert_pem, keyPem: c.key_pem, jwk: c.jwk, x5tS256: c.x5t_s256 }
}

module.exports = { MockAuthServer, generateSigningKey, selfSignedCertificate }
