"""The shared redirect matrix (tests/vectors/redirects.json) for every Python path — the core's ``call``,
requests, httpx (sync and async) and aiohttp: no credential (the token, the caller's Cookie and
Proxy-Authorization) follows a redirect to another origin; within the origin the token stays."""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
import tempfile
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import pytest
import requests
from conftest import VECTORS
from m2m_auth import TokenClient
from m2m_auth.aiohttp import BearerAuthMiddleware
from m2m_auth.httpx import BearerAuth as HttpxAuth
from m2m_auth.requests import BearerAuth as RequestsAuth
from m2m_auth.testing import MockAuthServer

MATRIX: dict[str, Any] = json.loads((VECTORS / "redirects.json").read_text(encoding="utf-8"))
CALLER_HEADERS = {"Cookie": "session=caller-cookie", "Proxy-Authorization": "Basic cHJveHk6c2VjcmV0"}


class Servers:
    def __init__(self, a: MockAuthServer, b: MockAuthServer, t: MockAuthServer, ca_file: str) -> None:
        self.by_name = {"a": a, "b": b, "t": t}
        self.ca_file = ca_file
        self.ports = {name: str(urllib.parse.urlsplit(s.url).port) for name, s in self.by_name.items()}

    def fill(self, text: str) -> str:
        for name, port in self.ports.items():
            text = text.replace("{" + name + "}", port)
        return text


@pytest.fixture(scope="module")
def servers() -> Iterator[Servers]:
    with (
        MockAuthServer() as a,
        MockAuthServer() as b,
        MockAuthServer({"tls": True}) as t,
        tempfile.TemporaryDirectory() as tmp,
    ):
        ca_file = str(Path(tmp) / "ca.pem")
        Path(ca_file).write_text(t.ca_pem or "", encoding="utf-8")
        yield Servers(a, b, t, ca_file)


@pytest.fixture(autouse=True)
def api_localhost_resolves(monkeypatch: pytest.MonkeyPatch) -> None:
    """api.localhost is this host, as the matrix says; for this process only."""
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode("ascii") if isinstance(host, bytes) else host  # anyio passes IDNA bytes
        if isinstance(name, str) and name.lower().endswith(".localhost"):
            host = "127.0.0.1"
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def client_of(servers: Servers) -> TokenClient:
    return TokenClient(
        token_url=servers.by_name["a"].token_url,
        client_id="demo-client",
        client_secret="demo-secret",
        ca_bundle_file=servers.ca_file,
    )


def cases() -> list[tuple[int, dict[str, Any]]]:
    return list(enumerate(MATRIX["cases"]))


def redirect_url(servers: Servers, case: dict[str, Any], landing: str) -> str:
    to = servers.fill(case["to"]) + landing
    return f"{servers.fill(case['from'])}/api/redirect?status=307&to={urllib.parse.quote(to, safe='')}"


def check(servers: Servers, client: TokenClient, case: dict[str, Any], landing: str, path: str) -> None:
    target = servers.by_name[case["target"]]
    arrived = [r for r in target.api_requests() if r["path"] == landing]
    label = f"{path}, {case['name']}"
    if case["keeps"]:
        assert arrived, f"{label}: followed within the origin"
        headers = dict(arrived[-1]["headers"])
        assert headers.get("authorization") == f"Bearer {client.get_token()}", label
        return
    # The core does not follow a redirect that leaves the origin; the libraries do, without credentials.
    assert len(arrived) == (0 if path == "core call" else 1), f"{label}: requests that reached the target"
    for r in arrived:
        names = {name for name, _ in r["headers"]}
        leaked = names & set(MATRIX["credential_headers"])
        assert not leaked, f"{label}: {sorted(leaked)} reached the other origin"


Sender = Callable[[Servers, TokenClient, str], None]


def send_core(servers: Servers, client: TokenClient, url: str) -> None:
    client.call("GET", url, headers=CALLER_HEADERS)


def send_requests(servers: Servers, client: TokenClient, url: str) -> None:
    with requests.Session() as session:
        session.auth = RequestsAuth(client)
        session.get(url, headers=CALLER_HEADERS, verify=servers.ca_file, timeout=10)


def send_httpx(servers: Servers, client: TokenClient, url: str) -> None:
    verify = ssl.create_default_context(cafile=servers.ca_file)
    auth = HttpxAuth(client)
    with httpx.Client(auth=auth, event_hooks=auth.event_hooks, follow_redirects=True, verify=verify) as http:
        http.get(url, headers=CALLER_HEADERS)


def send_httpx_async(servers: Servers, client: TokenClient, url: str) -> None:
    async def main() -> None:
        verify = ssl.create_default_context(cafile=servers.ca_file)
        auth = HttpxAuth(client)
        hooks = auth.async_event_hooks
        async with httpx.AsyncClient(
            auth=auth, event_hooks=hooks, follow_redirects=True, verify=verify
        ) as http:
            await http.get(url, headers=CALLER_HEADERS)

    asyncio.run(main())


def send_aiohttp(servers: Servers, client: TokenClient, url: str) -> None:
    parts = urllib.parse.urlsplit(url)
    auth = BearerAuthMiddleware(client, origins=[f"{parts.scheme}://{parts.netloc}"])

    async def main() -> None:
        ctx = ssl.create_default_context(cafile=servers.ca_file)
        async with (
            aiohttp.ClientSession(middlewares=(auth,)) as session,
            session.get(url, headers=CALLER_HEADERS, ssl=ctx) as response,
        ):
            await response.read()

    asyncio.run(main())


PATHS: dict[str, Sender] = {
    "core call": send_core,
    "requests": send_requests,
    "httpx": send_httpx,
    "httpx async": send_httpx_async,
    "aiohttp": send_aiohttp,
}


@pytest.mark.parametrize("path", list(PATHS))
@pytest.mark.parametrize(("i", "case"), cases(), ids=[c["name"] for _, c in cases()])
def test_credentials_stay_with_their_origin(
    servers: Servers, path: str, i: int, case: dict[str, Any]
) -> None:
    client = client_of(servers)
    landing = f"/api/landing-{i}-{path.replace(' ', '-')}"
    PATHS[path](servers, client, redirect_url(servers, case, landing))
    check(servers, client, case, landing, path)


def test_the_matrix_covers_what_the_issue_names() -> None:
    names = {c["name"] for c in MATRIX["cases"]}
    assert {
        "other port",
        "other host",
        "subdomain",
        "https to http",
        "http to https",
        "case of the host",
    } <= names
