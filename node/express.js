'use strict'
// m2m-auth for Express: a middleware that lets a request through only with a valid access token (and what the
// route asks of it), puts the token's claims on `req.auth`, and otherwise answers 401/403/503 with the
// RFC 6750 `WWW-Authenticate` challenge and a JSON body { error, error_description }.
//
//   const { Verifier } = require('m2m-auth')
//   const { requireToken } = require('m2m-auth/express')
//   const verifier = new Verifier({ issuer: 'https://idp.example/acme', audience: 'payments-api', realm: 'payments' })
//   app.get('/payments', requireToken(verifier, { scopes: ['payments.read'] }), (req, res) => {
//     res.json({ client: req.auth.clientId })
//   })
//
// Behind a proxy that terminates mutual TLS, name the header it passes the client certificate in
// (`clientCertHeader: 'x-client-cert'`); otherwise the certificate of the server's own TLS connection is used.

const { protector, answerOf } = require('./protect')

/** Express middleware: `req.auth` = the Claims, or the error answer. Options: scopes, anyScopes, clientIds,
 *  claims, policy, clientCertHeader. The route's Policy is built now, once. */
function requireToken(verifier, options = {}) {
  const protect = protector(verifier, options)
  return function m2mAuthRequireToken(req, res, next) {
    // Returned so that Express 5 passes a throw in a later synchronous step to its error handler.
    return protect(req).then(
      (claims) => {
        req.auth = claims
        next()
      },
      (err) => {
        const answer = answerOf(err, verifier)
        if (answer === undefined) return next(err)
        res.status(answer.status).set(answer.headers).json(answer.body)
      },
    )
  }
}

module.exports = { requireToken }
