'use strict'
// Runs every metric for every Node implementation against the running mock; writes one JSON file.
//
//   node run.js --mock-url http://127.0.0.1:PORT --out ../.build/node.json [--only name,name]
//       [--metrics client,shared,verify]
//
// A metric that fails for an implementation is recorded as { error }; the run goes on. --metrics (default:
// $BENCH_ONLY, else all) picks the groups: client (cached get, cold herd, rotation, footprint), shared (the
// Redis fleet and cached get), verify (the Verifier's metrics).

const fs = require('node:fs')
const path = require('node:path')
const { parseArgs } = require('node:util')

const { ALL, BY_NAME, FLEET, M2M_AUTH, VERIFIERS, LEEWAY_SECS, ALGORITHMS } = require('./peers')
const metrics = require('./metrics')

const CLIENT_ID = 'bench-client' // registered in bench/mock-config.json
const CLIENT_SECRET = 'bench-secret'
const HERD_SIZES = [64, 1000]
const FLEET_SIZES = [8, 32]
const METRIC_GROUPS = ['client', 'shared', 'verify']

const log = (msg) => process.stderr.write(`[node] ${msg}\n`)

function brief (result) {
  return JSON.stringify(Object.fromEntries(Object.entries(result)
    .filter(([k]) => !k.endsWith('s_ns') && !k.startsWith('runs_'))
    .map(([k, v]) => [k, v && typeof v === 'object' && typeof v.ns === 'number' ? v.ns : v]) // a breakdown's part: its median
    .map(([k, v]) => [k, typeof v === 'number' && !Number.isInteger(v) ? Math.round(v * 10) / 10 : v])))
}

async function attempt (what, fn) {
  const started = performance.now()
  try {
    const result = await fn()
    log(`  ${what}: ${brief(result)} (${((performance.now() - started) / 1000).toFixed(1)} s)`)
    return result
  } catch (e) {
    log(`  ${what}: FAILED ${e && e.stack ? e.stack : e}`)
    return { error: `${e && e.name ? e.name : 'Error'}: ${e && e.message ? e.message : e}`.slice(0, 300) }
  }
}

/** The metrics of the shared cache, with one real redis-server for all of them: the cached get with cacheUrl
 * set (against the memory cache, alternating), and the fleet of every FLEET implementation. */
async function sharedCache (ep, mock, only) {
  let redis
  try {
    redis = await metrics.RedisServer.start()
  } catch (e) { // no redis-server: these cells fail, the run goes on
    log(`redis-server: FAILED ${e.message}`)
    const failed = { error: `redis-server: ${e.message}`.slice(0, 300) }
    const runs = Object.fromEntries(FLEET_SIZES.map((n) => [n, failed]))
    const fleet = FLEET.filter((impl) => !only || only.has(impl.name)).map((impl) => ({ name: impl.name, label: impl.label, runs }))
    return { redisCachedGet: failed, fleet }
  }
  log(`redis-server at ${redis.url}`)
  try {
    ep = { ...ep, cacheUrl: redis.url }
    let redisCachedGet = null
    if (!only || only.has('m2m-auth-redis')) {
      log('m2m-auth-redis vs m2m-auth')
      redisCachedGet = await attempt('cached get, Redis vs memory',
        () => metrics.cachedGetVsMemory(BY_NAME['m2m-auth-redis'], BY_NAME['m2m-auth'], ep))
    }
    const fleet = []
    for (const impl of FLEET) {
      if (only && !only.has(impl.name)) continue
      log(impl.name)
      const runs = {}
      for (const n of FLEET_SIZES) runs[n] = await attempt(`fleet N=${n}`, () => metrics.fleet(impl, ep, mock, n))
      fleet.push({ name: impl.name, label: impl.label, runs })
    }
    return { redisCachedGet, fleet }
  } finally {
    redis.close()
  }
}

/** The Verifier's metrics for every verifier (peers.VERIFIERS): a new token, a repeated token, the unknown-kid
 * storm; and where m2m-auth's time for a repeated token goes. The tokens are minted here, once, and every
 * verifier gets the same ones. */
async function verification (mock, only) {
  const s = metrics.VERIFY_SETTINGS
  const iss = await metrics.verifyIssuer(mock)
  log(`verification: issuer ${iss.issuer}, JWKS ${iss.jwksUri}`)
  const newCount = s.new_batches * s.new_batch_tokens
  const fresh = await mock.mintTokens({ count: s.warmup_tokens + newCount })
  const warmup = fresh.slice(0, s.warmup_tokens)
  const batches = []
  for (let i = s.warmup_tokens; i < fresh.length; i += s.new_batch_tokens) batches.push(fresh.slice(i, i + s.new_batch_tokens))
  const storm = await mock.mintTokens({ count: s.storm_tokens, sign: 'other_key', distinct_kids: true })
  const repeated = warmup[0]
  const impls = []
  for (const impl of VERIFIERS) {
    if (only && !only.has(impl.name)) continue
    log(`verifier ${impl.name}`)
    const entry = { name: impl.name, label: impl.label, mode: 'async' }
    entry.verify_new = await attempt('verify, new token', () => metrics.verifyNew(impl, iss, warmup, batches))
    entry.verify_repeat = await attempt('verify, repeated token', () => metrics.verifyRepeat(impl, iss, repeated))
    entry.unknown_kid_storm = await attempt('unknown-kid storm', () => metrics.unknownKidStorm(impl, iss, mock, storm))
    impls.push(entry)
  }
  let breakdown = null
  if (!only || only.has('m2m-auth')) {
    breakdown = await attempt('breakdown of a repeated verify', () => metrics.verifyBreakdown(iss, repeated))
  }
  await mock.reset()
  return {
    issuer: iss.issuer,
    token_bytes: repeated.length,
    settings: { ...s, leeway_secs: LEEWAY_SECS, algorithms: ALGORITHMS },
    impls,
    breakdown,
  }
}

/** The metric groups to run: --metrics, else $BENCH_ONLY, else all. */
function metricGroups (arg) {
  const text = arg ?? process.env.BENCH_ONLY ?? ''
  const groups = new Set(text.split(',').map((g) => g.trim()).filter(Boolean))
  if (!groups.size) return new Set(METRIC_GROUPS)
  const unknown = [...groups].filter((g) => !METRIC_GROUPS.includes(g))
  if (unknown.length) throw new Error(`unknown metric group(s) ${unknown.join(', ')}: choose from ${METRIC_GROUPS.join(', ')}`)
  return groups
}

async function main () {
  const { values: args } = parseArgs({
    options: { 'mock-url': { type: 'string' }, out: { type: 'string' }, only: { type: 'string' }, metrics: { type: 'string' } },
  })
  const groups = metricGroups(args.metrics)
  if (!args['mock-url'] || !args.out) throw new Error('usage: node run.js --mock-url URL --out FILE [--only a,b]')
  const mock = new metrics.Mock(args['mock-url'])
  const ep = metrics.endpointFromArgs(mock.url, CLIENT_ID, CLIENT_SECRET)
  const only = args.only ? new Set(args.only.split(',')) : null

  log(`metric groups: ${METRIC_GROUPS.filter((g) => groups.has(g)).join(', ')}`)
  const impls = []
  for (const impl of groups.has('client') ? ALL : []) {
    if (only && !only.has(impl.name)) continue
    log(impl.name)
    const entry = { name: impl.name, label: impl.label, mode: 'async', floor: Boolean(impl.floor) }
    entry.cached_get = await attempt('cached get', () => metrics.cachedGet(impl, ep))
    if (!impl.floor) {
      entry.herd = {}
      for (const n of HERD_SIZES) entry.herd[n] = await attempt(`cold herd N=${n}`, () => metrics.coldHerd(impl, ep, mock, n))
      entry.rotation = await attempt('rotation', () => metrics.rotation(impl, ep, mock))
      if (impl.module) entry.import = await attempt('import', () => metrics.importMs(impl))
      entry.rss = await attempt('rss', () => metrics.rssKib(impl, ep))
    }
    impls.push(entry)
  }
  const { redisCachedGet, fleet } = groups.has('shared') ? await sharedCache(ep, mock, only) : { redisCachedGet: null, fleet: [] }
  const verify = groups.has('verify') ? await verification(mock, only) : null
  mock.close()

  const addon = path.join(M2M_AUTH, 'node', 'm2m-auth.node')
  const result = {
    language: 'node',
    runtime: `Node ${process.version} (V8 ${process.versions.v8})`,
    package_bytes: fs.existsSync(addon) ? fs.statSync(addon).size : null,
    package_file: 'm2m-auth.node',
    settings: { ...metrics.SETTINGS, herd_sizes: HERD_SIZES, fleet_sizes: FLEET_SIZES },
    impls,
    redis_cached_get: redisCachedGet,
    fleet,
    verify,
    metric_groups: METRIC_GROUPS.filter((g) => groups.has(g)),
  }
  fs.writeFileSync(args.out, JSON.stringify(result, null, 2) + '\n')
  log(`wrote ${args.out}`)
}

main().catch((e) => { console.error(e); process.exit(1) })
