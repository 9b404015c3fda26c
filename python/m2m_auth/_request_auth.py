"""What the framework integrations read from a request and answer when it fails, in one place.

``m2m_auth.starlette`` and ``m2m_auth.asgi`` read an ASGI scope, ``m2m_auth.flask`` a WSGI environ; all three
answer a ``VerificationError`` with the same status, ``WWW-Authenticate`` and JSON body::

    from m2m_auth._request_auth import asgi_credentials, error_body, error_headers

    try:
        token, client_cert = asgi_credentials(scope, client_cert_header="x-client-cert")
        claims = await verifier.verify_async(token, client_cert, policy)
    except VerificationError as e:
        status, headers, body = e.status, error_headers(e, verifier.realm), error_body(e)

Parsing the ``Authorization`` header and decoding the certificate are the core's (``_native.bearer_token``,
``Verifier.verify``): the rules are shared with the Node package. This module only finds the raw values.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import Any, Optional

from m2m_auth import _native
from m2m_auth.exceptions import VerificationError

__all__ = ["asgi_credentials", "error_body", "error_headers", "wsgi_credentials"]

Credentials = tuple[str, Optional[str]]


def asgi_credentials(scope: MutableMapping[str, Any], client_cert_header: str | None) -> Credentials:
    """``(token, client_cert)`` of an ASGI http request; ``TokenInvalid`` when it has no usable token.

    The certificate comes from ``client_cert_header`` when one is configured: then the TLS peer is the proxy,
    and its certificate is not the client's. Otherwise from the server's TLS extension, when it has one."""
    headers: list[tuple[bytes, bytes]] = scope.get("headers") or []
    # Several Authorization headers are joined as a WSGI server joins them; the core rejects the result.
    token = _native.bearer_token(_joined(headers, b"authorization"))
    if client_cert_header is not None:
        name = client_cert_header.lower().encode("latin-1")
        # A trusted proxy sets the header once; the core believes exactly one copy.
        return token, _native.forwarded_certificate([v.decode("latin-1") for k, v in headers if k == name])
    tls = (scope.get("extensions") or {}).get("tls") or {}
    chain = tls.get("client_cert_chain") or ()
    # The first PEM of the chain is the client's own; binding (RFC 8705) compares its thumbprint only, so a
    # certificate the server did not verify against a CA is still the one the token must be bound to.
    return token, (chain[0] or None) if chain else None


def wsgi_credentials(environ: Mapping[str, Any], client_cert_header: str | None) -> Credentials:
    """``(token, client_cert)`` of a WSGI request: the header when configured, else ``SSL_CLIENT_CERT``
    (set by mod_wsgi with ``SSLOptions +ExportCertData``, and by other servers that terminate TLS)."""
    token = _native.bearer_token(environ.get("HTTP_AUTHORIZATION"))
    if client_cert_header is not None:
        cert = environ.get("HTTP_" + client_cert_header.upper().replace("-", "_"))
    else:
        cert = environ.get("SSL_CLIENT_CERT")
    return token, cert or None


def _joined(headers: list[tuple[bytes, bytes]], name: bytes) -> str | None:
    values = [value.decode("latin-1") for key, value in headers if key == name]
    return ", ".join(values) if values else None


def error_headers(error: VerificationError, realm: str | None) -> dict[str, str]:
    """The headers of the answer: ``WWW-Authenticate`` as the core renders it (RFC 6750 §3)."""
    return {"WWW-Authenticate": error.www_authenticate(realm)}


def error_body(error: VerificationError) -> dict[str, str | None]:
    """The JSON body of the answer: the RFC 6750 error code (None without a token, and for a 503) and the
    core's description, which never holds the token."""
    return {"error": error.error, "error_description": error.error_description}
