from collections.abc import Awaitable, Sequence
from typing import Any, Final, Optional

__version__: Final[str]

def _after_fork_in_child() -> None: ...

class M2MAuthError(Exception):
    code: str
    status: Optional[int]

class OAuthError(M2MAuthError):
    error: str
    error_description: Optional[str]
    error_uri: Optional[str]

class TransportError(M2MAuthError):
    timeout: bool

class InvalidResponse(M2MAuthError): ...

class ConfigError(M2MAuthError):
    field: str

class InternalError(M2MAuthError): ...

class Token:
    @property
    def access_token(self) -> str: ...
    @property
    def token_type(self) -> str: ...
    @property
    def scope(self) -> Optional[str]: ...
    @property
    def expires_in(self) -> float: ...
    @property
    def expires_at(self) -> float: ...

class TokenClient:
    def __new__(
        cls,
        *,
        token_url: Optional[str] = None,
        client_id: Optional[str] = None,
        client_secret: Optional[str] = None,
        auth_method: Optional[str] = None,
        scopes: Optional[Sequence[str]] = None,
        audience: Optional[str] = None,
        resources: Optional[Sequence[str]] = None,
        extra_params: Optional[Sequence[tuple[str, str]]] = None,
        timeout: Optional[float] = None,
        expiry_skew: Optional[float] = None,
        default_lifetime: Optional[float] = None,
        max_response_bytes: Optional[float] = None,
        allow_insecure_http: Optional[bool] = None,
    ) -> TokenClient: ...
    @staticmethod
    def secureauth(
        *,
        tenant: str,
        region: str,
        workspace: str,
        client_id: Optional[str] = None,
        client_secret: Optional[str] = None,
        auth_method: Optional[str] = None,
        scopes: Optional[Sequence[str]] = None,
        audience: Optional[str] = None,
        resources: Optional[Sequence[str]] = None,
        extra_params: Optional[Sequence[tuple[str, str]]] = None,
        timeout: Optional[float] = None,
        expiry_skew: Optional[float] = None,
        default_lifetime: Optional[float] = None,
        max_response_bytes: Optional[float] = None,
    ) -> TokenClient: ...
    @staticmethod
    def from_env() -> TokenClient: ...
    def get_token(
        self,
        *,
        scopes: Optional[Sequence[str]] = None,
        audience: Optional[str] = None,
        resources: Optional[Sequence[str]] = None,
    ) -> str: ...
    def fetch_token(
        self,
        *,
        scopes: Optional[Sequence[str]] = None,
        audience: Optional[str] = None,
        resources: Optional[Sequence[str]] = None,
    ) -> Token: ...
    def get_token_async(
        self,
        *,
        scopes: Optional[Sequence[str]] = None,
        audience: Optional[str] = None,
        resources: Optional[Sequence[str]] = None,
    ) -> Awaitable[str]: ...
    def fetch_token_async(
        self,
        *,
        scopes: Optional[Sequence[str]] = None,
        audience: Optional[str] = None,
        resources: Optional[Sequence[str]] = None,
    ) -> Awaitable[Token]: ...
    def invalidate(self) -> None: ...
    def stats(self) -> dict[str, Any]: ...
    @property
    def token_url(self) -> str: ...
    @property
    def client_id(self) -> str: ...
    @property
    def auth_method(self) -> str: ...
    @property
    def scopes(self) -> list[str]: ...

class MockServer:
    def __new__(cls, config_json: Optional[str] = None) -> MockServer: ...
    @property
    def url(self) -> str: ...
    @property
    def issuer(self) -> str: ...
    @property
    def token_url(self) -> str: ...
    def token_requests(self, client_id: Optional[str] = None) -> int: ...
    def tokens_issued(self) -> int: ...
    def push_faults(self, faults_json: str) -> None: ...
    def requests_json(self) -> str: ...
    def set_token_lifetime(self, secs: int) -> None: ...
    def reset(self) -> None: ...
    def verify_access_token(self, token: str) -> str: ...
    def close(self) -> None: ...
