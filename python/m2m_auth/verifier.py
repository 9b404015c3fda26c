"""The receiving side: ``Verifier`` checks the access tokens a service is called with.

>>> from m2m_auth import Verifier
>>> verifier = Verifier(issuer="https://idp.example/acme", audience="payments-api")
>>> claims = verifier.verify(token)                      # TokenInvalid (401), InsufficientScope (403), …
>>> claims.client_id, claims.scopes

Every check is the core's; this module adds what a web framework route needs: ``require()``, whose result is
a FastAPI/Starlette dependency (see ``m2m_auth.starlette``), and the policy its arguments describe.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from m2m_auth import _native
from m2m_auth._native import Claims, Policy

if TYPE_CHECKING:
    from m2m_auth.starlette import Requirement

__all__ = ["Claims", "Policy", "Verifier", "route_policy"]


def route_policy(
    *,
    scopes: Sequence[str] | None = None,
    any_scopes: Sequence[str] | None = None,
    client_ids: Sequence[str] | None = None,
    claims: Mapping[str, Any] | None = None,
    policy: Policy | None = None,
) -> Policy | None:
    """The policy of a route: every one of ``scopes``, at least one of ``any_scopes``, a client among
    ``client_ids``, each claim of ``claims`` equal to its value, and ``policy``; ``None`` when none is
    given."""
    parts: list[Policy] = []
    if scopes:
        parts.append(Policy.all_scopes(scopes))
    if any_scopes:
        parts.append(Policy.any_scope(any_scopes))
    if client_ids:
        parts.append(Policy.client_ids(client_ids))
    for name, value in (claims or {}).items():
        parts.append(Policy.claim_equals(name, value))
    if policy is not None:
        parts.append(policy)
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else Policy.all_of(parts)


class Verifier(_native.Verifier):
    """Checks access tokens for one issuer and audience. Share one per service (it caches keys and tokens)."""

    def require(
        self,
        *,
        scopes: Sequence[str] | None = None,
        any_scopes: Sequence[str] | None = None,
        client_ids: Sequence[str] | None = None,
        claims: Mapping[str, Any] | None = None,
        policy: Policy | None = None,
        client_cert_header: str | None = None,
    ) -> Requirement:
        """A FastAPI/Starlette dependency that answers the route's requests with their ``Claims``, or
        401/403/503 with the right ``WWW-Authenticate``:
        ``Depends(verifier.require(scopes=["payments.read"]))``. ``client_cert_header``: the header in
        which a trusted proxy passes the client certificate."""
        from m2m_auth.starlette import Requirement

        return Requirement(
            self,
            route_policy(
                scopes=scopes, any_scopes=any_scopes, client_ids=client_ids, claims=claims, policy=policy
            ),
            client_cert_header=client_cert_header,
        )
