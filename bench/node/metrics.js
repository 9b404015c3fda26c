'use strict'
// The benchmark's metrics for one Node implementation (see bench/README.md). Each resolves to a JSON-ready
// object; the caller records a rejection as that metric's failure.

const http = require('node:http')
const path = require('node:path')
const { execFile } = require('node:child_process')
const { setTimeout: sleep } = require('node:timers/promises')


// Cached get: the median of BATCHES batches of about BATCH_SECONDS each.
const BATCHES = 7
const BATCH_SECONDS = 0.2
// Cold herd: stop waiting for the callers after this long (the child process ends with them).
const HERD_TIMEOUT_MS = 10_000
// Rotation: callers, token lifetime, lifetimes looped; a call slower than SLOW_MS waited on the network. New
// tokens that callers first got within ROTATION_GAP_MS of each other belong to one rotation. Between calls
// each caller waits PAUSE_MS (a timer: the event loop runs, as in a service doing other work).
const CALLERS = 8
const LIFETIME_SECS = 2
const ROTATIONS = 3
const SLOW_MS = 5
const ROTATION_GAP_MS = LIFETIME_SECS * 1000 / 4
const PAUSE_MS = 1
// The mock's tokens carry `exp` in whole seconds (iat rounded down): a token counts as expired only after
// exp + 1 s.
const EXP_TOLERANCE_SECS = 1
// Footprint: fresh processes per measurement.
const IMPORT_RUNS = 7
const RSS_RUNS = 3

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}
const errorText = (e) => `${e && e.name ? e.name : 'Error'}: ${e && e.message ? e.message : e}`.slice(0, 300)
const nowNs = () => process.hrtime.bigint()

/** The admin API of the `m2m-auth mock` server, over node:http (apart from the peers' own connections). */
class Mock {
  constructor (url) {
    this.url = url.replace(/\/$/, '')
    this.agent = new http.Agent({ keepAlive: true })
  }

  call (method, p, body) {
    return new Promise((resolve, reject) => {
      const data = body === undefined ? '' : JSON.stringify(body)
      const req = http.request(this.url + p, {
        method, agent: this.agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) },
      }, (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (c) => { text += c })
        res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(text)) : reject(new Error(`${p}: ${res.statusCode} ${text}`))))
      })
      req.on('error', reject)
      req.end(data)
    })
  }

  reset () { return this.call('POST', '/mock/reset', {}) }
  async tokenRequests () { return (await this.call('GET', '/mock/stats')).token_requests }
  setTokenLifetime (secs) { return this.call('POST', '/mock/token-lifetime', { secs }) }
  close () { this.agent.destroy() }
}

// ---------------------------------------------------------------------------------------------- cached get

async function cachedGet (impl, ep) {
  const { get } = await impl.create(ep)
  if (!(await get())) throw new Error('no token')
  const run = async (n) => {
    const start = nowNs()
    for (let i = 0; i < n; i++) await get()
    return Number(nowNs() - start)
  }
  let n = 1000
  let elapsed = await run(n)
  while (elapsed < 20e6) { // 20 ms, then scale to BATCH_SECONDS
    n *= 10
    elapsed = await run(n)
  }
  n = Math.max(1000, Math.floor(n * BATCH_SECONDS * 1e9 / elapsed))
  const batches = []
  for (let b = 0; b < BATCHES; b++) batches.push(await run(n) / n)
  return { ns: median(batches), batches_ns: batches }
}

// ----------------------------------------------------------------------------------------------- cold herd

/** N first callers at once on an empty cache, in a fresh process (herd.js), so that callers still waiting
 * at the timeout end with it instead of sending requests into the next measurement. */
async function coldHerd (impl, ep, mock, n) {
  await mock.reset()
  const args = [path.join(__dirname, 'herd.js'), impl.name, String(n), ep.issuer, ep.clientId, ep.clientSecret]
  const result = JSON.parse(await child(args, HERD_TIMEOUT_MS + 60_000))
  await sleep(50) // a request that a timed-out caller had in flight reaches the counters
  return { n, token_requests: await mock.tokenRequests(), ...result }
}

/** The herd itself (called by herd.js): the outcome of each caller, and the wall time. */
async function herdInProcess (impl, ep, n) {
  const { get } = await impl.create(ep)
  const outcomes = new Array(n).fill(null)
  let timer
  const timeout = new Promise((resolve) => { timer = setTimeout(resolve, HERD_TIMEOUT_MS) })
  const start = nowNs()
  const all = Promise.all(Array.from({ length: n }, (_, i) => get().then(
    (token) => { outcomes[i] = ['ok', token] },
    (e) => { outcomes[i] = ['error', errorText(e)] },
  )))
  await Promise.race([all, timeout])
  const wallMs = Number(nowNs() - start) / 1e6
  clearTimeout(timer)
  const timedOut = outcomes.filter((o) => o === null).length
  const errors = outcomes.filter((o) => o && o[0] === 'error').map((o) => o[1])
  const tokens = new Set(outcomes.filter((o) => o && o[0] === 'ok').map((o) => o[1]))
  return {
    wall_ms: timedOut ? HERD_TIMEOUT_MS : wallMs,
    ok: n - errors.length - timedOut,
    errors: errors.length,
    timed_out: timedOut,
    distinct_tokens: tokens.size,
    error_sample: errors[0] ?? null,
  }
}

// ------------------------------------------------------------------------------------------------ rotation

/** Every token the callers received: its `exp`, and when a caller first had it. */
class Tokens {
  constructor () { this.seen = new Map() }

  /** Whether the JWT's exp (+ EXP_TOLERANCE_SECS) has passed now; notes a token not seen before. */
  expired (token) {
    let entry = this.seen.get(token)
    if (entry === undefined) {
      const { exp } = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString())
      entry = { exp, firstSeen: performance.now() }
      this.seen.set(token, entry)
    }
    return Date.now() / 1000 > entry.exp + EXP_TOLERANCE_SECS
  }

  /** How many times the callers moved to new tokens: new tokens first had within ROTATION_GAP_MS of each
   * other (a peer's callers each fetching their own at expiry) are one rotation. */
  rotations (first) {
    const times = [...this.seen].filter(([token]) => token !== first).map(([, e]) => e.firstSeen).sort((a, b) => a - b)
    return times.filter((t, i) => i === 0 || t - times[i - 1] > ROTATION_GAP_MS).length
  }
}

/** CALLERS callers loop for ROTATIONS token lifetimes of LIFETIME_SECS (plus a quarter, so that a client
 * that fetches only at expiry reaches its last one too). */
async function rotation (impl, ep, mock) {
  await mock.reset()
  await mock.setTokenLifetime(LIFETIME_SECS)
  const durationMs = LIFETIME_SECS * (ROTATIONS + 0.25) * 1000
  const tokens = new Tokens()
  let callers, first, requests
  try {
    const { get } = await impl.create(ep)
    first = await get() // the first token; requests are counted from here
    const base = await mock.tokenRequests()
    const end = performance.now() + durationMs
    const loop = async () => {
      const c = { calls: 0, maxNs: 0, slow: 0, expired: 0, errors: 0, errorSample: null }
      while (performance.now() < end) {
        const start = nowNs()
        let token
        try {
          token = await get()
        } catch (e) {
          c.errors++
          c.errorSample ??= errorText(e)
        }
        const elapsed = Number(nowNs() - start)
        c.calls++
        if (elapsed > c.maxNs) c.maxNs = elapsed
        if (elapsed > SLOW_MS * 1e6) c.slow++
        if (token !== undefined && tokens.expired(token)) c.expired++
        await sleep(PAUSE_MS)
      }
      return c
    }
    callers = await Promise.all(Array.from({ length: CALLERS }, loop))
    requests = (await mock.tokenRequests()) - base
  } finally {
    await mock.reset()
  }
  const rotations = tokens.rotations(first)
  const sum = (f) => callers.reduce((a, c) => a + f(c), 0)
  return {
    callers: CALLERS,
    seconds: durationMs / 1000,
    calls: sum((c) => c.calls),
    max_ms: Math.max(...callers.map((c) => c.maxNs)) / 1e6,
    slow_calls: sum((c) => c.slow),
    callers_waited: sum((c) => (c.slow > 0 ? 1 : 0)),
    token_requests: requests,
    rotations,
    requests_per_rotation: rotations ? requests / rotations : null,
    expired: sum((c) => c.expired),
    errors: sum((c) => c.errors),
    callers_failed: sum((c) => (c.expired + c.errors > 0 ? 1 : 0)),
    error_sample: callers.find((c) => c.errorSample)?.errorSample ?? null,
  }
}

// ----------------------------------------------------------------------------------------------- footprint

/** Runs node with `args` (cwd: bench/node); resolves to the last line it printed. */
function child (args, timeoutMs = 120_000) {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { cwd: __dirname, timeout: timeoutMs, maxBuffer: 1 << 24 }, (err, stdout, stderr) => {
      const lines = stdout.trim().split('\n')
      if (err || !stdout.trim()) reject(new Error(`${err ? err.message : 'no output'}: ${stderr.trim().slice(-300)}`))
      else resolve(lines[lines.length - 1])
    })
  })
}

/** Time to load the package in a fresh process (after start-up), median of IMPORT_RUNS. */
async function importMs (impl) {
  const spec = JSON.stringify(impl.module)
  const code = impl.esm
    ? `const t = process.hrtime.bigint(); import(${spec}).then(() => console.log(Number(process.hrtime.bigint() - t) / 1e6))`
    : `const t = process.hrtime.bigint(); require(${spec}); console.log(Number(process.hrtime.bigint() - t) / 1e6)`
  await child(['-e', code]) // warm the file cache
  const runs = []
  for (let i = 0; i < IMPORT_RUNS; i++) runs.push(Number(await child(['-e', code])))
  return { module: path.basename(impl.module), ms: median(runs), runs_ms: runs }
}

/** RSS added by one client that got its token, in a fresh process (footprint.js), median of RSS_RUNS. */
async function rssKib (impl, ep) {
  const args = ['--expose-gc', path.join(__dirname, 'footprint.js'), impl.name, ep.issuer, ep.clientId, ep.clientSecret]
  const runs = []
  for (let i = 0; i < RSS_RUNS; i++) runs.push(Number(await child(args)))
  return { kib: median(runs), runs_kib: runs }
}

/** The endpoint a child process gets from its arguments: issuer URL, client id, secret. */
function endpointFromArgs (issuer, clientId, clientSecret) {
  return { issuer, tokenUrl: `${issuer}/oauth2/token`, clientId, clientSecret }
}

const SETTINGS = {
  batches: BATCHES,
  batch_seconds: BATCH_SECONDS,
  herd_timeout_secs: HERD_TIMEOUT_MS / 1000,
  rotation_callers: CALLERS,
  rotation_lifetime_secs: LIFETIME_SECS,
  rotation_rotations: ROTATIONS,
  slow_ms: SLOW_MS,
  exp_tolerance_secs: EXP_TOLERANCE_SECS,
}

module.exports = {
  Mock, SETTINGS, cachedGet, coldHerd, herdInProcess, rotation, importMs, rssKib, endpointFromArgs,
}
