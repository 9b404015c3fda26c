'use strict'
// What the HTTP integrations (client.fetch, m2m-auth/undici, m2m-auth/axios) share: origins, the core's rule
// for a 401, and which request bodies can be sent twice.

const native = require('./native')

/** `scheme://host:port` with the default port filled in; two URLs share an origin when these match. */
function originOf(url) {
  const u = url instanceof URL ? url : new URL(String(url))
  const port = u.port || (u.protocol === 'https:' ? '443' : u.protocol === 'http:' ? '80' : '')
  return `${u.protocol}//${u.hostname.toLowerCase()}:${port}`
}

/** The core's redirect rule: a request to `next` may carry what a request to `from` carried (the token, a
 *  caller's cookies and credentials) only when both share an origin. */
function keepsCredentials (from, next) {
  return native.sameOrigin(String(from), String(next))
}

/** The headers that carry credentials: none of them follows a redirect to another origin. */
const CREDENTIAL_HEADERS = ['authorization', 'cookie', 'proxy-authorization']

/** A set of origins from a string or strings; undefined means any origin. */
function originSet(origins) {
  if (origins === undefined || origins === null) return undefined
  const list = typeof origins === 'string' ? [origins] : Array.from(origins)
  return new Set(list.map(originOf))
}

/** The core's rule: drop the token and send the request once more with a new one only when the origin the
 *  token was sent to rejected it (401 with a Bearer invalid_token challenge), the body can be sent again, and
 *  the request was not sent again already. `wwwAuthenticate`: the header's values (a string, an array, or
 *  null). */
function replay(status, wwwAuthenticate, { answeredByTokenOrigin, bodyReplayable, alreadyReplayed = false }) {
  const values = wwwAuthenticate === undefined || wwwAuthenticate === null ? []
    : Array.isArray(wwwAuthenticate) ? wwwAuthenticate.map(String) : [String(wwwAuthenticate)]
  return native.replayWithNewToken(status, values, answeredByTokenOrigin, bodyReplayable, alreadyReplayed)
}

/** Whether a body can be sent again after a first attempt consumed it: nothing, text, bytes, form data. */
function replayable(body) {
  return body === undefined || body === null || typeof body === 'string' || Buffer.isBuffer(body) ||
    body instanceof Uint8Array || body instanceof ArrayBuffer || body instanceof URLSearchParams ||
    (typeof FormData !== 'undefined' && body instanceof FormData) ||
    (typeof Blob !== 'undefined' && body instanceof Blob)
}

/** The parameters a getToken call takes, picked out of an integration's options. */
function tokenParams({ scopes, audience, resources, extraParams } = {}) {
  const p = {}
  if (scopes !== undefined) p.scopes = scopes
  if (audience !== undefined) p.audience = audience
  if (resources !== undefined) p.resources = resources
  if (extraParams !== undefined) p.extraParams = extraParams
  return Object.keys(p).length === 0 ? undefined : p
}

module.exports = { originOf, originSet, keepsCredentials, CREDENTIAL_HEADERS, replay, replayable, tokenParams }
