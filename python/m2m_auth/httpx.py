"""m2m-auth for ``httpx``, sync and async: the access token on every request, a new one when the API
rejects it.

    import httpx
    from m2m_auth.httpx import BearerAuth

    with httpx.Client(auth=BearerAuth(client)) as http:          # or client.httpx_auth()
        http.get("https://api.example/payments")
    async with httpx.AsyncClient(auth=BearerAuth(client)) as http:
        await http.get("https://api.example/payments")

On a ``401`` whose ``WWW-Authenticate`` says ``invalid_token``, the token is dropped and the request sent
once more with a new one, if its body can be sent again (bytes, not a stream). ``httpx`` drops the header
when a redirect leaves the origin, and the retry goes only to the origin the token was sent to.
``pip install m2m-auth[httpx]``.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator

import httpx

from m2m_auth._http import Authorizer, bearer, keeps_credentials, rejected
from m2m_auth._native import TokenClient

__all__ = ["BearerAuth", "CoreTransport"]


class BearerAuth(httpx.Auth, Authorizer):
    """An ``httpx.Auth`` that sends ``Authorization: Bearer <token>`` from a :class:`~m2m_auth.TokenClient`.

    ``scopes``, ``audience``, ``resources``, ``extra_params``: what to ask the token for (default: the
    client's own settings). ``origins``: if given, only requests to these origins get the token."""

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
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
        return (
            # After redirects, the answer may come from another origin, which never had the token.
            keeps_credentials(str(request.url), str(response.request.url))
            and rejected(response.status_code, response.headers.get_list("www-authenticate"))
            # A streamed body was consumed by the first attempt; only bytes can be sent again.
            and isinstance(request.stream, httpx.ByteStream)
        )


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
