"""m2m-auth for ``requests``: the access token on every request, a new one when the API rejects it.

    import requests
    from m2m_auth.requests import BearerAuth

    session = requests.Session()
    session.auth = BearerAuth(client)                    # or client.requests_auth()
    session.get("https://api.example/payments")

On a ``401`` whose ``WWW-Authenticate`` says ``invalid_token``, the token is dropped and the request sent
once more with a new one — if its body can be sent again (not a generator or file object). When a redirect
leaves the origin the token was sent to, the token stays behind (``requests`` alone would keep it on an
http-to-https redirect); the retry only ever goes to the origin the token was sent to. Plain http to a host
that is not loopback is refused with a ``ConfigError`` unless the client allows it
(``allow_insecure_http``). ``pip install m2m-auth[requests]``.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any
from urllib.parse import urljoin

import requests
import requests.adapters
import requests.structures
import requests.utils
from requests.auth import AuthBase

from m2m_auth._http import Authorizer, bearer, keeps_credentials, origin_of, replay
from m2m_auth._native import TokenClient

__all__ = ["BearerAuth", "CoreAdapter"]

_RETRIED = "_m2m_auth_retried"


class BearerAuth(AuthBase, Authorizer):
    """A ``requests`` auth that sends ``Authorization: Bearer <token>`` from a :class:`~m2m_auth.TokenClient`.

    ``scopes``, ``audience``, ``resources``, ``extra_params``: what to ask the token for (default: the
    client's own settings). ``origins``: if given, only requests to these origins (``"https://api.example"``)
    get the token."""

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        url = r.url or ""
        if not self._source.may_authorize(url):
            return r
        token = self._source.token(url)
        r.headers["Authorization"] = bearer(token)
        origin = origin_of(url)

        def retry_once(response: requests.Response, **kwargs: Any) -> requests.Response:
            _keep_token_home(response, url)
            return self._retry_once(response, token, origin, **kwargs)

        r.register_hook("response", retry_once)  # type: ignore[no-untyped-call]  # untyped in types-requests
        return r

    def _retry_once(
        self, response: requests.Response, token: str, origin: Any, **kwargs: Any
    ) -> requests.Response:
        request = response.request
        if not replay(
            response.status_code,
            _challenges(response),
            # A redirect may have taken the request elsewhere: only the origin that got this token counts.
            answered_by_token_origin=origin_of(request.url or "") == origin
            and request.headers.get("Authorization") == bearer(token),
            body_replayable=_replayable(request.body),
            already_replayed=getattr(request, _RETRIED, False),
        ):
            return response
        self._source.drop(token)
        fresh = request.copy()
        fresh.headers["Authorization"] = bearer(self._source.token(request.url or ""))
        setattr(fresh, _RETRIED, True)
        # Release the connection of the rejected answer before sending again (as requests' digest auth does).
        _ = response.content
        response.close()
        connection = response.connection
        retried: requests.Response = connection.send(fresh, **kwargs)
        retried.history.append(response)
        retried.request = fresh
        return retried


class CoreAdapter(requests.adapters.BaseAdapter):
    """A transport adapter that sends each request through the m2m-auth core, with the token: the client
    certificate is presented, as a certificate-bound token (RFC 8705) needs, and a rejected token is replaced
    once. Mount it for your API's origin::

        session.mount("https://api.example/", client.requests_adapter())

    Requests through it need no ``auth``; redirects are followed by the core within the origin."""

    def __init__(self, client: TokenClient) -> None:
        super().__init__()
        self._client = client

    def send(  # type: ignore[override]
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float, float] | None = None,
        verify: bool | str = True,
        cert: Any = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        body = request.body
        if body is not None and not isinstance(body, (bytes, str)):
            body = b"".join(body)  # a generator or file: the core sends bodies whole
        seconds = sum(timeout) if isinstance(timeout, tuple) else (timeout or 30.0)
        headers = [(k, v) for k, v in request.headers.items() if k.lower() != "authorization"]
        answer = self._client.call(
            request.method or "GET", request.url or "", headers=headers, body=body, timeout=seconds
        )
        response = requests.Response()
        response.status_code = answer.status
        response.headers = requests.structures.CaseInsensitiveDict(answer.headers)
        response.raw = io.BytesIO(answer.body)
        response._content = answer.body  # already read: no stream to consume
        response.url = answer.url
        response.request = request
        response.reason = ""
        response.encoding = requests.utils.get_encoding_from_headers(response.headers)
        response.connection = self  # type: ignore[assignment]  # typed as HTTPAdapter; any adapter works
        return response

    def close(self) -> None:
        pass


def _keep_token_home(response: requests.Response, token_url: str) -> None:
    """Before ``requests`` follows a redirect that leaves the token's origin, take the token off the request
    it copies for the next hop (``requests`` keeps it on an http-to-https redirect of the same host)."""
    if not response.is_redirect or response.request is None:
        return
    target = urljoin(response.url, response.headers.get("location", ""))
    if not keeps_credentials(token_url, target):
        response.request.headers.pop("Authorization", None)


def _challenges(response: requests.Response) -> list[str]:
    # requests folds repeated headers into one comma-separated value; the core parses several challenges in
    # one value, so the folded value is all it needs.
    value = response.headers.get("WWW-Authenticate")
    return [value] if value else []


def _replayable(body: object) -> bool:
    return body is None or isinstance(body, (bytes, str))
