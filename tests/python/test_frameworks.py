"""FastAPI, Starlette, the ASGI middleware and Flask, each the real framework, in front of the mock server's
tokens: accepted tokens reach the handler with their claims; no token, a tampered one, a missing scope and
an unreachable issuer get 401/401/403/503 with the RFC 6750 WWW-Authenticate; the token is never echoed."""

# No `from __future__ import annotations`: FastAPI resolves the handlers' annotations at run time, and the
# Annotated[..., Depends(...)] ones name requirements local to the app factories.

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any, Callable, Optional
from urllib.parse import quote

import pytest
from fastapi import APIRouter, Depends, FastAPI
from fastapi import Request as FastAPIRequest
from flask import Flask, g
from m2m_auth import Claims, Policy, TokenClient, Verifier
from m2m_auth.asgi import VerifierMiddleware
from m2m_auth.flask import require
from m2m_auth.starlette import Requirement, VerificationHTTPException
from m2m_auth.testing import MockAuthServer, self_signed_certificate
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route, WebSocketRoute
from starlette.testclient import TestClient
from starlette.websockets import WebSocket

REALM = "payments"
CERT_HEADER = "X-Client-Cert"
FRAMEWORKS = ["fastapi", "starlette", "asgi", "flask"]
# The frameworks whose routes take require()'s arguments (the middleware takes one Policy).
ROUTE_FRAMEWORKS = ["fastapi", "starlette", "flask"]

# name -> (require() arguments, status the demo client's full token gets)
POLICY_ROUTES: dict[str, tuple[dict[str, Any], int]] = {
    "client-listed": ({"client_ids": ["demo-client", "other"]}, 200),
    "client-not-listed": ({"client_ids": ["partner"]}, 403),
    "claim-equal": ({"claims": {"sub": "demo-client"}}, 200),
    "claim-different": ({"claims": {"sub": "someone-else"}}, 403),
    "any-scope": ({"any_scopes": ["payments.admin", "payments.write"]}, 200),
    "scope-or-client": (
        {"policy": Policy.any_scope(["payments.admin"]) | Policy.client_ids(["demo-client"])},
        200,
    ),
    "scope-and-client": (
        {"policy": Policy.any_scope(["payments.admin"]) & Policy.client_ids(["demo-client"])},
        403,
    ),
    "claim-one-of": ({"policy": Policy.claim_one_of("client_id", ["x", "demo-client"])}, 200),
}


@dataclass
class Answer:
    status: int
    headers: dict[str, str]  # lower-case names
    text: str

    def json(self) -> Any:
        return json.loads(self.text)


Get = Callable[..., Answer]


def describe(claims: Claims, state_claims: Claims) -> dict[str, Any]:
    """What a handler answers: the claims it got, and whether request.state / g holds the same ones."""
    return {
        "client_id": claims.client_id,
        "scopes": claims.scopes,
        "sub": claims["sub"],
        "state_client_id": state_claims.client_id,
    }


# ---------------------------------------------------------------------------------------------------------
# The apps: the same routes in each framework.


def fastapi_app(verifier: Verifier) -> FastAPI:
    app = FastAPI()
    read = verifier.require(scopes=["payments.read"])
    cert = verifier.require(scopes=["payments.read"], client_cert_header=CERT_HEADER)

    @app.get("/read")
    async def read_route(request: FastAPIRequest, claims: Annotated[Claims, Depends(read)]) -> dict[str, Any]:
        return describe(claims, request.state.claims)

    # The default-argument spelling of the docs, too.
    @app.get("/cert")
    def cert_route(request: FastAPIRequest, claims: Claims = Depends(cert)) -> dict[str, Any]:  # noqa: B008
        return describe(claims, request.state.claims)

    for name, (args, _) in POLICY_ROUTES.items():
        dependency = verifier.require(**args)

        async def policy_route(
            request: FastAPIRequest, claims: Annotated[Claims, Depends(dependency)]
        ) -> dict[str, Any]:
            return describe(claims, request.state.claims)

        app.add_api_route(f"/policy/{name}", policy_route, methods=["GET"])
    return app


def starlette_app(verifier: Verifier) -> Starlette:
    def endpoint(requirement: Requirement) -> Callable[[Request], Any]:
        async def handle(request: Request) -> JSONResponse:
            claims = await requirement(request)
            return JSONResponse(describe(claims, request.state.claims))

        return handle

    routes = [
        Route("/read", endpoint(verifier.require(scopes=["payments.read"]))),
        Route("/cert", endpoint(verifier.require(scopes=["payments.read"], client_cert_header=CERT_HEADER))),
    ]
    routes += [
        Route(f"/policy/{name}", endpoint(verifier.require(**args)))
        for name, (args, _) in POLICY_ROUTES.items()
    ]
    return Starlette(routes=routes)


def inner_asgi_app() -> Starlette:
    """An app with no checks of its own, for the middleware to guard."""

    async def claims_route(request: Request) -> JSONResponse:
        claims: Claims = request.state.claims
        return JSONResponse(describe(claims, claims))

    async def open_route(request: Request) -> PlainTextResponse:
        return PlainTextResponse("ok" if "claims" not in request.scope.get("state", {}) else "claims?!")

    async def ws_route(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("hello")
        await websocket.close()

    return Starlette(
        routes=[
            Route("/read", claims_route),
            Route("/cert", claims_route),
            Route("/health", open_route),
            Route("/health/live", open_route),
            Route("/healthz", open_route),
            WebSocketRoute("/ws", ws_route),
        ]
    )


def asgi_app(verifier: Verifier) -> VerifierMiddleware:
    return VerifierMiddleware(
        inner_asgi_app(),
        verifier,
        policy=Policy.all_scopes(["payments.read"]),
        exclude_paths=["/health"],
        client_cert_header=CERT_HEADER,
    )


def flask_app(verifier: Verifier) -> Flask:
    app = Flask(__name__)

    @app.get("/read")
    @require(verifier, scopes=["payments.read"])
    def read_route() -> dict[str, Any]:
        return describe(g.claims, g.claims)

    @app.get("/cert")
    @require(verifier, scopes=["payments.read"], client_cert_header=CERT_HEADER)
    def cert_route() -> dict[str, Any]:
        return describe(g.claims, g.claims)

    for name, (args, _) in POLICY_ROUTES.items():

        @require(verifier, **args)
        def policy_route() -> dict[str, Any]:
            return describe(g.claims, g.claims)

        app.add_url_rule(f"/policy/{name}", f"policy_{name}", policy_route)
    return app


def client_of(framework: str, verifier: Verifier) -> Get:
    """`get(path, token=None, headers=None) -> Answer` against the framework's app."""
    if framework == "flask":
        flask_client = flask_app(verifier).test_client()

        def get_flask(
            path: str, token: Optional[str] = None, headers: Optional[dict[str, str]] = None
        ) -> Answer:
            r = flask_client.get(path, headers=with_token(token, headers))
            return Answer(
                r.status_code, {k.lower(): v for k, v in r.headers.items()}, r.get_data(as_text=True)
            )

        return get_flask
    builders: dict[str, Callable[[Verifier], Any]] = {
        "fastapi": fastapi_app,
        "starlette": starlette_app,
        "asgi": asgi_app,
    }
    client = TestClient(builders[framework](verifier))

    def get_asgi(path: str, token: Optional[str] = None, headers: Optional[dict[str, str]] = None) -> Answer:
        r = client.get(path, headers=with_token(token, headers))
        return Answer(r.status_code, {k.lower(): v for k, v in r.headers.items()}, r.text)

    return get_asgi


def with_token(token: Optional[str], headers: Optional[dict[str, str]]) -> dict[str, str]:
    all_headers = dict(headers or {})
    if token is not None:
        all_headers["Authorization"] = f"Bearer {token}"
    return all_headers


def error_text(framework: str, answer: Answer) -> str:
    """The error as each framework puts it in the body: the JSON of the middleware and Flask, FastAPI's
    {"detail": "error: description"}, Starlette's plain text "error: description"."""
    if framework in ("asgi", "flask"):
        body = answer.json()
        assert set(body) == {"error", "error_description"}
        assert answer.headers["content-type"].startswith("application/json")
        return f"{body['error']}: {body['error_description']}" if body["error"] else body["error_description"]
    if framework == "fastapi":
        detail: str = answer.json()["detail"]
        return detail
    return answer.text


def assert_not_echoed(answer: Answer, token: str) -> None:
    assert token not in answer.text
    for value in answer.headers.values():
        assert token not in value


def tampered(token: str) -> str:
    """The token with one character of its signature changed."""
    head, signature = token.rsplit(".", 1)
    i = len(signature) // 2
    return f"{head}.{signature[:i]}{'A' if signature[i] != 'A' else 'B'}{signature[i + 1 :]}"


# ---------------------------------------------------------------------------------------------------------
# Fixtures


@pytest.fixture(scope="module")
def mock() -> Iterator[MockAuthServer]:
    with MockAuthServer() as m:
        yield m


@pytest.fixture(scope="module")
def token_client(mock: MockAuthServer) -> TokenClient:
    return TokenClient(token_url=mock.token_url, client_id="demo-client", client_secret="demo-secret")


@pytest.fixture(scope="module")
def token(token_client: TokenClient) -> str:
    """payments.read payments.write"""
    return token_client.get_token()


@pytest.fixture(scope="module")
def write_only_token(token_client: TokenClient) -> str:
    return token_client.get_token(scopes=["payments.write"])


@pytest.fixture(scope="module")
def verifier(mock: MockAuthServer) -> Verifier:
    return Verifier(issuer=mock.issuer, audience=mock.issuer, realm=REALM)


@pytest.fixture(scope="module")
def down_verifier() -> Verifier:
    """An issuer nobody listens on: the keys cannot be fetched."""
    return Verifier(issuer="http://127.0.0.1:1", audience="payments-api", realm=REALM, timeout=0.5)


@pytest.fixture(params=FRAMEWORKS)
def framework(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture()
def get(framework: str, verifier: Verifier) -> Get:
    return client_of(framework, verifier)


# ---------------------------------------------------------------------------------------------------------
# Every framework


def test_accepted_token_reaches_the_handler_with_its_claims(get: Get, token: str) -> None:
    answer = get("/read", token)
    assert answer.status == 200, answer.text
    assert answer.json() == {
        "client_id": "demo-client",
        "scopes": ["payments.read", "payments.write"],
        "sub": "demo-client",
        "state_client_id": "demo-client",
    }
    assert "www-authenticate" not in answer.headers


@pytest.mark.parametrize("authorization", [None, "Basic ZGVtbzpzZWNyZXQ=", ""])
def test_no_token_is_401_with_the_realm_alone(framework: str, get: Get, authorization: Optional[str]) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    answer = get("/read", headers=headers)
    assert answer.status == 401
    assert answer.headers["www-authenticate"] == f'Bearer realm="{REALM}"'
    assert "invalid_token" not in error_text(framework, answer)
    if framework in ("asgi", "flask"):
        assert answer.json()["error"] is None


def test_tampered_token_is_401_invalid_token(framework: str, get: Get, token: str) -> None:
    bad = tampered(token)
    answer = get("/read", bad)
    assert answer.status == 401
    challenge = answer.headers["www-authenticate"]
    assert challenge.startswith(f'Bearer realm="{REALM}", error="invalid_token", error_description="')
    assert error_text(framework, answer).startswith("invalid_token: ")
    assert_not_echoed(answer, bad)


def test_malformed_authorization_header_is_401_invalid_token(framework: str, get: Get) -> None:
    answer = get("/read", headers={"Authorization": "Bearer two words"})
    assert answer.status == 401
    assert 'error="invalid_token"' in answer.headers["www-authenticate"]
    assert "two words" not in answer.text


def test_missing_scope_is_403_insufficient_scope(framework: str, get: Get, write_only_token: str) -> None:
    answer = get("/read", write_only_token)
    assert answer.status == 403
    challenge = answer.headers["www-authenticate"]
    assert challenge.startswith(f'Bearer realm="{REALM}", error="insufficient_scope"')
    assert challenge.endswith('scope="payments.read"')
    assert error_text(framework, answer).startswith("insufficient_scope: ")
    assert_not_echoed(answer, write_only_token)


def test_unreachable_issuer_is_503(framework: str, down_verifier: Verifier, token: str) -> None:
    answer = client_of(framework, down_verifier)("/read", token)
    assert answer.status == 503
    assert answer.headers["www-authenticate"] == f'Bearer realm="{REALM}"'
    assert "invalid_token" not in answer.headers["www-authenticate"]
    assert error_text(framework, answer)
    # The caller learns what failed, not where or why: no URL, no network error.
    assert "127.0.0.1" not in answer.text and "refused" not in answer.text.lower(), answer.text
    assert_not_echoed(answer, token)


@pytest.mark.parametrize(
    "cert_header",
    [
        None,
        "garbage",
        "%%%not-url-encoding",
        "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----",
        "",
    ],
)
def test_token_without_cnf_passes_whatever_the_client_cert_header(
    get: Get, token: str, cert_header: Optional[str]
) -> None:
    # A garbage certificate counts as none; a token that is not certificate-bound needs none.
    headers = (
        {}
        if cert_header is None
        else {CERT_HEADER: quote(cert_header) if "\n" in cert_header else cert_header}
    )
    answer = get("/cert", token, headers)
    assert answer.status == 200, answer.text
    assert answer.json()["client_id"] == "demo-client"


def test_token_without_cnf_passes_with_a_real_certificate(get: Get, token: str) -> None:
    pem = self_signed_certificate("CN=svc")["cert_pem"]
    answer = get("/cert", token, {CERT_HEADER: quote(pem)})  # as nginx's $ssl_client_escaped_cert
    assert answer.status == 200, answer.text


# ---------------------------------------------------------------------------------------------------------
# Route policies (require()'s arguments)


@pytest.mark.parametrize("route", list(POLICY_ROUTES))
@pytest.mark.parametrize("route_framework", ROUTE_FRAMEWORKS)
def test_route_policies(route_framework: str, verifier: Verifier, token: str, route: str) -> None:
    expected = POLICY_ROUTES[route][1]
    answer = client_of(route_framework, verifier)(f"/policy/{route}", token)
    assert answer.status == expected, answer.text
    if expected == 200:
        assert answer.json()["client_id"] == "demo-client"
    else:
        assert 'error="insufficient_scope"' in answer.headers["www-authenticate"]
        assert_not_echoed(answer, token)


# ---------------------------------------------------------------------------------------------------------
# FastAPI specifics


def test_fastapi_injects_the_request_rather_than_asking_for_a_parameter(verifier: Verifier) -> None:
    schema = fastapi_app(verifier).openapi()
    for path in ("/read", "/cert", "/policy/claim-equal"):
        assert "parameters" not in schema["paths"][path]["get"], schema["paths"][path]


def test_fastapi_router_dependency_puts_claims_on_request_state(verifier: Verifier, token: str) -> None:
    router = APIRouter(dependencies=[Depends(verifier.require(scopes=["payments.read"]))])

    @router.get("/state")
    async def state(request: FastAPIRequest) -> dict[str, Any]:
        claims: Claims = request.state.claims
        return {"client_id": claims.client_id, "scopes": claims.scopes}

    app = FastAPI()
    app.include_router(router)
    client = TestClient(app)
    r = client.get("/state", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200
    assert r.json() == {"client_id": "demo-client", "scopes": ["payments.read", "payments.write"]}
    assert client.get("/state").status_code == 401


def test_fastapi_exception_handler_can_answer_rfc6750_json(verifier: Verifier, write_only_token: str) -> None:
    app = fastapi_app(verifier)

    async def handler(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, VerificationHTTPException)
        body = {"error": exc.error, "error_description": exc.error_description}
        return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)

    app.add_exception_handler(VerificationHTTPException, handler)
    r = TestClient(app).get("/read", headers={"Authorization": f"Bearer {write_only_token}"})
    assert r.status_code == 403
    assert r.json() == {
        "error": "insufficient_scope",
        "error_description": "the token lacks the scope payments.read",
    }
    assert r.headers["www-authenticate"].endswith('scope="payments.read"')


def test_requirement_raises_for_plain_starlette_callers(verifier: Verifier) -> None:
    async def call() -> BaseException:
        request = Request({"type": "http", "method": "GET", "path": "/", "headers": []})
        try:
            await verifier.require(scopes=["payments.read"])(request)
        except VerificationHTTPException as e:
            return e
        raise AssertionError("no exception")

    e = asyncio.run(call())
    assert isinstance(e, VerificationHTTPException)
    assert e.status_code == 401
    assert e.error is None
    assert e.headers == {"WWW-Authenticate": f'Bearer realm="{REALM}"'}


# ---------------------------------------------------------------------------------------------------------
# The ASGI middleware


@pytest.mark.parametrize(
    ("path", "status"),
    [("/health", 200), ("/health/live", 200), ("/healthz", 401), ("/read", 401), ("/", 401)],
)
def test_middleware_exclude_paths(verifier: Verifier, path: str, status: int) -> None:
    answer = client_of("asgi", verifier)(path)
    assert answer.status == status
    if status == 200:
        assert answer.text == "ok"
    else:
        assert answer.headers["www-authenticate"] == f'Bearer realm="{REALM}"'


def test_middleware_with_add_middleware_puts_claims_on_request_state(verifier: Verifier, token: str) -> None:
    app = FastAPI()

    @app.get("/me")
    async def me(request: FastAPIRequest) -> dict[str, Any]:
        return {"client_id": request.state.claims.client_id}

    app.add_middleware(VerifierMiddleware, verifier=verifier, exclude_paths=["/docs", "/openapi.json"])
    client = TestClient(app)
    assert client.get("/me", headers={"Authorization": f"Bearer {token}"}).json() == {
        "client_id": "demo-client"
    }
    assert client.get("/me").status_code == 401
    assert client.get("/openapi.json").status_code == 200


def test_middleware_passes_websockets_through(verifier: Verifier) -> None:
    with TestClient(asgi_app(verifier)).websocket_connect("/ws") as ws:
        assert ws.receive_text() == "hello"


def test_middleware_passes_lifespan_through(verifier: Verifier) -> None:
    seen: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["type"])

    asyncio.run(VerifierMiddleware(app, verifier)({"type": "lifespan"}, _no_receive, _no_send))
    assert seen == ["lifespan"]


async def _no_receive() -> Any:
    raise AssertionError("not expected")


async def _no_send(message: Any) -> None:
    raise AssertionError("not expected")


def raw_asgi_call(
    verifier: Verifier, scope: dict[str, Any], **options: Any
) -> tuple[int, Optional[dict[str, Any]]]:
    """Calls the middleware with a hand-made scope: (status, the state the app saw, or None)."""
    seen: list[dict[str, Any]] = []
    sent: list[dict[str, Any]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(dict(scope["state"]))
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def send(message: Any) -> None:
        sent.append(message)

    base = {"type": "http", "method": "GET", "path": "/x", "headers": []}
    asyncio.run(VerifierMiddleware(app, verifier, **options)({**base, **scope}, _no_receive, send))
    return sent[0]["status"], (seen[0] if seen else None)


def test_middleware_reads_the_tls_extension_and_survives_a_garbage_certificate(
    verifier: Verifier, token: str
) -> None:
    auth = [(b"authorization", f"Bearer {token}".encode())]
    for chain in ([], ["garbage"], [self_signed_certificate("CN=svc")["cert_pem"]]):
        scope = {"headers": auth, "extensions": {"tls": {"client_cert_chain": chain}}}
        status, state = raw_asgi_call(verifier, scope)
        assert status == 200
        assert state is not None and state["claims"].client_id == "demo-client"


def test_middleware_ignores_a_doubled_certificate_header(verifier: Verifier, token: str) -> None:
    headers = [
        (b"authorization", f"Bearer {token}".encode()),
        (b"x-client-cert", b"a"),
        (b"x-client-cert", b"b"),
    ]
    status, state = raw_asgi_call(verifier, {"headers": headers}, client_cert_header=CERT_HEADER)
    assert status == 200
    assert state is not None


def test_middleware_keeps_the_state_it_was_given(verifier: Verifier, token: str) -> None:
    headers = [(b"authorization", f"Bearer {token}".encode())]
    status, state = raw_asgi_call(verifier, {"headers": headers, "state": {"db": "pool"}})
    assert status == 200
    assert state is not None and state["db"] == "pool" and "claims" in state


def test_doubled_authorization_headers_are_refused(verifier: Verifier, token: str) -> None:
    headers = [(b"authorization", f"Bearer {token}".encode()), (b"authorization", b"Bearer other")]
    status, state = raw_asgi_call(verifier, {"headers": headers})
    assert status == 401
    assert state is None


# ---------------------------------------------------------------------------------------------------------
# Flask specifics


def test_flask_reads_ssl_client_cert_from_the_wsgi_environ(verifier: Verifier, token: str) -> None:
    client = flask_app(verifier).test_client()
    for cert in ("garbage", self_signed_certificate("CN=svc")["cert_pem"]):
        r = client.get(
            "/read", headers={"Authorization": f"Bearer {token}"}, environ_overrides={"SSL_CLIENT_CERT": cert}
        )
        assert r.status_code == 200
        assert r.get_json()["client_id"] == "demo-client"


def test_flask_keeps_the_view_name(verifier: Verifier) -> None:
    app = flask_app(verifier)
    assert app.view_functions["read_route"].__name__ == "read_route"
