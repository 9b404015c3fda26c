//! The token-endpoint client authentication methods (RFC 6749 §2.3, RFC 7523, OIDC Core §9,
//! RFC 8705), under the names the IANA "OAuth Token Endpoint Authentication Methods" registry uses.

/// HTTP Basic with the url-encoded id and secret (RFC 6749 §2.3.1).
pub const CLIENT_SECRET_BASIC: &str = "client_secret_basic";
/// `client_id` and `client_secret` form fields (RFC 6749 §2.3.1).
pub const CLIENT_SECRET_POST: &str = "client_secret_post";
/// A JWT assertion signed with HS256, keyed by the client secret (OIDC Core §9, RFC 7523).
pub const CLIENT_SECRET_JWT: &str = "client_secret_jwt";
/// A JWT assertion signed with the client's private key (RS256, PS256 or ES256), verified with its
/// registered JWKS (OIDC Core §9, RFC 7523).
pub const PRIVATE_KEY_JWT: &str = "private_key_jwt";
/// A client certificate issued by the mock's client CA, with the registered subject DN (RFC 8705 §2.1).
pub const TLS_CLIENT_AUTH: &str = "tls_client_auth";
/// A self-signed client certificate registered in the client's JWKS `x5c` (RFC 8705 §2.2).
pub const SELF_SIGNED_TLS_CLIENT_AUTH: &str = "self_signed_tls_client_auth";

/// Every client authentication method this server implements, in the order it advertises them.
pub const SUPPORTED_AUTH_METHODS: [&str; 6] = [
    CLIENT_SECRET_BASIC,
    CLIENT_SECRET_POST,
    CLIENT_SECRET_JWT,
    PRIVATE_KEY_JWT,
    TLS_CLIENT_AUTH,
    SELF_SIGNED_TLS_CLIENT_AUTH,
];

/// The methods that prove possession of the shared client secret.
pub(crate) const SECRET_METHODS: [&str; 3] =
    [CLIENT_SECRET_BASIC, CLIENT_SECRET_POST, CLIENT_SECRET_JWT];

/// The methods that need a client certificate, so only work when the server serves TLS.
pub(crate) const TLS_METHODS: [&str; 2] = [TLS_CLIENT_AUTH, SELF_SIGNED_TLS_CLIENT_AUTH];

/// JWS algorithms accepted in client assertions, as advertised in
/// `token_endpoint_auth_signing_alg_values_supported`.
pub const ASSERTION_SIGNING_ALGS: [&str; 4] = ["HS256", "RS256", "PS256", "ES256"];

/// Whether `method` is one of [`SUPPORTED_AUTH_METHODS`]; returns the `'static` name.
pub(crate) fn known(method: &str) -> Option<&'static str> {
    SUPPORTED_AUTH_METHODS
        .iter()
        .copied()
        .find(|m| *m == method)
}
