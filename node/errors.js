'use strict'
// The error classes of m2m-auth. Every error is an M2MAuthError with a stable `code` to branch on:
//   ERR_OAUTH (OAuthError: .error, .errorDescription, .errorUri, .status)
//   ERR_TRANSPORT (TransportError: .timeout), ERR_INVALID_RESPONSE (InvalidResponse: .status),
//   ERR_CONFIG (ConfigError: .field), ERR_INTERNAL (InternalError);
// and of the Verifier, all VerificationError (.status, .error, .errorDescription, .requiredScopes,
// .wwwAuthenticate()): ERR_TOKEN_INVALID (TokenInvalid, 401), ERR_INSUFFICIENT_SCOPE (InsufficientScope, 403),
// ERR_VERIFIER_UNAVAILABLE (VerifierUnavailable, 503).

const native = require('./native')

const { ERROR_TAG } = native

class M2MAuthError extends Error {
  constructor(message, fields = {}) {
    super(message)
    this.name = new.target.name
    this.code = fields.code ?? 'ERR_M2M_AUTH'
    this.status = fields.status ?? null
    this.attempts = fields.attempts ?? 0
  }
}

class OAuthError extends M2MAuthError {
  constructor(message, fields = {}) {
    super(message, { code: 'ERR_OAUTH', ...fields })
    this.error = fields.error ?? ''
    this.errorDescription = fields.errorDescription ?? null
    this.errorUri = fields.errorUri ?? null
  }
}

class TransportError extends M2MAuthError {
  constructor(message, fields = {}) {
    super(message, { code: 'ERR_TRANSPORT', ...fields })
    this.timeout = fields.timeout ?? false
  }
}

class InvalidResponse extends M2MAuthError {
  constructor(message, fields = {}) {
    super(message, { code: 'ERR_INVALID_RESPONSE', ...fields })
  }
}

class ConfigError extends M2MAuthError {
  constructor(message, fields = {}) {
    super(message, { code: 'ERR_CONFIG', ...fields })
    this.field = fields.field ?? ''
  }
}

class InternalError extends M2MAuthError {
  constructor(message, fields = {}) {
    super(message, { code: 'ERR_INTERNAL', ...fields })
  }
}

// The receiving side (Verifier): a token not accepted, and the answer to give the request.
class VerificationError extends M2MAuthError {
  constructor(message, fields = {}) {
    super(message, { code: 'ERR_TOKEN_INVALID', status: 401, ...fields })
    this.error = fields.error === undefined ? 'invalid_token' : fields.error
    this.errorDescription = fields.errorDescription ?? message
    this.requiredScopes = fields.requiredScopes ?? []
  }

  /** The RFC 6750 §3 `WWW-Authenticate` value: `Bearer realm=…, error=…, error_description=…, scope=…`. */
  wwwAuthenticate(realm = undefined) {
    return native.wwwAuthenticate(this.name, this.errorDescription, this.requiredScopes, realm ?? null)
  }
}

/** 401: no token (then `.error` is null), or one that is malformed, badly signed, expired, inactive, or for
 *  another issuer or API. */
class TokenInvalid extends VerificationError {
  constructor(message, fields = {}) {
    super(message, { code: 'ERR_TOKEN_INVALID', status: 401, ...fields })
  }
}

/** 403: a valid token without what the route needs (`.requiredScopes`). */
class InsufficientScope extends VerificationError {
  constructor(message, fields = {}) {
    super(message, { code: 'ERR_INSUFFICIENT_SCOPE', status: 403, error: 'insufficient_scope', ...fields })
  }
}

/** 503: the JWKS or introspection endpoint is down or slow; the token may be fine. */
class VerifierUnavailable extends VerificationError {
  constructor(message, fields = {}) {
    super(message, { code: 'ERR_VERIFIER_UNAVAILABLE', status: 503, error: null, ...fields })
  }
}

const classes = {
  OAuthError, TransportError, InvalidResponse, ConfigError, InternalError, TokenInvalid, InsufficientScope, VerifierUnavailable,
}

/** Turns an error from the native addon into the matching class; anything else is returned unchanged. */
function fromNative(e) {
  const message = e && typeof e.message === 'string' ? e.message : ''
  if (!message.startsWith(ERROR_TAG)) {
    // napi's own argument checks (a number where a string belongs, …): the caller's mistake.
    if (e && (e.code === 'InvalidArg' || e.code === 'NumberExpected' || e.code === 'StringExpected' || e.code === 'ObjectExpected')) {
      return new ConfigError(message, { field: '' })
    }
    return e
  }
  let record
  try {
    record = JSON.parse(message.slice(ERROR_TAG.length))
  } catch {
    return new InternalError(`malformed error record from the native addon`)
  }
  const Class = classes[record.name] ?? M2MAuthError
  // Settings are named as in the options object (tokenUrl); environment variables keep their names.
  if (typeof record.field === 'string' && /^[a-z]+(_[a-z]+)+$/.test(record.field)) {
    record.field = record.field.replace(/_([a-z])/g, (_, c) => c.toUpperCase())
  }
  const err = new Class(record.message, record)
  // The stack should point at the caller, not at this conversion.
  if (Error.captureStackTrace) Error.captureStackTrace(err, fromNative)
  return err
}

module.exports = {
  M2MAuthError, OAuthError, TransportError, InvalidResponse, ConfigError, InternalError,
  VerificationError, TokenInvalid, InsufficientScope, VerifierUnavailable, fromNative,
}
