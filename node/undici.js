'use strict'
// m2m-auth for undici: an interceptor that puts the access token on requests to the origins you name, and,
// when the API rejects the token (401 invalid_token), drops it and sends the request once more with a new
// one — if its body can be sent again.
//
//   const { Agent } = require('undici')
//   const { bearerInterceptor } = require('m2m-auth/undici')
//   const agent = new Agent().compose(bearerInterceptor(client, { origins: ['https://api.example'] }))
//   await request('https://api.example/payments', { dispatcher: agent })
//
// `origins` is required: a dispatcher serves every origin, and undici's redirect interceptor dispatches each
// hop again, so the interceptor itself must know where the token may go.

const { ConfigError } = require('./errors')
const { originOf, originSet, replay, replayable, tokenParams } = require('./http')

/** Forwards to the connection of the current attempt, so that the caller's handler keeps one controller. */
class ControllerProxy {
  #target = null
  #paused = false

  set target (controller) {
    this.#target = controller
    if (this.#paused) controller?.pause()
  }

  pause () { this.#paused = true; this.#target?.pause() }
  resume () { this.#paused = false; this.#target?.resume() }
  abort (reason) { this.#target?.abort(reason) }
  get paused () { return this.#paused || (this.#target?.paused ?? false) }
  get aborted () { return this.#target?.aborted ?? false }
  get reason () { return this.#target?.reason ?? null }
}

function headerValues (headers, name) {
  const v = headers?.[name]
  if (v === undefined || v === null) return []
  return (Array.isArray(v) ? v : [v]).map((x) => (Buffer.isBuffer(x) ? x.toString('latin1') : String(x)))
}

/** One request's handler: the caller's, except that the first rejected 401 is swallowed and retried. */
class BearerHandler {
  constructor (attempt, handler) {
    this.attempt = attempt
    this.handler = handler
    this.controller = new ControllerProxy()
    this.started = false
    this.swallowing = false
  }

  onRequestStart (controller, context) {
    this.controller.target = controller
    if (!this.started) {
      this.started = true
      this.handler.onRequestStart?.(this.controller, context)
    }
  }

  onRequestUpgrade (_controller, statusCode, headers, socket) {
    this.handler.onRequestUpgrade?.(this.controller, statusCode, headers, socket)
  }

  onResponseStart (_controller, statusCode, headers, statusMessage) {
    // Each hop is dispatched (and authorized) on its own: this answer is from the origin that had the token.
    if (replay(statusCode, headerValues(headers, 'www-authenticate'), {
      answeredByTokenOrigin: true, bodyReplayable: replayable(this.attempt.opts.body), alreadyReplayed: this.attempt.retried,
    })) {
      this.swallowing = true
      return
    }
    return this.handler.onResponseStart?.(this.controller, statusCode, headers, statusMessage)
  }

  onResponseData (_controller, chunk) {
    if (this.swallowing) return
    return this.handler.onResponseData?.(this.controller, chunk)
  }

  onResponseEnd (_controller, trailers) {
    if (this.swallowing) {
      this.swallowing = false
      this.attempt.retry(this)
      return
    }
    return this.handler.onResponseEnd?.(this.controller, trailers)
  }

  onResponseError (_controller, err) {
    return this.handler.onResponseError?.(this.controller, err)
  }
}

/** A dispatch with the token, and at most one more with a new token. */
class Attempt {
  constructor (client, params, dispatch, opts) {
    this.client = client
    this.params = params
    this.dispatch = dispatch
    this.opts = opts
    this.token = undefined
    this.retried = false
  }

  async send (handler) {
    try {
      this.client.checkApiUrl(new URL(this.opts.path ?? '/', this.opts.origin).href)
      this.token = await this.client.getToken(this.params)
    } catch (err) {
      handler.onResponseError(null, err)
      return
    }
    const headers = withAuthorization(this.opts.headers, `Bearer ${this.token}`)
    this.dispatch({ ...this.opts, headers }, handler)
  }

  retry (handler) {
    this.retried = true
    this.client.invalidate(this.token)
    this.send(handler)
  }
}

/** `headers` (an object, or a flat [name, value, …] array) with Authorization replaced. */
function withAuthorization (headers, value) {
  if (Array.isArray(headers)) {
    const out = []
    for (let i = 0; i < headers.length; i += 2) {
      if (String(headers[i]).toLowerCase() !== 'authorization') out.push(headers[i], headers[i + 1])
    }
    return [...out, 'authorization', value]
  }
  const out = {}
  for (const [k, v] of Object.entries(headers ?? {})) {
    if (k.toLowerCase() !== 'authorization') out[k] = v
  }
  out.authorization = value
  return out
}

/**
 * An undici interceptor (for `dispatcher.compose(...)`) that authorizes requests to `origins` with tokens
 * from `client`. Options: `origins` (required), and `scopes`, `audience`, `resources`, `extraParams` to ask
 * the token for (default: the client's own).
 */
function bearerInterceptor (client, options = {}) {
  if (!client || typeof client.getToken !== 'function') {
    throw new ConfigError('bearerInterceptor(client, options): client must be a TokenClient', { field: 'client' })
  }
  const allowed = originSet(options.origins)
  if (allowed === undefined || allowed.size === 0) {
    throw new ConfigError('bearerInterceptor: origins is required (the origins that may receive the token)', { field: 'origins' })
  }
  const params = tokenParams(options)
  return (dispatch) => function m2mAuthBearer (opts, handler) {
    if (!allowed.has(originOf(opts.origin))) return dispatch(opts, handler)
    const attempt = new Attempt(client, params, dispatch, opts)
    attempt.send(new BearerHandler(attempt, handler))
    return true
  }
}

module.exports = { bearerInterceptor }
