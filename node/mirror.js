'use strict'
// The default token, mirrored on the JS side: a cache hit is answered here, without a native call (which
// costs more than a whole hit should). The core decides; it tells the mirror, at every change, the token
// and how long it may be served before the core must be asked again (refresh due, or expiry near). After
// that, or once the token is dropped, calls go to the core as before.
//
// The deadline is checked on every hit against the monotonic clock: a timer alone would fire late when the
// event loop is blocked, and a token could then be served past its use-by.

const { performance } = require('node:perf_hooks')

class TokenMirror {
  #token = undefined
  #until = 0
  #seq = 0
  /** Hits answered here, for stats(). */
  hits = 0

  /** The listener for the core's updates: JSON text {seq, token, serveForMs}, serveForMs counted from the
   *  moment the listener runs. */
  listener() {
    return (json) => {
      const u = JSON.parse(json)
      // Updates can arrive late: one older than a change already seen is stale.
      if (u.seq <= this.#seq) return
      this.#seq = u.seq
      this.#set(u.token, u.serveForMs)
    }
  }

  /** The token, if it may be served without asking the core. */
  get current() {
    if (this.#token !== undefined && performance.now() >= this.#until) this.#token = undefined
    return this.#token
  }

  /** Forgets the token. `seq`: the core's count of changes after the drop, so that no update from before it
   *  brings the token back; without it, only the token is forgotten. */
  drop(seq) {
    if (seq !== undefined) this.#seq = Math.max(this.#seq, seq)
    this.#set(null, 0)
  }

  /** Whether `token` is the one served from here (whatever its deadline). */
  holds(token) { return this.#token === token }

  #set(token, serveForMs) {
    if (token === null || !(serveForMs > 0)) {
      this.#token = undefined
      return
    }
    this.#token = token
    this.#until = performance.now() + serveForMs
  }
}

module.exports = { TokenMirror }
