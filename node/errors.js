'use strict'
// The error classes of m2m-auth. Every error is an M2MAuthError with a stable `code` to branch on:
//   ERR_OAUTH (OAuthError: .error, .errorDescription, .errorUri, .status)
//   ERR_TRANSPORT (TransportError: .timeout), ERR_INVALID_RESPONSE (InvalidResponse: .status),
//   ERR_CONFIG (ConfigError: .field), ERR_INTERNAL (InternalError).

const { ERROR_TAG } = require('./native')

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

const classes = { OAuthError, TransportError, InvalidResponse, ConfigError, InternalError }

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

module.exports = { M2MAuthError, OAuthError, TransportError, InvalidResponse, ConfigError, InternalError, fromNative }
