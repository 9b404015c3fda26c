'use strict'
// m2m-auth for axios: interceptors that put the access token on an instance's requests and, when the API
// rejects the token (401 invalid_token), drop it and send the request once more with a new one.
//
//   const axios = require('axios')
//   const { useBearerAuth } = require('m2m-auth/axios')
//   const api = axios.create({ baseURL: 'https://api.example' })
//   useBearerAuth(api, client)                       // or: useBearerAuth(api, client, { origins: [...] })
//
// axios (follow-redirects) drops the Authorization header when a redirect leaves the host, and the
// interceptors run once per request, not per redirect hop, so the token goes only where the request went.

const { ConfigError } = require('./errors')
const { originOf, originSet, tokenRejected, replayable, tokenParams } = require('./http')

// String keys: axios copies a config's own string keys (not symbols) into the config of a retry.
const RETRIED = 'm2mAuthRetried'
const TOKEN = 'm2mAuthToken'

function requestUrl (instance, config) {
  const url = instance.getUri ? instance.getUri(config) : config.url
  return new URL(url)
}

/**
 * Installs the interceptors on `instance` (an axios instance, or axios itself). Options: `origins` (only
 * requests to these get the token; default any), `scopes`, `audience`, `resources`, `extraParams`.
 * Returns a function that removes them again.
 */
function useBearerAuth (instance, client, options = {}) {
  if (!instance || !instance.interceptors) {
    throw new ConfigError('useBearerAuth(instance, client): instance must be an axios instance', { field: 'instance' })
  }
  if (!client || typeof client.getToken !== 'function') {
    throw new ConfigError('useBearerAuth(instance, client): client must be a TokenClient', { field: 'client' })
  }
  const allowed = originSet(options.origins)
  const params = tokenParams(options)

  const onRequest = instance.interceptors.request.use(async (config) => {
    if (allowed !== undefined && !allowed.has(originOf(requestUrl(instance, config)))) return config
    const token = await client.getToken(params)
    config[TOKEN] = token
    config.headers.set('Authorization', `Bearer ${token}`)
    return config
  })

  // A rejected token shows up as an error (axios' default validateStatus) or as a response (when the caller
  // accepts 401s); either way the request is sent once more with a new token, if it can be.
  const retry = (config, response) => {
    if (!config || !response || config[RETRIED] || config[TOKEN] === undefined) return undefined
    if (!tokenRejected(response.status, response.headers['www-authenticate'])) return undefined
    if (!replayable(config.data)) return undefined
    client.invalidate(config[TOKEN])
    return instance.request({ ...config, [RETRIED]: true, [TOKEN]: undefined })
  }
  const onResponse = instance.interceptors.response.use(
    (response) => retry(response.config, response) ?? response,
    (error) => retry(error && error.config, error && error.response) ?? Promise.reject(error),
  )

  return () => {
    instance.interceptors.request.eject(onRequest)
    instance.interceptors.response.eject(onResponse)
  }
}

module.exports = { useBearerAuth }
