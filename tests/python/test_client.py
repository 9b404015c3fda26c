"""What a user of the Python package depends on beyond the shared vectors — the mirror of
tests/node/client.test.js: the exception classes and their attributes, secrecy of the client secret and the
access token (repr, str, tracebacks, logs), SecureAuth and environment configuration, single flight across
threads and asyncio tasks, the cache, stats, both client authentication methods, the testing server's API,
and a free GIL and event loop while a token request is slow."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import re
import threading
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import m2m_auth
import pytest
from helpers import form_value, header, last_request, raised, wait_for
from m2m_auth import (
    ConfigError,
    InternalError,
    InvalidResponse,
    M2MAuthError,
    OAuthError,
    Token,
    TokenClient,
    TransportError,
)
from m2m_auth import exceptions as m2m_exceptions
from m2m_auth.testing import MockAuthServer

# The client MockAuthServer() registers without a config.
CLIENT_ID = "demo-client"
SECRET = "demo-secret"
WRONG_SECRET = "wrong-secret-Hq4Zt8"
# Nothing listens on the discard port of loopback.
REFUSED_URL = "http://127.0.0.1:9/oauth2/token"

ERROR_CODES = [
    (OAuthError, "ERR_OAUTH"),
    (TransportError, "ERR_TRANSPORT"),
    (InvalidResponse, "ERR_INVALID_RESPONSE"),
    (ConfigError, "ERR_CONFIG"),
    (InternalError, "ERR_INTERNAL"),
]

ClientFactory = Callable[..., TokenClient]

# stats() of a client without a shared cache (cache_url): its counters stay zero.
SHARED_CACHE_STATS = ["shared_hits", "shared_misses", "shared_errors", "shared_rejected", "lock_waits"]
NO_SHARED_CACHE = dict.fromkeys(SHARED_CACHE_STATS, 0)


@pytest.fixture()
def new_client(make_client: ClientFactory) -> ClientFactory:
    """One attempt per fetch unless a test asks for retries: these tests count requests and look at single
    failures; retries have their own tests and vectors."""

    def make(**kwargs: Any) -> TokenClient:
        kwargs.setdefault("max_attempts", 1)
        return make_client(**kwargs)

    return make


def notes(e: BaseException) -> str:
    return " ".join(getattr(e, "__notes__", []))


def renderings(value: object) -> list[str]:
    """Every string form of a value that a log line, an error report or a traceback could show."""
    out = [repr(value), str(value), format(value, "")]
    if isinstance(value, BaseException):
        out.append("".join(traceback.format_exception(type(value), value, value.__traceback__)))
        out.extend(repr(a) for a in value.args)
        out.append(repr(vars(value)))
        out.append(notes(value))
    return out


def assert_not_in(value: object, needle: str, what: str) -> None:
    for text in renderings(value):
        assert needle not in text, f"{what} shows {needle!r}: {text}"


def claims_of(access_token: str) -> dict[str, Any]:
    payload = access_token.split(".")[1]
    result: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return result


# ---------------------------------------------------------------------------------------------------------
# Error classes


def test_the_package_exports_exactly_the_client_the_token_the_verifier_and_the_error_classes() -> None:
    assert sorted(m2m_auth.__all__) == [
        "ApiResponse",
        "Claims",
        "ConfigError",
        "InsufficientScope",
        "InternalError",
        "InvalidResponse",
        "M2MAuthError",
        "OAuthError",
        "Policy",
        "Token",
        "TokenClient",
        "TokenInvalid",
        "TransportError",
        "VerificationError",
        "Verifier",
        "VerifierUnavailable",
        "__version__",
    ]
    for name in m2m_auth.__all__:
        assert hasattr(m2m_auth, name), name
    # m2m_auth.exceptions is the documented home of the same classes, not copies of them.
    for cls, _ in ERROR_CODES:
        assert getattr(m2m_exceptions, cls.__name__) is cls
    assert m2m_exceptions.M2MAuthError is M2MAuthError


def test_every_error_class_is_an_m2mautherror_and_an_exception() -> None:
    assert issubclass(M2MAuthError, Exception)
    for cls, _ in ERROR_CODES:
        assert issubclass(cls, M2MAuthError), cls.__name__
        assert issubclass(cls, Exception), cls.__name__
        assert cls.__name__ in {
            "OAuthError",
            "TransportError",
            "InvalidResponse",
            "ConfigError",
            "InternalError",
        }
        e = cls("something went wrong")
        assert isinstance(e, M2MAuthError)
        assert str(e) == "something went wrong"
        for other, _ in ERROR_CODES:
            if other is not cls:
                assert not isinstance(e, other), f"{cls.__name__} is not a {other.__name__}"
        # Catchable by the base class, as users write it.
        with pytest.raises(M2MAuthError):
            raise e


def test_an_error_constructed_in_python_has_its_code_and_status() -> None:
    # As in Node (`new OAuthError('x').code`): test doubles raising these errors need no extra set-up.
    for cls, code in ERROR_CODES:
        e = cls("something went wrong")
        assert e.code == code, cls.__name__
        assert e.status is None, cls.__name__
        assert e.attempts == 0, cls.__name__
    assert M2MAuthError("x").code == "ERR_M2M_AUTH"


def test_an_oauth_error_from_the_server_is_an_oautherror_with_every_field(
    server: MockAuthServer, new_client: ClientFactory
) -> None:
    client = new_client(client_secret=WRONG_SECRET)
    e = raised(client.get_token)
    assert isinstance(e, OAuthError) and isinstance(e, M2MAuthError) and isinstance(e, Exception)
    assert type(e).__name__ == "OAuthError"
    assert e.code == "ERR_OAUTH"
    assert e.status == 401
    assert e.attempts == 1
    assert e.error == "invalid_client"
    assert e.error_description == "client secret does not match"
    assert e.error_uri is None
    assert "invalid_client" in str(e)
    assert server.token_requests() == 1


def test_connection_refused_is_a_transport_error_that_is_not_a_timeout() -> None:
    client = TokenClient(token_url=REFUSED_URL, client_id=CLIENT_ID, client_secret=SECRET, max_attempts=1)
    e = raised(client.get_token)
    assert isinstance(e, TransportError) and isinstance(e, M2MAuthError)
    assert type(e).__name__ == "TransportError"
    assert e.code == "ERR_TRANSPORT"
    assert e.timeout is False
    assert e.status is None
    assert e.attempts == 1


def test_a_token_endpoint_slower_than_timeout_is_a_transport_error_with_timeout_true(
    server: MockAuthServer, new_client: ClientFactory
) -> None:
    server.push_faults([{"delay_ms": 1500}])
    e = raised(new_client(timeout=0.2).get_token)
    assert isinstance(e, TransportError), repr(e)
    assert e.code == "ERR_TRANSPORT"
    assert e.timeout is True
    assert e.status is None
    assert server.token_requests() == 1


def test_an_html_error_page_is_an_invalid_response_with_the_http_status(
    server: MockAuthServer, new_client: ClientFactory
) -> None:
    server.push_faults(
        [{"status": 404, "headers": {"content-type": "text/html"}, "body": "<h1>Not Found</h1>"}]
    )
    e = raised(new_client().get_token)
    assert isinstance(e, InvalidResponse) and isinstance(e, M2MAuthError)
    assert type(e).__name__ == "InvalidResponse"
    assert e.code == "ERR_INVALID_RESPONSE"
    assert e.status == 404
    assert server.token_requests() == 1


def test_a_5xx_fault_is_retried_and_then_reaches_the_client_with_its_status(
    server: MockAuthServer, new_client: ClientFactory
) -> None:
    server.push_faults([{"status": 503, "count": 50}])
    e = raised(new_client(max_attempts=3, retry_backoff=0.01).get_token)
    assert isinstance(e, M2MAuthError), repr(e)
    assert e.status == 503
    assert e.attempts == 3
    assert server.token_requests() == 3
    assert all(r["outcome"] == "fault" for r in server.requests())


# ---------------------------------------------------------------------------------------------------------
# Configuration errors


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"client_id": CLIENT_ID, "client_secret": SECRET}, "token_url"),
        ({"token_url": "https://idp.example/oauth2/token", "client_secret": SECRET}, "client_id"),
        ({"token_url": "https://idp.example/oauth2/token", "client_id": CLIENT_ID}, "client_secret"),
        (
            {"token_url": "https://idp.example/oauth2/token", "client_id": CLIENT_ID, "client_secret": ""},
            "client_secret",
        ),
        ({"token_url": " ", "client_id": CLIENT_ID, "client_secret": SECRET}, "token_url"),
    ],
)
def test_a_missing_setting_is_a_config_error_naming_it(kwargs: dict[str, Any], field: str) -> None:
    e = raised(lambda: TokenClient(**kwargs))
    assert isinstance(e, ConfigError) and isinstance(e, M2MAuthError), repr(e)
    assert e.code == "ERR_CONFIG"
    assert e.field == field
    assert e.status is None
    assert e.attempts == 0
    assert field in str(e)
    assert_not_in(e, SECRET, "a missing-setting error")


def test_an_unknown_keyword_a_typo_is_a_type_error_naming_it_without_its_value(
    server: MockAuthServer,
) -> None:
    e = raised(lambda: TokenClient(token_url=server.token_url, client_id=CLIENT_ID, client_secert=SECRET))
    assert isinstance(e, TypeError), repr(e)
    assert "client_secert" in str(e)
    assert_not_in(e, SECRET, "the unknown-keyword error")
    # Settings are keyword-only: a positional secret cannot end up in the wrong place.
    positional = raised(lambda: TokenClient(server.token_url, CLIENT_ID, SECRET))  # type: ignore[misc]
    assert isinstance(positional, TypeError)
    assert_not_in(positional, SECRET, "the positional-arguments error")
    assert server.token_requests() == 0


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"token_url": 42}, "token_url"),
        ({"timeout": "100"}, "timeout"),
        ({"scopes": "payments.read"}, "scopes"),
        ({"scopes": [1]}, "scopes"),
        ({"resources": "https://a.example"}, "resources"),
        ({"allow_insecure_http": "yes"}, "allow_insecure_http"),
        ({"extra_params": {"tenant_hint": 1}}, "extra_params"),
        ({"extra_params": "tenant_hint=acme"}, "extra_params"),
        ({"max_attempts": "3"}, "max_attempts"),
        ({"client_secret": b"demo-secret"}, "client_secret"),
    ],
)
def test_a_setting_of_the_wrong_type_is_refused_naming_it(
    server: MockAuthServer, new_client: ClientFactory, kwargs: dict[str, Any], field: str
) -> None:
    # Python's convention for a wrong argument type is TypeError (raised by the binding's argument conversion,
    # with the argument named in a note); a ConfigError naming the field would do as well.
    e = raised(lambda: new_client(**kwargs))
    assert isinstance(e, (TypeError, ConfigError)), repr(e)
    if isinstance(e, ConfigError):
        assert e.field == field
    else:
        assert field in str(e) + notes(e), f"{e!r} {notes(e)}"
    assert_not_in(e, SECRET, "a wrong-type error")
    assert server.token_requests() == 0


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"timeout": -1}, "timeout"),
        ({"timeout": 0}, "timeout"),
        ({"timeout": float("inf")}, "timeout"),
        ({"expiry_skew": -5}, "expiry_skew"),
        ({"default_lifetime": float("nan")}, "default_lifetime"),
        ({"max_response_bytes": 1.5}, "max_response_bytes"),
        ({"max_response_bytes": 0}, "max_response_bytes"),
        ({"max_attempts": 0}, "max_attempts"),
        ({"max_attempts": 1.5}, "max_attempts"),
        ({"retry_backoff": -0.1}, "retry_backoff"),
        ({"retry_deadline": 0}, "retry_deadline"),
        ({"refresh_ratio": 0}, "refresh_ratio"),
        ({"refresh_ratio": 1.5}, "refresh_ratio"),
        ({"auth_method": "client_secret_magic"}, "auth_method"),
        ({"scopes": ['bad"scope']}, "scopes"),
        ({"extra_params": [("grant_type", "password")]}, "extra_params"),
    ],
)
def test_an_out_of_range_or_invalid_value_is_a_config_error_naming_the_keyword(
    server: MockAuthServer, new_client: ClientFactory, kwargs: dict[str, Any], field: str
) -> None:
    e = raised(lambda: new_client(**kwargs))
    assert isinstance(e, ConfigError), repr(e)
    assert e.code == "ERR_CONFIG"
    assert e.field == field, str(e)
    assert_not_in(e, SECRET, "a config error")
    assert server.token_requests() == 0


def test_per_call_parameters_of_the_wrong_type_are_refused_before_any_request(
    server: MockAuthServer, new_client: ClientFactory
) -> None:
    client = new_client()
    for kwargs in [{"scopes": "payments.read"}, {"scopes": [1]}, {"audience": 1}, {"resources": "x"}]:
        e = raised(lambda kw=kwargs: client.get_token(**kw))  # type: ignore[misc]
        assert isinstance(e, (TypeError, ConfigError)), repr(e)
        f = raised(lambda kw=kwargs: client.fetch_token(**kw))  # type: ignore[misc]
        assert isinstance(f, (TypeError, ConfigError)), repr(f)
    bad_scope = raised(lambda: client.get_token(scopes=['bad"scope']))
    assert isinstance(bad_scope, ConfigError) and bad_scope.field == "scopes", repr(bad_scope)
    assert server.token_requests() == 0


# ---------------------------------------------------------------------------------------------------------
# Secrecy


def test_the_secret_is_in_no_string_form_of_a_client(
    server: MockAuthServer, new_client: ClientFactory
) -> None:
    for auth_method in ["client_secret_post", "client_secret_basic"]:
        client = new_client(auth_method=auth_method, scopes=["payments.read"])
        assert_not_in(client, SECRET, f"a {auth_method} client")
        assert repr(client) == str(client)
        assert repr(client) == (
            f"TokenClient(token_url='{server.token_url}', client_id='{CLIENT_ID}', "
            f"auth_method='{auth_method}', scopes=['payments.read'])"
        )
        assert client.token_url == server.token_url
        assert client.client_id == CLIENT_ID
        assert client.auth_method == auth_method
        assert client.scopes == ["payments.read"]
        assert not hasattr(client, "client_secret")
        assert not hasattr(client, "__dict__")
        for name in dir(client):
            if not name.startswith("__"):
                value = getattr(client, name)
                if not callable(value):
                    assert SECRET not in repr(value), name


def test_the_secret_and_the_access_token_are_in_no_string_form_of_a_token(
    server: MockAuthServer, new_client: ClientFactory
) -> None:
    client = new_client()
    token = client.fetch_token()
    assert isinstance(token, Token)
    at = token.access_token
    assert isinstance(at, str)
    assert len(at.split(".")) == 3
    assert server.verify_access_token(at)["sub"] == CLIENT_ID
    assert_not_in(token, SECRET, "a Token")
    assert_not_in(token, at, "a Token")
    assert re.fullmatch(
        r'Token\(token_type="Bearer", scope="payments.read payments.write", expires_in=\d+s, '
        r"access_token=\[redacted; \d+ chars\]\)",
        repr(token),
    ), repr(token)
    assert token.token_type == "Bearer"
    assert token.scope == "payments.read payments.write"
    assert 3590 < token.expires_in <= 3600
    assert abs(token.expires_at - (time.time() + token.expires_in)) < 5
    with pytest.raises(AttributeError):
        token.access_token = "x"  # type: ignore[misc]
    # The same token is what get_token hands out from the cache.
    assert client.get_token() == at
    assert server.token_requests() == 1


def test_the_secret_is_in_no_message_repr_or_traceback_of_any_error(
    server: MockAuthServer, new_client: ClientFactory
) -> None:
    errors: list[BaseException] = []
    # The server echoes the secret in its error description and URI.
    server.push_faults(
        [
            {
                "status": 401,
                "headers": {"content-type": "application/json"},
                "body": json.dumps(
                    {
                        "error": "invalid_client",
                        "error_description": f"bad secret {SECRET}",
                        "error_uri": f"https://x.example/{SECRET}",
                    }
                ),
            }
        ]
    )
    echoed = raised(new_client().get_token)
    assert isinstance(echoed, OAuthError), repr(echoed)
    assert echoed.error_description is not None and SECRET not in echoed.error_description
    assert echoed.error_uri is not None and SECRET not in echoed.error_uri
    errors.append(echoed)
    # An HTML page that shows the secret.
    server.push_faults(
        [{"status": 400, "headers": {"content-type": "text/html"}, "body": f"<pre>{SECRET}</pre>"}]
    )
    errors.append(raised(new_client().get_token))
    # A token response that is malformed around the secret.
    server.push_faults([{"extra": {"token_type": SECRET}}])
    errors.append(raised(new_client().get_token))
    # The server refuses the secret.
    wrong_client = new_client(client_secret=WRONG_SECRET)
    refused = raised(wrong_client.get_token)
    assert_not_in(refused, WRONG_SECRET, "an invalid_client error")
    assert WRONG_SECRET not in str(wrong_client.stats()["last_error"])
    errors.append(refused)
    # The same through asyncio.
    async_client = new_client(client_secret=WRONG_SECRET)

    async def get_async() -> str:
        return await async_client.get_token_async()

    errors.append(raised(lambda: asyncio.run(get_async())))
    # Nothing listening; a timeout; a basic client.
    errors.append(
        raised(
            TokenClient(
                token_url=REFUSED_URL, client_id=CLIENT_ID, client_secret=SECRET, max_attempts=1
            ).get_token
        )
    )
    server.push_faults([{"delay_ms": 1000}])
    errors.append(raised(new_client(timeout=0.1).get_token))
    server.push_faults([{"status": 401, "body": SECRET}])
    errors.append(raised(new_client(auth_method="client_secret_basic").get_token))
    # Configuration errors.
    errors.append(
        raised(
            lambda: TokenClient(
                token_url="http://idp.example.com/t", client_id=CLIENT_ID, client_secret=SECRET
            )
        )
    )
    errors.append(raised(lambda: new_client(auth_method="client_secret_magic")))
    errors.append(raised(lambda: new_client(scopes=['bad"scope'])))
    errors.append(raised(lambda: new_client(timeout=-1)))

    assert len(errors) == 12
    for e in errors:
        assert isinstance(e, M2MAuthError), repr(e)
        assert_not_in(e, SECRET, f"{type(e).__name__} ({e})")
    client = new_client()
    server.push_faults([{"status": 403, "headers": {"content-type": "text/plain"}, "body": SECRET}])
    raised(client.get_token)
    last_error = client.stats()["last_error"]
    assert isinstance(last_error, str)
    assert SECRET not in last_error, last_error


def test_neither_the_secret_nor_the_access_token_reach_a_log_record(
    server: MockAuthServer, new_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="m2m_auth")
    client = new_client(max_attempts=2, retry_backoff=0.01)
    token = client.get_token()  # a fetch
    client.invalidate()
    server.push_faults([{"status": 503, "body": SECRET}])
    second = client.get_token()  # a retry, then a token
    raised(new_client(client_secret=WRONG_SECRET).get_token)  # a failure
    server.push_faults([{"status": 400, "headers": {"content-type": "text/html"}, "body": SECRET}])
    raised(new_client().get_token)  # a failure that echoes the secret

    records = [r for r in caplog.records if r.name.startswith("m2m_auth")]
    assert records, "m2m_auth logged nothing"
    for record in records:
        for text in (record.getMessage(), repr(vars(record))):
            for needle in (SECRET, WRONG_SECRET, token, second):
                assert needle not in text, f"log record shows {needle[:12]}…: {text}"
    assert server.token_requests() == 5


def test_credentials_in_the_token_url_are_refused_without_being_echoed() -> None:
    for url in ["https://svc:url-password-77@idp.example/t", "https://:url-password-77@idp.example/t"]:
        e = raised(lambda u=url: TokenClient(token_url=u, client_id=CLIENT_ID, client_secret=SECRET))  # type: ignore[misc]
        assert isinstance(e, ConfigError), repr(e)
        assert e.field == "token_url"
        assert_not_in(e, "url-password-77", "the token URL error")
        assert_not_in(e, SECRET, "the token URL error")


# ---------------------------------------------------------------------------------------------------------
# Configuration: SecureAuth, environment, plain http


def test_secureauth_builds_the_workspace_token_url_without_a_request(server: MockAuthServer) -> None:
    secret = "s3cret-value-x"
    client = TokenClient.secureauth(
        tenant="acme", region="us", workspace="payments", client_id="svc", client_secret=secret
    )
    assert isinstance(client, TokenClient)
    assert client.token_url == "https://acme.us.connect.secureauth.com/acme/payments/oauth2/token"
    assert client.client_id == "svc"
    assert client.auth_method == "client_secret_post"
    assert client.scopes == []
    assert_not_in(client, secret, "a SecureAuth client")
    with_scopes = TokenClient.secureauth(
        tenant="acme",
        region="eu",
        workspace="ops",
        client_id="svc",
        client_secret=secret,
        scopes=["b", "a"],
        auth_method="client_secret_basic",
    )
    assert with_scopes.token_url == "https://acme.eu.connect.secureauth.com/acme/ops/oauth2/token"
    assert with_scopes.scopes == ["a", "b"]
    assert with_scopes.auth_method == "client_secret_basic"
    assert server.token_requests() == 0


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"region": "us/evil"}, "region"),
        ({"region": "us.evil.example"}, "region"),
        ({"region": ""}, "region"),
        ({"tenant": "ac me"}, "tenant"),
        ({"tenant": "acme@evil"}, "tenant"),
        ({"workspace": "pay/ments"}, "workspace"),
        ({"workspace": ""}, "workspace"),
        ({"client_id": None}, "client_id"),
        ({"client_secret": None}, "client_secret"),
    ],
)
def test_secureauth_with_a_bad_part_is_a_config_error_naming_it(patch: dict[str, Any], field: str) -> None:
    args: dict[str, Any] = {
        "tenant": "acme",
        "region": "us",
        "workspace": "payments",
        "client_id": "svc",
        "client_secret": "s3cret-value-x",
    }
    args.update(patch)
    e = raised(lambda: TokenClient.secureauth(**args))
    assert isinstance(e, ConfigError), f"{patch}: {e!r}"
    assert e.code == "ERR_CONFIG"
    assert e.field == field, f"{patch}: {e}"
    assert_not_in(e, "s3cret-value-x", "a SecureAuth error")


@pytest.mark.parametrize("missing", ["tenant", "region", "workspace"])
def test_secureauth_without_a_part_is_a_type_error_naming_it(missing: str) -> None:
    args: dict[str, Any] = {"tenant": "acme", "region": "us", "workspace": "payments", "client_id": "svc"}
    args["client_secret"] = "s3cret-value-x"
    del args[missing]
    e = raised(lambda: TokenClient.secureauth(**args))
    assert isinstance(e, (TypeError, ConfigError)), repr(e)
    assert missing in str(e)
    # A SecureAuth client has no token_url to override: the workspace decides it.
    with pytest.raises(TypeError):
        TokenClient.secureauth(  # type: ignore[call-arg]
            tenant="acme", region="us", workspace="w", client_id="svc", token_url="https://other.example/t"
        )


def test_from_env_reads_token_url_client_id_and_client_secret(
    server: MockAuthServer, clean_env: pytest.MonkeyPatch
) -> None:
    clean_env.setenv("M2M_TOKEN_URL", server.token_url)
    clean_env.setenv("M2M_CLIENT_ID", CLIENT_ID)
    clean_env.setenv("M2M_CLIENT_SECRET", SECRET)
    client = TokenClient.from_env()
    assert isinstance(client, TokenClient)
    assert client.token_url == server.token_url
    assert client.client_id == CLIENT_ID
    assert client.auth_method == "client_secret_post"
    assert_not_in(client, SECRET, "a client from the environment")
    token = client.get_token()
    assert server.verify_access_token(token)["sub"] == CLIENT_ID
    assert client.get_token() == token
    assert server.token_requests() == 1


def test_from_env_reads_the_optional_variables(server: MockAuthServer, clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("M2M_TOKEN_URL", server.token_url)
    clean_env.setenv("M2M_CLIENT_ID", CLIENT_ID)
    clean_env.setenv("M2M_CLIENT_SECRET", SECRET)
    clean_env.setenv("M2M_AUTH_METHOD", "client_secret_basic")
    clean_env.setenv("M2M_SCOPE", "payments.write,payments.read")
    token = TokenClient.from_env().fetch_token()
    assert token.scope == "payments.read payments.write"
    req = last_request(server)
    assert form_value(req, "client_secret") is None
    assert (header(req, "authorization") or "").startswith("Basic ")


def test_from_env_builds_a_secureauth_url_from_its_parts(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("M2M_SECUREAUTH_TENANT", "acme")
    clean_env.setenv("M2M_SECUREAUTH_REGION", "us")
    clean_env.setenv("M2M_SECUREAUTH_WORKSPACE", "payments")
    clean_env.setenv("M2M_CLIENT_ID", "svc")
    clean_env.setenv("M2M_CLIENT_SECRET", SECRET)
    assert (
        TokenClient.from_env().token_url
        == "https://acme.us.connect.secureauth.com/acme/payments/oauth2/token"
    )
    clean_env.delenv("M2M_SECUREAUTH_REGION")
    e = raised(TokenClient.from_env)
    assert isinstance(e, ConfigError), repr(e)
    assert e.field == "M2M_SECUREAUTH_REGION"
    assert "M2M_SECUREAUTH_REGION" in str(e)


@pytest.mark.parametrize("missing", ["M2M_TOKEN_URL", "M2M_CLIENT_ID", "M2M_CLIENT_SECRET"])
def test_from_env_with_a_missing_variable_is_a_config_error_naming_it(
    server: MockAuthServer, clean_env: pytest.MonkeyPatch, missing: str
) -> None:
    full = {"M2M_TOKEN_URL": server.token_url, "M2M_CLIENT_ID": CLIENT_ID, "M2M_CLIENT_SECRET": SECRET}
    for name, value in full.items():
        if name != missing:
            clean_env.setenv(name, value)
    e = raised(TokenClient.from_env)
    assert isinstance(e, ConfigError), f"{missing}: {e!r}"
    assert e.code == "ERR_CONFIG"
    assert e.field == missing
    assert missing in str(e)
    assert_not_in(e, SECRET, "the environment error")
    # An empty variable counts as unset.
    clean_env.setenv(missing, "")
    empty = raised(TokenClient.from_env)
    assert isinstance(empty, ConfigError) and empty.field == missing, repr(empty)
    assert server.token_requests() == 0


@pytest.mark.parametrize("url", ["http://idp.example.com/oauth2/token", "http://10.0.0.1/oauth2/token"])
def test_plain_http_to_a_host_that_is_not_loopback_is_a_config_error_before_any_request(
    server: MockAuthServer, url: str
) -> None:
    e = raised(lambda: TokenClient(token_url=url, client_id=CLIENT_ID, client_secret=SECRET))
    assert isinstance(e, ConfigError), repr(e)
    assert e.code == "ERR_CONFIG"
    assert e.field == "token_url"
    assert "https" in str(e)
    # Loopback is always allowed; another host only when asked for explicitly.
    for loopback in ["http://localhost:1/t", "http://127.0.0.1:1/t", "http://[::1]:1/t"]:
        assert (
            TokenClient(token_url=loopback, client_id=CLIENT_ID, client_secret=SECRET).token_url == loopback
        )
    insecure = TokenClient(token_url=url, client_id=CLIENT_ID, client_secret=SECRET, allow_insecure_http=True)
    assert insecure.token_url == url
    assert server.token_requests() == 0


# ---------------------------------------------------------------------------------------------------------
# Single flight, cache, stats


def test_a_cached_token_is_the_very_same_str_object_and_needs_no_second_request(
    server: MockAuthServer, new_client: ClientFactory
) -> None:
    client = new_client()
    first = client.get_token()
    second = client.get_token()
    third = client.fetch_token()
    assert isinstance(first, str)
    assert second is first
    assert third.access_token == first
    assert server.token_requests() == 1
    assert client.invalidate() is True
    fourth = client.get_token()
    assert fourth != first
    assert server.token_requests() == 2


def test_200_threads_on_a_cold_cache_make_exactly_one_request_and_share_its_token(
    server: MockAuthServer, new_client: ClientFactory
) -> None:
    client = new_client()
    # The answer is slow, so that the callers are waiting while the one request is in flight.
    server.push_faults([{"delay_ms": 200}])
    callers = 200
    barrier = threading.Barrier(callers)

    def one(_: int) -> str:
        barrier.wait()
        return client.get_token()

    with ThreadPoolExecutor(max_workers=callers) as pool:
        tokens = list(pool.map(one, range(callers)))
    assert len(tokens) == callers
    assert len(set(tokens)) == 1
    assert server.token_requests() == 1
    assert server.tokens_issued() == 1
    assert server.verify_access_token(tokens[0])["sub"] == CLIENT_ID
    stats = client.stats()
    assert stats["fetches"] == 1
    assert stats["failures"] == 0
    assert stats["hits"] + stats["misses"] == callers


def test_200_asyncio_tasks_on_a_cold_cache_make_exactly_one_request(
    server: MockAuthServer, new_client: ClientFactory
) -> None:
    client = new_client()
    server.push_faults([{"delay_ms": 200}])

    async def main() -> list[str]:
        return await asyncio.gather(*(client.get_token_async() for _ in range(200)))

    tokens = asyncio.run(main())
    assert len(tokens) == 200
    assert all(isinstance(t, str) for t in tokens)
    assert len(set(tokens)) == 1
    assert server.token_requests() == 1
    assert server.verify_access_token(tokens[0])["sub"] == CLIENT_ID
    stats = client.stats()
    assert stats["fetches"] == 1
    assert stats["hits"] + stats["misses"] == 200
    # The synchronous API shares the cache.
    assert client.get_token() == tokens[0]
    assert server.token_requests() == 1


def test_fetch_token_async_shares_the_cache_and_the_single_flight(
    server: MockAuthServer, new_client: ClientFactory
) -> None:
    client = new_client()
    server.push_faults([{"delay_ms": 100}])

    async def main() -> tuple[list[Token], str]:
        infos = await asyncio.gather(*(client.fetch_token_async() for _ in range(20)))
        return list(infos), await client.get_token_async()

    infos, token = asyncio.run(main())
    assert all(isinstance(t, Token) for t in infos)
    assert {t.access_token for t in infos} == {token}
    assert server.token_requests() == 1


def test_an_oauth_error_reaches_every_concurrent_thread_after_one_request_and_is_not_cached(
    server: MockAuthServer, new_client: ClientFactory
) -> None:
    client = new_client(client_secret=WRONG_SECRET)
    server.push_faults([{"delay_ms": 300}])
    callers = 50
    barrier = threading.Barrier(callers)

    def one(_: int) -> BaseException:
        barrier.wait()
        return raised(client.get_token)

    with ThreadPoolExecutor(max_workers=callers) as pool:
        results = list(pool.map(one, range(callers)))
    assert len(results) == callers
    for e in results:
        assert isinstance(e, OAuthError), repr(e)
        assert e.code == "ERR_OAUTH"
        assert e.error == "invalid_client"
        assert e.status == 401
    assert server.token_requests() == 1
    assert client.stats() == {
        "hits": 0,
        "misses": callers,
        "fetches": 1,
        "refreshes": 0,
        **NO_SHARED_CACHE,
        "failures": 1,
        "last_error": "token endpoint refused the request (HTTP 401): invalid_client: "
        "client secret does not match",
    }
    # A later call does not inherit the failure: it asks again.
    with pytest.raises(OAuthError):
        client.get_token()
    assert server.token_requests() == 2


def test_an_oauth_error_reaches_every_concurrent_asyncio_task_after_one_request_and_is_not_cached(
    server: MockAuthServer, new_client: ClientFactory
) -> None:
    client = new_client(client_secret=WRONG_SECRET)
    server.push_faults([{"delay_ms": 300}])

    async def main() -> list[BaseException | str]:
        return await asyncio.gather(*(client.get_token_async() for _ in range(50)), return_exceptions=True)

    results = asyncio.run(main())
    assert len(results) == 50
    for e in results:
        assert isinstance(e, OAuthError), repr(e)
        assert e.error == "invalid_client"
        assert e.status == 401
    assert server.token_requests() == 1

    async def again() -> str:
        return await client.get_token_async()

    with pytest.raises(OAuthError):
        asyncio.run(again())
    assert server.token_requests() == 2


def test_stats_counts_hits_misses_fetches_and_failures(
    server: MockAuthServer, new_client: ClientFactory
) -> None:
    client = new_client()
    assert client.stats() == {
        "hits": 0,
        "misses": 0,
        "fetches": 0,
        "refreshes": 0,
        **NO_SHARED_CACHE,
        "failures": 0,
        "last_error": None,
    }
    client.get_token()
    assert client.stats() == {
        "hits": 0,
        "misses": 1,
        "fetches": 1,
        "refreshes": 0,
        **NO_SHARED_CACHE,
        "failures": 0,
        "last_error": None,
    }
    client.get_token()
    client.get_token()
    assert client.stats() == {
        "hits": 2,
        "misses": 1,
        "fetches": 1,
        "refreshes": 0,
        **NO_SHARED_CACHE,
        "failures": 0,
        "last_error": None,
    }
    client.invalidate()
    server.push_faults(
        [
            {
                "status": 400,
                "headers": {"content-type": "application/json"},
                "body": '{"error":"invalid_request"}',
            }
        ]
    )
    with pytest.raises(OAuthError):
        client.get_token()
    s = client.stats()
    assert s["hits"] == 2
    assert s["misses"] == 2
    assert s["fetches"] == 2
    assert s["failures"] == 1
    assert s["last_error"] == "token endpoint refused the request (HTTP 400): invalid_request"
    counters = ["failures", "fetches", "hits", "last_error", "misses", "refreshes", *SHARED_CACHE_STATS]
    assert sorted(s) == sorted(counters)
    # A dict of its own: changing it changes nothing in the client.
    s["hits"] = 1000
    assert client.stats()["hits"] == 2


def test_per_call_scopes_get_their_own_token_and_the_client_scopes_stay_the_default(
    server: MockAuthServer, new_client: ClientFactory
) -> None:
    client = new_client(scopes=["payments.read"])
    assert client.scopes == ["payments.read"]
    write = client.fetch_token(scopes=["payments.write"])
    read = client.fetch_token()
    assert write.scope == "payments.write"
    assert read.scope == "payments.read"
    assert write.access_token != read.access_token
    assert client.get_token(scopes=["payments.write"]) == write.access_token
    assert client.get_token() == read.access_token
    # The same set in another order or spelling is the same cache entry.
    assert client.get_token(scopes=["payments.read"]) == read.access_token
    both = client.get_token(scopes=["payments.write", "payments.read"])
    assert client.get_token(scopes=["payments.read payments.write"]) == both
    assert server.token_requests() == 3
    assert claims_of(both)["scope"] == "payments.read payments.write"

    async def per_call_async() -> str:
        return await client.get_token_async(scopes=["payments.write"])

    assert asyncio.run(per_call_async()) == write.access_token
    assert server.token_requests() == 3


def test_invalidate_makes_the_next_call_fetch(server: MockAuthServer, new_client: ClientFactory) -> None:
    client = new_client()
    first = client.get_token()
    other = client.get_token(scopes=["payments.write"])
    assert client.invalidate() is True
    assert server.token_requests() == 2
    second = client.get_token()
    assert second != first
    assert server.token_requests() == 3
    # Every parameter set is dropped, not only the default one.
    assert client.get_token(scopes=["payments.write"]) != other
    assert server.token_requests() == 4


def test_invalidate_with_a_stale_token_drops_nothing(
    server: MockAuthServer, new_client: ClientFactory
) -> None:
    client = new_client()
    first = client.get_token()
    assert client.invalidate(first) is True
    second = client.get_token()
    assert second != first
    assert server.token_requests() == 2
    # Many callers that saw `first` rejected: none of them drops `second`.
    for _ in range(5):
        assert client.invalidate(first) is False
    assert client.invalidate("not-a-token-we-have") is False
    assert client.get_token() is second
    assert server.token_requests() == 2
    assert client.invalidate(token=second) is True
    assert client.get_token() not in (first, second)
    assert server.token_requests() == 3


def test_a_token_within_the_expiry_skew_causes_exactly_one_new_request(
    server: MockAuthServer, new_client: ClientFactory
) -> None:
    # A 2 s token: the skew (30 s by default) is capped at a tenth of the lifetime, 0.2 s. Refresh-ahead is
    # off, so only the skew decides.
    server.set_token_lifetime(2)
    client = new_client(refresh_ratio=1.0)
    first = client.fetch_token()
    assert 1 < first.expires_in <= 2
    assert client.get_token() == first.access_token
    assert server.token_requests() == 1
    # Into the last 0.2 s of its life, by the client's own clock.
    time.sleep(max(0.0, first.expires_in - 0.1))
    callers = 20
    barrier = threading.Barrier(callers)

    def one(_: int) -> str:
        barrier.wait()
        return client.get_token()

    with ThreadPoolExecutor(max_workers=callers) as pool:
        tokens = set(pool.map(one, range(callers)))
    assert len(tokens) == 1
    assert first.access_token not in tokens
    assert server.token_requests() == 2
    assert client.stats()["refreshes"] == 0


def test_a_fetch_outlives_a_cancelled_asyncio_caller_and_fills_the_cache(
    server: MockAuthServer, new_client: ClientFactory
) -> None:
    client = new_client()
    server.push_faults([{"delay_ms": 500}])

    async def impatient() -> None:
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(client.get_token_async(), 0.05)

    asyncio.run(impatient())
    wait_for(lambda: server.tokens_issued() == 1, "the abandoned fetch to get its token")
    # From here on the fetch is either still in flight (and joined) or done (and cached): no second request.
    token = client.get_token()
    assert server.verify_access_token(token)["sub"] == CLIENT_ID
    assert server.token_requests() == 1


# ---------------------------------------------------------------------------------------------------------
# Client authentication against the default mock client


def test_client_secret_post_the_default_sends_the_id_and_secret_in_the_form(
    server: MockAuthServer, new_client: ClientFactory
) -> None:
    client = new_client()
    assert client.auth_method == "client_secret_post"
    token = client.get_token()
    claims = server.verify_access_token(token)
    assert claims["sub"] == CLIENT_ID
    assert claims["client_id"] == CLIENT_ID
    req = last_request(server)
    assert form_value(req, "grant_type") == "client_credentials"
    assert form_value(req, "client_id") == CLIENT_ID
    assert form_value(req, "client_secret") == SECRET
    assert header(req, "authorization") is None
    assert req["client_id"] == CLIENT_ID
    assert req["outcome"] == "token"


def test_client_secret_basic_sends_the_id_and_secret_in_http_basic_and_not_in_the_form(
    server: MockAuthServer, new_client: ClientFactory
) -> None:
    client = new_client(auth_method="client_secret_basic")
    assert client.auth_method == "client_secret_basic"
    token = client.get_token()
    assert server.verify_access_token(token)["sub"] == CLIENT_ID
    req = last_request(server)
    assert form_value(req, "grant_type") == "client_credentials"
    assert form_value(req, "client_id") is None
    assert form_value(req, "client_secret") is None
    expected = base64.b64encode(f"{CLIENT_ID}:{SECRET}".encode()).decode()
    assert header(req, "authorization") == f"Basic {expected}"
    assert req["client_id"] == CLIENT_ID
    assert req["outcome"] == "token"


def test_client_secret_basic_form_encodes_the_id_and_secret() -> None:
    # RFC 6749 §2.3.1: id and secret are form-encoded before Base64, so a ':' in the id cannot split them.
    client_id, secret = "svc:a b", "p@ss:w/rd+%"
    config = {
        "clients": [
            {"client_id": client_id, "client_secret": secret, "auth_methods": ["client_secret_basic"]}
        ]
    }
    with MockAuthServer(config) as other:
        client = TokenClient(
            token_url=other.token_url,
            client_id=client_id,
            client_secret=secret,
            auth_method="client_secret_basic",
        )
        assert other.verify_access_token(client.get_token())["sub"] == client_id
        auth = header(last_request(other), "authorization")
        assert auth is not None and auth.startswith("Basic ")
        user, _, password = base64.b64decode(auth[len("Basic ") :]).decode().partition(":")
        assert urllib.parse.unquote_plus(user) == client_id
        assert urllib.parse.unquote_plus(password) == secret


# ---------------------------------------------------------------------------------------------------------
# The testing server


def _post_token_request(server: MockAuthServer) -> tuple[int, dict[str, str], bytes]:
    """A raw POST to the token endpoint, past any proxy the environment configures."""
    body = urllib.parse.urlencode(
        {"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": SECRET}
    ).encode()
    request = urllib.request.Request(
        server.token_url,
        data=body,
        method="POST",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as e:
        try:
            return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()
        finally:
            e.close()


def test_mock_server_url_token_url_and_issuer_are_on_127_0_0_1(server: MockAuthServer) -> None:
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", server.url), server.url
    assert server.token_url == f"{server.url}/oauth2/token"
    assert server.issuer == server.url
    assert repr(server) == f"MockAuthServer(url={server.url!r})"


def test_mock_server_reports_what_the_endpoint_saw(server: MockAuthServer, new_client: ClientFactory) -> None:
    assert server.requests() == []
    token = new_client(scopes=["payments.read"]).get_token()
    with pytest.raises(OAuthError):
        new_client(client_secret=WRONG_SECRET).get_token()
    requests = server.requests()
    assert len(requests) == 2
    ok, refused = requests
    assert ok["method"] == "POST"
    assert ok["path"] == "/oauth2/token"
    assert ok["client_id"] == CLIENT_ID
    assert ok["outcome"] == "token"
    assert ok["form"] == [
        ["grant_type", "client_credentials"],
        ["client_id", CLIENT_ID],
        ["client_secret", SECRET],
        ["scope", "payments.read"],
    ]
    assert header(ok, "content-type") == "application/x-www-form-urlencoded"
    assert all(len(h) == 2 and h[0] == h[0].lower() for h in ok["headers"])
    assert refused["outcome"] == "invalid_client"
    assert refused["client_id"] == CLIENT_ID
    assert server.token_requests() == 2
    assert server.token_requests(CLIENT_ID) == 2
    assert server.token_requests("someone-else") == 0
    assert server.tokens_issued() == 1

    claims = server.verify_access_token(token)
    assert claims["sub"] == CLIENT_ID
    assert claims["iss"] == server.issuer
    assert claims["scope"] == "payments.read"


def test_mock_server_verify_access_token_rejects_what_it_did_not_sign(
    server: MockAuthServer, new_client: ClientFactory
) -> None:
    token = new_client().get_token()
    with pytest.raises(ValueError):
        server.verify_access_token("not-a-jwt")
    h, p, s = token.split(".")
    claims = claims_of(token)
    forged = base64.urlsafe_b64encode(json.dumps({**claims, "sub": "admin"}).encode()).decode().rstrip("=")
    with pytest.raises(ValueError):
        server.verify_access_token(f"{h}.{forged}.{s}")
    # One flipped character in the signature.
    flipped = s[:-2] + ("A" if s[-2] != "A" else "B") + s[-1]
    with pytest.raises(ValueError):
        server.verify_access_token(f"{h}.{p}.{flipped}")
    # Another server's token: another key.
    with MockAuthServer() as other:
        foreign = TokenClient(
            token_url=other.token_url, client_id=CLIENT_ID, client_secret=SECRET
        ).get_token()
    with pytest.raises(ValueError):
        server.verify_access_token(foreign)
    assert server.verify_access_token(token)["sub"] == CLIENT_ID


def test_mock_server_push_faults_answers_the_next_request_with_a_503_then_serves_normally(
    server: MockAuthServer,
) -> None:
    server.push_faults(
        [{"status": 503, "headers": {"retry-after": "0", "content-type": "text/plain"}, "body": "busy"}]
    )
    status, headers, body = _post_token_request(server)
    assert status == 503
    assert headers.get("retry-after") == "0"
    assert body == b"busy"
    status, _, body = _post_token_request(server)
    assert status == 200
    answer = json.loads(body)
    assert answer["token_type"] == "Bearer"
    assert server.verify_access_token(answer["access_token"])["sub"] == CLIENT_ID
    assert [r["outcome"] for r in server.requests()] == ["fault", "token"]
    assert server.token_requests() == 2
    assert server.tokens_issued() == 1


def test_a_503_then_a_token_is_one_fetch_with_a_retry(
    server: MockAuthServer, new_client: ClientFactory
) -> None:
    server.push_faults([{"status": 503, "headers": {"retry-after": "0"}}])
    client = new_client(max_attempts=2, retry_backoff=0.01)
    token = client.get_token()
    assert server.verify_access_token(token)["sub"] == CLIENT_ID
    assert [r["outcome"] for r in server.requests()] == ["fault", "token"]
    assert client.stats()["fetches"] == 1
    assert client.stats()["failures"] == 0


def test_mock_server_push_faults_refuses_an_unknown_fault_field(server: MockAuthServer) -> None:
    with pytest.raises(ValueError, match="delay"):
        server.push_faults([{"delay": 100}])
    # Nothing was queued.
    status, _, _ = _post_token_request(server)
    assert status == 200


def test_mock_server_set_token_lifetime_and_reset(server: MockAuthServer, new_client: ClientFactory) -> None:
    server.set_token_lifetime(120)
    short = new_client().fetch_token()
    assert 110 < short.expires_in <= 120, short.expires_in
    assert claims_of(short.access_token)["exp"] - claims_of(short.access_token)["iat"] == 120
    server.push_faults([{"status": 500}, {"status": 500}])
    assert server.token_requests() == 1

    server.reset()
    assert server.token_requests() == 0
    assert server.tokens_issued() == 0
    assert server.requests() == []
    # The pending faults are gone and the configured lifetime (3600 s) is back.
    token = new_client().fetch_token()
    assert 3590 < token.expires_in <= 3600, token.expires_in
    assert [r["outcome"] for r in server.requests()] == ["token"]


def test_a_mock_server_started_with_a_config_registers_its_clients(server: MockAuthServer) -> None:
    config = {
        "token_lifetime_secs": 60,
        "clients": [
            {
                "client_id": "svc-x",
                "client_secret": "svc-x-secret",
                "auth_methods": ["client_secret_basic"],
                "scopes": ["a.read"],
            }
        ],
    }
    for as_given in (config, json.dumps(config)):
        with MockAuthServer(as_given) as other:
            client = TokenClient(
                token_url=other.token_url,
                client_id="svc-x",
                client_secret="svc-x-secret",
                auth_method="client_secret_basic",
            )
            token = client.fetch_token()
            assert token.scope == "a.read"
            assert token.expires_in <= 60
            assert other.verify_access_token(token.access_token)["sub"] == "svc-x"
            post = TokenClient(token_url=other.token_url, client_id="svc-x", client_secret="svc-x-secret")
            e = raised(post.get_token)
            assert isinstance(e, OAuthError) and e.error == "invalid_client", repr(e)
            # The demo client is not registered there.
            demo = TokenClient(token_url=other.token_url, client_id=CLIENT_ID, client_secret=SECRET)
            assert isinstance(raised(demo.get_token), OAuthError)
            assert other.token_requests() == 3
    assert server.token_requests() == 0


def test_a_mock_server_config_with_an_unknown_field_is_refused() -> None:
    with pytest.raises(ValueError):
        MockAuthServer({"clients": [], "lifetime": 5})


# ---------------------------------------------------------------------------------------------------------
# The GIL and the event loop


def test_get_token_does_not_hold_the_gil_while_a_request_is_slow(
    server: MockAuthServer, new_client: ClientFactory
) -> None:
    server.push_faults([{"delay_ms": 1000}])
    client = new_client()
    done = threading.Event()
    ticks: list[int] = []
    result: list[str] = []

    def fetch() -> None:
        try:
            result.append(client.get_token())
        finally:
            done.set()

    worker = threading.Thread(target=fetch)
    worker.start()
    # Only count ticks once the worker's request has reached the server: from then on it is inside
    # get_token, and a held GIL would stop this loop entirely.
    wait_for(lambda: server.token_requests() == 1 or done.is_set(), "the request to start")
    while not done.is_set():
        ticks.append(1)
        time.sleep(0.005)
    worker.join(timeout=10)
    assert result and server.verify_access_token(result[0])["sub"] == CLIENT_ID
    assert len(ticks) >= 5, f"the main thread ran only {len(ticks)} times during a 1 s request"


def test_the_event_loop_keeps_running_while_a_token_request_is_slow(
    server: MockAuthServer, new_client: ClientFactory
) -> None:
    server.push_faults([{"delay_ms": 1000}])
    client = new_client()
    order: list[str] = []

    async def main() -> tuple[str, int]:
        loop = asyncio.get_running_loop()

        async def get() -> str:
            token = await client.get_token_async()
            order.append("token")
            return token

        pending = asyncio.ensure_future(get())
        loop.call_later(0.01, order.append, "later")
        loop.call_soon(order.append, "soon")
        ticks = 0
        while not pending.done():
            ticks += 1
            await asyncio.sleep(0.005)
        return await pending, ticks

    token, ticks = asyncio.run(main())
    assert server.verify_access_token(token)["sub"] == CLIENT_ID
    assert len(order) == 3
    assert order[2] == "token"
    assert sorted(order[:2]) == ["later", "soon"]
    assert ticks >= 5, f"the event loop ran only {ticks} times during a 1 s request"


def test_get_token_async_needs_a_running_loop(new_client: ClientFactory) -> None:
    with pytest.raises(RuntimeError):
        new_client().get_token_async()


def test_the_shared_cache_settings_are_keywords_in_seconds_and_their_errors_name_them(
    make_client: Callable[..., TokenClient], server: MockAuthServer, tmp_path: Any
) -> None:
    for kwargs, field in [
        ({"cache_url": "memcached://cache"}, "cache_url"),
        ({"cache_timeout": -1}, "cache_timeout"),
        ({"cache_lock_ttl": "5"}, "cache_lock_ttl"),
        ({"cache_encryption_key": "c2hvcnQ="}, "cache_encryption_key"),
    ]:
        with pytest.raises(ConfigError) as e:
            make_client(**kwargs)
        assert e.value.field == field, e.value
    shared = {"cache_url": f"file:{tmp_path / 'tokens'}", "cache_timeout": 0.5, "cache_lock_ttl": 2.0}
    first, second = make_client(**shared), make_client(**shared)
    assert first.get_token() == second.get_token()
    assert server.token_requests() == 1
    stats = second.stats()
    assert (stats["fetches"], stats["shared_hits"], stats["shared_errors"]) == (0, 1, 0), stats
    assert first.stats()["shared_misses"] == 1
