// Type-checked only (`npx tsc -p tests/node/tsconfig.json`), never run: a program that uses every type the
// npm package declares, the way a user would, plus `@ts-expect-error` lines proving wrong usage is rejected.
// It imports the package by its own name, so the "exports" map and its "types" conditions are checked too.

import {
  TokenClient,
  Token,
  M2MAuthError,
  OAuthError,
  TransportError,
  InvalidResponse,
  ConfigError,
  InternalError,
  Verifier,
  Policy,
  bearerToken,
  VerificationError,
  TokenInvalid,
  InsufficientScope,
  VerifierUnavailable,
} from 'm2m-auth'
import type {
  Claims,
  AuthMethod,
  TokenClientOptions,
  SecureAuthOptions,
  TokenParams,
  TokenStats,
  ErrorCode,
  PrivateJwk,
  TokenEvent,
} from 'm2m-auth'
import { MockAuthServer, generateSigningKey, selfSignedCertificate } from 'm2m-auth/testing'
import type {
  MockClient, MockConfig, Fault, RecordedRequest, GeneratedKey, GeneratedCertificate,
} from 'm2m-auth/testing'

type AnyM2MAuthError = OAuthError | TransportError | InvalidResponse | ConfigError | InternalError

/** What a service logs for an error, by its stable code; exhaustive over ErrorCode. */
function describeCode(code: ErrorCode): string {
  switch (code) {
    case 'ERR_OAUTH':
      return 'the token endpoint refused'
    case 'ERR_TRANSPORT':
      return 'the token endpoint is unreachable'
    case 'ERR_INVALID_RESPONSE':
      return 'the token endpoint answered nonsense'
    case 'ERR_CONFIG':
      return 'the client is misconfigured'
    case 'ERR_INTERNAL':
      return 'a bug in m2m-auth'
    case 'ERR_TOKEN_INVALID':
      return 'the token was not accepted'
    case 'ERR_INSUFFICIENT_SCOPE':
      return 'the token may not do this'
    case 'ERR_VERIFIER_UNAVAILABLE':
      return 'the keys cannot be fetched'
    default: {
      const unreachable: never = code
      return unreachable
    }
  }
}

/** Narrowing by class. */
function explain(e: unknown): string {
  if (e instanceof OAuthError) {
    const status: number = e.status
    const description: string | null = e.errorDescription
    const uri: string | null = e.errorUri
    const code: 'ERR_OAUTH' = e.code
    return `${code} ${status} ${e.error} ${description ?? ''} ${uri ?? ''}`
  }
  if (e instanceof TransportError) {
    const timedOut: boolean = e.timeout
    return timedOut ? 'timed out' : e.message
  }
  if (e instanceof InvalidResponse) {
    const status: number | null = e.status
    return `invalid response ${status ?? '-'}`
  }
  if (e instanceof ConfigError) {
    const field: string = e.field
    return `fix ${field}`
  }
  if (e instanceof InternalError) {
    return `report a bug: ${e.message}`
  }
  if (e instanceof M2MAuthError) {
    // @ts-expect-error only a ConfigError has a field
    const field = e.field
    return `${describeCode(e.code)} (${e.name}) ${String(field)}`
  }
  return String(e)
}

/** Narrowing by code, over the union of the concrete classes. */
function retryable(e: AnyM2MAuthError): boolean {
  switch (e.code) {
    case 'ERR_TRANSPORT':
      // Narrowed to TransportError: .timeout exists.
      return e.timeout || e.message.includes('could not connect')
    case 'ERR_INVALID_RESPONSE':
      return e.status !== null && e.status >= 500
    case 'ERR_OAUTH':
      return e.error === 'temporarily_unavailable'
    case 'ERR_CONFIG':
      // Narrowed to ConfigError: .field exists.
      console.error(`fix the setting ${e.field}`)
      return false
    case 'ERR_INTERNAL':
      return false
    default: {
      const unreachable: never = e
      return unreachable
    }
  }
}

async function main(): Promise<void> {
  const mockClient: MockClient = {
    client_id: 'svc',
    client_secret: 'svc-secret',
    auth_methods: ['client_secret_basic', 'client_secret_post'],
    scopes: ['payments.read', 'payments.write'],
    default_audience: 'https://api.example',
  }
  const config: MockConfig = { port: 0, token_lifetime_secs: 600, issuer: 'https://issuer.example', clients: [mockClient] }
  const server: MockAuthServer = await MockAuthServer.start(config)
  const fromFile: MockAuthServer = await MockAuthServer.start('tests/vectors/mock-server.json')
  const demo: MockAuthServer = await MockAuthServer.start()
  try {
    const method: AuthMethod = 'client_secret_basic'
    const options: TokenClientOptions = {
      tokenUrl: server.tokenUrl,
      clientId: 'svc',
      clientSecret: 'svc-secret',
      authMethod: method,
      scopes: ['payments.read'],
      audience: 'https://api.example',
      resources: ['https://a.example'],
      extraParams: { tenant_hint: 'acme' },
      timeoutMs: 5000,
      expirySkewMs: 30_000,
      defaultLifetimeMs: 300_000,
      maxResponseBytes: 64 * 1024,
      allowInsecureHttp: false,
    }
    const client = new TokenClient(options)
    const url: string | null = client.tokenUrl
    const id: string = client.clientId
    const am: AuthMethod = client.authMethod
    const scopes: string[] = client.scopes

    const accessToken: string = await client.getToken()
    const params: TokenParams = { scopes: ['payments.write'], audience: 'https://api.example', resources: [] }
    const other: string = await client.getToken(params)
    const token: Token = await client.fetchToken({ scopes: ['payments.read'] })
    const bearer: string = `${token.tokenType} ${token.accessToken}`
    const scope: string | null = token.scope
    const expiresAt: Date = token.expiresAt
    const msLeft: number = token.expiresIn
    client.invalidate()
    const normalised: string = client.checkApiUrl('https://api.example/x')
    void normalised
    const stats: TokenStats = client.stats()
    const lastError: string | null = stats.lastError
    const counts: number = stats.hits + stats.misses + stats.fetches + stats.failures

    const saOptions: SecureAuthOptions = {
      tenant: 'acme',
      region: 'us',
      workspace: 'payments',
      clientId: 'svc',
      clientSecret: 'svc-secret',
      scopes: ['payments.read'],
    }
    const sa: TokenClient = TokenClient.secureauth(saOptions)
    const env: TokenClient = TokenClient.fromEnv()

    const faults: Fault[] = [
      { status: 503, headers: { 'retry-after': '1' }, body: 'busy', count: 2 },
      { delay_ms: 1500 },
      { expires_in: '3600' },
      { omit_expires_in: true, token_type: 'bearer', extra: { access_token: '' } },
    ]
    server.pushFaults(faults)
    try {
      await client.getToken()
    } catch (e) {
      console.log(explain(e))
      if (e instanceof M2MAuthError) console.log(describeCode(e.code), e.status)
      if (e instanceof OAuthError || e instanceof TransportError || e instanceof InvalidResponse) console.log(retryable(e))
    }
    const requests: RecordedRequest[] = server.requests()
    for (const r of requests) {
      const pairs: Array<[string, string]> = r.form
      const headers: Array<[string, string]> = r.headers
      const who: string | null = r.client_id
      console.log(r.method, r.path, r.outcome, pairs.length, headers.length, who)
    }
    const claims: Record<string, unknown> = server.verifyAccessToken(accessToken)
    const n: number = server.tokenRequests() + server.tokenRequests('svc') + server.tokensIssued()
    server.setTokenLifetime(2)
    server.reset()
    const urls: string[] = [server.url, server.issuer, server.tokenUrl]

    console.log(url, id, am, scopes, other, bearer, scope, expiresAt.toISOString(), msLeft, lastError, counts)
    console.log(sa.tokenUrl, env.clientId, claims.sub, n, urls, fromFile.url, demo.url)

    // Wrong usage the declarations must reject:
    // @ts-expect-error not an AuthMethod
    new TokenClient({ tokenUrl: url, clientId: 'svc', clientSecret: 's', authMethod: 'password' })
    // @ts-expect-error a typo of clientSecret
    new TokenClient({ tokenUrl: url, clientId: 'svc', clientSecert: 's' })
    // @ts-expect-error timeoutMs is a number of milliseconds
    new TokenClient({ tokenUrl: url, clientId: 'svc', clientSecret: 's', timeoutMs: '100' })
    // @ts-expect-error scopes is a list
    new TokenClient({ tokenUrl: url, clientId: 'svc', clientSecret: 's', scopes: 'payments.read' })
    // @ts-expect-error extra parameters are strings
    new TokenClient({ tokenUrl: url, clientId: 'svc', clientSecret: 's', extraParams: { n: 1 } })
    // @ts-expect-error getToken takes parameters, not a number
    await client.getToken(42)
    // @ts-expect-error per-call scopes are a list
    await client.fetchToken({ scopes: 'payments.read' })
    // @ts-expect-error getToken resolves to a string, not a Token
    const notAToken: Token = await client.getToken()
    // @ts-expect-error the access token is read-only
    token.accessToken = 'forged'
    // @ts-expect-error a SecureAuth client builds its own token URL
    TokenClient.secureauth({ tenant: 'acme', region: 'us', workspace: 'w', tokenUrl: url })
    // @ts-expect-error a SecureAuth client needs a region
    TokenClient.secureauth({ tenant: 'acme', workspace: 'w' })
    // @ts-expect-error not an ErrorCode
    const badCode: ErrorCode = 'ERR_NOPE'
    // @ts-expect-error faults are a list
    server.pushFaults({ status: 503 })
    // @ts-expect-error not a Fault field
    server.pushFaults([{ delay: 100 }])
    // @ts-expect-error a config object, a path or a JSON string
    await MockAuthServer.start(42)
    // @ts-expect-error not a MockClient auth method
    const badClient: MockClient = { client_id: 'x', client_secret: 'y', auth_methods: ['password'] }
    console.log(notAToken, badCode, badClient)
  } finally {
    server.close()
    fromFile.close()
    demo.close()
  }
}

void main()

/** Keys, certificates, discovery and the mock's TLS side, as a user of private_key_jwt and mTLS writes them. */
async function keysAndCertificates(): Promise<void> {
  const skewed: MockConfig = { assertion_clock_skew_secs: 600, auth_methods_supported: ['private_key_jwt'] }
  const server: MockAuthServer = await MockAuthServer.start({ tls: true, mtls_port: 0, clients: [] })
  const other: MockAuthServer = await MockAuthServer.start(skewed)
  try {
    const mtlsUrl: string | null = server.mtlsTokenUrl
    const ca: string | null = server.caPem
    const offered: string[] = server.supportedAuthMethods()
    const issued: { certPem: string, keyPem: string } = server.issueClientCertificate('CN=svc,O=Acme')

    for (const alg of ['RS256', 'PS256', 'ES256'] as const) {
      const key: GeneratedKey = generateSigningKey(alg)
      const kid: string = key.kid
      const registration: MockClient = {
        client_id: `svc-${alg}`, auth_methods: ['private_key_jwt'], jwks: { keys: [key.publicJwk] },
      }
      server.registerClient(registration)
      const jwk: PrivateJwk = key.privateJwk
      const forms: Array<string | Buffer | PrivateJwk> = [key.pkcs8Pem, key.traditionalPem, Buffer.from(key.pkcs8Pem), jwk]
      for (const privateKey of forms) {
        const options: TokenClientOptions = {
          tokenUrl: server.tokenUrl, clientId: `svc-${alg}`, privateKey, privateKeyId: kid,
          signingAlg: alg, assertionAudience: server.issuer, caBundle: ca ?? undefined,
        }
        const t: string = await new TokenClient(options).getToken()
        console.log(t.length)
      }
    }
    const inlineJwk: PrivateJwk = { kty: 'EC', crv: 'P-256', x: '…', y: '…', d: '…', kid: 'key-1' }
    const fromFile = new TokenClient({
      tokenUrl: 'https://idp.example/oauth2/token', clientId: 'svc', privateKeyFile: '/run/secrets/key.pem',
      privateKeyId: 'key-1', signingAlg: 'PS256',
    })
    const hs = new TokenClient({
      tokenUrl: server.tokenUrl, clientId: 'svc-hs', clientSecret: 's', authMethod: 'client_secret_jwt',
    })

    const cert: GeneratedCertificate = selfSignedCertificate('CN=svc-self')
    const x5t: string = cert.x5tS256
    server.registerClient({ client_id: 'svc-self', auth_methods: ['self_signed_tls_client_auth'], jwks: { keys: [cert.jwk] } })
    server.registerClient({ client_id: 'svc-mtls', auth_methods: ['tls_client_auth'], tls_client_auth_subject_dn: 'CN=svc,O=Acme' })
    const mtls: TokenClient = TokenClient.fromIssuer(server.issuer, {
      clientId: 'svc-mtls', clientCert: issued.certPem, clientKey: Buffer.from(issued.keyPem), caBundle: ca ?? '',
    })
    const selfSigned: TokenClient = TokenClient.fromIssuer(server.issuer, {
      clientId: 'svc-self', authMethod: 'self_signed_tls_client_auth', clientCertFile: 'self.crt',
      clientKeyFile: 'self.key', caBundleFile: 'ca.pem', onEvent: (e: TokenEvent) => console.log(e.kind),
    })
    const before: string | null = mtls.tokenUrl
    const bound: string = await mtls.getToken({ extraParams: { tenant_hint: 'a' } })
    const sa: TokenClient = TokenClient.secureauth({
      tenant: 'acme', region: 'us', workspace: 'payments', clientId: 'svc', privateKey: inlineJwk,
    })

    const last: RecordedRequest | undefined = server.requests().at(-1)
    const method: string | null = last ? last.auth_method : null
    const thumbprint: string | null = last ? last.client_cert_x5t_s256 : null
    console.log(mtlsUrl, offered, fromFile.issuer, hs.authMethod, x5t, selfSigned.authMethod, before, bound, sa.issuer)
    console.log(method, thumbprint)

    // Wrong usage the declarations must reject:
    // @ts-expect-error HS256 is client_secret_jwt's, not a signingAlg
    new TokenClient({ tokenUrl: 't', clientId: 'svc', privateKey: 'pem', signingAlg: 'HS256' })
    // @ts-expect-error a key is text, a Buffer or a JWK object
    new TokenClient({ tokenUrl: 't', clientId: 'svc', privateKey: 123 })
    // @ts-expect-error a certificate is PEM text or a Buffer
    new TokenClient({ tokenUrl: 't', clientId: 'svc', clientCert: 1.5, clientKey: 'pem' })
    // @ts-expect-error a file option is a path
    new TokenClient({ tokenUrl: 't', clientId: 'svc', privateKeyFile: 42 })
    // @ts-expect-error a JWK has a kty
    const noKty: PrivateJwk = { crv: 'P-256', d: '…' }
    // @ts-expect-error fromIssuer takes the issuer as its first argument
    TokenClient.fromIssuer(server.issuer, { tokenUrl: server.tokenUrl, clientId: 'svc' })
    // @ts-expect-error per-call extra parameters are strings
    await mtls.getToken({ extraParams: { n: 1 } })
    // @ts-expect-error not a key algorithm the generator makes
    generateSigningKey('HS256')
    // @ts-expect-error the mock's clock skew is a number of seconds
    await MockAuthServer.start({ assertion_clock_skew_secs: '600' })
    console.log(noKty)
  } finally {
    server.close()
    other.close()
  }
}

void keysAndCertificates()

/** The receiving side: a route's check, and the answer to a rejected token. */
async function protect(authorization: string | undefined): Promise<{ status: number, challenge?: string, claims?: Claims }> {
  const verifier = new Verifier({ issuer: 'https://idp.example', audience: ['api'], leewayMs: 5000, realm: 'api' })
  const policy: Policy | undefined = Policy.of({ scopes: ['payments.read'], claims: { tenant: 'acme' } })
  const either: Policy = Policy.anyScope(['a', 'b']).or(Policy.clientIds(['svc']))
  try {
    const claims = await verifier.verify(bearerToken(authorization), { policy: policy ?? either })
    const when: Date = claims.expiresAt
    const client: string | undefined = claims.clientId
    return { status: 200, claims: { ...claims, expiresAt: when, clientId: client } }
  } catch (e) {
    if (e instanceof VerificationError) {
      const code: 'ERR_TOKEN_INVALID' | 'ERR_INSUFFICIENT_SCOPE' | 'ERR_VERIFIER_UNAVAILABLE' = e.code
      const required: string[] = e instanceof InsufficientScope ? e.requiredScopes : []
      return { status: e.status, challenge: `${code} ${required.join(' ')} ${e.wwwAuthenticate(verifier.realm)}` }
    }
    if (e instanceof TokenInvalid || e instanceof VerifierUnavailable) return { status: 500 }
    throw e
  }
}
void protect
