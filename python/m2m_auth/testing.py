"""An OAuth 2.0 authorization server for your tests, offline.

``MockAuthServer`` runs the bundled mock server (the same one ``m2m-auth mock`` runs) on 127.0.0.1 inside
this process. It issues real signed JWTs, checks client authentication like a real server, counts requests
and can be told to misbehave::

    from m2m_auth import TokenClient
    from m2m_auth.testing import MockAuthServer

    with MockAuthServer() as server:           # client "demo-client" / "demo-secret"
        client = TokenClient(token_url=server.token_url, client_id="demo-client", client_secret="demo-secret")
        client.get_token()
        server.push_faults([{"status": 503, "headers": {"retry-after": "1"}}])
        assert server.token_requests() == 1
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Union

from m2m_auth import _native
from m2m_auth._native import MockServer as _NativeMockServer
from m2m_auth._native import RedisServer as _NativeRedisServer

__all__ = ["MockAuthServer", "RedisServer", "generate_signing_key", "self_signed_certificate"]

if TYPE_CHECKING:
    from typing_extensions import Self

ConfigLike = Union[Mapping[str, Any], str, Path, None]


class _Closing:
    """``with`` closes it (stops the server)."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class MockAuthServer(_Closing):
    """A running mock authorization server. Use it as a context manager, or call ``close()``."""

    def __init__(self, config: ConfigLike = None) -> None:
        """``config``: a dict in the mock-server JSON format, a path to such a file, a JSON string, or None
        for one client ``demo-client`` / ``demo-secret`` with scopes ``payments.read payments.write``."""
        self._native = _NativeMockServer(_config_json(config))

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:54321``; also the issuer."""
        return self._native.url

    @property
    def issuer(self) -> str:
        return self._native.issuer

    @property
    def token_url(self) -> str:
        return self._native.token_url

    @property
    def mtls_token_url(self) -> str | None:
        """The token endpoint of the mutual-TLS alias; a server started with ``{"tls": True}`` has one."""
        return self._native.mtls_token_url

    @property
    def ca_pem(self) -> str | None:
        """With TLS: the CA certificate (PEM) that signed the server's certificate and issues client
        certificates. Give it to clients as ``ca_bundle``."""
        return self._native.ca_pem

    def issue_client_certificate(self, subject: str) -> tuple[str, str]:
        """A client certificate for ``subject`` (e.g. ``"CN=svc,O=Acme"``) from the server's CA, for
        ``tls_client_auth``: ``(cert_pem, key_pem)``."""
        return self._native.issue_client_certificate(subject)

    def register_client(self, client: Mapping[str, Any]) -> None:
        """Registers (or replaces) a client while the server runs, e.g. with a key a test just generated:
        ``{"client_id": …, "auth_methods": ["private_key_jwt"], "jwks": {"keys": [key["public_jwk"]]}}``."""
        self._native.register_client(json.dumps(dict(client)))

    def supported_auth_methods(self) -> list[str]:
        return self._native.supported_auth_methods()

    def token_requests(self, client_id: str | None = None) -> int:
        """Requests the token endpoint saw since start or ``reset()``, for one client or all."""
        return self._native.token_requests(client_id)

    def tokens_issued(self) -> int:
        return self._native.tokens_issued()

    def push_faults(self, faults: Sequence[Mapping[str, Any]]) -> None:
        """Make the next token requests misbehave, in order. A fault: ``count``, ``delay_ms``,
        ``body_delay_ms`` (headers at once, then the body stalls), ``headers``, ``status`` and ``body`` (a raw
        answer), ``drop_connection`` (the headers, then the connection drops), or ``expires_in``,
        ``omit_expires_in``, ``token_type``, ``extra`` (changes to a real token answer)."""
        self._native.push_faults(json.dumps(list(faults)))

    def requests(self) -> list[dict[str, Any]]:
        """The token requests received: method, path, headers, form, client_id, outcome."""
        result: list[dict[str, Any]] = json.loads(self._native.requests_json())
        return result

    @property
    def api_url(self) -> str:
        """A protected resource (API) that accepts this server's access tokens as a real one does, e.g.
        ``http://127.0.0.1:54321/api``: any method, any path below it. ``Authorization: Bearer <token>``
        with a valid token → 200 JSON ``{"ok": True, "sub", "scope", "method", "path", "query", "body",
        "bound"}``; no token → 401 ``WWW-Authenticate: Bearer realm="m2m-auth-mock"``; a bad, expired,
        other-audience or wrongly certificate-bound token → 401 ``error="invalid_token"``; add
        ``?require_scope=payments.write`` to need a scope (403 ``error="insufficient_scope"`` without it).
        ``{api_url}/redirect?to=<url>&status=307`` redirects (301, 302, 303, 307, 308) whatever the token."""
        return self._native.api_url

    @property
    def mtls_api_url(self) -> str | None:
        """The API on the mutual-TLS alias (a server started with ``{"tls": True}``), where a
        certificate-bound token is accepted from a client presenting its certificate."""
        return self._native.mtls_api_url

    def reject_next_api_tokens(self, count: int) -> None:
        """The next ``count`` API requests whose token is otherwise valid get 401 ``invalid_token``, "the
        access token expired", as a real API answers a token revoked early: tests a client's invalidate and
        retry. Replaces any count still pending; 0 cancels."""
        self._native.reject_next_api_tokens(count)

    def api_requests(self) -> list[dict[str, Any]]:
        """The API requests received, oldest first: method, path, query, headers (``[name, value]`` pairs,
        names lower-cased), body (text), client_cert_x5t_s256, token_sub, outcome (``"ok"``, ``"no_token"``,
        ``"invalid_request"``, ``"invalid_token"``, ``"rejected"``, ``"insufficient_scope"``,
        ``"redirect"``, ``"body_too_large"`` or ``"aborted"``)."""
        result: list[dict[str, Any]] = json.loads(self._native.api_requests_json())
        return result

    def api_request_count(self) -> int:
        """API requests since start or ``reset()``, whatever their outcome."""
        return self._native.api_request_count()

    def set_token_lifetime(self, seconds: int) -> None:
        self._native.set_token_lifetime(seconds)

    def reset(self) -> None:
        """Clears counters, pending faults, recorded token and API requests and pending API rejections;
        restores the configured lifetime."""
        self._native.reset()

    def verify_access_token(self, token: str) -> dict[str, Any]:
        """Checks a token's signature and expiry; returns its claims. Raises ValueError otherwise."""
        claims: dict[str, Any] = json.loads(self._native.verify_access_token(token))
        return claims

    def close(self) -> None:
        self._native.close()

    def __repr__(self) -> str:
        return f"MockAuthServer(url={self.url!r})"


class RedisServer(_Closing):
    """A real ``redis-server`` (it must be installed) on a free port of 127.0.0.1, without persistence, for
    tests of the shared cache (``cache_url=server.url``). Stopped by PID on ``close()`` or leaving
    ``with``."""

    def __init__(self) -> None:
        self._native = _NativeRedisServer()

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:PORT``."""
        return self._native.url

    @property
    def pid(self) -> int | None:
        return self._native.pid

    def stop(self) -> None:
        """Kills the server (SIGKILL, as a crash would); ``restart()`` brings it back on the same port."""
        self._native.stop()

    def restart(self) -> None:
        """Starts the server again on its port, empty."""
        self._native.restart()

    def close(self) -> None:
        self._native.stop()

    def __repr__(self) -> str:
        return f"RedisServer(url={self.url!r})"


def _config_json(config: ConfigLike) -> str | None:
    if config is None:
        return None
    if isinstance(config, Path):
        return config.read_text(encoding="utf-8")
    if isinstance(config, str):
        return config
    return json.dumps(dict(config))


def generate_signing_key(alg: str = "ES256") -> dict[str, Any]:
    """A new key pair for ``private_key_jwt`` (``"RS256"``, ``"PS256"`` or ``"ES256"``): a dict with ``alg``,
    ``kid``, ``pkcs8_pem``, ``traditional_pem`` (PKCS#1 or SEC1), ``private_jwk`` and ``public_jwk`` (register
    this one). Generated now; nothing is stored."""
    key: dict[str, Any] = json.loads(_native.generate_signing_key(alg))
    return key


def self_signed_certificate(subject: str) -> dict[str, Any]:
    """A new self-signed certificate for ``self_signed_tls_client_auth``: a dict with ``cert_pem``,
    ``key_pem``, ``jwk`` (register it: it carries the certificate in ``x5c``) and ``x5t_s256``."""
    cert: dict[str, Any] = json.loads(_native.self_signed_certificate(subject))
    return cert
