"""Flask: a view's access-token check as a decorator (``pip install m2m-auth[flask]``).

``require(verifier, ...)`` wraps a view: the token's ``Claims`` are put on ``flask.g.claims`` and the view
runs; a refused token is answered with 401, 403 or 503, the RFC 6750 ``WWW-Authenticate`` header and a JSON
body ``{"error": …, "error_description": …}``, and the view does not run::

    from flask import Flask, g
    from m2m_auth import Verifier
    from m2m_auth.flask import require

    verifier = Verifier(issuer="https://idp.example/acme", audience="payments-api", realm="payments")
    app = Flask(__name__)

    @app.get("/payments")
    @require(verifier, scopes=["payments.read"])
    def payments():
        return {"client": g.claims.client_id}
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any, Callable, TypeVar, cast

from flask import current_app, g, jsonify, make_response, request

from m2m_auth._native import Policy
from m2m_auth._native import Verifier as _NativeVerifier
from m2m_auth._request_auth import error_body, error_headers, wsgi_credentials
from m2m_auth.exceptions import VerificationError
from m2m_auth.verifier import route_policy

__all__ = ["require"]

View = TypeVar("View", bound=Callable[..., Any])


def require(
    verifier: _NativeVerifier,
    *,
    scopes: Sequence[str] | None = None,
    any_scopes: Sequence[str] | None = None,
    client_ids: Sequence[str] | None = None,
    claims: Mapping[str, Any] | None = None,
    policy: Policy | None = None,
    client_cert_header: str | None = None,
) -> Callable[[View], View]:
    """A decorator that lets a view run only with a token ``verifier`` accepts: every one of ``scopes``, one
    of ``any_scopes``, a client among ``client_ids``, each claim of ``claims`` equal to its value, and
    ``policy``. ``client_cert_header``: the header in which a trusted proxy passes the client certificate
    (certificate-bound tokens, RFC 8705); without it, ``SSL_CLIENT_CERT`` when the WSGI server sets it."""
    route = route_policy(
        scopes=scopes, any_scopes=any_scopes, client_ids=client_ids, claims=claims, policy=policy
    )

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Any:
            try:
                token, client_cert = wsgi_credentials(request.environ, client_cert_header)
                g.claims = verifier.verify(token, client_cert, route)
            except VerificationError as e:
                response = make_response(jsonify(error_body(e)), e.status)
                response.headers.update(error_headers(e, verifier.realm))
                return response
            # ensure_sync: an `async def` view runs as Flask runs it undecorated.
            return current_app.ensure_sync(view)(*args, **kwargs)

        return cast(View, checked)

    return decorate
