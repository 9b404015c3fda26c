// Types of m2m-auth/express: the requireToken middleware, and `req.auth` on Express requests.
//
//   app.get('/payments', requireToken(verifier, { scopes: ['payments.read'] }), (req, res) => {
//     res.json({ client: req.auth?.clientId })
//   })
import type { RequestHandler } from 'express'
import type { Claims, RouteRequirements, Verifier } from './index'

export interface RequireTokenOptions extends RouteRequirements {
  /** The header a trusted proxy passes the client certificate in (PEM, URL-encoded PEM or base64 DER), e.g.
   *  'x-client-cert'. Without it, the certificate of the server's own TLS connection. */
  clientCertHeader?: string
}

/** Lets a request through only with a valid token meeting `options`; sets `req.auth`. Otherwise answers
 *  401/403/503 with `WWW-Authenticate` and `{ error, error_description }`. */
export declare function requireToken(verifier: Verifier, options?: RequireTokenOptions): RequestHandler

declare global {
  namespace Express {
    interface Request {
      /** The access token's claims, once requireToken let the request through. */
      auth?: Claims
    }
  }
}
