import os
from collections.abc import Awaitable, Mapping, Sequence
from typing import Any, Final, Literal, TypedDict, final

from typing_extensions import Self, TypeAlias, Unpack, disjoint_base

from m2m_auth.aiohttp import BearerAuthMiddleware as _AiohttpMiddleware
from m2m_auth.httpx import BearerAuth as _HttpxAuth
from m2m_auth.httpx import CoreTransport as _HttpxTransport
from m2m_auth.requests import BearerAuth as _RequestsAuth
from m2m_auth.requests import CoreAdapter as _RequestsAdapter

_StrPath: TypeAlias = str | os.PathLike[str]
_AuthMethod: TypeAlias = Literal[
    "client_secret_post",
    "client_secret_basic",
    "client_secret_jwt",
    "private_key_jwt",
    "tls_client_auth",
    "self_signed_tls_client_auth",
]

__all__ = [
    "TokenClient",
    "Token",
    "ApiResponse",
    "MockServer",
    "RedisServer",
    "_after_fork_in_child",
    "token_rejected",
    "same_origin",
    "replay_with_new_token",
    "generate_signing_key",
    "self_signed_certificate",
    "Verifier",
    "Claims",
    "Policy",
    "www_authenticate",
    "bearer_token",
    "forwarded_certificate",
    "__version__",
    "M2MAuthError",
    "OAuthError",
    "TransportError",
    "InvalidResponse",
    "ConfigError",
    "InternalError",
]

__version__: Final[str]

def _after_fork_in_child() -> None: ...
def token_rejected(status: int, www_authenticate: Sequence[str]) -> bool: ...
def same_origin(a: str, b: str) -> bool: ...
def replay_with_new_token(
    status: int,
    www_authenticate: Sequence[str],
    answered_by_token_origin: bool,
    body_replayable: bool,
    already_replayed: bool,
) -> bool: ...
def generate_signing_key(alg: str) -> str: ...
def self_signed_certificate(subject: str) -> str: ...

class M2MAuthError(Exception):
    code: str
    status: int | None
    attempts: int

class OAuthError(M2MAuthError):
    error: str
    error_description: str | None
    error_uri: str | None

class TransportError(M2MAuthError):
    timeout: bool

class InvalidResponse(M2MAuthError): ...

class ConfigError(M2MAuthError):
    field: str

class InternalError(M2MAuthError): ...

@final
class Token:
    @property
    def access_token(self) -> str: ...
    @property
    def token_type(self) -> str: ...
    @property
    def scope(self) -> str | None: ...
    @property
    def expires_in(self) -> float: ...
    @property
    def expires_at(self) -> float: ...

@final
class ApiResponse:
    @property
    def status(self) -> int: ...
    @property
    def url(self) -> str: ...
    @property
    def headers(self) -> list[tuple[str, str]]: ...
    @property
    def body(self) -> bytes: ...
    @property
    def retried(self) -> bool: ...
    def text(self) -> str: ...
    def json(self) -> Any: ...

# The settings every constructor takes (at run time None also means unset). Durations are in seconds.
class _ClientSettings(TypedDict, total=False):
    client_id: str
    client_secret: str
    client_secret_file: _StrPath
    auth_method: _AuthMethod
    private_key: str | bytes | Mapping[str, Any]
    private_key_file: _StrPath
    private_key_id: str
    signing_alg: Literal["RS256", "PS256", "ES256"]
    assertion_audience: str
    client_cert: str | bytes
    client_cert_file: _StrPath
    client_key: str | bytes
    client_key_file: _StrPath
    ca_bundle: str | bytes
    ca_bundle_file: _StrPath
    scopes: Sequence[str]
    audience: str
    resources: Sequence[str]
    extra_params: Mapping[str, str] | Sequence[tuple[str, str]]
    timeout: float
    expiry_skew: float
    default_lifetime: float
    max_response_bytes: int
    max_attempts: int
    retry_backoff: float
    retry_max_backoff: float
    retry_deadline: float
    max_retry_after: float
    refresh_ratio: float
    allow_insecure_http: bool
    cache_url: str
    cache_prefix: str
    cache_timeout: float
    cache_lock_ttl: float
    cache_encryption_key: str

# The verifier's settings (m2m_auth::verify::VERIFIER_SETTINGS), and the client settings it introspects with.
class _VerifierSettings(TypedDict, total=False):
    jwks_url: str
    algorithms: Sequence[str]
    leeway: float
    required_scopes: Sequence[str]
    jwks_cooldown: float
    jwks_max_age: float
    strict_typ: bool
    timeout: float
    allow_insecure_http: bool
    ca_bundle: str | bytes
    ca_bundle_file: _StrPath
    introspection_url: str
    introspection_max_age: float
    realm: str
    cache_url: str
    cache_prefix: str
    cache_timeout: float
    cache_encryption_key: str
    client_id: str
    client_secret: str
    client_secret_file: _StrPath
    auth_method: _AuthMethod
    private_key: str | bytes | Mapping[str, Any]
    private_key_file: _StrPath
    private_key_id: str
    signing_alg: Literal["RS256", "PS256", "ES256"]
    assertion_audience: str
    client_cert: str | bytes
    client_cert_file: _StrPath
    client_key: str | bytes
    client_key_file: _StrPath

# Per-call parameters: each one left out takes the client's own setting.
class _CallParams(TypedDict, total=False):
    scopes: Sequence[str]
    audience: str
    resources: Sequence[str]
    extra_params: Mapping[str, str] | Sequence[tuple[str, str]]

@final
class TokenClient:
    def __new__(
        cls,
        *,
        token_url: str | None = None,
        issuer: str | None = None,
        _panic_on_fetch: bool | None = None,
        **settings: Unpack[_ClientSettings],
    ) -> TokenClient: ...
    @staticmethod
    def secureauth(
        *, tenant: str, region: str, workspace: str, **settings: Unpack[_ClientSettings]
    ) -> TokenClient: ...
    @staticmethod
    def from_issuer(issuer: str, /, **settings: Unpack[_ClientSettings]) -> TokenClient: ...
    @staticmethod
    def from_env() -> TokenClient: ...
    def get_token(self, **params: Unpack[_CallParams]) -> str: ...
    def fetch_token(self, **params: Unpack[_CallParams]) -> Token: ...
    def get_token_async(self, **params: Unpack[_CallParams]) -> Awaitable[str]: ...
    def fetch_token_async(self, **params: Unpack[_CallParams]) -> Awaitable[Token]: ...
    def invalidate(self, token: str | None = None) -> bool: ...
    def check_api_url(self, url: str) -> str: ...
    def call(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | Sequence[tuple[str, str]] | None = None,
        body: bytes | str | None = None,
        timeout: float = 30.0,
    ) -> ApiResponse: ...
    def call_async(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | Sequence[tuple[str, str]] | None = None,
        body: bytes | str | None = None,
        timeout: float = 30.0,
    ) -> Awaitable[ApiResponse]: ...
    def requests_auth(self, **options: Any) -> _RequestsAuth: ...
    def httpx_auth(self, **options: Any) -> _HttpxAuth: ...
    def requests_adapter(self) -> _RequestsAdapter: ...
    def httpx_transport(self) -> _HttpxTransport: ...
    def aiohttp_middleware(self, *, origins: str | Sequence[str], **options: Any) -> _AiohttpMiddleware: ...
    def stats(self) -> dict[str, Any]: ...
    @property
    def token_url(self) -> str | None: ...
    @property
    def issuer(self) -> str | None: ...
    @property
    def client_id(self) -> str: ...
    @property
    def auth_method(self) -> str: ...
    @property
    def scopes(self) -> list[str]: ...

@final
class RedisServer:
    def __new__(cls) -> RedisServer: ...
    @property
    def url(self) -> str: ...
    @property
    def pid(self) -> int | None: ...
    def stop(self) -> None: ...
    def restart(self) -> None: ...

@final
class MockServer:
    def __new__(cls, config_json: str | None = None) -> MockServer: ...
    @property
    def url(self) -> str: ...
    @property
    def issuer(self) -> str: ...
    @property
    def token_url(self) -> str: ...
    @property
    def mtls_token_url(self) -> str | None: ...
    @property
    def ca_pem(self) -> str | None: ...
    def issue_client_certificate(self, subject: str) -> tuple[str, str]: ...
    def register_client(self, client_json: str) -> None: ...
    def supported_auth_methods(self) -> list[str]: ...
    def token_requests(self, client_id: str | None = None) -> int: ...
    def tokens_issued(self) -> int: ...
    def push_faults(self, faults_json: str) -> None: ...
    def requests_json(self) -> str: ...
    @property
    def api_url(self) -> str: ...
    @property
    def mtls_api_url(self) -> str | None: ...
    def reject_next_api_tokens(self, count: int) -> None: ...
    def api_requests_json(self) -> str: ...
    def api_request_count(self) -> int: ...
    def set_token_lifetime(self, secs: int) -> None: ...
    def reset(self) -> None: ...
    def verify_access_token(self, token: str) -> str: ...
    def close(self) -> None: ...

@disjoint_base
class Verifier:
    def __new__(
        cls, *, issuer: str, audience: str | Sequence[str], **settings: Unpack[_VerifierSettings]
    ) -> Self: ...
    def verify(
        self, token: str, client_cert: bytes | str | None = None, policy: Policy | None = None
    ) -> Claims: ...
    def verify_async(
        self, token: str, client_cert: bytes | str | None = None, policy: Policy | None = None
    ) -> Awaitable[Claims]: ...
    @property
    def realm(self) -> str | None: ...

@final
class Claims:
    @property
    def issuer(self) -> str: ...
    @property
    def subject(self) -> str | None: ...
    @property
    def client_id(self) -> str | None: ...
    @property
    def scopes(self) -> list[str]: ...
    @property
    def audience(self) -> list[str]: ...
    @property
    def expires_at(self) -> float: ...
    @property
    def claims(self) -> dict[str, Any]: ...
    def __getitem__(self, name: str, /) -> Any: ...
    def get(self, name: str, default: Any = None) -> Any: ...
    def __contains__(self, name: str, /) -> bool: ...

@final
class Policy:
    @staticmethod
    def all_scopes(scopes: Sequence[str]) -> Policy: ...
    @staticmethod
    def any_scope(scopes: Sequence[str]) -> Policy: ...
    @staticmethod
    def client_ids(client_ids: Sequence[str]) -> Policy: ...
    @staticmethod
    def claim_equals(name: str, value: Any) -> Policy: ...
    @staticmethod
    def claim_one_of(name: str, values: Sequence[Any]) -> Policy: ...
    @staticmethod
    def all_of(policies: Sequence[Policy]) -> Policy: ...
    @staticmethod
    def any_of(policies: Sequence[Policy]) -> Policy: ...
    def __and__(self, other: Policy, /) -> Policy: ...
    def __rand__(self, other: Policy, /) -> Policy: ...
    def __or__(self, other: Policy, /) -> Policy: ...
    def __ror__(self, other: Policy, /) -> Policy: ...

def www_authenticate(
    class_name: str, description: str, required_scopes: Sequence[str], realm: str | None = None
) -> str: ...
def bearer_token(authorization: str | None) -> str: ...
def forwarded_certificate(values: Sequence[str]) -> str | None: ...
