'use strict'
// Child process of the cold herd metric: N first callers of one fresh client, at once; prints JSON.
//
//   node herd.js NAME N ISSUER CLIENT_ID CLIENT_SECRET
//
// Exits as soon as it has printed, so callers still waiting after the timeout end with it.

const { BY_NAME } = require('./peers')
const { herdInProcess, endpointFromArgs } = require('./metrics')

const [name, n, issuer, clientId, clientSecret] = process.argv.slice(2)
herdInProcess(BY_NAME[name], endpointFromArgs(issuer, clientId, clientSecret), Number(n)).then(
  (result) => process.stdout.write(JSON.stringify(result) + '\n', () => process.exit(0)),
  (e) => { console.error(e); process.exit(1) },
)
