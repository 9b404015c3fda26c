import type { AxiosInstance, AxiosStatic } from 'axios'
import type { TokenClient, TokenParams } from './index'

export interface BearerAuthOptions extends TokenParams {
  /** Only requests to these origins get the token; default: every request of the instance. */
  origins?: string | string[]
}

/** Installs request and response interceptors on `instance`: the access token on its requests, and one retry
 *  with a new token when the API answers 401 invalid_token. Returns a function that removes them. */
export declare function useBearerAuth(instance: AxiosInstance | AxiosStatic, client: TokenClient, options?: BearerAuthOptions): () => void
