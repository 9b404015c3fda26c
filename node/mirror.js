'use strict'
// The default token, mirrored on the JS side: a cache hit is answered here, without a native call (which
// costs more than a whole hit should). The core decides; it tells the mirror, at every change, the token
// and how long it may be served before the core must be asked again (refresh due, or expiry near). After
// that, or once the token is dropped, calls go to the core as before.

class TokenMirror {
  #token = undefined
  #seq = 0
  #timer = undefined
  /** Hits answered here, for stats(). */
  hits = 0

  /** The listener for the core's updates: JSON text {seq, token, serveForMs}. */
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
  get current() { return this.#token }

  /** Forgets the token. `seq`: the core's count of changes after the drop, so that no update from before it
   *  brings the token back; without it, only the token is forgotten. */
  drop(seq) {
    if (seq !== undefined) this.#seq = Math.max(this.#seq, seq)
    this.#set(null, 0)
  }

  #set(token, serveForMs) {
    clearTimeout(this.#timer)
    this.#timer = undefined
    if (token === null || !(serveForMs > 0)) {
      this.#token = undefined
      return
    }
    this.#token = token
    // setTimeout takes at most 2^31-1 ms; a longer serving time is cut short, which only costs a native call.
    this.#timer = setTimeout(() => { this.#token = undefined }, Math.min(serveForMs, 2 ** 31 - 1))
    this.#timer.unref()
  }
}

module.exports = { TokenMirror }
