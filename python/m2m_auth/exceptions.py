"""The m2m-auth exception hierarchy.

Every error is an ``M2MAuthError`` with a ``code`` (the same string the Node package uses) and a ``status``
(the HTTP status of the token endpoint's answer, or None; for a verification error the status to answer
with)::

    M2MAuthError
    ├── OAuthError            .error, .error_description, .error_uri, .status
    ├── TransportError        .timeout
    ├── InvalidResponse       .status
    ├── ConfigError           .field
    ├── InternalError
    └── VerificationError     .status, .error, .error_description, .required_scopes, .www_authenticate()
        ├── TokenInvalid          401 invalid_token (no error code when the request had no token)
        ├── InsufficientScope     403 insufficient_scope
        └── VerifierUnavailable   503: the keys or the introspection endpoint cannot be reached
"""

from m2m_auth import _native
from m2m_auth._native import (
    ConfigError,
    InternalError,
    InvalidResponse,
    M2MAuthError,
    OAuthError,
    TransportError,
)


class VerificationError(M2MAuthError):
    """A token the Verifier did not accept: answer the request with ``.status`` and ``www_authenticate()``."""

    code = "ERR_TOKEN_INVALID"
    status: int = 401
    error: str | None = None
    error_description: str = ""
    required_scopes: list[str] = []  # noqa: RUF012 - never mutated; instances get their own

    def www_authenticate(self, realm: str | None = None) -> str:
        """The RFC 6750 §3 ``WWW-Authenticate`` value:
        ``Bearer realm=…, error=…, error_description=…, scope=…``."""
        # The class the core knows it by, also for a subclass of one of them.
        classes = (TokenInvalid, InsufficientScope, VerifierUnavailable)
        known = next(c.__name__ for c in type(self).__mro__ if c in classes)
        return _native.www_authenticate(known, self.error_description, self.required_scopes, realm)


class TokenInvalid(VerificationError):
    """401: no token, or one that is malformed, badly signed, expired, inactive, or for another issuer or
    API."""

    code = "ERR_TOKEN_INVALID"
    status = 401
    error = "invalid_token"


class InsufficientScope(VerificationError):
    """403: a valid token without what the route needs (``.required_scopes``)."""

    code = "ERR_INSUFFICIENT_SCOPE"
    status = 403
    error = "insufficient_scope"


class VerifierUnavailable(VerificationError):
    """503: the JWKS or introspection endpoint is down or slow; the token may be fine."""

    code = "ERR_VERIFIER_UNAVAILABLE"
    status = 503
    error = None


__all__ = [
    "ConfigError",
    "InsufficientScope",
    "InternalError",
    "InvalidResponse",
    "M2MAuthError",
    "OAuthError",
    "TokenInvalid",
    "TransportError",
    "VerificationError",
    "VerifierUnavailable",
]
