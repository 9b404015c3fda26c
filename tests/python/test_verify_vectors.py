"""Runs every shared Verifier case in tests/vectors/verify/ — the same files the Rust and Node suites run. The
reference for the format is the Rust runner, crates/m2m-auth/tests/verify_vectors.rs; see
tests/vectors/README.md."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import VECTORS, mock_config
from m2m_auth import Claims, Policy, VerificationError, Verifier
from m2m_auth.testing import MockAuthServer, self_signed_certificate

CASES = sorted((VECTORS / "verify").glob("*.json"))
KEYS: dict[str, Any] = json.loads((VECTORS / "keys.json").read_text(encoding="utf-8"))


def known(what: str, d: dict[str, Any], keys: list[str]) -> None:
    """A vector key no runner understands would silently test nothing."""
    unknown = set(d) - set(keys)
    assert not unknown, f"unknown {what} keys {unknown}"


def check_keys(case: dict[str, Any]) -> None:
    known("case", case, KEYS["verify_case"])
    known("verifier", case["verifier"], KEYS["verifier"])
    if "introspection" in case["verifier"]:
        known("introspection", case["verifier"]["introspection"], KEYS["introspection"])
    for step in case["steps"]:
        assert step["do"] in KEYS["verify_step"], f"unknown step {step['do']}"
        known(f"{step['do']} step", step, KEYS["verify_step"][step["do"]])
        if "expect" in step:
            known("expect", step["expect"], KEYS["verify_expect"])
            if "error" in step["expect"]:
                known("error", step["expect"]["error"], KEYS["verify_error"])


def test_an_unknown_verify_vector_key_fails_the_case() -> None:
    for case in (
        {"verifier": {"isuer": "x"}, "steps": []},
        {"verifier": {}, "steps": [{"do": "verify", "tokn": "t"}]},
    ):
        with pytest.raises(AssertionError):
            check_keys(case)


@pytest.fixture(scope="module")
def mock() -> Iterator[MockAuthServer]:
    with MockAuthServer(mock_config()) as server:
        yield server


def admin(mock: MockAuthServer, path: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(mock.url + path, data=data, method="GET" if body is None else "POST")
    request.add_header("content-type", "application/json")
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())


def subst(value: Any, mock: MockAuthServer, x5t: str) -> Any:
    if isinstance(value, str):
        return value.replace("{issuer}", mock.issuer).replace("{mock}", mock.url).replace("{cert_x5t}", x5t)
    if isinstance(value, list):
        return [subst(v, mock, x5t) for v in value]
    if isinstance(value, dict):
        return {k: subst(v, mock, x5t) for k, v in value.items()}
    return value


def verifier_of(spec: dict[str, Any]) -> Verifier:
    """Core setting names as keywords; `_ms` durations in seconds; the introspection client's secret from
    mock-server.json."""
    kwargs: dict[str, Any] = {}
    for key, value in spec.items():
        if key == "introspection":
            secret = next(
                c["client_secret"] for c in mock_config()["clients"] if c["client_id"] == value["client_id"]
            )
            kwargs.update(
                client_id=value["client_id"], auth_method=value["auth_method"], client_secret=secret
            )
        elif key.endswith("_ms"):
            kwargs[key[: -len("_ms")]] = value / 1000
        else:
            kwargs[key] = value
    return Verifier(**kwargs)


def policy_of(d: dict[str, Any]) -> Policy:
    """The JSON description, built with the public constructors."""
    if "all_scopes" in d:
        return Policy.all_scopes(d["all_scopes"])
    if "any_scope" in d:
        return Policy.any_scope(d["any_scope"])
    if "client_ids" in d:
        return Policy.client_ids(d["client_ids"])
    if "equals" in d:
        return Policy.claim_equals(d["claim"], d["equals"])
    if "one_of" in d:
        return Policy.claim_one_of(d["claim"], d["one_of"])
    if "all_of" in d:
        return Policy.all_of([policy_of(p) for p in d["all_of"]])
    return Policy.any_of([policy_of(p) for p in d["any_of"]])


def check_claims(claims: Claims, expect: dict[str, Any]) -> None:
    assert "error" not in expect, f"verified, expected {expect['error']}"
    if "client_id" in expect:
        assert claims.client_id == expect["client_id"]
    if "scopes" in expect:
        assert claims.scopes == expect["scopes"]
    if "audience" in expect:
        assert claims.audience == expect["audience"]
    for name, value in expect.get("claims", {}).items():
        assert claims[name] == value, name


def check_error(e: VerificationError, expect: dict[str, Any], token: str) -> None:
    assert "error" in expect, f"rejected ({e}), expected claims"
    want = expect["error"]
    assert type(e).__name__ == want["kind"], str(e)
    if "status" in want:
        assert e.status == want["status"]
    if "error" in want:
        assert e.error == want["error"]
    for part in want.get("message_contains", []):
        assert part in str(e), f"{e!s} lacks {part!r}"
    if "required_scopes" in want:
        assert e.required_scopes == want["required_scopes"]
    challenge = e.www_authenticate("vectors")
    if "www_authenticate" in want:
        assert challenge == want["www_authenticate"]
    if len(token) >= 8:
        assert token not in str(e) and token not in challenge, "the error holds the token"


async def verify_one(
    verifier: Verifier,
    token: str,
    cert: str | None,
    policy: Policy | None,
    expect: dict[str, Any],
    times: int,
) -> None:
    for i in range(times):
        # The sync and the asyncio paths take turns: both must answer alike.
        try:
            if i % 2:
                claims = verifier.verify(token, client_cert=cert, policy=policy)
            else:
                claims = await verifier.verify_async(token, client_cert=cert, policy=policy)
        except VerificationError as e:
            check_error(e, expect, token)
        else:
            check_claims(claims, expect)


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_verify_vector(path: Path, mock: MockAuthServer) -> None:
    assert len(CASES) >= 30, f"expected the verify vectors, found {len(CASES)}"
    case = json.loads(path.read_text(encoding="utf-8"))
    check_keys(case)
    cert = self_signed_certificate("CN=vectors-cert")
    other = self_signed_certificate("CN=vectors-other")
    admin(mock, "/mock/reset", {})
    verifier = verifier_of(subst(case["verifier"], mock, cert["x5t_s256"]))
    tokens: dict[str, list[str]] = {}

    async def run() -> None:
        for step in case["steps"]:
            op = step["do"]
            if op == "mint":
                minted = admin(mock, "/mock/tokens", subst(step["token"], mock, cert["x5t_s256"]))
                tokens[step["as"]] = minted["tokens"]
            elif op in ("verify", "verify_all"):
                if "literal" in step:
                    batch = [step["literal"]]
                else:
                    batch = tokens[step.get("token", "t")]
                    batch = batch[:1] if op == "verify" else batch
                # `callers`: each token verified by that many requests at once.
                batch = [t for t in batch for _ in range(step.get("callers", 1))]
                client_cert = {"case": cert["cert_pem"], "other": other["cert_pem"]}.get(
                    step.get("client_cert", "")
                )
                policy = policy_of(step["policy"]) if "policy" in step else None
                expect = subst(step["expect"], mock, cert["x5t_s256"])
                times = step.get("times", 1)
                await asyncio.gather(
                    *(verify_one(verifier, t, client_cert, policy, expect, times) for t in batch)
                )
            elif op == "rotate_keys":
                admin(mock, "/mock/keys/rotate", {})
            elif op == "outage":
                admin(mock, "/mock/outage", {k: v for k, v in step.items() if k != "do"})
            elif op == "sleep":
                time.sleep(step["ms"] / 1000)

    asyncio.run(run())
    stats = admin(mock, "/mock/stats")
    for counter in ("jwks_requests", "introspection_requests", "metadata_requests"):
        if counter in case:
            assert stats[counter] == case[counter], counter
