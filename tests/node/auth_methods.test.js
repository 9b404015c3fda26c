'use strict'
// Every client authentication method through the Node API, end to end against the mock server, the way a user
// writes it: private_key_jwt (key as a string, a Buffer, a JWK object or a file; RS256, PS256, ES256),
// client_secret_jwt, tls_client_auth and self_signed_tls_client_auth (certificate and key inline or as files,
// a private CA), discovery with fromIssuer, SecureAuth, the environment, and every mistake as a ConfigError
// naming the option. Mirrors crates/m2m-auth/tests/auth_methods.rs. Keys and certificates are generated here,
// per run; none is stored.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const util = require('node:util')

const { TokenClient, OAuthError, ConfigError, M2MAuthError } = require('../../node')
const { MockAuthServer, generateSigningKey, selfSignedCertificate } = require('../../node/testing')
const {
  CLIENT_ID, SECRET, useMockServerWith, pemFragment, certThumbprint, jwtParts, tempDir, withM2MEnv,
} = require('./helpers')

// A plain HTTP mock (keys and secrets) and an HTTPS one with a mutual-TLS alias (certificates).
const plain = useMockServerWith()
const tls = useMockServerWith({ tls: true })

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'

// A fresh client id per registration, so that tests never see each other's clients.
let serial = 0
const newId = (prefix) => `${prefix}-${++serial}`

function formValue(request, name) {
  const pair = request.form.find(([n]) => n === name)
  return pair === undefined ? undefined : pair[1]
}

function lastRequest(server) {
  const requests = server.requests()
  assert.ok(requests.length > 0, 'no request recorded')
  return requests.at(-1)
}

/** Registers a private_key_jwt client with `key`'s public JWK; returns its id. */
function registerKeyClient(server, key, prefix = 'svc-pk') {
  const id = newId(prefix)
  server.registerClient({ client_id: id, auth_methods: ['private_key_jwt'], jwks: { keys: [key.publicJwk] } })
  return id
}

/** Runs `fn` (sync or async) and returns what it threw; fails if it did not throw. */
async function caught(fn) {
  try {
    await fn()
  } catch (e) {
    return e
  }
  assert.fail('expected an error')
}

/** Asserts `e` is a ConfigError naming `field`. */
function assertConfigError(e, field, what) {
  assert.ok(e instanceof ConfigError, `${what}: expected a ConfigError, got ${util.inspect(e)}`)
  assert.ok(e instanceof M2MAuthError)
  assert.equal(e.code, 'ERR_CONFIG')
  assert.equal(e.field, field, `${what}: field of ${util.inspect(e)}`)
}

/** Every string form of a value a log line or an error report could show. */
function renderings(value) {
  const out = [util.inspect(value), util.inspect(value, { showHidden: true, depth: Infinity }), String(value)]
  out.push(JSON.stringify(value))
  if (value instanceof Error) out.push(value.message, value.stack)
  return out
}

function assertNotIn(value, needles, what) {
  for (const text of renderings(value)) {
    for (const needle of needles) {
      assert.ok(!String(text).includes(needle), `${what} shows ${JSON.stringify(needle)}: ${text}`)
    }
  }
}

/** The last request authenticated with a fresh assertion of `alg` for `id` at `aud`, and no secret travelled. */
function assertAssertionWire(server, id, alg, { aud = server.tokenUrl, method = 'private_key_jwt' } = {}) {
  const request = lastRequest(server)
  assert.equal(request.auth_method, method)
  assert.equal(formValue(request, 'grant_type'), 'client_credentials')
  assert.equal(formValue(request, 'client_assertion_type'), ASSERTION_TYPE)
  assert.equal(formValue(request, 'client_secret'), undefined, 'no client_secret in the form')
  assert.ok(request.headers.every(([n]) => n !== 'authorization'), 'no Authorization header')
  const jwt = formValue(request, 'client_assertion')
  assert.ok(jwt, 'a client_assertion')
  const { header, claims } = jwtParts(jwt)
  assert.equal(header.alg, alg)
  assert.equal(claims.iss, id)
  assert.equal(claims.sub, id)
  assert.equal(claims.aud, aud)
  assert.ok(Number.isInteger(claims.iat) && Number.isInteger(claims.exp), 'iat and exp')
  assert.ok(claims.exp > claims.iat && claims.exp - claims.iat <= 300, `short-lived: ${JSON.stringify(claims)}`)
  assert.ok(typeof claims.jti === 'string' && claims.jti.length >= 16, 'a jti')
  return { header, claims, jwt }
}

// ---------------------------------------------------------------------------------------------------------
// private_key_jwt

for (const alg of ['RS256', 'PS256', 'ES256']) {
  test(`private_key_jwt ${alg}: the key as a PEM string, a traditional PEM, a Buffer, a JWK object and a file`, async () => {
    const server = plain.server
    const key = generateSigningKey(alg)
    const id = registerKeyClient(server, key)
    const files = tempDir()
    try {
      const keyFile = files.write('key.pem', key.pkcs8Pem)
      const forms = {
        'PKCS#8 PEM string': { privateKey: key.pkcs8Pem },
        'PKCS#1/SEC1 PEM string': { privateKey: key.traditionalPem },
        'PEM Buffer': { privateKey: Buffer.from(key.pkcs8Pem) },
        'JWK object': { privateKey: key.privateJwk },
        'JWK text': { privateKey: JSON.stringify(key.privateJwk) },
        privateKeyFile: { privateKeyFile: keyFile },
      }
      for (const [form, keyOptions] of Object.entries(forms)) {
        const what = `${alg} ${form}`
        // A PEM carries no algorithm: an RSA key signs RS256 unless signingAlg says PS256.
        const algOption = alg === 'PS256' ? { signingAlg: 'PS256' } : {}
        const client = new TokenClient({ tokenUrl: server.tokenUrl, clientId: id, ...keyOptions, ...algOption })
        assert.equal(client.authMethod, 'private_key_jwt', `${what}: the default method with a key`)
        const before = server.tokenRequests()
        const token = await client.getToken()
        assert.equal(server.tokenRequests(), before + 1, what)
        assert.equal(jwtParts(token).claims.sub, id, what)
        assert.equal(server.verifyAccessToken(token).sub, id, what)
        assertAssertionWire(server, id, alg)
      }
    } finally {
      files.remove()
    }
  })
}

test('private_key_jwt: privateKeyId goes into the assertion header, and a JWK object brings its own kid', async () => {
  const server = plain.server
  const key = generateSigningKey('ES256')
  const id = registerKeyClient(server, key)
  await new TokenClient({ tokenUrl: server.tokenUrl, clientId: id, privateKey: key.privateJwk }).getToken()
  assert.equal(jwtParts(formValue(lastRequest(server), 'client_assertion')).header.kid, key.kid)

  await new TokenClient({
    tokenUrl: server.tokenUrl, clientId: id, privateKey: key.pkcs8Pem, privateKeyId: key.kid,
  }).getToken()
  assert.equal(jwtParts(formValue(lastRequest(server), 'client_assertion')).header.kid, key.kid)
})

test('private_key_jwt: assertionAudience sends the issuer as aud', async () => {
  const server = plain.server
  const key = generateSigningKey('ES256')
  const id = registerKeyClient(server, key)
  await new TokenClient({
    tokenUrl: server.tokenUrl, clientId: id, privateKey: key.pkcs8Pem, assertionAudience: server.issuer,
  }).getToken()
  assertAssertionWire(server, id, 'ES256', { aud: server.issuer })
})

// ---------------------------------------------------------------------------------------------------------
// client_secret_jwt

test('client_secret_jwt signs HS256 with the secret and never sends it', async () => {
  const server = plain.server
  const id = newId('svc-hs')
  const secret = 'hs256-shared-secret-Wq7vZ3'
  server.registerClient({ client_id: id, client_secret: secret, auth_methods: ['client_secret_jwt'] })
  const client = new TokenClient({
    tokenUrl: server.tokenUrl, clientId: id, clientSecret: secret, authMethod: 'client_secret_jwt',
  })
  assert.equal(client.authMethod, 'client_secret_jwt')
  const token = await client.getToken()
  assert.equal(jwtParts(token).claims.sub, id)
  const { jwt } = assertAssertionWire(server, id, 'HS256', { method: 'client_secret_jwt' })
  assert.ok(!jwt.includes(secret))
  assert.ok(!lastRequest(server).headers.some(([, v]) => v.includes(secret)), 'the secret is in no header')

  const wrong = new TokenClient({
    tokenUrl: server.tokenUrl, clientId: id, clientSecret: 'not-the-secret', authMethod: 'client_secret_jwt',
  })
  const e = await caught(() => wrong.getToken())
  assert.ok(e instanceof OAuthError, util.inspect(e))
  assert.equal(e.error, 'invalid_client')
  assert.equal(e.status, 401)
})

// ---------------------------------------------------------------------------------------------------------
// tls_client_auth and self_signed_tls_client_auth

/** Asserts `token` was issued over mutual TLS to `x5t`'s certificate and bound to it. */
function assertBound(server, client, token, x5t, method, id) {
  assert.equal(jwtParts(token).claims['cnf']['x5t#S256'], x5t, 'the token is bound to the certificate')
  assert.equal(client.tokenUrl, server.mtlsTokenUrl, 'discovery picked the mTLS alias')
  const request = lastRequest(server)
  assert.equal(request.auth_method, method)
  assert.equal(request.client_cert_x5t_s256, x5t)
  assert.equal(formValue(request, 'client_id'), id)
  assert.equal(formValue(request, 'client_secret'), undefined)
  assert.equal(formValue(request, 'client_assertion'), undefined)
  assert.ok(request.headers.every(([n]) => n !== 'authorization'), 'no Authorization header')
}

test('tls_client_auth via fromIssuer: certificate and key as strings, Buffers and files, with caBundle(File)', async () => {
  const server = tls.server
  assert.ok(server.mtlsTokenUrl && server.caPem, 'a TLS mock has an mTLS alias and a CA')
  const subject = 'CN=svc-mtls,O=Acme'
  const id = newId('svc-mtls')
  server.registerClient({ client_id: id, auth_methods: ['tls_client_auth'], tls_client_auth_subject_dn: subject })
  const { certPem, keyPem } = server.issueClientCertificate(subject)
  const x5t = certThumbprint(certPem)
  const files = tempDir()
  try {
    const certFile = files.write('client.crt', certPem)
    const keyFile = files.write('client.key', keyPem)
    const caFile = files.write('ca.pem', server.caPem)
    const forms = {
      strings: { clientCert: certPem, clientKey: keyPem, caBundle: server.caPem },
      Buffers: { clientCert: Buffer.from(certPem), clientKey: Buffer.from(keyPem), caBundle: Buffer.from(server.caPem) },
      files: { clientCertFile: certFile, clientKeyFile: keyFile, caBundleFile: caFile },
    }
    for (const [form, options] of Object.entries(forms)) {
      const client = TokenClient.fromIssuer(server.issuer, { clientId: id, ...options })
      assert.equal(client.authMethod, 'tls_client_auth', `${form}: the default method with only a certificate`)
      assert.equal(client.tokenUrl, null, `${form}: no token URL before discovery`)
      const token = await client.getToken()
      assertBound(server, client, token, x5t, 'tls_client_auth', id)
      assert.equal(server.verifyAccessToken(token).sub, id)
    }
  } finally {
    files.remove()
  }
})

test('self_signed_tls_client_auth: the registered self-signed certificate, inline and as files', async () => {
  const server = tls.server
  const id = newId('svc-self')
  const mine = selfSignedCertificate('CN=svc-self')
  const x5t = certThumbprint(mine.certPem)
  assert.equal(mine.x5tS256, x5t)
  server.registerClient({ client_id: id, auth_methods: ['self_signed_tls_client_auth'], jwks: { keys: [mine.jwk] } })
  const files = tempDir()
  try {
    const forms = {
      strings: { clientCert: mine.certPem, clientKey: mine.keyPem, caBundle: server.caPem },
      Buffers: { clientCert: Buffer.from(mine.certPem), clientKey: Buffer.from(mine.keyPem), caBundle: server.caPem },
      files: {
        clientCertFile: files.write('self.crt', mine.certPem),
        clientKeyFile: files.write('self.key', mine.keyPem),
        caBundleFile: files.write('ca.pem', server.caPem),
      },
    }
    for (const [form, options] of Object.entries(forms)) {
      const client = TokenClient.fromIssuer(server.issuer, {
        clientId: id, authMethod: 'self_signed_tls_client_auth', ...options,
      })
      assert.equal(client.authMethod, 'self_signed_tls_client_auth', form)
      const token = await client.getToken()
      assertBound(server, client, token, x5t, 'self_signed_tls_client_auth', id)
    }

    // A self-signed certificate the client did not register.
    const other = selfSignedCertificate('CN=svc-self')
    const client = TokenClient.fromIssuer(server.issuer, {
      clientId: id, authMethod: 'self_signed_tls_client_auth', clientCert: other.certPem, clientKey: other.keyPem,
      caBundle: server.caPem,
    })
    const e = await caught(() => client.getToken())
    assert.ok(e instanceof OAuthError, util.inspect(e))
    assert.equal(e.error, 'invalid_client')
    assert.equal(e.status, 401)
  } finally {
    files.remove()
  }
})

test('without the private CA the HTTPS server is not trusted: a TransportError, and no credential is sent', async () => {
  const server = tls.server
  const { certPem, keyPem } = server.issueClientCertificate('CN=svc-mtls')
  const client = TokenClient.fromIssuer(server.issuer, {
    clientId: 'svc-mtls', clientCert: certPem, clientKey: keyPem, maxAttempts: 1,
  })
  const e = await caught(() => client.getToken())
  assert.equal(e.name, 'TransportError', util.inspect(e))
  assert.equal(e.code, 'ERR_TRANSPORT')
  assert.equal(server.tokenRequests(), 0)
})

// ---------------------------------------------------------------------------------------------------------
// Discovery, SecureAuth and the environment

test('fromIssuer: tokenUrl is null before the first token and the discovered endpoint after', async () => {
  const server = plain.server
  const client = TokenClient.fromIssuer(server.issuer, { clientId: CLIENT_ID, clientSecret: SECRET })
  assert.equal(client.tokenUrl, null)
  assert.equal(client.issuer.replace(/\/$/, ''), server.issuer.replace(/\/$/, ''))
  assert.equal(server.tokenRequests(), 0, 'nothing is fetched before the first token')
  await client.getToken()
  assert.equal(client.tokenUrl, server.tokenUrl)
  assert.equal(JSON.parse(JSON.stringify(client)).tokenUrl, server.tokenUrl)
  assert.equal(server.tokenRequests(), 1)
})

test('fromIssuer with a method the server does not offer is a ConfigError naming authMethod, before any token request', async () => {
  const server = await MockAuthServer.start({
    auth_methods_supported: ['client_secret_basic'],
    clients: [{ client_id: 'svc', client_secret: 'svc-secret-value', auth_methods: ['client_secret_post', 'client_secret_basic'] }],
  })
  try {
    assert.deepEqual(server.supportedAuthMethods(), ['client_secret_basic'])
    const client = TokenClient.fromIssuer(server.issuer, { clientId: 'svc', clientSecret: 'svc-secret-value' })
    const e = await caught(() => client.getToken())
    assertConfigError(e, 'authMethod', 'unsupported method')
    assert.ok(e.message.includes('client_secret_basic'), e.message)
    assert.equal(server.tokenRequests(), 0)

    // The method it does offer works.
    const basic = TokenClient.fromIssuer(server.issuer, {
      clientId: 'svc', clientSecret: 'svc-secret-value', authMethod: 'client_secret_basic',
    })
    await basic.getToken()
    assert.equal(lastRequest(server).auth_method, 'client_secret_basic')
  } finally {
    server.close()
  }
})

test('TokenClient.secureauth with a private key: the workspace issuer, without a request', () => {
  // https://TENANT.REGION.connect.secureauth.com/TENANT/WORKSPACE
  const key = generateSigningKey('ES256')
  const client = TokenClient.secureauth({
    tenant: 'acme', region: 'us', workspace: 'payments', clientId: 'svc', privateKey: key.pkcs8Pem,
    privateKeyId: 'key-1',
  })
  assert.equal(client.issuer, 'https://acme.us.connect.secureauth.com/acme/payments')
  assert.equal(client.authMethod, 'private_key_jwt')
})

test('fromEnv: M2M_ISSUER + M2M_PRIVATE_KEY_FILE + M2M_PRIVATE_KEY_ID gets a token', async () => {
  const server = plain.server
  const key = generateSigningKey('RS256')
  // Registered under the id the deployment names it by: the assertion must carry it as its kid.
  const id = newId('svc-env-key')
  server.registerClient({ client_id: id, auth_methods: ['private_key_jwt'], jwks: { keys: [{ ...key.publicJwk, kid: 'key-7' }] } })
  const files = tempDir()
  try {
    const keyFile = files.write('key.pem', key.traditionalPem)
    await withM2MEnv(
      { M2M_ISSUER: server.issuer, M2M_CLIENT_ID: id, M2M_PRIVATE_KEY_FILE: keyFile, M2M_PRIVATE_KEY_ID: 'key-7' },
      async () => {
        const client = TokenClient.fromEnv()
        assert.equal(client.authMethod, 'private_key_jwt')
        assert.equal(client.tokenUrl, null)
        const token = await client.getToken()
        assert.equal(jwtParts(token).claims.sub, id)
        const { header } = assertAssertionWire(server, id, 'RS256')
        assert.equal(header.kid, 'key-7')
        assert.equal(client.tokenUrl, server.tokenUrl)
      },
    )
  } finally {
    files.remove()
  }
})

test('fromEnv: M2M_ISSUER + M2M_CLIENT_CERT_FILE + M2M_CLIENT_KEY_FILE + M2M_CA_BUNDLE_FILE gets a bound token', async () => {
  const server = tls.server
  const subject = 'CN=svc-env,O=Acme'
  const id = newId('svc-env')
  server.registerClient({ client_id: id, auth_methods: ['tls_client_auth'], tls_client_auth_subject_dn: subject })
  const { certPem, keyPem } = server.issueClientCertificate(subject)
  const files = tempDir()
  try {
    const vars = {
      M2M_ISSUER: server.issuer,
      M2M_CLIENT_ID: id,
      M2M_CLIENT_CERT_FILE: files.write('c.crt', certPem),
      M2M_CLIENT_KEY_FILE: files.write('c.key', keyPem),
      M2M_CA_BUNDLE_FILE: files.write('ca.pem', server.caPem),
    }
    await withM2MEnv(vars, async () => {
      const client = TokenClient.fromEnv()
      assert.equal(client.authMethod, 'tls_client_auth')
      const token = await client.getToken()
      assertBound(server, client, token, certThumbprint(certPem), 'tls_client_auth', id)
    })
  } finally {
    files.remove()
  }
})

test('fromEnv mistakes are ConfigErrors naming the variable', async () => {
  const key = generateSigningKey('ES256')
  const files = tempDir()
  try {
    const keyFile = files.write('key.pem', key.pkcs8Pem)
    const certFile = files.write('c.crt', selfSignedCertificate('CN=x').certPem)
    const base = { M2M_ISSUER: 'https://idp.example', M2M_CLIENT_ID: 'svc' }
    const cases = [
      [{ M2M_CLIENT_SECRET: 'a-secret-value', M2M_PRIVATE_KEY_FILE: keyFile }, 'M2M_CLIENT_SECRET'],
      [{ M2M_CLIENT_CERT_FILE: certFile }, 'M2M_CLIENT_KEY_FILE'],
      [{ M2M_PRIVATE_KEY_FILE: files.write('not-a-key.pem', 'hello') }, 'M2M_PRIVATE_KEY_FILE'],
      [{ M2M_PRIVATE_KEY_FILE: keyFile, M2M_SIGNING_ALG: 'RS256' }, 'M2M_SIGNING_ALG'],
    ]
    for (const [vars, field] of cases) {
      await withM2MEnv({ ...base, ...vars }, async () => {
        const e = await caught(() => TokenClient.fromEnv())
        assertConfigError(e, field, JSON.stringify(vars))
        assert.ok(!e.message.includes('a-secret-value'), e.message)
      })
    }
  } finally {
    files.remove()
  }
})

// ---------------------------------------------------------------------------------------------------------
// Mistakes

test('key and certificate mistakes are ConfigErrors naming the camelCase option', async () => {
  const rsa = generateSigningKey('RS256')
  const ec = generateSigningKey('ES256')
  const encrypted = crypto.generateKeyPairSync('ec', {
    namedCurve: 'P-256',
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'a passphrase' },
  }).privateKey
  assert.ok(encrypted.includes('ENCRYPTED'))
  const cert = selfSignedCertificate('CN=svc')
  const base = { tokenUrl: 'https://idp.example/oauth2/token', clientId: 'svc' }
  const cases = [
    ['a privateKey that is not a key', { privateKey: 'not a key' }, 'privateKey'],
    ['an encrypted PEM', { privateKey: encrypted }, 'privateKey'],
    ['a JWK without its private part', { privateKey: ec.publicJwk }, 'privateKey'],
    ["signingAlg 'ES256' with an RSA key", { privateKey: rsa.pkcs8Pem, signingAlg: 'ES256' }, 'signingAlg'],
    ["signingAlg 'RS256' with an EC key", { privateKey: ec.pkcs8Pem, signingAlg: 'RS256' }, 'signingAlg'],
    ['an unknown signingAlg', { privateKey: ec.pkcs8Pem, signingAlg: 'HS256' }, 'signingAlg'],
    ['privateKey and privateKeyFile both', { privateKey: ec.pkcs8Pem, privateKeyFile: '/run/secrets/key.pem' }, 'privateKey'],
    ['a privateKeyFile that does not exist', { privateKeyFile: '/nonexistent/m2m-auth/key.pem' }, 'privateKeyFile'],
    ['privateKeyId without a key', { clientSecret: 'a-secret-value', privateKeyId: 'k1' }, 'privateKeyId'],
    ['clientSecret and privateKey without authMethod', { clientSecret: 'a-secret-value', privateKey: ec.pkcs8Pem }, 'clientSecret'],
    ['private_key_jwt without a key', { clientSecret: 'a-secret-value', authMethod: 'private_key_jwt' }, 'privateKey'],
    ['tls_client_auth without a certificate', { authMethod: 'tls_client_auth' }, 'clientCert'],
    ['clientCert without clientKey', { clientCert: cert.certPem }, 'clientKey'],
    ['a clientKey that is not a key', { clientCert: cert.certPem, clientKey: 'not a key' }, 'clientKey'],
    ['a caBundle that is not PEM', { clientSecret: 'a-secret-value', caBundle: 'not pem' }, 'caBundle'],
    ['privateKey: 123', { privateKey: 123 }, 'privateKey'],
    ['clientCert: 1.5', { clientCert: 1.5 }, 'clientCert'],
    ['privateKeyFile: 42', { privateKeyFile: 42 }, 'privateKeyFile'],
    ['clientKey: true', { clientCert: cert.certPem, clientKey: true }, 'clientKey'],
    ['caBundleFile: {}', { clientSecret: 'a-secret-value', caBundleFile: {} }, 'caBundleFile'],
    ['signingAlg: 256', { privateKey: ec.pkcs8Pem, signingAlg: 256 }, 'signingAlg'],
  ]
  for (const [what, options, field] of cases) {
    const e = await caught(() => new TokenClient({ ...base, ...options }))
    assertConfigError(e, field, what)
    assert.ok(!e.message.includes('a-secret-value'), `${what}: ${e.message}`)
  }
  // A wrong type names the option as the caller wrote it.
  for (const [options, name] of [[{ privateKey: 123 }, 'privateKey'], [{ clientCert: 1.5 }, 'clientCert'], [{ privateKeyFile: 42 }, 'privateKeyFile']]) {
    const e = await caught(() => new TokenClient({ ...base, ...options }))
    assert.ok(e.message.includes(name), e.message)
  }
})

// ---------------------------------------------------------------------------------------------------------
// Secrecy of keys

test('no part of a private key or client key is in any string form of a client, error or event', async () => {
  const key = generateSigningKey('ES256')
  const rsa = generateSigningKey('RS256')
  const plainServer = plain.server
  const tlsServer = tls.server
  const id = registerKeyClient(plainServer, key)
  const subject = 'CN=svc-secrecy,O=Acme'
  const mtlsId = newId('svc-secrecy')
  tlsServer.registerClient({ client_id: mtlsId, auth_methods: ['tls_client_auth'], tls_client_auth_subject_dn: subject })
  const issued = tlsServer.issueClientCertificate(subject)
  const other = tlsServer.issueClientCertificate('CN=someone-else')
  const needles = [
    pemFragment(key.pkcs8Pem), pemFragment(key.traditionalPem), key.privateJwk.d,
    pemFragment(rsa.pkcs8Pem), rsa.privateJwk.d, pemFragment(issued.keyPem), pemFragment(other.keyPem),
  ]
  for (const n of needles) assert.ok(typeof n === 'string' && n.length >= 16, 'a distinctive fragment')
  const events = []
  const onEvent = (event) => events.push(event)
  const check = (value, what) => assertNotIn(value, needles, what)

  // Successful clients of every form.
  const clients = [
    new TokenClient({ tokenUrl: plainServer.tokenUrl, clientId: id, privateKey: key.pkcs8Pem, onEvent }),
    new TokenClient({ tokenUrl: plainServer.tokenUrl, clientId: id, privateKey: Buffer.from(key.traditionalPem), onEvent }),
    new TokenClient({ tokenUrl: plainServer.tokenUrl, clientId: id, privateKey: key.privateJwk, onEvent }),
    TokenClient.fromIssuer(tlsServer.issuer, {
      clientId: mtlsId, clientCert: issued.certPem, clientKey: issued.keyPem, caBundle: tlsServer.caPem, onEvent,
    }),
  ]
  for (const [i, client] of clients.entries()) {
    check(client, `client ${i}`)
    await client.getToken()
    check(client, `client ${i} after a token`)
    check(client.stats(), `stats of client ${i}`)
  }

  // Failures: refused by the server, and refused at build time with real key material in the options.
  const errors = []
  const refused = [
    new TokenClient({ tokenUrl: plainServer.tokenUrl, clientId: id, privateKey: rsa.pkcs8Pem, onEvent, maxAttempts: 1 }),
    TokenClient.fromIssuer(tlsServer.issuer, {
      clientId: mtlsId, clientCert: other.certPem, clientKey: other.keyPem, caBundle: tlsServer.caPem, onEvent,
      maxAttempts: 1,
    }),
  ]
  for (const client of refused) {
    const e = await caught(() => client.getToken())
    assert.ok(e instanceof OAuthError, util.inspect(e))
    errors.push(e)
    check(client, 'a refused client')
    check(client.stats(), 'stats of a refused client')
  }
  const base = { tokenUrl: plainServer.tokenUrl, clientId: id }
  const broken = key.pkcs8Pem.replace(/\n([A-Za-z0-9+/]{8})/, '\n!!!!!!!!')
  for (const options of [
    { privateKey: key.pkcs8Pem, signingAlg: 'RS256' },
    { privateKey: broken },
    { privateKey: key.pkcs8Pem.slice(0, -40) },
    { privateKey: key.privateJwk, clientSecret: 'a-secret-value' },
    { privateKey: { ...key.privateJwk, crv: 'P-999' } },
    { privateKey: { ...key.privateJwk, kty: 'OKP' } },
    { clientCert: issued.certPem, clientKey: other.keyPem },
    { clientCert: issued.certPem, clientKey: issued.keyPem.slice(0, -40) },
    { clientCert: issued.keyPem, clientKey: issued.keyPem },
    { privateKey: key.pkcs8Pem, privateKeyFile: '/nonexistent' },
  ]) {
    const e = await caught(() => new TokenClient({ ...base, ...options }))
    assert.ok(e instanceof ConfigError, util.inspect(e))
    errors.push(e)
  }
  for (const [i, e] of errors.entries()) check(e, `error ${i} (${e.message})`)

  assert.ok(events.length > 0, 'events were emitted')
  for (const event of events) check(event, `event ${JSON.stringify(event)}`)
})

// ---------------------------------------------------------------------------------------------------------
// Per-call extra parameters

test('per-call extraParams reach the wire and get their own cache entry', async () => {
  const server = plain.server
  const client = new TokenClient({ tokenUrl: server.tokenUrl, clientId: CLIENT_ID, clientSecret: SECRET })
  const a1 = await client.getToken({ extraParams: { tenant_hint: 'a' } })
  assert.equal(formValue(lastRequest(server), 'tenant_hint'), 'a')
  const a2 = await client.getToken({ extraParams: { tenant_hint: 'a' } })
  assert.equal(a2, a1, 'the same parameters share one cache entry')
  assert.equal(server.tokenRequests(), 1, 'one request for the same value twice')

  const b = await client.getToken({ extraParams: { tenant_hint: 'b' } })
  assert.notEqual(b, a1)
  assert.equal(server.tokenRequests(), 2, 'two requests for two different values')
  assert.equal(formValue(lastRequest(server), 'tenant_hint'), 'b')

  const token = await client.fetchToken({ extraParams: { tenant_hint: 'b' } })
  assert.equal(token.accessToken, b)
  assert.equal(server.tokenRequests(), 2)
})

test('a per-call extra parameter that m2m-auth sets itself is a ConfigError naming extraParams', async () => {
  const server = plain.server
  const client = new TokenClient({ tokenUrl: server.tokenUrl, clientId: CLIENT_ID, clientSecret: SECRET })
  for (const name of ['client_id', 'client_secret', 'grant_type', 'client_assertion']) {
    const e = await caught(() => client.getToken({ extraParams: { [name]: 'x' } }))
    assertConfigError(e, 'extraParams', name)
  }
  const e = await caught(() => client.getToken({ extraParams: { tenant_hint: 1 } }))
  assertConfigError(e, 'extraParams', 'a non-string value')
  assert.equal(server.tokenRequests(), 0)
})
