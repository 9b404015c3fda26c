"""m2m-auth: OAuth 2.0 client credentials tokens for services, jobs and backends.

>>> from m2m_auth import TokenClient
>>> client = TokenClient(token_url=..., client_id=..., client_secret=..., scopes=["payments.read"])
>>> token = client.get_token()          # cached; fetched again near expiry

>>> from m2m_auth import Verifier     # the receiving side
>>> claims = Verifier(issuer=..., audience="payments-api").verify(token)
"""

import os as _os

from m2m_auth._native import ApiResponse, Token, TokenClient, __version__, _after_fork_in_child
from m2m_auth.exceptions import (
    ConfigError,
    InsufficientScope,
    InternalError,
    InvalidResponse,
    M2MAuthError,
    OAuthError,
    TokenInvalid,
    TransportError,
    VerificationError,
    VerifierUnavailable,
)
from m2m_auth.verifier import Claims, Policy, Verifier

# A forked child (gunicorn --preload, multiprocessing) cannot use the parent's runtime threads or its open
# connections; this tells the native module to build fresh ones in the child.
if hasattr(_os, "register_at_fork"):
    _os.register_at_fork(after_in_child=_after_fork_in_child)

__all__ = [
    "ApiResponse",
    "Claims",
    "ConfigError",
    "InsufficientScope",
    "InternalError",
    "InvalidResponse",
    "M2MAuthError",
    "OAuthError",
    "Policy",
    "Token",
    "TokenClient",
    "TokenInvalid",
    "TransportError",
    "VerificationError",
    "Verifier",
    "VerifierUnavailable",
    "__version__",
]
