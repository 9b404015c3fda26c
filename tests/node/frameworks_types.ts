// Type checks of m2m-auth/express and m2m-auth/fastify as a user writes them (tsc --strict, no emit).
import express from 'express'
import Fastify from 'fastify'
import { Policy, Verifier } from '../../node'
import type { Claims } from '../../node'
import { requireToken } from '../../node/express'
import type { RequireTokenOptions } from '../../node/express'
import m2mAuth, { requireToken as fastifyRequireToken } from '../../node/fastify'
import type { M2MAuthOptions, RequireTokenHook } from '../../node/fastify'

const verifier = new Verifier({ issuer: 'https://idp.example/acme', audience: 'payments-api', realm: 'payments' })

export function expressApp(): express.Express {
  const app = express()
  const options: RequireTokenOptions = { scopes: ['payments.read'], clientCertHeader: 'x-client-cert' }
  app.get('/payments', requireToken(verifier, options), (req, res) => {
    const claims: Claims | undefined = req.auth
    res.json({ client: claims?.clientId, scopes: req.auth?.scopes ?? [] })
  })
  app.get('/payments/:id', requireToken(verifier, { anyScopes: ['payments.read', 'payments.admin'] }), (req, res) => {
    const id = req.params.id
    res.json({ id, until: req.auth?.expiresAt.toISOString() })
  })
  app.use('/admin', requireToken(verifier, {
    clientIds: ['billing-service'],
    claims: { tenant: 'acme' },
    policy: Policy.claimOneOf('env', ['prod', 'staging']).and(Policy.allScopes(['admin'])),
  }))
  app.use(requireToken(verifier))
  // @ts-expect-error scopes is a list
  requireToken(verifier, { scopes: 'payments.read' })
  // @ts-expect-error a misspelt option
  requireToken(verifier, { scope: ['payments.read'] })
  // @ts-expect-error a Verifier is required
  requireToken({ issuer: 'x' })
  return app
}

export async function fastifyApp(): Promise<void> {
  const app = Fastify()
  const options: M2MAuthOptions = { verifier, clientCertHeader: 'x-client-cert' }
  await app.register(m2mAuth, options)
  await app.register(m2mAuth, { verifier })

  app.get('/payments', { preHandler: app.requireToken({ scopes: ['payments.read'] }) }, async (request) => {
    const claims: Claims | null = request.auth
    return { client: claims?.clientId ?? null }
  })
  // Typed routes, hooks arrays and the standalone hook.
  app.get<{ Params: { id: string } }>('/payments/:id', {
    preHandler: [app.requireToken({ clientIds: ['billing-service'] }), fastifyRequireToken(verifier, { policy: Policy.anyScope(['a', 'b']) })],
  }, async (request) => ({ id: request.params.id, sub: request.auth?.subject }))
  app.addHook('preHandler', app.requireToken())
  const hook: RequireTokenHook = fastifyRequireToken(verifier)
  app.post('/refunds', { preHandler: hook }, async (request, reply) => {
    if (request.auth === null) return reply.code(500).send()
    return { scopes: request.auth.scopes }
  })

  // @ts-expect-error the plugin needs a verifier
  await app.register(m2mAuth, {})
  // @ts-expect-error a misspelt option
  app.requireToken({ scope: ['payments.read'] })
}
