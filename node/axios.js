'use strict'
// m2m-auth for axios: interceptors that put the access token on an instance's requests and, when the API
// rejects the token (401 invalid_token), drop it and send the request once more with a new one.
//
//   const axios = require('axios')
//   const { useBearerAuth } = require('m2m-auth/axios')
//   const api = axios.create({ baseURL: 'https://api.example' })
//   useBearerAuth(api, client)                       // or: useBearerAuth(api, client, { origins: [...] })
//
// The interceptors run once per request, not per redirect hop, and follow-redirects keeps credentials on a
// redirect to a subdomain or from http to https: a beforeRedirect hook takes the token, cookies and proxy
// credentials off every hop that leaves the request's origin.

const { ConfigError } = require('./errors')
const { originOf, originSet, keepsCredentials, CREDENTIAL_HEADERS, replay, replayable, tokenParams } = require('./http')

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
    const url = requestUrl(instance, config)
    if (allowed !== undefined && !allowed.has(originOf(url))) return config
    client.checkApiUrl(url.href)
    const token = await client.getToken(params)
    config[TOKEN] = token
    config.headers.set('Authorization', `Bearer ${token}`)
    config.beforeRedirect = keepCredentialsHome(url, config.beforeRedirect)
    return config
  })

  // A rejected token shows up as an error (axios' default validateStatus) or as a response (when the caller
  // accepts 401s); either way the request is sent once more with a new token, if it can be.
  const retry = (config, response) => {
    if (!config || !response || config[TOKEN] === undefined) return undefined
    // After redirects the answer may come from another origin, which never had the token.
    const answeredUrl = response.request?.res?.responseUrl
    const sent = requestUrl(instance, config)
    if (!replay(response.status, response.headers['www-authenticate'], {
      answeredByTokenOrigin: answeredUrl === undefined || keepsCredentials(sent, answeredUrl),
      bodyReplayable: replayable(config.data),
      alreadyReplayed: Boolean(config[RETRIED]),
    })) return undefined
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

/** A follow-redirects `beforeRedirect` hook that drops credentials on a hop away from `home`'s origin (and
 *  on every hop after one), then runs the caller's own hook, if any. */
function keepCredentialsHome (home, callersHook) {
  let left = false
  return (options, responseDetails, requestDetails) => {
    const next = options.href ?? `${options.protocol}//${options.host ?? options.hostname}${options.path ?? ''}`
    left = left || !keepsCredentials(home, next)
    if (left && options.headers) {
      for (const name of Object.keys(options.headers)) {
        if (CREDENTIAL_HEADERS.includes(name.toLowerCase())) delete options.headers[name]
      }
    }
    if (typeof callersHook === 'function') callersHook(options, responseDetails, requestDetails)
  }
}

module.exports = { useBearerAuth }
