"""Runs every shared case in tests/vectors/token/ — the same files the Rust and Node suites run."""

from __future__ import annotations

import base64
import json
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import m2m_auth
import pytest
from conftest import VECTORS, mock_config
from m2m_auth import M2MAuthError, Token, TokenClient
from m2m_auth.testing import MockAuthServer

CASES = sorted((VECTORS / "token").glob("*.json"))

CASE_KEYS = {"description", "client", "build_error", "server", "steps", "token_requests", "wire"}
CLIENT_KEYS = {
    "client_id",
    "client_secret",
    "auth_method",
    "scopes",
    "audience",
    "resources",
    "extra_params",
    "token_url",
    "max_response_bytes",
    "timeout_ms",
    "refresh_ratio",
    "retry",
}
RETRY_KEYS = {"max_attempts", "initial_backoff_ms", "max_backoff_ms", "deadline_ms", "max_retry_after_ms"}
STEP_KEYS = {"do", "expect", "scopes", "ms", "of_step", "times", "faults", "callers"}
TOKEN_KEYS = {
    "token_type",
    "scope",
    "expires_in_min",
    "expires_in_max",
    "claims",
    "same_as_step",
    "differs_from_step",
}
ERROR_KEYS = {
    "kind",
    "error",
    "error_description",
    "error_uri",
    "status",
    "attempts",
    "field",
    "message_contains",
}
WIRE_KEYS = {"form", "form_all", "form_absent", "basic_auth"}


def known(what: str, d: dict[str, Any], keys: set[str]) -> None:
    """A vector key no runner understands would silently test nothing."""
    unknown = set(d) - keys
    assert not unknown, f"unknown {what} keys {unknown}"


def secret_of(case: dict[str, Any]) -> str:
    client = case["client"]
    if "client_secret" in client:
        return str(client["client_secret"])
    for c in mock_config()["clients"]:
        if c["client_id"] == client["client_id"]:
            return str(c["client_secret"])
    return ""


def build(case: dict[str, Any], server: MockAuthServer, secret: str) -> TokenClient:
    c = case["client"]
    known("client", c, CLIENT_KEYS)
    kwargs: dict[str, Any] = {
        "token_url": c.get("token_url", server.token_url).replace("{mock}", server.url),
        "client_id": c["client_id"],
        "client_secret": secret,
    }
    for key in ("auth_method", "scopes", "audience", "resources", "max_response_bytes", "refresh_ratio"):
        if key in c:
            kwargs[key] = c[key]
    if "extra_params" in c:
        kwargs["extra_params"] = list(c["extra_params"].items())
    if "timeout_ms" in c:
        kwargs["timeout"] = c["timeout_ms"] / 1000
    retry = c.get("retry", {})
    known("retry", retry, RETRY_KEYS)
    for key, kwarg in [
        ("initial_backoff_ms", "retry_backoff"),
        ("max_backoff_ms", "retry_max_backoff"),
        ("deadline_ms", "retry_deadline"),
        ("max_retry_after_ms", "max_retry_after"),
    ]:
        if key in retry:
            kwargs[kwarg] = retry[key] / 1000
    if "max_attempts" in retry:
        kwargs["max_attempts"] = retry["max_attempts"]
    return TokenClient(**kwargs)


def check_error(label: str, e: BaseException, want: dict[str, Any], secret: str) -> None:
    known("error", want, ERROR_KEYS)
    assert isinstance(e, M2MAuthError), f"{label}: {e!r} is not an M2MAuthError"
    if len(secret) >= 4:
        assert secret not in str(e) and secret not in repr(e), f"{label}: the secret leaked"
    if "kind" in want:
        assert type(e).__name__ == want["kind"], f"{label}: {e!r}"
        assert isinstance(e, getattr(m2m_auth, want["kind"]))
    for key in ("error", "error_description", "error_uri", "status", "attempts", "field"):
        if key in want:
            assert getattr(e, key) == want[key], f"{label}: {key} of {e!r}"
    for part in want.get("message_contains", []):
        assert part in str(e), f"{label}: {str(e)!r} does not contain {part!r}"


def claims(access_token: str) -> dict[str, Any]:
    payload = access_token.split(".")[1]
    result: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return result


def check_token(label: str, t: Token, want: dict[str, Any], earlier: list[Token | None]) -> None:
    known("token", want, TOKEN_KEYS)
    if "token_type" in want:
        assert t.token_type == want["token_type"], label
    if "scope" in want:
        assert t.scope == want["scope"], label
    if "expires_in_min" in want:
        assert t.expires_in >= want["expires_in_min"], f"{label}: {t.expires_in}"
    if "expires_in_max" in want:
        assert t.expires_in <= want["expires_in_max"], f"{label}: {t.expires_in}"
    for k, v in want.get("claims", {}).items():
        assert claims(t.access_token)[k] == v, f"{label}: claim {k}"
    if "same_as_step" in want:
        other = earlier[want["same_as_step"]]
        assert other is not None and t.access_token == other.access_token, (
            f"{label}: expected the cached token"
        )
    if "differs_from_step" in want:
        other = earlier[want["differs_from_step"]]
        assert other is not None and t.access_token != other.access_token, f"{label}: expected a new token"


def check_wire(label: str, server: MockAuthServer, want: dict[str, Any], client_id: str, secret: str) -> None:
    known("wire", want, WIRE_KEYS)
    last = server.requests()[-1]
    form = last["form"]

    def field(name: str) -> str | None:
        return next((v for k, v in form if k == name), None)

    for k, v in want.get("form", {}).items():
        assert field(k) == v.replace("{secret}", secret), f"{label}: form field {k}"
    for k, v in want.get("form_all", {}).items():
        assert [val for name, val in form if name == k] == v, f"{label}: all of form field {k}"
    for k in want.get("form_absent", []):
        assert field(k) is None, f"{label}: form field {k} must not be sent"
    if "basic_auth" in want:
        header = next((v for k, v in last["headers"] if k == "authorization"), None)
        if want["basic_auth"] is None:
            assert header is None, f"{label}: no Authorization header expected"
        else:
            assert header is not None and header.startswith("Basic "), label
            decoded = base64.b64decode(header[len("Basic ") :]).decode()
            user, _, password = decoded.partition(":")
            assert urllib.parse.unquote_plus(user) == want["basic_auth"][0] == client_id, label
            assert urllib.parse.unquote_plus(password) == want["basic_auth"][1].replace("{secret}", secret), (
                label
            )


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_vector(path: Path, vectors_server: MockAuthServer) -> None:
    server = vectors_server
    case: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    known("case", case, CASE_KEYS)
    name = path.stem
    server.reset()
    srv = case.get("server", {})
    known("server", srv, {"token_lifetime_secs", "faults"})
    if "token_lifetime_secs" in srv:
        server.set_token_lifetime(srv["token_lifetime_secs"])
    if "faults" in srv:
        server.push_faults(srv["faults"])
    secret = secret_of(case)
    client_id = case["client"]["client_id"]

    if "build_error" in case:
        with pytest.raises(M2MAuthError) as info:
            build(case, server, secret)
        check_error(name, info.value, case["build_error"], secret)
        return
    client = build(case, server, secret)
    assert secret not in repr(client)

    tokens: list[Token | None] = []
    for i, step in enumerate(case.get("steps", [{"do": "get_token"}])):
        known("step", step, STEP_KEYS)
        label = f"{name} step {i}"
        got: Token | None = None
        want = step.get("expect", {})
        action = step["do"]
        if action == "get_token":
            kwargs = {"scopes": step["scopes"]} if "scopes" in step else {}
            try:
                token = client.fetch_token(**kwargs)
            except M2MAuthError as e:
                assert "error" in want, f"{label}: unexpected error {e!r}"
                check_error(label, e, want["error"], secret)
            else:
                assert "error" not in want, f"{label}: expected an error, got {token!r}"
                check_token(label, token, want.get("token", {}), tokens)
                got = token
        elif action == "get_token_concurrently":
            callers = step["callers"]
            # One thread per caller, released together: all of them ask while the first fetch is in flight.
            barrier = threading.Barrier(callers)

            def one(_: int, barrier: threading.Barrier = barrier) -> Token | BaseException:
                barrier.wait()
                try:
                    return client.fetch_token()
                except M2MAuthError as e:
                    return e

            with ThreadPoolExecutor(max_workers=callers) as pool:
                results = list(pool.map(one, range(callers)))
            if "error" in want:
                for r in results:
                    assert isinstance(r, BaseException), f"{label}: every caller gets the error"
                    check_error(label, r, want["error"], secret)
            else:
                good = [r for r in results if isinstance(r, Token)]
                assert len(good) == callers, f"{label}: every caller gets a token"
                assert len({t.access_token for t in good}) == 1, f"{label}: one token for all"
                check_token(label, good[0], want.get("token", {}), tokens)
                got = good[0]
        elif action == "invalidate":
            client.invalidate()
        elif action == "invalidate_token":
            earlier = tokens[step["of_step"]]
            assert earlier is not None
            for _ in range(step.get("times", 1)):
                client.invalidate(earlier.access_token)
        elif action == "push_faults":
            server.push_faults(step["faults"])
        elif action == "sleep":
            time.sleep(step["ms"] / 1000)
        else:
            pytest.fail(f"{label}: unknown step {action}")
        tokens.append(got)

    if "token_requests" in case:
        assert server.token_requests() == case["token_requests"], f"{name}: token requests"
    if "wire" in case:
        check_wire(name, server, case["wire"], client_id, secret)
