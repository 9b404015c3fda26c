// Types of m2m-auth/fastify: the plugin (fastify.requireToken, request.auth) and the standalone preHandler.
//
//   await fastify.register(m2mAuth, { verifier })
//   fastify.get('/payments', { preHandler: fastify.requireToken({ scopes: ['payments.read'] }) },
//     async (request) => ({ client: request.auth?.clientId }))
import type { FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify'
import type { Claims, RouteRequirements, Verifier } from './index'

declare module 'fastify' {
  interface FastifyInstance {
    /** A preHandler that lets a request through only with a valid token meeting `options`. */
    requireToken(options?: m2mAuth.RequireTokenOptions): m2mAuth.RequireTokenHook
  }
  interface FastifyRequest {
    /** The access token's claims once a requireToken hook let the request through; null before. */
    auth: Claims | null
  }
}

declare namespace m2mAuth {
  export interface RequireTokenOptions extends RouteRequirements {
    /** The header a trusted proxy passes the client certificate in (PEM, URL-encoded PEM or base64 DER), e.g.
     *  'x-client-cert'. Without it, the certificate of the server's own TLS connection. */
    clientCertHeader?: string
  }

  export interface M2MAuthOptions {
    verifier: Verifier
    /** The default of every route's `clientCertHeader`. */
    clientCertHeader?: string
  }

  /** An async preHandler hook: sets `request.auth`, or answers 401/403/503 with `WWW-Authenticate` and
   *  `{ error, error_description }`. */
  export type RequireTokenHook = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>

  export const m2mAuth: M2MAuthPlugin
  export { m2mAuth as default }

  /** The preHandler without the plugin (then `request.auth` is set on the request, undecorated). */
  export function requireToken(verifier: Verifier, options?: RequireTokenOptions): RequireTokenHook
}

type M2MAuthPlugin = FastifyPluginCallback<m2mAuth.M2MAuthOptions>
/** The plugin: `fastify.register(m2mAuth, { verifier })`. Also `import { m2mAuth } …` and the default export. */
declare function m2mAuth(...params: Parameters<M2MAuthPlugin>): ReturnType<M2MAuthPlugin>
export = m2mAuth
