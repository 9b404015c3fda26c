"""requests, httpx (sync and async) and aiohttp against the mock server's protected API: the token goes on,
a rejected token is replaced once (one more token request, no more), a body that cannot be sent again is not
retried, and no token crosses to another origin on a redirect."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import httpx
import pytest
import requests
from m2m_auth import TokenClient
from m2m_auth.aiohttp import BearerAuthMiddleware
from m2m_auth.httpx import BearerAuth as HttpxAuth
from m2m_auth.requests import BearerAuth as RequestsAuth
from m2m_auth.testing import MockAuthServer


@pytest.fixture()
def client(server: MockAuthServer) -> TokenClient:
    return TokenClient(token_url=server.token_url, client_id="demo-client", client_secret="demo-secret")


@pytest.fixture()
def other() -> Iterator[MockAuthServer]:
    """Another origin, to redirect to."""
    with MockAuthServer() as s:
        yield s


def authorization_seen(server: MockAuthServer) -> list[str | None]:
    """The Authorization header of each API request the server saw, oldest first."""
    seen: list[str | None] = []
    for r in server.api_requests():
        headers = dict(r["headers"]) if isinstance(r["headers"], list) else r["headers"]
        seen.append(headers.get("authorization"))
    return seen


def body_chunks() -> Iterator[bytes]:
    yield b"streamed "
    yield b"once"


async def async_body_chunks() -> AsyncIterator[bytes]:
    yield b"streamed "
    yield b"once"


# ---------------------------------------------------------------------------------------------------------
# requests


def test_requests_sends_the_token_and_the_api_accepts_it(server: MockAuthServer, client: TokenClient) -> None:
    with requests.Session() as session:
        session.auth = client.requests_auth()
        r = session.get(f"{server.api_url}/payments")
    assert r.status_code == 200, r.text
    assert r.json()["sub"] == "demo-client"
    assert authorization_seen(server) == [f"Bearer {client.get_token()}"]
    assert server.token_requests() == 1


def test_requests_replaces_a_rejected_token_once(server: MockAuthServer, client: TokenClient) -> None:
    with requests.Session() as session:
        token = client.get_token()
        server.reject_next_api_tokens(1)
        r = session.post(f"{server.api_url}/payments", data=b'{"amount": 1}', auth=RequestsAuth(client))
    assert r.status_code == 200, r.text
    assert r.json()["body"] == '{"amount": 1}'
    assert [h.status_code for h in r.history] == [401]
    assert server.token_requests() == 2, "exactly one extra token request"
    assert server.api_request_count() == 2
    first, second = authorization_seen(server)
    assert first == f"Bearer {token}" and second != first


def test_requests_gives_up_after_one_retry(server: MockAuthServer, client: TokenClient) -> None:
    server.reject_next_api_tokens(5)
    r = requests.get(f"{server.api_url}/payments", auth=RequestsAuth(client), timeout=10)
    assert r.status_code == 401
    assert 'error="invalid_token"' in r.headers["WWW-Authenticate"]
    assert server.api_request_count() == 2
    assert server.token_requests() == 2


def test_requests_does_not_replay_a_streamed_body(server: MockAuthServer, client: TokenClient) -> None:
    server.reject_next_api_tokens(1)
    r = requests.post(f"{server.api_url}/upload", data=body_chunks(), auth=RequestsAuth(client), timeout=10)
    assert r.status_code == 401
    assert server.api_request_count() == 1
    assert server.token_requests() == 1


def test_requests_sends_no_token_across_origins_on_a_redirect(
    server: MockAuthServer, other: MockAuthServer, client: TokenClient
) -> None:
    target = f"{other.api_url}/landing"
    r = requests.get(
        f"{server.api_url}/redirect",
        params={"to": target, "status": "302"},
        auth=RequestsAuth(client),
        timeout=10,
    )
    assert r.status_code == 401, "the other origin got no token"
    assert authorization_seen(other) == [None]
    assert server.token_requests() == 1, "no retry for the other origin's 401"


def test_requests_keeps_the_token_on_a_same_origin_redirect(
    server: MockAuthServer, client: TokenClient
) -> None:
    target = f"{server.api_url}/landing"
    r = requests.get(
        f"{server.api_url}/redirect",
        params={"to": target, "status": "307"},
        auth=RequestsAuth(client),
        timeout=10,
    )
    assert r.status_code == 200, r.text
    assert r.json()["path"].endswith("/landing")


def test_requests_origins_limit_where_the_token_goes(server: MockAuthServer, client: TokenClient) -> None:
    auth = RequestsAuth(client, origins=["https://api.elsewhere.example"])
    r = requests.get(f"{server.api_url}/payments", auth=auth, timeout=10)
    assert r.status_code == 401
    assert authorization_seen(server) == [None]
    assert server.token_requests() == 0


def test_a_missing_scope_is_not_retried(server: MockAuthServer, client: TokenClient) -> None:
    r = requests.get(
        f"{server.api_url}/admin",
        params={"require_scope": "admin.write"},
        auth=RequestsAuth(client),
        timeout=10,
    )
    assert r.status_code == 403
    assert 'error="insufficient_scope"' in r.headers["WWW-Authenticate"]
    assert server.token_requests() == 1
    assert server.api_request_count() == 1


# ---------------------------------------------------------------------------------------------------------
# httpx, sync and async


def test_httpx_sync_token_and_one_retry(server: MockAuthServer, client: TokenClient) -> None:
    with httpx.Client(auth=client.httpx_auth()) as http:
        assert http.get(f"{server.api_url}/payments").status_code == 200
        server.reject_next_api_tokens(1)
        r = http.post(f"{server.api_url}/payments", content=b"replayable")
    assert r.status_code == 200, r.text
    assert r.json()["body"] == "replayable"
    assert server.token_requests() == 2
    assert server.api_request_count() == 3


def test_httpx_sync_does_not_replay_a_stream_or_cross_origins(
    server: MockAuthServer, other: MockAuthServer, client: TokenClient
) -> None:
    with httpx.Client(auth=HttpxAuth(client), follow_redirects=True) as http:
        server.reject_next_api_tokens(1)
        r = http.post(f"{server.api_url}/upload", content=body_chunks())
        assert r.status_code == 401
        assert server.api_request_count() == 1
        r = http.get(f"{server.api_url}/redirect", params={"to": f"{other.api_url}/landing", "status": "302"})
    assert r.status_code == 401
    assert authorization_seen(other) == [None]
    assert server.token_requests() == 1


def test_httpx_async_token_and_one_retry(server: MockAuthServer, client: TokenClient) -> None:
    async def run() -> tuple[int, int, Any]:
        async with httpx.AsyncClient(auth=HttpxAuth(client)) as http:
            first = await http.get(f"{server.api_url}/payments")
            server.reject_next_api_tokens(1)
            second = await http.put(f"{server.api_url}/payments", json={"amount": 2})
            return first.status_code, second.status_code, second.json()

    first, second, body = asyncio.run(run())
    assert (first, second) == (200, 200)
    assert body["method"] == "PUT"
    assert server.token_requests() == 2
    assert server.api_request_count() == 3


def test_httpx_async_does_not_replay_a_stream_or_cross_origins(
    server: MockAuthServer, other: MockAuthServer, client: TokenClient
) -> None:
    async def run() -> tuple[int, int]:
        async with httpx.AsyncClient(auth=HttpxAuth(client), follow_redirects=True) as http:
            server.reject_next_api_tokens(1)
            streamed = await http.post(f"{server.api_url}/upload", content=async_body_chunks())
            redirected = await http.get(
                f"{server.api_url}/redirect", params={"to": f"{other.api_url}/landing", "status": "307"}
            )
            return streamed.status_code, redirected.status_code

    assert asyncio.run(run()) == (401, 401)
    assert authorization_seen(other) == [None]
    assert server.token_requests() == 1


# ---------------------------------------------------------------------------------------------------------
# aiohttp


def test_aiohttp_middleware_token_and_one_retry(server: MockAuthServer, client: TokenClient) -> None:
    async def run() -> tuple[int, int, str]:
        auth = client.aiohttp_middleware(origins=[server.url])
        async with aiohttp.ClientSession(middlewares=(auth,)) as session:
            async with session.get(f"{server.api_url}/payments") as first:
                await first.read()
            server.reject_next_api_tokens(1)
            async with session.post(f"{server.api_url}/payments", data=b"again") as second:
                body = (await second.json())["body"]
                return first.status, second.status, body

    assert asyncio.run(run()) == (200, 200, "again")
    assert server.token_requests() == 2
    assert server.api_request_count() == 3


def test_aiohttp_does_not_replay_a_stream_or_send_the_token_elsewhere(
    server: MockAuthServer, other: MockAuthServer, client: TokenClient
) -> None:
    async def run() -> tuple[int, int]:
        auth = BearerAuthMiddleware(client, origins=server.url)
        async with aiohttp.ClientSession(middlewares=(auth,)) as session:
            server.reject_next_api_tokens(1)
            async with session.post(f"{server.api_url}/upload", data=async_body_chunks()) as streamed:
                await streamed.read()
            url = f"{server.api_url}/redirect"
            params = {"to": f"{other.api_url}/landing", "status": "302"}
            async with session.get(url, params=params) as redirected:
                await redirected.read()
            return streamed.status, redirected.status

    assert asyncio.run(run()) == (401, 401)
    assert authorization_seen(other) == [None]
    assert server.token_requests() == 1


def test_aiohttp_middleware_needs_origins(client: TokenClient) -> None:
    with pytest.raises(TypeError):
        BearerAuthMiddleware(client)  # type: ignore[call-arg]


# ---------------------------------------------------------------------------------------------------------
# client.call: through the core, with the client certificate


def test_call_replaces_a_rejected_token_once(server: MockAuthServer, client: TokenClient) -> None:
    server.reject_next_api_tokens(1)
    answer = client.call(
        "POST", f"{server.api_url}/payments", headers={"content-type": "text/plain"}, body="hi"
    )
    assert answer.status == 200, answer.text()
    assert answer.retried
    assert answer.json()["body"] == "hi"
    assert server.token_requests() == 2
    assert "demo-secret" not in repr(answer)


def test_call_presents_the_certificate_a_bound_token_needs() -> None:
    with MockAuthServer({"tls": True}) as tls:
        tls.register_client(
            {
                "client_id": "svc-bound",
                "auth_methods": ["tls_client_auth"],
                "tls_client_auth_subject_dn": "CN=svc-bound",
            }
        )
        cert, key = tls.issue_client_certificate("CN=svc-bound")
        bound = TokenClient.from_issuer(
            tls.issuer, client_id="svc-bound", client_cert=cert, client_key=key, ca_bundle=tls.ca_pem
        )
        assert tls.mtls_api_url is not None

        async def run() -> int:
            answer = await bound.call_async("GET", f"{tls.mtls_api_url}/payments")
            return answer.status

        answer = bound.call("GET", f"{tls.mtls_api_url}/payments")
        assert answer.status == 200, answer.text()
        assert answer.json()["bound"] is True
        assert asyncio.run(run()) == 200
        # Without the certificate (the main port asks for none) the bound token is refused.
        assert bound.call("GET", f"{tls.api_url}/payments").status == 401

        # requests and httpx, through the core's transport.
        with requests.Session() as session:
            session.mount(tls.mtls_api_url, bound.requests_adapter())
            r = session.post(f"{tls.mtls_api_url}/payments", json={"amount": 4})
        assert r.status_code == 200, r.text
        assert r.json()["bound"] is True and r.json()["body"] == '{"amount": 4}'
        with httpx.Client(transport=bound.httpx_transport()) as http:
            assert http.get(f"{tls.mtls_api_url}/payments").json()["bound"] is True

        async def run_httpx() -> Any:
            async with httpx.AsyncClient(transport=bound.httpx_transport()) as http:
                return (await http.put(f"{tls.mtls_api_url}/payments", content=b"x")).json()

        answer_async = asyncio.run(run_httpx())
        assert answer_async["bound"] is True and answer_async["method"] == "PUT"
