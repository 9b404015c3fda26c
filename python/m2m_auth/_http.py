"""What the HTTP integrations (``m2m_auth.requests``, ``m2m_auth.httpx``, ``m2m_auth.aiohttp``) share: the
token for a request, the origin rules, and the one decision the core makes about a 401."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from m2m_auth._native import TokenClient, replay_with_new_token, same_origin

_DEFAULT_PORTS = {"http": 80, "https": 443}

Origin = tuple[str, str, int]


def origin_of(url: str) -> Origin:
    """``(scheme, host, port)`` with the default port filled in: two URLs share an origin when these match."""
    parts = urlsplit(str(url))
    scheme = parts.scheme.lower()
    port = parts.port or _DEFAULT_PORTS.get(scheme, 0)
    return scheme, (parts.hostname or "").lower(), port


def allowed_origins(origins: str | Iterable[str] | None) -> frozenset[Origin] | None:
    if origins is None:
        return None
    if isinstance(origins, str):
        origins = [origins]
    return frozenset(origin_of(o) for o in origins)


def replay(
    status: int,
    www_authenticate: Sequence[str],
    *,
    answered_by_token_origin: bool,
    body_replayable: bool,
    already_replayed: bool = False,
) -> bool:
    """The core's rule: drop the token and send the request once more with a new one only when the origin the
    token was sent to rejected it (401 with a Bearer ``invalid_token`` challenge), the body can be sent again,
    and the request was not sent again already. Anything else (403, ``insufficient_scope``, no challenge) is
    the caller's to see."""
    return replay_with_new_token(
        status, list(www_authenticate), answered_by_token_origin, body_replayable, already_replayed
    )


class TokenSource:
    """A client and the per-call parameters its integration asks tokens with."""

    def __init__(
        self,
        client: TokenClient,
        *,
        scopes: Sequence[str] | None = None,
        audience: str | None = None,
        resources: Sequence[str] | None = None,
        extra_params: Mapping[str, str] | None = None,
        origins: str | Iterable[str] | None = None,
    ) -> None:
        self.client = client
        params: dict[str, Any] = {}
        for name, value in [
            ("scopes", scopes),
            ("audience", audience),
            ("resources", resources),
            ("extra_params", extra_params),
        ]:
            if value is not None:
                params[name] = value
        self._params = params
        self._origins = allowed_origins(origins)

    def may_authorize(self, url: str) -> bool:
        """Whether a request to ``url`` may carry the token: any origin, unless ``origins`` limits them."""
        return self._origins is None or origin_of(url) in self._origins

    def token(self, url: str) -> str:
        """The token for a request to ``url``; a ``ConfigError`` first, before any connection, if the token
        may not go there (plain http to a host that is not loopback, unless ``allow_insecure_http``)."""
        self.client.check_api_url(url)
        return self.client.get_token(**self._params)

    async def token_async(self, url: str) -> str:
        self.client.check_api_url(url)
        return await self.client.get_token_async(**self._params)

    def drop(self, token: str) -> None:
        """Forget ``token`` (the API rejected it) unless a newer one already replaced it."""
        self.client.invalidate(token)


# The headers that carry credentials: none of them follows a redirect to another origin.
CREDENTIAL_HEADERS = ("authorization", "cookie", "proxy-authorization")


def keeps_credentials(token_url: str, next_url: str) -> bool:
    """The core's redirect rule: a request to ``next_url`` may carry what a request to ``token_url`` carried
    (the token, a caller's cookies and credentials) only when both share an origin."""
    return same_origin(token_url, next_url)


def bearer(token: str) -> str:
    return f"Bearer {token}"


class Authorizer:
    """The base of every integration: the client, what to ask tokens for (``scopes``, ``audience``,
    ``resources``, ``extra_params``; default: the client's own settings), and where they may go
    (``origins``; default: anywhere)."""

    def __init__(
        self,
        client: TokenClient,
        *,
        scopes: Sequence[str] | None = None,
        audience: str | None = None,
        resources: Sequence[str] | None = None,
        extra_params: Mapping[str, str] | None = None,
        origins: str | Iterable[str] | None = None,
    ) -> None:
        self._source = TokenSource(
            client,
            scopes=scopes,
            audience=audience,
            resources=resources,
            extra_params=extra_params,
            origins=origins,
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._source.client!r})"
