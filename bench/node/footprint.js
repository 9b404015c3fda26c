'use strict'
// Child process of the footprint metric: prints the RSS (KiB) that one client adds once it has its token.
//
//   node --expose-gc footprint.js NAME ISSUER CLIENT_ID CLIENT_SECRET
//
// The package is loaded first, so the number is the client's, not the package's.

const { BY_NAME } = require('./peers')
const { endpointFromArgs } = require('./metrics')

async function main () {
  const [name, issuer, clientId, clientSecret] = process.argv.slice(2)
  const impl = BY_NAME[name]
  if (impl.module) await (impl.esm ? import(impl.module) : Promise.resolve(require(impl.module)))
  global.gc()
  const before = process.memoryUsage.rss()
  const { get } = await impl.create(endpointFromArgs(issuer, clientId, clientSecret))
  if (!(await get())) throw new Error('no token')
  global.gc()
  console.log(Math.round((process.memoryUsage.rss() - before) / 1024))
  process.exit(0)
}

main().catch((e) => { console.error(e); process.exit(1) })
