"""Runs every shared case in tests/vectors/token/ — the same files the Rust and Node suites run. The reference
for the format is the Rust runner, crates/m2m-auth/tests/vectors.rs; see tests/vectors/README.md."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import re
import ssl
import threading
import time
import urllib.parse
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import m2m_auth
import pytest
from conftest import VECTORS, mock_config
from m2m_auth import M2MAuthError, Token, TokenClient
from m2m_auth.testing import MockAuthServer, generate_signing_key, self_signed_certificate

CASES = sorted((VECTORS / "token").glob("*.json"))

# Every key the format knows, declared once for the three runners (tests/vectors/keys.json).
KEYS: dict[str, Any] = json.loads((VECTORS / "keys.json").read_text(encoding="utf-8"))
CASE_KEYS = set(KEYS["case"])
SERVER_KEYS = set(KEYS["server"])
# The server keys that need a mock of the case's own, set up differently from the shared one.
DEDICATED_SERVER_KEYS = {"tls", "auth_methods_supported", "assertion_clock_skew_secs"}
REGISTER_KEYS = set(KEYS["register"])
CLIENT_KEYS = set(KEYS["client"])
PRIVATE_KEY_KEYS = set(KEYS["private_key"])
CLIENT_CERT_KEYS = set(KEYS["client_cert"])
RETRY_KEYS = set(KEYS["retry"])
STEP_KEYS: dict[str, set[str]] = {do: set(keys) for do, keys in KEYS["step"].items()}
EXPECT_KEYS = set(KEYS["expect"])
TOKEN_KEYS = set(KEYS["token"])
ERROR_KEYS = set(KEYS["error"])
WIRE_KEYS = set(KEYS["wire"])
ASSERTION_KEYS = set(KEYS["assertion"])


def known(what: str, d: dict[str, Any], keys: set[str]) -> None:
    """A vector key no runner understands would silently test nothing."""
    unknown = set(d) - keys
    assert not unknown, f"unknown {what} keys {unknown}"


def secret_of(case: dict[str, Any]) -> str:
    """The client's own secret, else its registration's (`register`, then mock-server.json), else none."""
    client = case["client"]
    if "client_secret" in client:
        return str(client["client_secret"])
    if "client_secret" in case.get("register", {}):
        return str(case["register"]["client_secret"])
    for c in mock_config()["clients"]:
        if c["client_id"] == client["client_id"]:
            return str(c["client_secret"])
    return ""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_json(part: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return result


def cert_thumbprint(cert_pem: str) -> str:
    """x5t#S256 of the first certificate in `cert_pem`: base64url(SHA-256(DER)), as a bound token's `cnf`
    holds it."""
    first = re.search(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", cert_pem, re.DOTALL)
    assert first is not None, "no certificate in the PEM"
    return b64url(hashlib.sha256(ssl.PEM_cert_to_DER_cert(first.group(0))).digest())


def key_body(pem: str) -> str:
    """A distinctive middle part of a PEM key, to look for in places it must never appear."""
    lines = [line for line in pem.splitlines() if line and not line.startswith("-----")]
    return "".join(lines)[20:60]


class Material:
    """The keys and certificates a case uses, generated for this run (never stored), and the
    `{placeholder}`s of its strings."""

    def __init__(self, case: dict[str, Any], server: MockAuthServer, secret: str) -> None:
        self.server = server
        self.secret = secret
        c = case["client"]
        self.key: dict[str, Any] | None = None
        # (cert PEM, key PEM, x5t#S256, public JWK with x5c when self-signed)
        self.cert: tuple[str, str, str, dict[str, Any] | None] | None = None
        if "private_key" in c:
            known("client.private_key", c["private_key"], PRIVATE_KEY_KEYS)
            self.key = generate_signing_key(c["private_key"]["alg"])
        if "client_cert" in c:
            spec = c["client_cert"]
            known("client.client_cert", spec, CLIENT_CERT_KEYS)
            assert len(spec) == 1, f"client_cert needs exactly one of {CLIENT_CERT_KEYS}"
            if "issue" in spec:
                cert_pem, key_pem = server.issue_client_certificate(spec["issue"])
                self.cert = (cert_pem, key_pem, cert_thumbprint(cert_pem), None)
            else:
                g = self_signed_certificate(spec["self_signed"])
                assert g["x5t_s256"] == cert_thumbprint(g["cert_pem"]), "the generator's thumbprint"
                self.cert = (g["cert_pem"], g["key_pem"], g["x5t_s256"], g["jwk"])

    def needles(self) -> list[str]:
        """What must never appear in a client's repr, an error or a log: the secret and private keys."""
        out = [self.secret] if len(self.secret) >= 4 else []
        if self.key is not None:
            out += [key_body(self.key["pkcs8_pem"]), key_body(self.key["traditional_pem"])]
            out.append(self.key["private_jwk"]["d"])
        if self.cert is not None:
            out.append(key_body(self.cert[1]))
        return out

    def subst(self, text: str) -> str:
        s = self.server
        out = (
            text.replace("{secret}", self.secret)
            .replace("{mock}", s.url)
            .replace("{issuer}", s.issuer)
            .replace("{token_url}", s.token_url)
            .replace("{mtls_token_url}", s.mtls_token_url or "")
        )
        if self.key is not None:
            out = out.replace("{kid}", self.key["kid"])
        if self.cert is not None:
            out = out.replace("{cert_x5t}", self.cert[2])
        return out

    def subst_value(self, v: Any) -> Any:
        """`v` with every string's placeholders filled in."""
        if isinstance(v, str):
            return self.subst(v)
        if isinstance(v, list):
            return [self.subst_value(x) for x in v]
        if isinstance(v, dict):
            return {k: self.subst_value(x) for k, x in v.items()}
        return v

    def registration(self, register: dict[str, Any]) -> dict[str, Any]:
        """The case's `register` entry; its `"jwks"` may name `{key}`, `{other_key}`, `{cert}` or
        `{other_cert}`."""
        known("register", register, REGISTER_KEYS)
        r = dict(register)
        which = register.get("jwks")
        if isinstance(which, str):
            if which == "{key}":
                assert self.key is not None, "{key} needs a client private_key"
                jwk = self.key["public_jwk"]
            elif which == "{other_key}":
                assert self.key is not None, "{other_key} needs a client private_key"
                jwk = generate_signing_key(self.key["alg"])["public_jwk"]
            elif which == "{cert}":
                assert self.cert is not None and self.cert[3] is not None, "{cert} needs a self-signed cert"
                jwk = self.cert[3]
            elif which == "{other_cert}":
                jwk = self_signed_certificate("CN=someone-else")["jwk"]
            else:
                pytest.fail(f"unknown jwks placeholder {which}")
            r["jwks"] = {"keys": [jwk]}
        return r


def build(case: dict[str, Any], server: MockAuthServer, m: Material) -> TokenClient:
    c = case["client"]
    known("client", c, CLIENT_KEYS)
    kwargs: dict[str, Any] = {"client_id": c["client_id"]}
    # An empty secret is no secret: the client then has none (or the key or certificate it is given).
    if m.secret:
        kwargs["client_secret"] = m.secret
    if "issuer" in c and "token_url" not in c:
        kwargs["issuer"] = m.subst(c["issuer"])
    else:
        kwargs["token_url"] = m.subst(c.get("token_url", server.token_url))
        if "issuer" in c:
            kwargs["issuer"] = m.subst(c["issuer"])
    if m.key is not None:
        fmt = c["private_key"].get("format", "pkcs8")
        if fmt == "pkcs8":
            kwargs["private_key"] = m.key["pkcs8_pem"]
        elif fmt == "traditional":
            kwargs["private_key"] = m.key["traditional_pem"]
        elif fmt == "jwk":
            kwargs["private_key"] = m.key["private_jwk"]
        else:
            pytest.fail(f"unknown private_key format {fmt}")
    if "private_key_id" in c:
        kwargs["private_key_id"] = m.subst(c["private_key_id"])
    if "signing_alg" in c:
        kwargs["signing_alg"] = c["signing_alg"]
    if m.cert is not None:
        kwargs["client_cert"] = m.cert[0]
        kwargs["client_key"] = m.cert[1]
    if "ca_bundle" in c:
        assert c["ca_bundle"] == "{mock_ca}", f"unknown ca_bundle {c['ca_bundle']}"
        assert server.ca_pem is not None, "{mock_ca} needs a TLS server"
        kwargs["ca_bundle"] = server.ca_pem
    if "assertion_audience" in c:
        kwargs["assertion_audience"] = m.subst(c["assertion_audience"])
    for key in ("auth_method", "scopes", "audience", "resources", "max_response_bytes", "refresh_ratio"):
        if key in c:
            kwargs[key] = c[key]
    if "extra_params" in c:
        kwargs["extra_params"] = list(c["extra_params"].items())
    if "timeout_ms" in c:
        kwargs["timeout"] = c["timeout_ms"] / 1000
    if "expiry_skew_ms" in c:
        kwargs["expiry_skew"] = c["expiry_skew_ms"] / 1000
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


def check_error(label: str, e: BaseException, want: dict[str, Any], needles: list[str]) -> None:
    known("error", want, ERROR_KEYS)
    assert isinstance(e, M2MAuthError), f"{label}: {e!r} is not an M2MAuthError"
    for needle in needles:
        assert needle not in str(e) and needle not in repr(e), f"{label}: a secret leaked into the error"
    if "kind" in want:
        assert type(e).__name__ == want["kind"], f"{label}: {e!r}"
        assert isinstance(e, getattr(m2m_auth, want["kind"]))
    for key in ("error", "error_description", "error_uri", "status", "attempts", "field"):
        if key in want:
            assert getattr(e, key) == want[key], f"{label}: {key} of {e!r}"
    for part in want.get("message_contains", []):
        assert part in str(e), f"{label}: {str(e)!r} does not contain {part!r}"


def claims(access_token: str) -> dict[str, Any]:
    return b64url_json(access_token.split(".")[1])


def calls_until(client: TokenClient, callers: int, seconds: float) -> tuple[int, int]:
    """``callers`` threads call ``get_token()`` without pause for ``seconds``: (calls made, calls handed a
    token whose ``exp`` had passed when the call began). A token handed out in time cannot have an earlier
    ``exp`` than the call's beginning, so the second must be 0."""
    end = time.monotonic() + seconds
    counts: list[tuple[int, int]] = []

    def one(_: int) -> tuple[int, int]:
        calls = expired = 0
        while time.monotonic() < end:
            began = time.time()
            token = client.get_token()
            calls += 1
            if began >= claims(token)["exp"]:
                expired += 1
        return calls, expired

    with ThreadPoolExecutor(max_workers=callers) as pool:
        counts = list(pool.map(one, range(callers)))
    return sum(c for c, _ in counts), sum(e for _, e in counts)


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
    got = claims(t.access_token) if "claims" in want else {}
    for k, v in want.get("claims", {}).items():
        assert got.get(k) == v, f"{label}: claim {k}: {got.get(k)!r} != {v!r}"
    if "same_as_step" in want:
        other = earlier[want["same_as_step"]]
        assert other is not None and t.access_token == other.access_token, (
            f"{label}: expected the cached token"
        )
    if "differs_from_step" in want:
        other = earlier[want["differs_from_step"]]
        assert other is not None and t.access_token != other.access_token, f"{label}: expected a new token"


def check_assertion(label: str, requests: list[dict[str, Any]], want: dict[str, Any]) -> None:
    known("assertion", want, ASSERTION_KEYS)

    def assertion_of(request: dict[str, Any]) -> str | None:
        return next((v for k, v in request["form"] if k == "client_assertion"), None)

    jwt = assertion_of(requests[-1])
    assert jwt is not None, f"{label}: no client_assertion sent"
    parts = jwt.split(".")
    assert len(parts) == 3, f"{label}: the assertion is not a JWS"
    header, body = b64url_json(parts[0]), b64url_json(parts[1])
    for k, v in want.get("header", {}).items():
        assert header.get(k) == v, f"{label}: assertion header {k}: {header.get(k)!r} != {v!r}"
    for k, v in want.get("claims", {}).items():
        assert body.get(k) == v, f"{label}: assertion claim {k}: {body.get(k)!r} != {v!r}"
    if "max_lifetime_secs" in want:
        iat, exp = body["iat"], body["exp"]
        assert isinstance(iat, int) and isinstance(exp, int), f"{label}: iat {iat!r}, exp {exp!r}"
        assert 0 < exp - iat <= want["max_lifetime_secs"], f"{label}: the assertion lives {exp - iat}s"
    if want.get("jti_unique"):
        jwts = [a for a in map(assertion_of, requests) if a is not None]
        jtis = [b64url_json(a.split(".")[1])["jti"] for a in jwts]
        assert len(jtis) > 1, f"{label}: jti_unique needs several requests"
        assert len(set(jtis)) == len(jtis), f"{label}: a jti was sent twice"


def check_wire(label: str, server: MockAuthServer, want: dict[str, Any], client_id: str, m: Material) -> None:
    known("wire", want, WIRE_KEYS)
    requests = server.requests()
    assert requests, f"{label}: no request recorded"
    last = requests[-1]
    form = last["form"]

    def field(name: str) -> str | None:
        return next((v for k, v in form if k == name), None)

    if "auth_method" in want:
        assert last["auth_method"] == want["auth_method"], f"{label}: auth method {last['auth_method']!r}"
    if "assertion" in want:
        check_assertion(label, requests, m.subst_value(want["assertion"]))
    if "client_cert" in want:
        if want["client_cert"]:
            assert m.cert is not None, f"{label}: wire.client_cert needs a client_cert"
            expected: str | None = m.cert[2]
        else:
            expected = None
        assert last["client_cert_x5t_s256"] == expected, f"{label}: client certificate presented"
    for k, v in want.get("form", {}).items():
        assert field(k) == m.subst(v), f"{label}: form field {k}"
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
            assert urllib.parse.unquote_plus(password) == m.subst(want["basic_auth"][1]), label


@contextlib.contextmanager
def server_for(case: dict[str, Any], shared: MockAuthServer) -> Iterator[MockAuthServer]:
    """The shared server, or one of the case's own when its `server` needs one set up differently
    (mock-server.json's configuration plus those keys), closed after the case."""
    srv = case.get("server", {})
    special = {k: srv[k] for k in DEDICATED_SERVER_KEYS if k in srv}
    if not special:
        yield shared
        return
    with MockAuthServer({**mock_config(), **special}) as dedicated:
        yield dedicated


def expected(m: Material, want: dict[str, Any]) -> dict[str, Any]:
    known("expect", want, EXPECT_KEYS)
    result: dict[str, Any] = m.subst_value(want)
    return result


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_vector(path: Path, vectors_server: MockAuthServer) -> None:
    case: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    known("case", case, CASE_KEYS)
    known("server", case.get("server", {}), SERVER_KEYS)
    with server_for(case, vectors_server) as server:
        run_case(path.stem, case, server)


def run_case(name: str, case: dict[str, Any], server: MockAuthServer) -> None:
    server.reset()
    srv = case.get("server", {})
    if "token_lifetime_secs" in srv:
        server.set_token_lifetime(srv["token_lifetime_secs"])
    if "faults" in srv:
        server.push_faults(srv["faults"])
    secret = secret_of(case)
    client_id = case["client"]["client_id"]
    m = Material(case, server, secret)
    if "register" in case:
        server.register_client(m.registration(case["register"]))
    needles = m.needles()

    if "build_error" in case:
        with pytest.raises(M2MAuthError) as info:
            build(case, server, m)
        check_error(name, info.value, expected(m, {"error": case["build_error"]})["error"], needles)
        return
    client = build(case, server, m)
    for needle in needles:
        assert needle not in repr(client), f"{name}: a secret in repr(client)"

    tokens: list[Token | None] = []
    for i, step in enumerate(case.get("steps", [{"do": "get_token"}])):
        label = f"{name} step {i}"
        assert step.get("do") in STEP_KEYS, f"{label}: unknown step {step.get('do')!r}"
        known(f"step {step['do']}", step, STEP_KEYS[step["do"]])
        got: Token | None = None
        want = expected(m, step.get("expect", {}))
        action = step["do"]
        if action == "get_token":
            kwargs = {"scopes": step["scopes"]} if "scopes" in step else {}
            try:
                token = client.fetch_token(**kwargs)
            except M2MAuthError as e:
                assert "error" in want, f"{label}: unexpected error {e!r}"
                check_error(label, e, want["error"], needles)
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
                    check_error(label, r, want["error"], needles)
            else:
                good = [r for r in results if isinstance(r, Token)]
                assert len(good) == callers, f"{label}: every caller gets a token"
                assert len({t.access_token for t in good}) == 1, f"{label}: one token for all"
                check_token(label, good[0], want.get("token", {}), tokens)
                got = good[0]
        elif action == "get_token_continuously":
            assert want == {"never_expired": True}, f"{label}: the expectation of get_token_continuously"
            calls, expired = calls_until(client, step["callers"], step["ms"] / 1000)
            assert calls > step["callers"] * 10, f"{label}: only {calls} calls"
            assert expired == 0, f"{label}: {expired} of {calls} calls got an expired token"
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
        check_wire(name, server, case["wire"], client_id, m)
