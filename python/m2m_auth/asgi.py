"""Any ASGI app (Starlette, FastAPI, Quart, Litestar, …): every HTTP request must carry an accepted token.

``VerifierMiddleware`` checks the token before the app sees the request. Accepted: the ``Claims`` are put
in ``scope["state"]["claims"]`` (``request.state.claims`` in Starlette and FastAPI) and the app is called.
Refused: the middleware answers itself with 401, 403 or 503, the RFC 6750 ``WWW-Authenticate`` header and
a JSON body ``{"error": …, "error_description": …}``. Websocket and lifespan scopes pass through untouched::

    from starlette.applications import Starlette
    from m2m_auth import Policy, Verifier
    from m2m_auth.asgi import VerifierMiddleware

    verifier = Verifier(issuer="https://idp.example/acme", audience="payments-api", realm="payments")
    app = Starlette(routes=...)
    app.add_middleware(VerifierMiddleware, verifier=verifier, policy=Policy.all_scopes(["payments.read"]),
                       exclude_paths=["/health"])
    # or, for any ASGI app: app = VerifierMiddleware(app, verifier, exclude_paths=["/health"])
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Iterable, MutableMapping
from typing import Any, Callable

from m2m_auth._native import Policy
from m2m_auth._native import Verifier as _NativeVerifier
from m2m_auth._request_auth import asgi_credentials, error_body, error_headers
from m2m_auth.exceptions import VerificationError

__all__ = ["VerifierMiddleware"]

# The ASGI types, spelled out so that this module needs no framework.
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class VerifierMiddleware:
    """ASGI middleware that lets through only requests with a token ``verifier`` accepts under ``policy``.

    ``exclude_paths``: paths answered without a token (health checks, docs); each one also covers the paths
    below it (``"/health"`` covers ``/health/live``, not ``/healthz``), except ``"/"``, the root page alone.
    ``client_cert_header``: the header in which a trusted proxy passes the client certificate, for
    certificate-bound tokens (RFC 8705); without it the server's TLS extension is used when it offers one."""

    def __init__(
        self,
        app: ASGIApp,
        verifier: _NativeVerifier,
        *,
        policy: Policy | None = None,
        exclude_paths: Iterable[str] = (),
        client_cert_header: str | None = None,
    ) -> None:
        self.app = app
        self.verifier = verifier
        self.policy = policy
        self.exclude_paths = tuple(path.rstrip("/") or "/" for path in exclude_paths)
        self.client_cert_header = client_cert_header

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self._excluded(scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        try:
            token, client_cert = asgi_credentials(scope, self.client_cert_header)
            claims = await self.verifier.verify_async(token, client_cert, self.policy)
        except VerificationError as e:
            await _answer(send, e, self.verifier.realm)
            return
        # In place, as Starlette's request.state does: what the app's requests see is this dict.
        scope.setdefault("state", {})["claims"] = claims
        await self.app(scope, receive, send)

    def _excluded(self, path: str) -> bool:
        # "/" is the root page alone: below it is every path, which would switch the middleware off.
        return any(
            path == excluded or (excluded != "/" and path.startswith(excluded + "/"))
            for excluded in self.exclude_paths
        )


async def _answer(send: Send, error: VerificationError, realm: str | None) -> None:
    body = json.dumps(error_body(error)).encode()
    answer = error_headers(error, realm)
    headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in answer.items()]
    headers += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
