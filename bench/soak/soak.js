'use strict'
// The Node half of `make soak`: 1000 Promises calling getToken() of one TokenClient without pause (a few
// milliseconds apart) for the given time against a token endpoint that issues 2-second tokens and fails some
// requests. Counts calls, errors and tokens handed out after their exp, and samples the process's RSS and
// open file descriptors. Writes JSON to the given path.
//
//   node soak.js TOKEN_URL SECONDS OUT.json

const fs = require('node:fs')
const path = require('node:path')

const { TokenClient, M2MAuthError } = require(path.join(__dirname, '../../node'))

const CALLERS = 1000
const SAMPLE_EVERY_MS = 5000

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const expOf = (token) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()).exp

async function main () {
  const [tokenUrl, secondsArg, out] = process.argv.slice(2)
  const seconds = Number(secondsArg)
  const client = new TokenClient({ tokenUrl, clientId: 'demo-client', clientSecret: 'demo-secret' })
  const tally = { calls: 0, errors: 0, expired: 0, firstErrors: [] }
  const start = performance.now()
  const end = start + seconds * 1000

  async function caller () {
    while (performance.now() < end) {
      const began = Date.now() / 1000
      try {
        const token = await client.getToken()
        if (began >= expOf(token)) tally.expired += 1
      } catch (e) {
        if (!(e instanceof M2MAuthError)) throw e
        tally.errors += 1
        if (tally.firstErrors.length < 5) tally.firstErrors.push(`${e.name}: ${e.message}`)
      }
      tally.calls += 1
      await sleep(Math.random() * 20)
    }
  }

  const samples = []
  const sampler = setInterval(() => {
    samples.push({
      t: Math.round((performance.now() - start) / 100) / 10,
      rss_kib: Math.round(process.memoryUsage.rss() / 1024),
      fds: fs.readdirSync('/proc/self/fd').length,
      calls: tally.calls,
    })
  }, SAMPLE_EVERY_MS)
  await Promise.all(Array.from({ length: CALLERS }, caller))
  clearInterval(sampler)
  const result = {
    language: 'node',
    callers: CALLERS,
    seconds,
    calls: tally.calls,
    errors: tally.errors,
    first_errors: tally.firstErrors,
    expired: tally.expired,
    stats: client.stats(),
    samples,
  }
  fs.writeFileSync(out, JSON.stringify(result, null, 1))
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
