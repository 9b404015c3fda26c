'use strict'
// Private: what m2m-auth/express and m2m-auth/fastify share — reading the token and the client certificate
// from a Node request, verifying them, and the answer to a request that fails. The frameworks only adapt
// their hooks to this.
//
//   const { protector, answerOf } = require('./protect')
//   const protect = protector(verifier, { scopes: ['payments.read'], clientCertHeader: 'x-client-cert' })
//   try { req.auth = await protect(req) } catch (e) { const a = answerOf(e, verifier); if (!a) throw e; … }
//
// Reading the Authorization header and decoding a certificate are the core's (bearerToken, verify): the rules
// are shared with the Python package. This file only finds the raw values on the request.

const { Verifier, Policy, bearerToken, forwardedCertificate } = require('./verifier')
const { ConfigError, VerificationError } = require('./errors')

// The route options. Anything else is refused: a misspelt `scope` silently dropped would leave a route open
// to every valid token.
const OPTIONS = new Set(['scopes', 'anyScopes', 'clientIds', 'claims', 'policy', 'clientCertHeader'])

/** An async function of a Node request (http.IncomingMessage) → the token's Claims, or a thrown
 *  VerificationError. Checks the options and builds the route's Policy once, here, not per request. */
function protector(verifier, options = {}) {
  if (!(verifier instanceof Verifier)) {
    throw new ConfigError('requireToken needs a Verifier (new Verifier({ issuer, audience }))', { field: 'verifier' })
  }
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new ConfigError('requireToken options must be an object', { field: 'options' })
  }
  for (const key of Object.keys(options)) {
    if (!OPTIONS.has(key)) {
      throw new ConfigError(`requireToken: unknown option ${JSON.stringify(key)} (one of ${[...OPTIONS].join(', ')})`, { field: key })
    }
  }
  const { clientCertHeader, ...requirements } = options
  if (clientCertHeader !== undefined && (typeof clientCertHeader !== 'string' || clientCertHeader === '')) {
    throw new ConfigError('clientCertHeader must be a header name, e.g. "x-client-cert"', { field: 'clientCertHeader' })
  }
  const policy = Policy.of(requirements)
  const certHeader = clientCertHeader?.toLowerCase()

  return async function protect(req) {
    const token = bearerToken(authorizationOf(req))
    const clientCert = certHeader === undefined ? tlsCertificateOf(req) : headerCertificateOf(req, certHeader)
    return verifier.verify(token, { clientCert, policy })
  }
}

/** The Authorization header as the server received it. Node keeps only the first of several; they are joined
 *  instead, as a WSGI or ASGI server joins them, so that the core rejects such a request here too. */
function authorizationOf(req) {
  const all = req.headersDistinct?.authorization
  if (Array.isArray(all)) return all.join(', ')
  return req.headers?.authorization
}

/** The certificate a trusted proxy put in `name`: which copies count is the core's rule (exactly one; a second
 *  came from the client). Whatever the text, the core decodes it (garbage: no certificate). */
function headerCertificateOf(req, name) {
  const all = req.headersDistinct?.[name]
  const values = Array.isArray(all) ? all : (req.headers?.[name] === undefined ? [] : [req.headers[name]])
  return forwardedCertificate(values.filter((v) => typeof v === 'string'))
}

/** The certificate the client presented on this server's TLS connection, DER. Binding (RFC 8705) compares its
 *  thumbprint only, and the handshake proved the client holds its key, so a certificate the server did not
 *  verify against a CA (self-signed, requestCert without rejectUnauthorized) is still the one that counts. */
function tlsCertificateOf(req) {
  const socket = req.socket
  if (typeof socket?.getPeerCertificate !== 'function') return undefined
  const raw = socket.getPeerCertificate()?.raw
  return Buffer.isBuffer(raw) && raw.length > 0 ? raw : undefined
}

/** The answer to a request that failed with `err`: { status, headers, body }, or undefined when `err` is not
 *  a VerificationError (the framework's error handling takes it). The body never holds the token. */
function answerOf(err, verifier) {
  if (!(err instanceof VerificationError)) return undefined
  return {
    status: err.status,
    headers: { 'WWW-Authenticate': err.wwwAuthenticate(verifier.realm) },
    // `error` stays null for a request without a token and for a 503, as RFC 6750 §3.1 has no code for them.
    body: { error: err.error, error_description: err.errorDescription },
  }
}

module.exports = { protector, answerOf }
