"""Where the token and the secret must not go, from Python: plain http to another host (every integration),
a proxy for a loopback token endpoint, and encoded copies of the secret in errors, logs and stats."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import socket
import threading
import urllib.parse
from collections.abc import Callable, Iterator

import aiohttp
import httpx
import pytest
import requests
from m2m_auth import ConfigError, M2MAuthError, TokenClient
from m2m_auth.aiohttp import BearerAuthMiddleware
from m2m_auth.httpx import BearerAuth as HttpxAuth
from m2m_auth.requests import BearerAuth as RequestsAuth
from m2m_auth.testing import MockAuthServer

REMOTE = "http://api.example/payments"


def test_every_integration_refuses_plain_http_to_another_host_before_connecting(
    server: MockAuthServer, make_client: Callable[..., TokenClient]
) -> None:
    client = make_client()
    attempts = {
        "call": lambda: client.call("GET", REMOTE),
        "requests": lambda: requests.get(REMOTE, auth=RequestsAuth(client), timeout=5),
        "httpx": lambda: httpx.get(REMOTE, auth=HttpxAuth(client)),
    }
    for name, attempt in attempts.items():
        with pytest.raises(ConfigError) as info:
            attempt()
        assert info.value.field == "url", name
        assert "clear text" in str(info.value), name

    async def aiohttp_get() -> None:
        auth = BearerAuthMiddleware(client, origins=["http://api.example"])
        async with aiohttp.ClientSession(middlewares=(auth,)) as session:
            await session.get(REMOTE)

    with pytest.raises(ConfigError):
        asyncio.run(aiohttp_get())
    assert server.token_requests() == 0, "no token was even fetched"


def test_allow_insecure_http_lets_the_token_go_to_another_host(
    make_client: Callable[..., TokenClient],
) -> None:
    client = make_client(allow_insecure_http=True)
    assert client.check_api_url(REMOTE) == REMOTE
    with pytest.raises(ConfigError):
        make_client().check_api_url(REMOTE)


class RecordingProxy:
    """A proxy on loopback that records each request line and answers 502."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.seen: list[str] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                head = conn.recv(65536).decode("latin-1")
                self.seen.append(head.split("\r\n", 1)[0])
                conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")

    def close(self) -> None:
        self.sock.close()


@pytest.fixture()
def proxy(monkeypatch: pytest.MonkeyPatch) -> Iterator[RecordingProxy]:
    p = RecordingProxy()
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.setenv(name, p.url)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    yield p
    p.close()


def test_a_loopback_token_endpoint_never_goes_through_the_proxy(
    proxy: RecordingProxy, server: MockAuthServer
) -> None:
    for url in (server.token_url, server.token_url.replace("127.0.0.1", "localhost")):
        client = TokenClient(token_url=url, client_id="demo-client", client_secret="demo-secret")
        assert client.get_token()
    assert server.token_requests() == 2
    assert proxy.seen == [], "the secret went to the proxy"
    # Another host goes through it, as the environment says.
    remote = TokenClient(
        token_url="http://idp.example/oauth2/token",
        client_id="demo-client",
        client_secret="demo-secret",
        allow_insecure_http=True,
        max_attempts=1,
    )
    with pytest.raises(M2MAuthError) as info:
        remote.get_token()
    assert info.value.status == 502
    assert proxy.seen == ["POST http://idp.example/oauth2/token HTTP/1.1"]


SECRETS = ['p%s+w:d "ö" x', "a b+c", "%2B", "é", "x"]


@pytest.mark.parametrize("secret", SECRETS)
@pytest.mark.parametrize("method", ["client_secret_post", "client_secret_basic"])
def test_every_sent_form_of_the_secret_is_scrubbed_from_errors_logs_and_stats(
    server: MockAuthServer, caplog: pytest.LogCaptureFixture, secret: str, method: str
) -> None:
    caplog.set_level(logging.DEBUG, logger="m2m_auth")
    client_id = "svc-echo"
    server.register_client({"client_id": client_id, "client_secret": secret, "auth_methods": [method]})
    form = urllib.parse.quote_plus(secret)
    forms = {
        secret,
        form,
        base64.b64encode(f"{client_id}:{form}".encode()).decode(),
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
    }
    echo = " | ".join(sorted(forms))
    body = json.dumps({"error": "invalid_request", "error_description": f"you sent: {echo}"})
    server.push_faults([{"status": 400, "headers": {"content-type": "application/json"}, "body": body}])
    client = TokenClient(
        token_url=server.token_url, client_id=client_id, client_secret=secret, auth_method=method
    )
    with pytest.raises(M2MAuthError) as info:
        client.get_token()
    texts = [str(info.value), repr(info.value), str(info.value.error_description)]
    texts += [r.getMessage() for r in caplog.records]
    texts.append(str(client.stats()["last_error"]))
    assert "[redacted]" in str(info.value)
    for text in texts:
        for f in forms:
            # A one-letter secret also occurs in ordinary words; what matters is the echoed stretch.
            assert f"you sent: {echo}" not in text
            if len(f) > 2:
                assert f not in text, f"{f!r} in {text!r}"


def test_clocks_that_differ_are_reported_as_a_warning(
    server: MockAuthServer, make_client: Callable[..., TokenClient], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="m2m_auth")
    server.set_token_lifetime(60)
    server.push_faults([{"expires_in": "3600"}])  # exp says 60 s, expires_in an hour: the clocks differ
    token = make_client().fetch_token()
    assert token.expires_in > 3500, "expires_in counts"
    warnings = [r for r in caplog.records if getattr(r, "m2m_event", None) == "clock_skew"]
    assert len(warnings) == 1
    assert warnings[0].levelno == logging.WARNING
    assert "clocks" in warnings[0].getMessage()
