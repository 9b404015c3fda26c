"""m2m-auth in Python, against the bundled mock authorization server (no network, no account needed)."""

import asyncio
from concurrent.futures import ThreadPoolExecutor

from m2m_auth import InsufficientScope, OAuthError, Policy, TokenClient, Verifier
from m2m_auth.testing import MockAuthServer


def main() -> None:
    with MockAuthServer() as server:  # registers demo-client / demo-secret
        print(f"mock authorization server at {server.url}")
        client = TokenClient(
            token_url=server.token_url,
            client_id="demo-client",
            client_secret="demo-secret",
            scopes=["payments.read"],
        )
        print(repr(client))  # the secret is never shown

        # 100 threads and 100 asyncio tasks ask at once: the token endpoint sees one request.
        with ThreadPoolExecutor(max_workers=32) as pool:
            tokens = set(pool.map(lambda _: client.get_token(), range(100)))

        async def many() -> set[str]:
            return set(await asyncio.gather(*(client.get_token_async() for _ in range(100))))

        tokens |= asyncio.run(many())
        token = client.fetch_token()
        claims = server.verify_access_token(token.access_token)
        print(f"200 callers got {len(tokens)} token; token endpoint requests: {server.token_requests()}")
        print(f"{token!r}")
        print(f"claims: sub={claims['sub']} scope={claims['scope']} aud={claims['aud']}")

        # The receiving side: the API checks the token (signature with the issuer's JWKS, claims, scopes).
        verifier = Verifier(issuer=server.issuer, audience=server.issuer, realm="payments")
        checked = verifier.verify(token.access_token)
        print(f"verified: client={checked.client_id} scopes={checked.scopes}")
        try:
            verifier.verify(token.access_token, policy=Policy.all_scopes(["payments.write"]))
        except InsufficientScope as e:
            challenge = e.www_authenticate(verifier.realm)
            print(f"route needs payments.write -> {e.status} WWW-Authenticate: {challenge}")

        bad = TokenClient(token_url=server.token_url, client_id="demo-client", client_secret="not-the-secret")
        try:
            bad.get_token()
        except OAuthError as e:
            print(f"wrong secret -> {type(e).__name__} error={e.error} status={e.status}")


if __name__ == "__main__":
    main()
