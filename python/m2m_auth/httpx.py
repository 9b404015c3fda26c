"""m2m-auth for ``httpx``, sync and async: the access token on every request, a new one when the API
rejects it.

    import httpx
    from m2m_auth.httpx import BearerAuth

    auth = BearerAuth(client)                                     # or client.httpx_auth()
    with httpx.Client(auth=auth, event_hooks=auth.event_hooks) as http:
        http.get("https://api.example/payments")
    async with httpx.AsyncClient(auth=auth, event_hooks=auth.async_event_hooks) as http:
        await http.get("https://api.example/payments")

On a ``401`` whose ``WWW-Authenticate`` says ``invalid_token``, the token is dropped and the request sent
once more with a new one, if its body can be sent again (bytes, not a stream); the retry goes only to the
origin the token was sent to. httpx runs an auth once per request, not per redirect hop; it keeps the
token on an http-to-https redirect of the same host, and a caller's ``Proxy-Authorization`` on any.
With ``follow_redirects=True``, give the client the auth's ``event_hooks`` (``async_event_hooks`` for
``AsyncClient``): they take every credential off a hop that leaves the origin. Plain http to a host that
is not loopback is refused with a ``ConfigError`` unless the client allows it (``allow_insecure_http``).
``pip install m2m-auth[httpx]``.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable, Generator

import httpx

from m2m_auth._http import CREDENTIAL_HEADERS, Authorizer, bearer, keeps_credentials, replay
from m2m_auth._native import TokenClient

__all__ = ["BearerAuth", "CoreTransport"]


class BearerAuth(httpx.Auth, Authorizer):
    """An ``httpx.Auth`` that sends ``Authorization: Bearer <token>`` from a :class:`~m2m_auth.TokenClient`.

    ``scopes``, ``audience``, ``resources``, ``extra_params``: what to ask the token for (default: the
    client's own settings). ``origins``: if given, only requests to these origins get the token."""

    @property
    def event_hooks(self) -> dict[str, list[Callable[[httpx.Request], None]]]:
        """For ``httpx.Client(event_hooks=…)``: no credential follows a redirect to another origin."""
        return {"request": [_keep_credentials_home]}

    @property
    def async_event_hooks(self) -> dict[str, list[Callable[[httpx.Request], Awaitable[None]]]]:
        """For ``httpx.AsyncClient(event_hooks=…)``: no credential follows a redirect to another origin."""
        return {"request": [_keep_credentials_home_async]}

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.extensions[_HOME] = str(request.url)
        if not self._source.may_authorize(str(request.url)):
            yield request
            return
        token = self._source.token(str(request.url))
        request.headers["Authorization"] = bearer(token)
        response = yield request
        if self._should_retry(request, response):
            response.read()
            self._source.drop(token)
            request.headers["Authorization"] = bearer(self._source.token(str(request.url)))
            yield request

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        request.extensions[_HOME] = str(request.url)
        if not self._source.may_authorize(str(request.url)):
            yield request
            return
        token = await self._source.token_async(str(request.url))
        request.headers["Authorization"] = bearer(token)
        response = yield request
        if self._should_retry(request, response):
            await response.aread()
            self._source.drop(token)
            request.headers["Authorization"] = bearer(await self._source.token_async(str(request.url)))
            yield request

    @staticmethod
    def _should_retry(request: httpx.Request, response: httpx.Response) -> bool:
        # The flow sends the request again at most once, so it was never replayed here.
        return replay(
            response.status_code,
            response.headers.get_list("www-authenticate"),
            # After redirects, the answer may come from a hop that never had the token (another origin, or
            # back at this one after leaving it): only a hop that carried it counts.
            answered_by_token_origin=keeps_credentials(str(request.url), str(response.request.url))
            and response.request.headers.get("Authorization") == request.headers.get("Authorization"),
            # A streamed body was consumed by the first attempt; only bytes can be sent again.
            body_replayable=isinstance(request.stream, httpx.ByteStream),
        )


# The URL a request started at: httpx copies a request's extensions onto each redirect hop.
_HOME = "m2m_auth.home"


def _keep_credentials_home(request: httpx.Request) -> None:
    """A request hook: on a hop away from the origin the request started at, drop every credential. A later
    hop copies this one's headers, so once a chain has left, no hop of it carries them again."""
    home = request.extensions.get(_HOME)
    if home is not None and not keeps_credentials(home, str(request.url)):
        for name in CREDENTIAL_HEADERS:
            request.headers.pop(name, None)


async def _keep_credentials_home_async(request: httpx.Request) -> None:
    _keep_credentials_home(request)


class CoreTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """An httpx transport (sync and async) that sends each request through the m2m-auth core, with the token:
    the client certificate is presented, as a certificate-bound token (RFC 8705) needs, and a rejected token
    is replaced once::

        httpx.Client(transport=client.httpx_transport())
        httpx.AsyncClient(transport=client.httpx_transport())

    Requests through it need no ``auth``; redirects are followed by the core within the origin."""

    def __init__(self, client: TokenClient) -> None:
        self._client = client

    @staticmethod
    def _parts(request: httpx.Request) -> tuple[list[tuple[str, str]], float]:
        headers = [(k, v) for k, v in request.headers.items() if k.lower() != "authorization"]
        timeouts = request.extensions.get("timeout", {})
        seconds = sum(t for t in timeouts.values() if t) or 30.0
        return headers, seconds

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        headers, seconds = self._parts(request)
        answer = self._client.call(
            request.method, str(request.url), headers=headers, body=request.read(), timeout=seconds
        )
        return httpx.Response(answer.status, headers=answer.headers, content=answer.body, request=request)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        headers, seconds = self._parts(request)
        body = await request.aread()
        answer = await self._client.call_async(
            request.method, str(request.url), headers=headers, body=body, timeout=seconds
        )
        return httpx.Response(answer.status, headers=answer.headers, content=answer.body, request=request)
