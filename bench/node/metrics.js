'use strict'
// The benchmark's metrics for one Node implementation (see bench/README.md). Each resolves to a JSON-ready
// object; the caller records a rejection as that metric's failure.

const http = require('node:http')
const net = require('node:net')
const path = require('node:path')
const readline = require('node:readline')
const { once } = require('node:events')
const { execFile, spawn } = require('node:child_process')
const { setTimeout: sleep } = require('node:timers/promises')

const { M2M_AUTH } = require('./peers')


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
// Fleet: N processes of one implementation, each one fresh client with FLEET_CALLERS async loops calling get()
// for FLEET_LIFETIMES token lifetimes of LIFETIME_SECS, pausing FLEET_PAUSE_MS between calls (32 processes
// share 2 cores: what is counted is token requests, not speed). The loop ends a tenth of a lifetime early, so
// that a client fetching at expiry does not start a fourth fetch on the boundary.
const FLEET_CALLERS = 2
const FLEET_PAUSE_MS = 10
const FLEET_LIFETIMES = 3
const FLEET_MS = LIFETIME_SECS * (FLEET_LIFETIMES - 0.1) * 1000
// Until every process has loaded its library and built its client.
const FLEET_READY_TIMEOUT_MS = 120_000
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
  stats () { return this.call('GET', '/mock/stats') }
  /** `POST /mock/tokens`: tokens signed by the mock's key (or as `request` says), aud = the issuer. */
  async mintTokens (request) {
    const { tokens } = await this.call('POST', '/mock/tokens', request)
    if (tokens.length !== (request.count ?? 1)) throw new Error(`asked for ${request.count} tokens, got ${tokens.length}`)
    return tokens
  }
  async tokenRequests () { return (await this.call('GET', '/mock/stats')).token_requests }
  setTokenLifetime (secs) { return this.call('POST', '/mock/token-lifetime', { secs }) }
  close () { this.agent.destroy() }
}

/** A real redis-server on a free port of 127.0.0.1, without persistence: the shared cache of m2m-auth-redis.
 * Stopped by PID (close(), or this process exiting). */
class RedisServer {
  static async start () {
    const port = await freePort()
    const proc = spawn('redis-server', ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    })
    let spawnError = null
    proc.on('error', (e) => { spawnError = e }) // not installed: ENOENT
    const server = new RedisServer(proc, port)
    process.on('exit', () => server.close())
    const deadline = Date.now() + 10_000
    while (!(await redisPing(port))) {
      if (spawnError || proc.exitCode !== null || proc.signalCode !== null || Date.now() > deadline) {
        server.close()
        throw new Error(`redis-server did not start on port ${port}${spawnError ? `: ${spawnError.message}` : ''}`)
      }
      await sleep(50)
    }
    return server
  }

  constructor (proc, port) {
    this.proc = proc
    this.url = `redis://127.0.0.1:${port}`
  }

  close () {
    const { pid, exitCode, signalCode } = this.proc
    if (pid !== undefined && exitCode === null && signalCode === null) process.kill(pid, 'SIGKILL')
  }
}

function freePort () {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address()
      srv.close(() => resolve(port))
    })
  })
}

/** Whether a Redis on `port` answers PING. */
function redisPing (port) {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1')
    let text = ''
    sock.setTimeout(1000, () => { sock.destroy(); resolve(false) })
    sock.on('error', () => resolve(false))
    sock.on('connect', () => sock.write('PING\r\n'))
    sock.on('data', (d) => {
      text += d
      if (text.includes('\r\n')) { sock.destroy(); resolve(text.startsWith('+PONG')) }
    })
  })
}

/** `ep` with a shared-cache prefix of its own, so that this measurement finds nothing an earlier one left in
 * Redis (the token's name there depends only on the credential and the endpoint). */
function freshCache (ep) {
  return { ...ep, cachePrefix: `bench-${process.pid}-${process.hrtime.bigint()}:` }
}

// ---------------------------------------------------------------------------------------------- cached get

/** run(n): awaits get() n times; the nanoseconds it took. */
function timedLoop (get) {
  return async (n) => {
    const start = nowNs()
    for (let i = 0; i < n; i++) await get()
    return Number(nowNs() - start)
  }
}

/** The number of calls that makes a batch of `run` take about BATCH_SECONDS. */
async function calibrate (run) {
  let n = 1000
  let elapsed = await run(n)
  while (elapsed < 20e6) { // 20 ms, then scale to BATCH_SECONDS
    n *= 10
    elapsed = await run(n)
  }
  return Math.max(1000, Math.floor(n * BATCH_SECONDS * 1e9 / elapsed))
}

async function cachedGet (impl, ep) {
  const { get } = await impl.create(ep)
  if (!(await get())) throw new Error('no token')
  const run = timedLoop(get)
  const n = await calibrate(run)
  const batches = []
  for (let b = 0; b < BATCHES; b++) batches.push(await run(n) / n)
  return { ns: median(batches), batches_ns: batches }
}

/** The cached get of `impl` (m2m-auth with cacheUrl set: the in-process cache answers, Redis is only asked on
 * a miss) and of `memoryImpl` (m2m-auth, memory only), in alternating batches of the same size. The target
 * is a ratio within 10%, less than a shared 2-core machine drifts between two separate measurements;
 * alternating (the order swapped every round) cancels that drift. */
async function cachedGetVsMemory (impl, memoryImpl, ep) {
  const redis = await impl.create(freshCache(ep))
  const memory = await memoryImpl.create(ep)
  if (!(await redis.get()) || !(await memory.get())) throw new Error('no token')
  const run = timedLoop(redis.get)
  const memoryRun = timedLoop(memory.get)
  const n = await calibrate(memoryRun)
  await calibrate(run) // its warm-up too
  const ns = []
  const memoryNs = []
  for (let b = 0; b < BATCHES; b++) {
    const rounds = [[run, ns], [memoryRun, memoryNs]]
    for (const [r, out] of b % 2 ? rounds : rounds.reverse()) out.push(await r(n) / n)
  }
  return {
    ns: median(ns),
    batches_ns: ns,
    memory_ns: median(memoryNs),
    memory_batches_ns: memoryNs,
    x_memory: median(ns) / median(memoryNs),
    fetches: redis.client ? redis.client.stats().fetches : null,
  }
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

// --------------------------------------------------------------------------------------------------- fleet

/** N processes (fleet.js), each one fresh client, that begin together (their cold start is part of it) and
 * call get() for FLEET_LIFETIMES lifetimes: the token requests the endpoint saw, per rotation and per
 * lifetime. A rotation is a move of one process to a new token, the first one included (counted in each
 * process as in the rotation metric, the median over the processes): the fleet's requests per rotation are
 * what it sends each time one client alone would send one. Per lifetime differs: the mock writes `exp` in
 * whole seconds, so m2m-auth sees a 2 s token live 1-2 s and refreshes it about every second (see
 * bench/python/metrics.py fleet). */
async function fleet (impl, ep, mock, n) {
  ep = freshCache(ep)
  await mock.reset()
  await mock.setTokenLifetime(LIFETIME_SECS)
  const args = [path.join(__dirname, 'fleet.js'), impl.name, ep.issuer, ep.clientId, ep.clientSecret, ep.cacheUrl, ep.cachePrefix]
  const procs = []
  let members, requests
  try {
    for (let i = 0; i < n; i++) procs.push(fleetProcess(args))
    await withTimeout(Promise.all(procs.map((p) => p.ready)), FLEET_READY_TIMEOUT_MS, 'processes not ready')
    const start = fleetStart(Date.now())
    for (const p of procs) p.proc.stdin.end(`${start}\n`)
    members = await withTimeout(Promise.all(procs.map((p) => p.result)), FLEET_MS + 60_000, 'processes did not end')
    await sleep(50) // a request still in flight when a process ended reaches the counters
    requests = await mock.tokenRequests()
  } finally {
    for (const p of procs) if (p.proc.exitCode === null && p.proc.signalCode === null) p.proc.kill('SIGKILL')
    await mock.reset()
  }
  const tokens = new Set(members.flatMap((m) => m.tokens))
  const sum = (f) => members.reduce((a, m) => a + f(m), 0)
  const perProcess = members.map((m) => m.rotations)
  const rotations = median(perProcess)
  return {
    processes: n,
    callers_per_process: FLEET_CALLERS,
    seconds: FLEET_MS / 1000,
    token_requests: requests,
    rotations,
    rotations_range: [Math.min(...perProcess), Math.max(...perProcess)],
    requests_per_rotation: rotations ? requests / rotations : null,
    lifetimes: FLEET_LIFETIMES,
    requests_per_lifetime: requests / FLEET_LIFETIMES,
    distinct_tokens: tokens.size,
    calls: sum((m) => m.calls),
    first_token_ms: Math.max(...members.map((m) => m.first_token_ms)),
    expired: sum((m) => m.expired),
    errors: sum((m) => m.errors),
    processes_failed: sum((m) => (m.expired + m.errors > 0 ? 1 : 0)),
    error_sample: members.find((m) => m.error_sample)?.error_sample ?? null,
    client_stats: sumStats(members.map((m) => m.client_stats).filter(Boolean)),
  }
}

/** When the fleet begins (epoch ms): every process is waiting for it, so they begin at the same instant; half
 * a second past a whole second, so that how many of m2m-auth's refreshes fall before the end does not depend
 * on the wall clock at the start (the mock's `exp` is in whole seconds; see python/metrics.py fleet_start). */
function fleetStart (now) {
  return Math.ceil((now + 200) / 1000) * 1000 + 500
}

/** m2m-auth's counters (client.stats()) added up over the processes, and one last error: they tell why a
 * fleet sent more requests than expected (sharedErrors: Redis too slow or down, lockWaits …). */
function sumStats (stats) {
  if (!stats.length) return null
  const total = {}
  for (const [k, v] of Object.entries(stats[0])) if (typeof v === 'number') total[k] = stats.reduce((a, s) => a + s[k], 0)
  total.lastError = stats.find((s) => s.lastError)?.lastError ?? null
  return total
}

/** One fleet process: `ready` resolves once it printed "ready", `result` to the JSON it printed at the end. */
function fleetProcess (args) {
  const proc = spawn(process.execPath, args, { cwd: __dirname, stdio: ['pipe', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  proc.stdout.setEncoding('utf8').on('data', (d) => { stdout += d })
  proc.stderr.setEncoding('utf8').on('data', (d) => { stderr = (stderr + d).slice(-2000) })
  const exited = new Promise((resolve) => proc.on('close', resolve))
  const failed = (code) => new Error(`a process failed (exit ${code}): ${stderr.trim().slice(-300)}`)
  const ready = new Promise((resolve, reject) => {
    const check = () => { if (stdout.startsWith('ready\n')) resolve() }
    proc.stdout.on('data', check)
    exited.then((code) => reject(failed(code)))
  })
  ready.catch(() => {}) // the failure is reported by whichever of ready/result is awaited
  const result = exited.then((code) => {
    const lines = stdout.trim().split('\n')
    if (code !== 0 || lines.length < 2) throw failed(code)
    return JSON.parse(lines[lines.length - 1])
  })
  result.catch(() => {})
  return { proc, ready, result }
}

function withTimeout (promise, ms, what) {
  let timer
  const timeout = new Promise((resolve, reject) => { timer = setTimeout(() => reject(new Error(`${what} after ${ms / 1000} s`)), ms) })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/** One process of a fleet (called by fleet.js): builds its client, says "ready", reads the start time (epoch
 * ms) from stdin, waits for it, then FLEET_CALLERS loops call get() until FLEET_MS later. What the process
 * saw: calls, its rotations (moves to a new token, the first one included), the tokens (their signatures'
 * tails), expired tokens and errors, and how long after the start every caller had its first token. */
async function fleetMember (impl, ep) {
  const { get, client } = await impl.create(ep) // client: m2m-auth's TokenClient
  process.stdout.write('ready\n')
  const lines = readline.createInterface({ input: process.stdin })
  const [line] = await once(lines, 'line')
  lines.close()
  const start = Number(line)
  const end = start + FLEET_MS
  await sleep(Math.max(0, start - Date.now()))
  const tokens = new Tokens()
  const loop = async () => {
    const c = { calls: 0, firstMs: FLEET_MS, expired: 0, errors: 0, errorSample: null }
    while (Date.now() < end) {
      let token
      try {
        token = await get()
      } catch (e) {
        c.errors++
        c.errorSample ??= errorText(e)
      }
      if (c.calls++ === 0) c.firstMs = Date.now() - start
      if (token !== undefined && tokens.expired(token)) c.expired++
      await sleep(FLEET_PAUSE_MS)
    }
    return c
  }
  const callers = await Promise.all(Array.from({ length: FLEET_CALLERS }, loop))
  return {
    client_stats: client ? client.stats() : null,
    calls: callers.reduce((a, c) => a + c.calls, 0),
    rotations: tokens.rotations(null), // null: no token is left out, the first is a rotation too
    tokens: [...tokens.seen.keys()].map((t) => t.slice(-16)),
    first_token_ms: Math.max(...callers.map((c) => c.firstMs)),
    expired: callers.reduce((a, c) => a + c.expired, 0),
    errors: callers.reduce((a, c) => a + c.errors, 0),
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

/** The endpoint a child process gets from its arguments: issuer URL, client id, secret, and the shared cache
 * (for m2m-auth-redis only: the Redis URL and the measurement's own prefix). */
function endpointFromArgs (issuer, clientId, clientSecret, cacheUrl = '', cachePrefix = '') {
  return { issuer, tokenUrl: `${issuer}/oauth2/token`, clientId, clientSecret, cacheUrl, cachePrefix }
}

// ------------------------------------------------------------------------------------------- verification
// The receiving side (peers.VERIFIERS), as python/metrics.py measures it. verifyNew: each call a token the
// verifier never saw, after a warm-up that fetched the JWKS; VERIFY_NEW_BATCHES batches of VERIFY_NEW_BATCH
// tokens, every verifier the same list, the median of the batches. verifyRepeat: one token again and again,
// as the cached get. unknownKidStorm: STORM_TOKENS tokens, each with a kid of its own that no JWKS has, all at
// once (Promise.all) on a fresh verifier: the JWKS requests the issuer saw.
const VERIFY_WARMUP = 200
const VERIFY_NEW_BATCHES = 7
const VERIFY_NEW_BATCH = 500
const STORM_TOKENS = 1000

/** The mock as the issuer verifiers trust: its metadata's issuer (also the tokens' aud) and jwks_uri. */
async function verifyIssuer (mock) {
  const meta = await mock.call('GET', '/.well-known/openid-configuration')
  return { issuer: meta.issuer, audience: meta.issuer, jwksUri: meta.jwks_uri }
}

function verified (claims) {
  if (claims === null || claims === undefined) throw new Error('verify resolved to nothing')
}

async function verifyNew (impl, iss, warmup, batches) {
  const { verify } = await impl.create(iss)
  for (const token of warmup) verified(await verify(token))
  const perCall = []
  for (const batch of batches) {
    const start = nowNs()
    for (const token of batch) await verify(token)
    perCall.push(Number(nowNs() - start) / batch.length)
  }
  return { ns: median(perCall), batches_ns: perCall, batch_tokens: batches[0].length, warmup_tokens: warmup.length }
}

/** run(n): awaits fn(arg) n times; the nanoseconds it took. */
function timedCallLoop (fn, arg) {
  return async (n) => {
    const start = nowNs()
    for (let i = 0; i < n; i++) await fn(arg)
    return Number(nowNs() - start)
  }
}

/** Batches of about BATCH_SECONDS of `run`, BATCHES of them: ns per call of each. */
async function batchesOf (run) {
  const n = await calibrate(run)
  const out = []
  for (let b = 0; b < BATCHES; b++) out.push(await run(n) / n)
  return out
}

async function verifyRepeat (impl, iss, token) {
  const { verify } = await impl.create(iss)
  verified(await verify(token))
  const perCall = await batchesOf(timedCallLoop(verify, token))
  return { ns: median(perCall), batches_ns: perCall }
}

async function unknownKidStorm (impl, iss, mock, tokens) {
  await mock.reset()
  const { verify } = await impl.create(iss)
  const start = nowNs()
  const outcomes = await Promise.allSettled(tokens.map((t) => verify(t)))
  const wallMs = Number(nowNs() - start) / 1e6
  await sleep(50) // a request still in flight reaches the counters
  const stats = await mock.stats()
  const errors = outcomes.filter((o) => o.status === 'rejected').map((o) => o.reason)
  const rejections = {}
  for (const e of errors) {
    const kind = (e && (e.code || e.name)) || 'Error'
    rejections[kind] = (rejections[kind] ?? 0) + 1
  }
  return {
    tokens: tokens.length,
    jwks_requests: stats.jwks_requests,
    metadata_requests: stats.metadata_requests ?? 0,
    accepted: outcomes.length - errors.length,
    rejected: errors.length,
    rejections,
    wall_ms: wallMs,
    concurrent: true,
    error_sample: errors.length ? errorText(errors[0]) : null,
  }
}

/** Where the time of m2m-auth's repeated-token verify goes, in this process (ns per call, the median of
 * BATCHES batches each, the parts taking turns): await verifier.verify(token); the addon's own
 * NativeVerifier.verifyKnown(token), which that makes (the lookup by the token's hash, the claims converted to
 * a JS object); verifier.js's claimsOf, the object users get, made in JS from verifyKnown's answer; a native
 * call that takes the token and returns nothing (NativeVerifier.certificateDer(token): a few scans of the
 * text, no certificate in it); a native call that takes the token and gives a string back
 * (bearerToken('Bearer ' + token): a parse in the core), sync and awaited; SHA-256 of the token's bytes with
 * node:crypto (OpenSSL; the core hashes with aws-lc), and of 20 copies of them, which tells the hashing of
 * the bytes alone; an awaited async function. */
async function verifyBreakdown (iss, token) {
  const crypto = require('node:crypto')
  const { Verifier, bearerToken } = require(M2M_AUTH)
  const native = require(path.join(M2M_AUTH, 'node', 'native.js'))
  const verifier = new Verifier({ issuer: iss.issuer, audience: iss.audience })
  verified(await verifier.verify(token))
  const nativeVerifier = new native.NativeVerifier({ issuer: iss.issuer, audience: iss.audience })
  verified(await nativeVerifier.verify(token))
  const known = nativeVerifier.verifyKnown(token, undefined, undefined)
  verified(known)
  // verifier.js's claimsOf, as it is there.
  const claimsOf = (n) => ({
    issuer: n.issuer,
    subject: n.subject ?? undefined,
    clientId: n.clientId ?? undefined,
    scopes: n.scopes,
    audience: n.audience,
    expiresAt: new Date(n.expiresAtMs),
    claims: n.claims,
  })
  const header = `Bearer ${token}`
  const bytes = Buffer.from(token)
  const bytes20 = Buffer.from(token.repeat(20))
  const loop = (fn) => async (n) => {
    const start = nowNs()
    for (let i = 0; i < n; i++) await fn()
    return Number(nowNs() - start)
  }
  const syncLoop = (fn) => async (n) => {
    const start = nowNs()
    for (let i = 0; i < n; i++) fn()
    return Number(nowNs() - start)
  }
  const floor = async () => token
  const parts = {
    verify_repeat: loop(() => verifier.verify(token)),
    native_verify_known_sync: syncLoop(() => nativeVerifier.verifyKnown(token, undefined, undefined)),
    claims_of_js: syncLoop(() => claimsOf(known)),
    native_string_in_certificate_der: syncLoop(() => nativeVerifier.certificateDer(token)),
    native_bearer_token_awaited: loop(() => bearerToken(header)),
    native_bearer_token_sync: syncLoop(() => bearerToken(header)),
    sha256_token_node_crypto: syncLoop(() => crypto.createHash('sha256').update(bytes).digest()),
    sha256_token_x20_node_crypto: syncLoop(() => crypto.createHash('sha256').update(bytes20).digest()),
    awaited_async_floor: loop(floor),
  }
  const out = { token_bytes: Buffer.byteLength(token) }
  for (const [name, batches] of Object.entries(await interleaved(parts))) out[name] = { ns: median(batches), batches_ns: batches }
  // The hashing of the token's bytes alone: what 19 more copies of them add, ÷ 19.
  out.sha256_of_token_bytes_ns = (out.sha256_token_x20_node_crypto.ns - out.sha256_token_node_crypto.ns) / 19
  return out
}

/** BATCHES batches of each part (each calibrated to about BATCH_SECONDS), in rounds of one batch of every part,
 * the order turned by one each round: a shared machine's drift falls on every part alike, so that the parts
 * compare (as in cachedGetVsMemory). */
async function interleaved (parts) {
  const names = Object.keys(parts)
  const sizes = {}
  for (const name of names) sizes[name] = await calibrate(parts[name])
  const out = Object.fromEntries(names.map((name) => [name, []]))
  for (let b = 0; b < BATCHES; b++) {
    const k = b % names.length
    for (const name of [...names.slice(k), ...names.slice(0, k)]) out[name].push(await parts[name](sizes[name]) / sizes[name])
  }
  return out
}

const VERIFY_SETTINGS = {
  warmup_tokens: VERIFY_WARMUP,
  new_batches: VERIFY_NEW_BATCHES,
  new_batch_tokens: VERIFY_NEW_BATCH,
  repeat_batches: BATCHES,
  repeat_batch_seconds: BATCH_SECONDS,
  storm_tokens: STORM_TOKENS,
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
  fleet_callers: FLEET_CALLERS,
  fleet_seconds: FLEET_MS / 1000,
  fleet_pause_ms: FLEET_PAUSE_MS,
  fleet_lifetimes: FLEET_LIFETIMES,
}

module.exports = {
  Mock, RedisServer, SETTINGS, cachedGet, cachedGetVsMemory, coldHerd, herdInProcess, rotation, fleet, fleetMember,
  importMs, rssKib, endpointFromArgs,
  VERIFY_SETTINGS, verifyIssuer, verifyNew, verifyRepeat, unknownKidStorm, verifyBreakdown,
}
