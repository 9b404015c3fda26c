'use strict'
// m2m-auth for Fastify: a plugin that gives the instance `requireToken(options)`, a preHandler hook that lets a
// request through only with a valid access token (and what the route asks of it), sets `request.auth` to the
// token's claims, and otherwise answers 401/403/503 with the RFC 6750 `WWW-Authenticate` challenge and a JSON
// body { error, error_description }.
//
//   const { Verifier } = require('m2m-auth')
//   const m2mAuth = require('m2m-auth/fastify')
//   await fastify.register(m2mAuth, { verifier: new Verifier({ issuer, audience: 'payments-api', realm: 'payments' }) })
//   fastify.get('/payments', { preHandler: fastify.requireToken({ scopes: ['payments.read'] }) },
//     async (request) => ({ client: request.auth.clientId }))
//
// Without the plugin: `const { requireToken } = require('m2m-auth/fastify')`, `preHandler: requireToken(verifier, …)`.
// Behind a proxy that terminates mutual TLS, give `clientCertHeader` (to the plugin, for every route, or per
// route); otherwise the certificate of the server's own TLS connection is used.

const { ConfigError } = require('./errors')
const { protector, answerOf } = require('./protect')

/** A preHandler hook: `request.auth` = the Claims, or the error answer. Options: scopes, anyScopes, clientIds,
 *  claims, policy, clientCertHeader. The route's Policy is built now, once. */
function requireToken(verifier, options = {}) {
  const protect = protector(verifier, options)
  return async function m2mAuthRequireToken(request, reply) {
    let claims
    try {
      // The Node request: its headersDistinct and TLS socket, as Express reads them.
      claims = await protect(request.raw)
    } catch (err) {
      const answer = answerOf(err, verifier)
      if (answer === undefined) throw err
      return reply.code(answer.status).headers(answer.headers).send(answer.body)
    }
    request.auth = claims
  }
}

/** The plugin: `fastify.register(m2mAuth, { verifier, clientCertHeader? })`. */
function m2mAuth(fastify, options, done) {
  const { verifier, clientCertHeader } = options ?? {}
  // Checked at registration, not at the first route that asks for a token; avvio takes the error by done().
  try {
    protector(verifier, { clientCertHeader })
  } catch (err) {
    return done(err)
  }
  fastify.decorateRequest('auth', null)
  fastify.decorate('requireToken', (routeOptions = {}) => {
    if (routeOptions === null || typeof routeOptions !== 'object' || Array.isArray(routeOptions)) {
      throw new ConfigError('requireToken options must be an object', { field: 'options' })
    }
    return requireToken(verifier, clientCertHeader === undefined ? routeOptions : { clientCertHeader, ...routeOptions })
  })
  done()
}

// What fastify-plugin would set, without the dependency: skip encapsulation, so that the decorators reach the
// instance that registered the plugin (and its routes); a name for errors and the plugin tree.
m2mAuth[Symbol.for('skip-override')] = true
m2mAuth[Symbol.for('fastify.display-name')] = 'm2m-auth'
m2mAuth[Symbol.for('plugin-meta')] = { name: 'm2m-auth', fastify: '>=5' }

module.exports = m2mAuth
module.exports.default = m2mAuth
module.exports.m2mAuth = m2mAuth
module.exports.requireToken = requireToken
