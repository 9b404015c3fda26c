"""The Python implementations compared: m2m-auth, its peers used as their own docs show, and the floors.

Each implementation is a class whose instance is one fresh client (empty cache). Its `get` attribute is the
one call a service makes to get the current token: a bound method or a small function, so that every
implementation costs exactly one Python-level call on top of its own work. `mode` says how it is called:
"sync" (from threads) or "async" (awaited, from asyncio tasks).

Expiry margins: Authlib's `leeway` (60 s) and httpx-auth's `early_expiry` (30 s) are longer than the 2 s
tokens of the rotation metric, which would make every call fetch; both are set to (almost) 0, so they
re-fetch when the token expires, like the hand-written caches. m2m-auth keeps its defaults (its skew is capped
at a tenth of the lifetime, and it refreshes in the background at 80% of it).
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

# oauthlib refuses plain http:// token endpoints; the benchmark's mock authorization server is on loopback.
os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")


@dataclass(frozen=True)
class Endpoint:
    token_url: str
    client_id: str
    client_secret: str
    # The shared cache, for m2m-auth-redis only (the others ignore it): the Redis URL, and a prefix of the
    # measurement's own, so that no measurement finds the token an earlier one left in Redis.
    cache_url: str = ""
    cache_prefix: str = ""


class Floor:
    """The floor: a Python method returning an attribute."""

    name = "floor"
    label = "floor: method returning an attribute"
    mode = "sync"
    floor = True

    def __init__(self, ep: Endpoint) -> None:
        self._token = "eyJ.floor.token"
        self.get: Callable[[], str] = self.token

    def token(self) -> str:
        return self._token


class AsyncFloor:
    """The asyncio floor: an awaited `async def` returning an attribute (for get_token_async)."""

    name = "floor-async"
    label = "floor: awaited async method returning an attribute"
    mode = "async"
    floor = True

    def __init__(self, ep: Endpoint) -> None:
        self._token = "eyJ.floor.token"
        self.get: Callable[[], Any] = self.token

    async def token(self) -> str:
        return self._token


class M2MAuth:
    """m2m-auth: `client.get_token()`."""

    name = "m2m-auth"
    label = "m2m-auth get_token()"
    mode = "sync"
    floor = False

    def __init__(self, ep: Endpoint) -> None:
        from m2m_auth import TokenClient

        self.client = TokenClient(
            token_url=ep.token_url, client_id=ep.client_id, client_secret=ep.client_secret
        )
        self.get: Callable[[], Any] = self.client.get_token


class M2MAuthAsync(M2MAuth):
    """m2m-auth in asyncio: `await client.get_token_async()`."""

    name = "m2m-auth-async"
    label = "m2m-auth await get_token_async()"
    mode = "async"

    def __init__(self, ep: Endpoint) -> None:
        super().__init__(ep)
        self.get = self.client.get_token_async


class M2MAuthRedis(M2MAuth):
    """m2m-auth with the shared cache: `TokenClient(…, cache_url="redis://…")`. Only in the fleet metric and
    the cached get with Redis configured (FLEET, not ALL), so that the other metrics stay as they were."""

    name = "m2m-auth-redis"
    label = "m2m-auth get_token(), cache_url=redis://…"

    def __init__(self, ep: Endpoint) -> None:
        from m2m_auth import TokenClient

        self.client = TokenClient(
            token_url=ep.token_url,
            client_id=ep.client_id,
            client_secret=ep.client_secret,
            cache_url=ep.cache_url,
            cache_prefix=ep.cache_prefix,
        )
        self.get = self.client.get_token


class Authlib:
    """Authlib's requests OAuth2Session with grant_type client_credentials: `fetch_token` once, then its
    automatic refresh (`ensure_active_token` re-fetches a client_credentials token once it has expired)."""

    name = "authlib"
    label = "Authlib OAuth2Session"
    mode = "sync"
    floor = False

    def __init__(self, ep: Endpoint) -> None:
        from authlib.integrations.requests_client import OAuth2Session

        session = OAuth2Session(
            ep.client_id,
            ep.client_secret,
            token_endpoint=ep.token_url,
            grant_type="client_credentials",
            leeway=0,
        )
        self.session = session

        def get() -> str:
            if not session.token:
                session.fetch_token(ep.token_url, grant_type="client_credentials")
            session.ensure_active_token(session.token)
            return session.token["access_token"]

        self.get = get


class HttpxAuth:
    """httpx-auth's OAuth2ClientCredentials. The token step of its `auth_flow`, as every request runs it:
    `OAuth2.token_cache.get_token(state, early_expiry, on_missing_token=request_new_token)`."""

    name = "httpx-auth"
    label = "httpx-auth OAuth2ClientCredentials"
    mode = "sync"
    floor = False

    def __init__(self, ep: Endpoint) -> None:
        from httpx_auth import OAuth2, OAuth2ClientCredentials

        OAuth2.token_cache.clear()  # its cache is process-wide: a fresh client must not find old tokens
        # early_expiry=0 is read as "unset" (30 s) by httpx-auth 0.23 (`float(x or 30.0)`), hence 1 ms.
        auth = OAuth2ClientCredentials(ep.token_url, ep.client_id, ep.client_secret, early_expiry=0.001)
        cache = OAuth2.token_cache
        state, early_expiry = auth.state, auth.early_expiry
        fetch, refresh = auth.request_new_token, auth.refresh_token

        def get() -> str:
            return cache.get_token(
                state, early_expiry=early_expiry, on_missing_token=fetch, on_expired_token=refresh
            )

        self.get = get


class RequestsOAuthlib:
    """requests-oauthlib: BackendApplicationClient + OAuth2Session.fetch_token, with the usual hand-written
    cache around it (fetch again once `expires_at` has passed)."""

    name = "requests-oauthlib"
    label = "requests-oauthlib + hand-written cache"
    mode = "sync"
    floor = False

    def __init__(self, ep: Endpoint) -> None:
        from oauthlib.oauth2 import BackendApplicationClient
        from requests_oauthlib import OAuth2Session

        oauth = OAuth2Session(client=BackendApplicationClient(client_id=ep.client_id))
        token: dict[str, Any] | None = None

        def get() -> str:
            nonlocal token
            if token is None or token["expires_at"] <= time.time():
                token = oauth.fetch_token(
                    token_url=ep.token_url, client_id=ep.client_id, client_secret=ep.client_secret
                )
            return token["access_token"]

        self.get = get


class VendorSnippet:
    """The identity provider's docs snippet (requests.post of grant_type=client_credentials) with a naive
    dict-and-lock cache: the lock guards the dict, not the request."""

    name = "vendor-snippet"
    label = "vendor snippet: requests.post + dict/lock cache"
    mode = "sync"
    floor = False

    def __init__(self, ep: Endpoint) -> None:
        import requests

        cache: dict[str, tuple[str, float]] = {}
        lock = threading.Lock()

        def get() -> str:
            with lock:
                entry = cache.get("token")
                if entry is not None and entry[1] > time.time():
                    return entry[0]
            resp = requests.post(
                ep.token_url,
                data={
                    "grant_type": "client_credentials",
                    "client_id": ep.client_id,
                    "client_secret": ep.client_secret,
                },
                timeout=10,
            )
            resp.raise_for_status()
            body = resp.json()
            with lock:
                cache["token"] = (body["access_token"], time.time() + body["expires_in"])
            return body["access_token"]

        self.get = get


ALL = [Floor, AsyncFloor, M2MAuth, M2MAuthAsync, Authlib, HttpxAuth, RequestsOAuthlib, VendorSnippet]
# The fleet metric: m2m-auth with Redis and with its memory cache only, and every peer (sync: each process
# runs its callers in threads; m2m-auth-async would be the same client).
FLEET = [M2MAuthRedis, M2MAuth, Authlib, HttpxAuth, RequestsOAuthlib, VendorSnippet]
BY_NAME = {impl.name: impl for impl in ALL + FLEET}

# What `import` costs for each (footprint metric): the module a service imports to use it.
IMPORTS = {
    "m2m-auth": "m2m_auth",
    "authlib": "authlib.integrations.requests_client",
    "httpx-auth": "httpx_auth",
    "requests-oauthlib": "requests_oauthlib",
    "vendor-snippet": "requests",
}


# ---------------------------------------------------------------------------------------------- verifiers
# The receiving side: a service checking the access tokens it is called with. Each verifier class is one
# fresh verifier (no keys fetched yet); its `verify` attribute is the one call a service makes per request,
# taking the token and returning the claims (or raising). The peers are configured to make the checks
# m2m-auth makes by default: signature with a key of the issuer's JWKS, ES256 only (m2m-auth accepts RS256,
# PS256, ES256 and EdDSA, never none or HMAC), `iss`, `aud`, `exp` required, `nbf`/`iat` not in the future,
# LEEWAY_SECS of clock difference (m2m-auth's default leeway).

LEEWAY_SECS = 30
ALGORITHMS = ["ES256"]


@dataclass(frozen=True)
class Issuer:
    """The issuer that verifiers trust: its URL (also the tokens' `aud` here), and its metadata's
    `jwks_uri` for the peers that take the JWKS URL (m2m-auth reads it from the metadata itself)."""

    issuer: str
    audience: str
    jwks_uri: str


class VerifyM2MAuth:
    """m2m-auth: `Verifier(issuer=…, audience=…)`, `verifier.verify(token)` (defaults otherwise)."""

    name = "m2m-auth"
    label = "m2m-auth Verifier.verify()"
    mode = "sync"

    def __init__(self, iss: Issuer) -> None:
        from m2m_auth import Verifier

        self.verifier = Verifier(issuer=iss.issuer, audience=iss.audience)
        self.verify: Callable[[str], Any] = self.verifier.verify


class VerifyM2MAuthAsync(VerifyM2MAuth):
    """m2m-auth in asyncio: `await verifier.verify_async(token)`."""

    name = "m2m-auth-async"
    label = "m2m-auth await Verifier.verify_async()"
    mode = "async"

    def __init__(self, iss: Issuer) -> None:
        super().__init__(iss)
        self.verify = self.verifier.verify_async


class VerifyPyJWT:
    """PyJWT as its docs show: `PyJWKClient(jwks_uri)` (its JWK Set cached 300 s, a refresh for an unknown
    kid at most every 30 s), `get_signing_key_from_jwt(token)`, then `jwt.decode(token, key, …)`."""

    name = "pyjwt"
    label = "PyJWT PyJWKClient + jwt.decode"
    mode = "sync"

    def __init__(self, iss: Issuer) -> None:
        import jwt

        jwks_client = jwt.PyJWKClient(iss.jwks_uri)
        decode, get_key = jwt.decode, jwks_client.get_signing_key_from_jwt
        options = {"require": ["exp", "iss", "aud"]}

        def verify(token: str) -> Any:
            return decode(
                token,
                get_key(token),
                algorithms=ALGORITHMS,
                audience=iss.audience,
                issuer=iss.issuer,
                leeway=LEEWAY_SECS,
                options=options,
            )

        self.jwks_client = jwks_client
        self.verify = verify


class VerifyJoserfc:
    """joserfc: `jwt.decode(token, key, algorithms=["ES256"])` + `JWTClaimsRegistry(…).validate(claims)`.
    joserfc fetches no JWKS itself, so the key is a small hand-written resolver (the callable key joserfc
    takes): it fetches the JWKS on first use and again when a token's kid is not in it (how such code
    follows a key rotation), with no cooldown."""

    name = "joserfc"
    label = "joserfc jwt.decode + hand-written JWKS fetch"
    mode = "sync"

    def __init__(self, iss: Issuer) -> None:
        import json
        import urllib.request

        from joserfc import jwt
        from joserfc.errors import InvalidKeyIdError
        from joserfc.jwk import KeySet

        registry = jwt.JWTClaimsRegistry(
            leeway=LEEWAY_SECS,
            iss={"essential": True, "value": iss.issuer},
            aud={"essential": True, "value": iss.audience},
            exp={"essential": True},
        )
        keys: list[KeySet] = []

        def fetch() -> KeySet:
            with urllib.request.urlopen(iss.jwks_uri, timeout=10) as resp:
                key_set = KeySet.import_key_set(json.loads(resp.read()))
            keys[:] = [key_set]
            return key_set

        def key(obj: Any) -> Any:
            kid = obj.headers().get("kid")
            key_set = keys[0] if keys else fetch()
            try:
                return key_set.get_by_kid(kid)
            except InvalidKeyIdError:  # not there: the keys may have rotated
                return fetch().get_by_kid(kid)

        decode, validate = jwt.decode, registry.validate

        def verify(token: str) -> Any:
            claims = decode(token, key, algorithms=ALGORITHMS).claims
            validate(claims)
            return claims

        self.verify = verify


VERIFIERS = [VerifyM2MAuth, VerifyM2MAuthAsync, VerifyPyJWT, VerifyJoserfc]
