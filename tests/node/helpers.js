'use strict'
// What the Node test files share: one mock authorization server per file, reset before each test, and a
// client of its demo client.

const { before, after, beforeEach } = require('node:test')

const { TokenClient } = require('../../node')
const { MockAuthServer } = require('../../node/testing')

// The client MockAuthServer.start() registers without a config.
const CLIENT_ID = 'demo-client'
const SECRET = 'demo-secret'

/** Starts a mock server for the calling test file; `mock.server` is it, from the first test on. */
function useMockServer() {
  const mock = { server: undefined }
  before(async () => {
    mock.server = await MockAuthServer.start()
  })
  after(() => {
    if (mock.server) mock.server.close()
  })
  beforeEach(() => {
    mock.server.reset()
  })
  return mock
}

/** A client of the demo client at `server`, with `extra` options on top. */
function demoClient(server, extra = {}) {
  return new TokenClient({ tokenUrl: server.tokenUrl, clientId: CLIENT_ID, clientSecret: SECRET, ...extra })
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

module.exports = { CLIENT_ID, SECRET, useMockServer, demoClient, sleep }
