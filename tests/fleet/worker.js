'use strict'
// One Node process of a fleet: `callers` async callers ask for the token until the run ends (or once, with
// seconds 0), each checking that no token it is handed had expired when it asked. Prints a JSON summary on stdout.
//
// Usage: node worker.js '<json config>'  (token_url, cache_url, callers, start_at, seconds, options)

const { TokenClient } = require('../..')

// The test passes the options as Python keywords (seconds); these are their Node names (milliseconds).
const NODE_OPTIONS = { cache_timeout: 'cacheTimeoutMs', cache_lock_ttl: 'cacheLockTtlMs', retry_deadline: 'retryDeadlineMs' }

function nodeOptions(options = {}) {
  return Object.fromEntries(Object.entries(options).map(([name, seconds]) => {
    if (!(name in NODE_OPTIONS)) throw new Error(`worker.js: no Node name for ${name}`)
    return [NODE_OPTIONS[name], seconds * 1000]
  }))
}

function jwtExp(token) {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()).exp
}

async function main() {
  const config = JSON.parse(process.argv[2])
  const client = new TokenClient({
    tokenUrl: config.token_url, clientId: 'demo-client', clientSecret: 'demo-secret', cacheUrl: config.cache_url,
    ...nodeOptions(config.options),
  })
  const summary = { calls: 0, errors: [], expired: 0, tokens: new Set(), max_wait: 0, late: [] }
  process.stderr.write('ready\n')
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, config.start_at * 1000 - Date.now())))
  const end = (config.start_at + config.seconds) * 1000

  async function caller() {
    for (;;) {
      const asked = Date.now()
      try {
        const token = await client.getToken()
        const handed = Date.now()
        summary.max_wait = Math.max(summary.max_wait, (handed - asked) / 1000)
        // Expired already when the caller asked (a process descheduled between the hand-out and the clock read
        // must not count: 8 processes share 2 cores here).
        if (jwtExp(token) * 1000 <= asked) {
          summary.expired += 1
          if (summary.late.length < 3) summary.late.push({ exp: jwtExp(token), asked: asked / 1000, handed: handed / 1000 })
        }
        summary.tokens.add(token)
      } catch (e) {
        if (summary.errors.length < 5) summary.errors.push(`${e.name}: ${e.message}`)
      }
      summary.calls += 1
      if (Date.now() >= end) break
      // Without pause, but letting the event loop run now and then (I/O, the core's updates), as a server's does.
      if (summary.calls % 100 === 0) await new Promise((resolve) => setImmediate(resolve))
    }
  }

  await Promise.all(Array.from({ length: config.callers }, caller))
  const stats = client.stats()
  process.stdout.write(JSON.stringify({
    ...summary, tokens: [...summary.tokens].sort(),
    stats: {
      fetches: stats.fetches, shared_hits: stats.sharedHits, shared_misses: stats.sharedMisses,
      shared_errors: stats.sharedErrors, lock_waits: stats.lockWaits, shared_rejected: stats.sharedRejected,
    },
  }) + '\n')
}

main().catch((e) => {
  process.stderr.write(`${e.stack}\n`)
  process.exit(1)
})
