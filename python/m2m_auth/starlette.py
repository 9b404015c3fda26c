"""FastAPI and Starlette: a route's access-token check as a dependency (``pip install m2m-auth[fastapi]``).

``Verifier.require(...)`` returns a ``Requirement``; awaiting it with the request gives the token's ``Claims``
(also on ``request.state.claims``), or raises an ``HTTPException`` that both frameworks answer with 401, 403
or 503 and the RFC 6750 ``WWW-Authenticate`` header::

    from fastapi import Depends, FastAPI
    from m2m_auth import Claims, Verifier

    verifier = Verifier(issuer="https://idp.example/acme", audience="payments-api", realm="payments")
    app = FastAPI()

    @app.get("/payments")
    async def payments(claims: Claims = Depends(verifier.require(scopes=["payments.read"]))) -> dict:
        return {"client": claims.client_id}

In plain Starlette: ``claims = await verifier.require(scopes=["payments.read"])(request)``.
"""

# No ``from __future__ import annotations`` here: FastAPI reads ``__call__``'s annotations to inject the
# Request, and the releases that Python 3.9 and 3.10 get look string annotations up in the callable's
# ``__globals__``, which an instance does not have.

from typing import Optional

from starlette.exceptions import HTTPException
from starlette.requests import Request

from m2m_auth._native import Claims, Policy
from m2m_auth._native import Verifier as _NativeVerifier
from m2m_auth._request_auth import asgi_credentials, error_headers
from m2m_auth.exceptions import VerificationError

__all__ = ["Requirement", "VerificationHTTPException"]


class VerificationHTTPException(HTTPException):
    """The ``HTTPException`` a ``Requirement`` raises: ``.status_code``, ``.headers`` (``WWW-Authenticate``),
    a text ``.detail`` (Starlette answers it as plain text, FastAPI as ``{"detail": …}``), and ``.error``,
    ``.error_description`` and ``.verification_error`` for an exception handler of your own."""

    def __init__(self, error: VerificationError, realm: Optional[str]) -> None:
        # What the caller may read: the RFC 6750 code and the description — never str(error), whose 503 detail
        # (URLs, the network error) is for the service's logs.
        detail = f"{error.error}: {error.error_description}" if error.error else error.error_description
        super().__init__(error.status, detail=detail, headers=error_headers(error, realm))
        self.error = error.error
        self.error_description = error.error_description
        self.verification_error = error


class Requirement:
    """A route's requirement on the access token: ``Depends(requirement)`` in FastAPI, or
    ``await requirement(request)``. Made by ``Verifier.require()``."""

    def __init__(
        self,
        verifier: _NativeVerifier,
        policy: Optional[Policy] = None,
        *,
        client_cert_header: Optional[str] = None,
    ) -> None:
        self.verifier = verifier
        self.policy = policy
        self.client_cert_header = client_cert_header

    async def __call__(self, request: Request) -> Claims:
        try:
            token, client_cert = asgi_credentials(request.scope, self.client_cert_header)
            claims = await self.verifier.verify_async(token, client_cert, self.policy)
        except VerificationError as e:
            raise VerificationHTTPException(e, self.verifier.realm) from e
        request.state.claims = claims
        return claims

    def __repr__(self) -> str:
        return f"Requirement(policy={self.policy!r}, client_cert_header={self.client_cert_header!r})"
