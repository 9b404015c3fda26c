'use strict'
// Runs every metric for every Node implementation against the running mock; writes one JSON file.
//
//   node run.js --mock-url http://127.0.0.1:PORT --out ../.build/node.json [--only name,name]
//
// A metric that fails for an implementation is recorded as { error }; the run goes on.

const fs = require('node:fs')
const path = require('node:path')
const { parseArgs } = require('node:util')

const { ALL, BY_NAME, FLEET, M2M_AUTH } = require('./peers')
const metrics = require('./metrics')

const CLIENT_ID = 'bench-client' // registered in bench/mock-config.json
const CLIENT_SECRET = 'bench-secret'
const HERD_SIZES = [64, 1000]
const FLEET_SIZES = [8, 32]

const log = (msg) => process.stderr.write(`[node] ${msg}\n`)

function brief (result) {
  return JSON.stringify(Object.fromEntries(Object.entries(result)
    .filter(([k]) => !k.endsWith('s_ns') && !k.startsWith('runs_'))
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

async function main () {
  const { values: args } = parseArgs({
    options: { 'mock-url': { type: 'string' }, out: { type: 'string' }, only: { type: 'string' } },
  })
  if (!args['mock-url'] || !args.out) throw new Error('usage: node run.js --mock-url URL --out FILE [--only a,b]')
  const mock = new metrics.Mock(args['mock-url'])
  const ep = metrics.endpointFromArgs(mock.url, CLIENT_ID, CLIENT_SECRET)
  const only = args.only ? new Set(args.only.split(',')) : null

  const impls = []
  for (const impl of ALL) {
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
  const { redisCachedGet, fleet } = await sharedCache(ep, mock, only)
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
  }
  fs.writeFileSync(args.out, JSON.stringify(result, null, 2) + '\n')
  log(`wrote ${args.out}`)
}

main().catch((e) => { console.error(e); process.exit(1) })
