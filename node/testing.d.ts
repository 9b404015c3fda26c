export interface MockClient {
  client_id: string
  client_secret: string
  auth_methods?: Array<'client_secret_post' | 'client_secret_basic'>
  scopes?: string[]
  default_audience?: string
}

export interface MockConfig {
  port?: number
  token_lifetime_secs?: number
  issuer?: string
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
}

export interface RecordedRequest {
  method: string
  path: string
  headers: Array<[string, string]>
  form: Array<[string, string]>
  client_id: string | null
  outcome: string
}

export declare class MockAuthServer {
  /** Starts a server on 127.0.0.1: a config object, a path to a JSON file, a JSON string, or nothing. */
  static start(config?: MockConfig | string): Promise<MockAuthServer>
  readonly url: string
  readonly issuer: string
  readonly tokenUrl: string
  tokenRequests(clientId?: string): number
  tokensIssued(): number
  pushFaults(faults: Fault[]): void
  requests(): RecordedRequest[]
  setTokenLifetime(seconds: number): void
  reset(): void
  verifyAccessToken(token: string): Record<string, unknown>
  close(): void
}
