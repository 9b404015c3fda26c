'use strict'
// client.fetch(): the global fetch with the access token. Redirects are followed here rather than by fetch, so
// that the token goes only to the origin it was meant for, whatever the runtime's own rules, and so do the
// caller's own credentials (Cookie, Proxy-Authorization): a hop to another origin carries none of them.

const { ConfigError } = require('./errors')
const { keepsCredentials, CREDENTIAL_HEADERS, replay, replayable } = require('./http')

const MAX_REDIRECTS = 20
const REDIRECTS = new Set([301, 302, 303, 307, 308])

/** The parts of (input, init) this needs, as fetch() would read them. */
function requestParts (input, init) {
  const fromRequest = typeof Request !== 'undefined' && input instanceof Request
  const headers = new Headers(fromRequest ? input.headers : undefined)
  for (const [k, v] of new Headers(init.headers ?? undefined)) headers.set(k, v)
  return {
    url: new URL(fromRequest ? input.url : String(input)),
    method: String(init.method ?? (fromRequest ? input.method : 'GET')).toUpperCase(),
    headers,
    body: init.body !== undefined ? init.body : fromRequest ? input.body : undefined,
    redirect: init.redirect ?? (fromRequest ? input.redirect : 'follow'),
    rest: { ...init },
  }
}

async function discard (response) {
  try {
    await response.body?.cancel()
  } catch {
    // Nothing to release.
  }
}

/** One pass: send, follow redirects (credentials only within the origin of `parts.url`), return the final
 *  response. Once a hop has left the origin, no later hop carries credentials, even one that comes back. */
async function send (parts, token) {
  let { url, method, body } = parts
  let home = true
  for (let hop = 0; ; hop += 1) {
    const headers = new Headers(parts.headers)
    home = home && keepsCredentials(parts.url, url)
    if (home) headers.set('authorization', `Bearer ${token}`)
    else for (const name of CREDENTIAL_HEADERS) headers.delete(name)
    const response = await fetch(url, {
      ...parts.rest, method, headers, body, redirect: parts.redirect === 'follow' ? 'manual' : parts.redirect,
    })
    const location = response.headers.get('location')
    if (parts.redirect !== 'follow' || !REDIRECTS.has(response.status) || location === null) {
      return { response, url, carried: home }
    }
    if (hop >= MAX_REDIRECTS) {
      await discard(response)
      throw new TypeError(`fetch failed: more than ${MAX_REDIRECTS} redirects`)
    }
    // As fetch does: 303, and 301/302 after a POST, become a GET without a body.
    if (response.status === 303 || ((response.status === 301 || response.status === 302) && method === 'POST')) {
      if (method !== 'HEAD') method = 'GET'
      body = undefined
      parts = { ...parts, headers: withoutBodyHeaders(parts.headers) }
    } else if (!replayable(body)) {
      return { response, url, carried: home }
    }
    await discard(response)
    url = new URL(location, url)
  }
}

function withoutBodyHeaders (headers) {
  const h = new Headers(headers)
  for (const name of ['content-type', 'content-length', 'content-encoding', 'content-language', 'content-location']) h.delete(name)
  return h
}

async function authorizedFetch (client, input, init, params) {
  const parts = requestParts(input, init ?? {})
  if (parts.headers.has('authorization')) {
    throw new ConfigError('client.fetch() sends the client\'s token in Authorization; do not pass one', { field: 'headers' })
  }
  client.checkApiUrl(parts.url.href)
  const token = await client.getToken(params)
  const first = await send(parts, token)
  const { response } = first
  if (!replay(response.status, response.headers.get('www-authenticate'), {
    // Only an answer to a hop that carried the token can reject it (after A -> B -> A, the last hop had none).
    answeredByTokenOrigin: first.carried, bodyReplayable: replayable(parts.body),
  })) {
    return response
  }
  await discard(response)
  client.invalidate(token)
  return (await send(parts, await client.getToken(params))).response
}

module.exports = { authorizedFetch }
