/** How the client authenticates at the token endpoint. */
export type AuthMethod =
  | 'client_secret_post' | 'client_secret_basic' | 'client_secret_jwt' | 'private_key_jwt'
  | 'tls_client_auth' | 'self_signed_tls_client_auth'

/** A private JWK: RSA (n, e, d, p, q, dp, dq, qi) or EC P-256 (crv, x, y, d), with optional kid and alg. */
export interface PrivateJwk {
  kty: 'RSA' | 'EC'
  kid?: string
  alg?: string
  [member: string]: unknown
}

export interface TokenClientOptions {
  /** The token endpoint, e.g. https://TENANT.REGION.connect.secureauth.com/TENANT/WORKSPACE/oauth2/token */
  tokenUrl?: string
  /** The issuer, whose metadata names the token endpoint (and its mTLS alias); read at first use. */
  issuer?: string
  clientId?: string
  clientSecret?: string
  /** A file holding the client secret (a trailing newline is not part of it). */
  clientSecretFile?: string
  /** Default: `private_key_jwt` with a privateKey, `client_secret_post` with a secret (as SecureAuth's quick
   *  start shows), `tls_client_auth` with only a client certificate. */
  authMethod?: AuthMethod
  /** For private_key_jwt: PEM (PKCS#8, PKCS#1, SEC1) or JWK text, a Buffer, or a JWK object. */
  privateKey?: string | Buffer | PrivateJwk
  privateKeyFile?: string
  /** The `kid` header of client assertions. */
  privateKeyId?: string
  /** RS256 (RSA default), PS256, or ES256 (EC P-256). */
  signingAlg?: 'RS256' | 'PS256' | 'ES256'
  /** The `aud` of client assertions; default the token endpoint URL. */
  assertionAudience?: string
  /** For mutual TLS: the PEM certificate chain (leaf first) and its key. */
  clientCert?: string | Buffer
  clientCertFile?: string
  clientKey?: string | Buffer
  clientKeyFile?: string
  /** PEM CA certificates to trust instead of the system's (a private PKI). */
  caBundle?: string | Buffer
  caBundleFile?: string
  scopes?: string[]
  audience?: string
  /** RFC 8707 resource indicators. */
  resources?: string[]
  /** Extra form parameters sent with every token request. */
  extraParams?: Record<string, string>
  /** Time one token request may take. Default 10000. */
  timeoutMs?: number
  /** A token is not handed out this close to expiry (capped at a tenth of its lifetime). Default 30000. */
  expirySkewMs?: number
  /** Lifetime assumed when the server sends neither expires_in nor a JWT exp. Default 300000. */
  defaultLifetimeMs?: number
  /** Largest token response read. Default 1 MiB. */
  maxResponseBytes?: number
  /** Allow plain http to a host that is not loopback (the secret travels in clear text). */
  allowInsecureHttp?: boolean
  /** Requests per fetch, the first included; 1 turns retries off. Default 4. */
  maxAttempts?: number
  /** Backoff before the first retry (doubling, with full jitter). Default 200. */
  retryBackoffMs?: number
  /** Longest backoff. Default 10000. */
  retryMaxBackoffMs?: number
  /** All attempts of one fetch end within this time. Default 30000. */
  retryDeadlineMs?: number
  /** A longer Retry-After is shortened to this. Default 60000. */
  maxRetryAfterMs?: number
  /** Share of a token's lifetime after which it is refreshed in the background (0 < r <= 1). Default 0.8. */
  refreshRatio?: number
  /** Where tokens are cached: 'memory:' (default), 'file:DIR' (one host), 'redis://…' or 'rediss://…' (a fleet). */
  cacheUrl?: string
  /** Put before every name in the shared cache. Default 'm2m-auth:'. */
  cachePrefix?: string
  /** The longest one shared-cache operation may take; slower counts as down. Default 250. */
  cacheTimeoutMs?: number
  /** How long the fleet-wide lock outlives a process that died holding it. Default 5000. */
  cacheLockTtlMs?: number
  /** 32 bytes in base64 that seal shared entries, instead of a key derived from the credential. */
  cacheEncryptionKey?: string
  /** Receives the client's events; NODE_DEBUG=m2m-auth prints them too. */
  onEvent?: (event: TokenEvent) => void
}

/** Something the client did: never contains the secret or a token. */
export interface TokenEvent {
  level: 'debug' | 'info' | 'warn' | 'error'
  kind: 'request' | 'token_received' | 'retry' | 'fetch_failed' | 'refresh_started' | 'refresh_failed' | 'clock_skew'
    | 'shared_cache_down' | 'shared_cache_back' | 'shared_lock_timeout' | 'shared_entry_rejected'
  clientId: string
  message: string
}

export interface SecureAuthOptions extends Omit<TokenClientOptions, 'tokenUrl' | 'issuer'> {
  tenant: string
  region: string
  workspace: string
}

/** Per-call parameters; each one left out takes the client's own setting. */
export interface TokenParams {
  scopes?: string[]
  audience?: string
  resources?: string[]
  /** Extra form fields for this request; they replace the client's of the same name. */
  extraParams?: Record<string, string>
}

export interface TokenStats {
  hits: number
  misses: number
  fetches: number
  refreshes: number
  failures: number
  lastError: string | null
  /** Fetches answered by the shared cache (cacheUrl): a token another process had fetched. */
  sharedHits: number
  /** Fetches that found no usable token in the shared cache. */
  sharedMisses: number
  /** Shared-cache operations that failed (down, slow, refusing): the process fetched for itself. */
  sharedErrors: number
  /** Shared entries ignored and replaced: corrupted, of another version, or sealed under another key. */
  sharedRejected: number
  /** Fetches that waited for another process holding the fleet-wide lock. */
  lockWaits: number
}

export declare class Token {
  private constructor()
  /** The string for `Authorization: Bearer …`. */
  readonly accessToken: string
  readonly tokenType: string
  readonly scope: string | null
  readonly expiresAt: Date
  /** Milliseconds left until expiry. */
  readonly expiresIn: number
}

/** The answer of `client.call()`, whatever its status. */
export declare class ApiResponse {
  private constructor()
  readonly status: number
  /** The URL that answered, after redirects within the origin. */
  readonly url: string
  /** [name, value] pairs, names lower-cased. */
  readonly headers: Array<[string, string]>
  readonly body: Buffer
  /** Whether the first token was rejected and the request sent again with a new one. */
  readonly retried: boolean
  text(): string
  json(): unknown
}

export interface CallOptions {
  headers?: Record<string, string> | Array<[string, string]>
  body?: string | Uint8Array
  timeoutMs?: number
}

export declare class TokenClient {
  constructor(options: TokenClientOptions)
  static secureauth(options: SecureAuthOptions): TokenClient
  static fromIssuer(issuer: string, options?: Omit<TokenClientOptions, 'tokenUrl' | 'issuer'>): TokenClient
  static fromEnv(options?: { onEvent?: (event: TokenEvent) => void }): TokenClient
  /** The access token; cached while fresh, fetched once however many callers ask. */
  getToken(params?: TokenParams): Promise<string>
  fetchToken(params?: TokenParams): Promise<Token>
  /** The global fetch with `Authorization: Bearer …`: kept on redirects within the origin, dropped on any
   *  other; one retry with a new token when the API answers 401 invalid_token (if the body can be resent). */
  fetch(input: string | URL | Request, init?: RequestInit, options?: TokenParams): Promise<Response>
  /** One request through the core: the client certificate is presented (certificate-bound tokens need it), a
   *  rejected token is replaced once. With a client certificate, `fetch` goes this way too. */
  call(method: string, url: string, options?: CallOptions): Promise<ApiResponse>
  /** Drops cached tokens, or only `token` if it is still cached; returns whether one was dropped. */
  invalidate(token?: string): boolean
  /** `url`, normalised, if this client may send its token there (https, or plain http to loopback or with
   *  `allowInsecureHttp`); throws a ConfigError otherwise. */
  checkApiUrl(url: string): string
  stats(): TokenStats
  /** The token endpoint; null until discovery (fromIssuer) has found it. */
  readonly tokenUrl: string | null
  readonly issuer: string | null
  readonly clientId: string
  readonly authMethod: AuthMethod
  readonly scopes: string[]
}

export type ErrorCode = 'ERR_OAUTH' | 'ERR_TRANSPORT' | 'ERR_INVALID_RESPONSE' | 'ERR_CONFIG' | 'ERR_INTERNAL'
  | 'ERR_TOKEN_INVALID' | 'ERR_INSUFFICIENT_SCOPE' | 'ERR_VERIFIER_UNAVAILABLE'

/** Fields an error can be constructed with (for tests that stand in for the client). */
export interface ErrorFields {
  status?: number | null
  error?: string
  errorDescription?: string | null
  errorUri?: string | null
  timeout?: boolean
  field?: string
  attempts?: number
}

export declare class M2MAuthError extends Error {
  constructor(message: string, fields?: ErrorFields)
  readonly code: ErrorCode
  /** HTTP status of the token endpoint's answer, if there was one. */
  readonly status: number | null
  /** Requests made to the token endpoint before giving up. */
  readonly attempts: number
}
export declare class OAuthError extends M2MAuthError {
  readonly code: 'ERR_OAUTH'
  readonly status: number
  readonly error: string
  readonly errorDescription: string | null
  readonly errorUri: string | null
}
export declare class TransportError extends M2MAuthError {
  readonly code: 'ERR_TRANSPORT'
  readonly timeout: boolean
}
export declare class InvalidResponse extends M2MAuthError {
  readonly code: 'ERR_INVALID_RESPONSE'
}
export declare class ConfigError extends M2MAuthError {
  readonly code: 'ERR_CONFIG'
  /** The setting or environment variable to fix. */
  readonly field: string
}
export declare class InternalError extends M2MAuthError {
  readonly code: 'ERR_INTERNAL'
}

// The receiving side.

export interface VerifierOptions {
  /** Every token's `iss`; its metadata names the JWKS and the introspection endpoint. */
  issuer: string
  /** The audience, or several: the token's `aud` must name one. */
  audience: string | string[]
  jwksUrl?: string
  /** Default RS256, PS256, ES256, EdDSA; never none, never HMAC. */
  algorithms?: string[]
  /** Default 30 000. */
  leewayMs?: number
  requiredScopes?: string[]
  /** Default 30 000: the shortest time between two JWKS fetches for unknown kids. */
  jwksCooldownMs?: number
  /** Default 600 000. */
  jwksMaxAgeMs?: number
  /** Require RFC 9068's `typ: at+jwt` (default false: SecureAuth issues `typ: JWT`). */
  strictTyp?: boolean
  /** Default 5 000. */
  timeoutMs?: number
  allowInsecureHttp?: boolean
  caBundle?: string | Buffer
  caBundleFile?: string
  /** The realm of the `WWW-Authenticate` challenges. */
  realm?: string
  /** For opaque tokens (RFC 7662 introspection): the verifier's own client and credentials. */
  introspectionUrl?: string
  /** Default 60 000. */
  introspectionMaxAgeMs?: number
  /** Share the issuer's keys and introspection answers with the fleet: redis://…, file:DIR (default memory:). */
  cacheUrl?: string
  cachePrefix?: string
  /** Default 250. */
  cacheTimeoutMs?: number
  /** 32 bytes in base64, the same for the fleet: required with a shared cacheUrl. */
  cacheEncryptionKey?: string
  clientId?: string
  clientSecret?: string
  clientSecretFile?: string
  authMethod?: AuthMethod
  privateKey?: string | Buffer | Record<string, unknown>
  privateKeyFile?: string
  privateKeyId?: string
  signingAlg?: 'RS256' | 'PS256' | 'ES256'
  assertionAudience?: string
  clientCert?: string | Buffer
  clientCertFile?: string
  clientKey?: string | Buffer
  clientKeyFile?: string
}

export interface Claims {
  issuer: string
  subject?: string
  /** `client_id`, else `azp`, else `sub`. */
  clientId?: string
  scopes: string[]
  audience: string[]
  expiresAt: Date
  /** Every claim, as the token has it. */
  claims: Record<string, unknown>
}

export interface VerifyOptions {
  /** The request's client certificate: DER, or PEM / URL-encoded PEM / base64 DER text from a trusted proxy. */
  clientCert?: Buffer | string
  /** What the route asks of the token beyond the verifier's own checks. */
  policy?: Policy
}

export declare class Verifier {
  constructor(options: VerifierOptions)
  readonly realm: string | undefined
  verify(token: string, options?: VerifyOptions): Promise<Claims>
}

export interface RouteRequirements {
  scopes?: string[]
  anyScopes?: string[]
  clientIds?: string[]
  claims?: Record<string, unknown>
  policy?: Policy
}

export declare class Policy {
  static allScopes(scopes: string[]): Policy
  static anyScope(scopes: string[]): Policy
  static clientIds(clientIds: string[]): Policy
  static claimEquals(name: string, value: unknown): Policy
  static claimOneOf(name: string, values: unknown[]): Policy
  static allOf(policies: Policy[]): Policy
  static anyOf(policies: Policy[]): Policy
  /** The policy of route options (all of them), or undefined when none is given. */
  static of(requirements?: RouteRequirements): Policy | undefined
  and(other: Policy): Policy
  or(other: Policy): Policy
}

/** The token of an `Authorization` header value, else throws TokenInvalid (RFC 6750 §2.1). */
export declare function bearerToken(authorization: string | undefined | null): string

export declare class VerificationError extends M2MAuthError {
  readonly code: 'ERR_TOKEN_INVALID' | 'ERR_INSUFFICIENT_SCOPE' | 'ERR_VERIFIER_UNAVAILABLE'
  /** The status to answer the request with: 401, 403 or 503. */
  readonly status: number
  /** The RFC 6750 error code: invalid_token, insufficient_scope, or null (no token; 503). */
  readonly error: string | null
  readonly errorDescription: string
  readonly requiredScopes: string[]
  /** The RFC 6750 §3 `WWW-Authenticate` value. */
  wwwAuthenticate(realm?: string): string
}
export declare class TokenInvalid extends VerificationError {
  readonly code: 'ERR_TOKEN_INVALID'
}
export declare class InsufficientScope extends VerificationError {
  readonly code: 'ERR_INSUFFICIENT_SCOPE'
}
export declare class VerifierUnavailable extends VerificationError {
  readonly code: 'ERR_VERIFIER_UNAVAILABLE'
}
