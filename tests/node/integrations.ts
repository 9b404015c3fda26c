// Type checks of the HTTP integrations as a user writes them (tsc --strict, no emit).
import { Agent, request } from 'undici'
import axios from 'axios'
import { TokenClient } from '../../node'
import { bearerInterceptor } from '../../node/undici'
import { useBearerAuth } from '../../node/axios'

export async function integrations(client: TokenClient): Promise<void> {
  const res: Response = await client.fetch('https://api.example/payments', { method: 'POST', body: '{}' }, { scopes: ['payments.write'] })
  const status: number = res.status
  void status

  const agent = new Agent().compose(bearerInterceptor(client, { origins: ['https://api.example'], audience: 'api' }))
  const { statusCode } = await request('https://api.example/payments', { dispatcher: agent })
  void statusCode
  // @ts-expect-error origins is required
  bearerInterceptor(client, {})

  const api = axios.create({ baseURL: 'https://api.example' })
  const remove: () => void = useBearerAuth(api, client, { origins: 'https://api.example' })
  remove()
  useBearerAuth(axios, client)
}
