"""The m2m-auth exception hierarchy.

Every error is an ``M2MAuthError`` with a ``code`` (the same string the Node package uses) and a ``status``
(the HTTP status of the token endpoint's answer, or None)::

    M2MAuthError
    ├── OAuthError        .error, .error_description, .error_uri, .status
    ├── TransportError    .timeout
    ├── InvalidResponse   .status
    ├── ConfigError       .field
    └── InternalError
"""

from m2m_auth._native import (
    ConfigError,
    InternalError,
    InvalidResponse,
    M2MAuthError,
    OAuthError,
    TransportError,
)

__all__ = [
    "ConfigError",
    "InternalError",
    "InvalidResponse",
    "M2MAuthError",
    "OAuthError",
    "TransportError",
]
