import type { Dispatcher } from 'undici'
import type { TokenClient, TokenParams } from './index'

export interface BearerInterceptorOptions extends TokenParams {
  /** The origins (e.g. 'https://api.example') whose requests get the token. Required. */
  origins: string | string[]
}

/** An undici interceptor for `dispatcher.compose(...)`: the access token on requests to `origins`, and one
 *  retry with a new token when the API answers 401 invalid_token. */
export declare function bearerInterceptor(client: TokenClient, options: BearerInterceptorOptions): Dispatcher.DispatcherComposeInterceptor
