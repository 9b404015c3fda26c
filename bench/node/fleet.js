'use strict'
// Child process of the fleet metric: one fresh client of one implementation, one process of the fleet.
//
//   node fleet.js NAME ISSUER CLIENT_ID CLIENT_SECRET CACHE_URL CACHE_PREFIX
//
// Prints "ready" once its client is built, reads the start time (epoch ms) from stdin, calls get() from a few
// async loops until the fleet's time is up, prints JSON and exits (a client's timers must not hold it).
// See metrics.fleet.

const { BY_NAME } = require('./peers')
const { fleetMember, endpointFromArgs } = require('./metrics')

const [name, issuer, clientId, clientSecret, cacheUrl, cachePrefix] = process.argv.slice(2)
fleetMember(BY_NAME[name], endpointFromArgs(issuer, clientId, clientSecret, cacheUrl, cachePrefix)).then(
  (result) => process.stdout.write(JSON.stringify(result) + '\n', () => process.exit(0)),
  (e) => { console.error(e); process.exit(1) },
)
