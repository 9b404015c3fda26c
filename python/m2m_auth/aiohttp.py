"""m2m-auth for ``aiohttp``: a client middleware that puts the access token on requests to the origins you
name, and gets a new one when the API rejects it.

    import aiohttp
    from m2m_auth.aiohttp import BearerAuthMiddleware

    auth = BearerAuthMiddleware(client, origins=["https://api.example"])
    async with aiohttp.ClientSession(middlewares=(auth,)) as session:
        async with session.get("https://api.example/payments") as resp: ...

``origins`` is required: aiohttp runs middlewares again for every redirect, so the middleware itself must
know where the token may go — a redirect to any other origin gets no token. On a ``401`` whose
``WWW-Authenticate`` says ``invalid_token``, the token is dropped and the request sent once more with a new
one, if its body can be sent again (bytes or str). Needs aiohttp 3.12 or later:
``pip install m2m-auth[aiohttp]``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from aiohttp import ClientHandlerType, ClientRequest, ClientResponse, hdrs

from m2m_auth._http import Authorizer, bearer, replay
from m2m_auth._native import TokenClient

__all__ = ["BearerAuthMiddleware"]


class BearerAuthMiddleware(Authorizer):
    """``Authorization: Bearer <token>`` from a :class:`~m2m_auth.TokenClient` on requests to ``origins``.

    ``scopes``, ``audience``, ``resources``, ``extra_params``: what to ask the token for (default: the
    client's own settings)."""

    def __init__(
        self,
        client: TokenClient,
        *,
        origins: str | Iterable[str],
        scopes: Sequence[str] | None = None,
        audience: str | None = None,
        resources: Sequence[str] | None = None,
        extra_params: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(
            client,
            origins=origins,
            scopes=scopes,
            audience=audience,
            resources=resources,
            extra_params=extra_params,
        )

    async def __call__(self, request: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
        if not self._source.may_authorize(str(request.url)):
            return await handler(request)
        token = await self._source.token_async(str(request.url))
        request.headers[hdrs.AUTHORIZATION] = bearer(token)
        response = await handler(request)
        # This request is the hop that carried the token (the middleware runs again for every hop), and it
        # is sent again at most once here.
        if not replay(
            response.status,
            response.headers.getall(hdrs.WWW_AUTHENTICATE, []),
            answered_by_token_origin=True,
            body_replayable=_replayable(request),
        ):
            return response
        await response.read()
        response.release()
        self._source.drop(token)
        request.headers[hdrs.AUTHORIZATION] = bearer(await self._source.token_async(str(request.url)))
        return await handler(request)


def _replayable(request: ClientRequest) -> bool:
    from aiohttp import payload

    body = request.body
    return isinstance(body, (payload.BytesPayload, payload.StringPayload)) or not body
