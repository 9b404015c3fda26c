import type { AuthMethod, PrivateJwk } from './index'

export interface MockClient {
  client_id: string
  /** Needed by the secret methods (client_secret_post, _basic, _jwt). */
  client_secret?: string
  /** Default: client_secret_basic and client_secret_post. */
  auth_methods?: AuthMethod[]
  scopes?: string[]
  default_audience?: string
  /** Public keys (private_key_jwt) or certificates in x5c (self_signed_tls_client_auth). */
  jwks?: { keys: Array<Record<string, unknown>> }
  /** tls_client_auth: the RFC 4514 subject of the client certificate, e.g. 'CN=svc,O=Acme'. */
  tls_client_auth_subject_dn?: string
}

export interface MockConfig {
  port?: number
  token_lifetime_secs?: number
  issuer?: string
  /** Serve HTTPS, with a mutual-TLS alias on a second port (needed by the certificate methods). */
  tls?: boolean
  mtls_port?: number
  /** Advertise and accept only these methods. */
  auth_methods_supported?: AuthMethod[]
  /** The `aud` the API (apiUrl) requires of tokens; default: the issuer. */
  api_audience?: string
  /** Seconds the server's clock runs ahead when it checks client assertions (to test a client's wrong clock). */
  assertion_clock_skew_secs?: number
  /** Faults that strike token requests at random while none is queued. */
  random_faults?: RandomFault[]
  clients?: MockClient[]
}

/** Makes the next token request(s) misbehave. `status`/`body` give a raw answer; the rest alter a real one. */
export interface Fault {
  count?: number
  delay_ms?: number
  /** Headers and the body's first byte go out at once; the rest of the body this much later. */
  body_delay_ms?: number
  status?: number
  headers?: Record<string, string>
  body?: string
  expires_in?: unknown
  omit_expires_in?: boolean
  token_type?: string
  extra?: Record<string, unknown>
  /** The status and headers go out, then the connection is dropped instead of the body. */
  drop_connection?: boolean
}

/** A fault that strikes token requests at random (one in `one_in`) while none is queued: for soak tests. */
export interface RandomFault {
  one_in: number
  fault: Fault
}

export interface RecordedRequest {
  method: string
  path: string
  headers: Array<[string, string]>
  form: Array<[string, string]>
  client_id: string | null
  /** The client authentication method the request used, once the server could tell. */
  auth_method: string | null
  /** SHA-256 thumbprint of the client certificate presented on the mTLS alias. */
  client_cert_x5t_s256: string | null
  outcome: string
}

export type ApiOutcome =
  | 'ok' | 'no_token' | 'invalid_request' | 'invalid_token' | 'rejected' | 'insufficient_scope'
  | 'redirect' | 'body_too_large' | 'aborted'

/** One request to the mock's API (apiUrl), as the server saw it. */
export interface ApiRequest {
  method: string
  /** e.g. '/api/payments/7' */
  path: string
  /** The raw query string without '?'; '' when none. */
  query: string
  /** Names lower-cased, in arrival order, values as sent (authorization too). */
  headers: Array<[string, string]>
  /** The request body as UTF-8 text. */
  body: string
  /** SHA-256 thumbprint of the client certificate presented on the mTLS alias. */
  client_cert_x5t_s256: string | null
  /** The sub of the Bearer token when it is one of this server's and unexpired, whatever the outcome. */
  token_sub: string | null
  /** 'rejected': a valid token refused by rejectNextApiTokens. */
  outcome: ApiOutcome
}

export interface GeneratedKey {
  alg: 'RS256' | 'PS256' | 'ES256'
  kid: string
  pkcs8Pem: string
  /** PKCS#1 (RSA) or SEC1 (EC) PEM. */
  traditionalPem: string
  /** The private JWK (with kid and alg): pass it as the client's `privateKey`. */
  privateJwk: PrivateJwk
  /** The public JWK: register it in the client's `jwks`. */
  publicJwk: Record<string, unknown>
}

export interface GeneratedCertificate {
  certPem: string
  keyPem: string
  /** The public JWK with the certificate in x5c: register it for self_signed_tls_client_auth. */
  jwk: Record<string, unknown>
  x5tS256: string
}

/** A new key pair for private_key_jwt. */
export declare function generateSigningKey(alg?: 'RS256' | 'PS256' | 'ES256'): GeneratedKey
/** A new self-signed certificate for self_signed_tls_client_auth. */
export declare function selfSignedCertificate(subject: string): GeneratedCertificate

export declare class MockAuthServer {
  /** Starts a server on 127.0.0.1: a config object, a path to a JSON file, a JSON string, or nothing. */
  static start(config?: MockConfig | string): Promise<MockAuthServer>
  readonly url: string
  readonly issuer: string
  readonly tokenUrl: string
  readonly mtlsTokenUrl: string | null
  readonly caPem: string | null
  issueClientCertificate(subject: string): { certPem: string, keyPem: string }
  registerClient(client: MockClient): void
  supportedAuthMethods(): string[]
  tokenRequests(clientId?: string): number
  tokensIssued(): number
  pushFaults(faults: Fault[]): void
  requests(): RecordedRequest[]
  /** The protected API, e.g. 'http://127.0.0.1:PORT/api'. */
  readonly apiUrl: string
  /** The API on the mutual-TLS alias (a server started with { tls: true }). */
  readonly mtlsApiUrl: string | null
  /** The next `count` API requests with an otherwise valid token get 401 invalid_token. */
  rejectNextApiTokens(count: number): void
  apiRequests(): ApiRequest[]
  apiRequestCount(): number
  setTokenLifetime(seconds: number): void
  reset(): void
  verifyAccessToken(token: string): Record<string, unknown>
  close(): void
}
