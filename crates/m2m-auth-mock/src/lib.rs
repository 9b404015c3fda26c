//! `m2m-auth-mock`: a real, standards-conformant OAuth 2.0 authorization server for the client
//! credentials grant, bound to 127.0.0.1, for tests and demos of m2m-auth.
//!
//! It implements the token endpoint (RFC 6749 §4.4) with every client authentication method of
//! SecureAuth Connect — `client_secret_basic`, `client_secret_post`, `client_secret_jwt`,
//! `private_key_jwt` (RFC 7523), and with `tls: true` HTTPS plus `tls_client_auth` and
//! `self_signed_tls_client_auth` on an mTLS endpoint alias, with certificate-bound tokens
//! (RFC 8705) — ES256-signed JWT access tokens (RFC 9068), JWKS, RFC 8414 metadata, request
//! counters and recording, fault injection, and an admin API under `/mock/`; a protected
//! resource under `/api/` that accepts those tokens as a real API does; and a test bench for
//! token verifiers: RFC 7662 introspection, key rotation, tokens minted to order and outages of
//! the endpoints a verifier reads. [`testkeys`] makes the keys
//! and certificates such clients need.
//!
//! # Client authentication
//!
//! Each [`RegisteredClient`] names the methods it may use (`auth_methods`, default Basic and post);
//! [`MockConfig::auth_methods_supported`] narrows what the server offers. A request that uses two
//! methods at once is `invalid_request`; every other failure is `401 invalid_client` with an
//! `error_description` saying what was wrong.
//!
//! - `client_secret_jwt` / `private_key_jwt`: `client_assertion_type` =
//!   `urn:ietf:params:oauth:client-assertion-type:jwt-bearer`, `client_assertion` = a JWS with `alg`
//!   HS256 (keyed by the client secret) or RS256, PS256, ES256 (verified with the client's `jwks`,
//!   by `kid` when the header has one); `iss` = `sub` = the client id (and `client_id`, if sent);
//!   `aud` the token endpoint URL called or the issuer (or an array holding one); `exp` required,
//!   in the future and at most [`MAX_ASSERTION_LIFETIME_SECS`] ahead; `iat` and `nbf` not in the
//!   future; [`CLOCK_LEEWAY_SECS`] of leeway; `jti` required and accepted once per client until
//!   `exp`.
//! - `tls_client_auth` / `self_signed_tls_client_auth` (with `tls: true`): the request sends its
//!   `client_id` to [`MockServer::mtls_token_url`] with a client certificate issued by
//!   [`MockServer::issue_client_certificate`] whose subject is the registered
//!   `tls_client_auth_subject_dn`, or one of the certificates in the `x5c` of the client's `jwks`.
//!   Any request that presents a certificate there gets a token bound to it
//!   (`cnf.x5t#S256`, RFC 8705 §3).
//!
//! # Protected resource (`/api/…`)
//!
//! [`MockServer::api_url`] (and with `tls` [`MockServer::mtls_api_url`], on the alias) is an API
//! that checks access tokens as a resource server does, for testing the HTTP integrations of
//! clients. Any method, any path below `/api`. It checks them with m2m-auth's own `Verifier`, one
//! per server, built at start for the server's issuer and API audience, reading the server's JWKS
//! over HTTP (`jwks_url` [`MockServer::jwks_url`]; with `tls` trusting [`MockServer::ca_pem`]),
//! with no leeway and no JWKS cooldown; a key rotation starts it afresh. A request is authorized
//! when its `Authorization: Bearer <token>` (scheme in any case; the header only) carries a JWT
//! this server's current key signed, unexpired, whose `iss` is the issuer and whose `aud` is or
//! contains [`MockConfig::api_audience`] (default: the issuer, the `aud` of tokens requested
//! without `audience`/`resource`), and — when the token has `cnf.x5t#S256` — that arrives on a
//! connection presenting the certificate of that thumbprint (RFC 8705 §3; only the mTLS alias asks
//! for one). The query parameter `require_scope=payments.read` (repeatable, space-separated) makes
//! the request need those scopes (from `scope`, or an `scp` array). Opaque tokens are not
//! accepted. Answers (RFC 6750 §3; error bodies are JSON `{"ok": false, "error",
//! "error_description"}`, the description the Verifier's):
//!
//! - authorized: `200` `{"ok": true, "sub", "scope", "method", "path", "query", "body", "bound"}`
//!   (`query` raw without `?`, `body` the request body as UTF-8 text, `bound` whether the token
//!   was certificate-bound);
//! - no `Authorization`, or another scheme: `401`, `WWW-Authenticate: Bearer realm="m2m-auth-mock"`;
//! - a bad, expired, other-audience or wrongly bound token: `401`,
//!   `WWW-Authenticate: Bearer realm="m2m-auth-mock", error="invalid_token", error_description="…"`
//!   (an expired token's description is "the token expired");
//! - a valid token without a required scope: `403`, `… error="insufficient_scope",
//!   error_description="…", scope="<the required scopes>"`;
//! - malformed credentials (two `Authorization` headers, `Bearer` without a token) or
//!   `require_scope`: `400`, `… error="invalid_request" …`; a body over [`MAX_API_BODY_BYTES`]: `413`;
//! - a token that cannot be checked because the verifier has no keys and cannot fetch the JWKS
//!   (e.g. a JWKS outage before its first fetch): `503`, `WWW-Authenticate: Bearer
//!   realm="m2m-auth-mock"`, `"error": null`. Once it has keys, a JWKS outage does not affect it.
//!
//! [`MockServer::reject_next_api_tokens`] (`POST /mock/api/reject {"count": n}`) makes the next n
//! requests with an otherwise valid token get the `invalid_token` answer with
//! `error_description="the access token expired"`. Every request is recorded as an [`ApiRequest`]
//! ([`MockServer::api_requests`], `GET /mock/api/requests`), whatever its outcome.
//!
//! `/api/redirect?to=<url>&status=<301|302|303|307|308>` (any method, default 302) answers that
//! status with `Location: <to>` whatever the credentials, and is recorded too (outcome
//! "redirect"): point `to` at another mock's `api_url` (another origin) and check there that the
//! token did not follow. `to` is an absolute http(s) URL or a path starting with `/`.
//!
//! # Verifier test bench
//!
//! For testing the receiving side (a `Verifier` checking JWTs with the JWKS and opaque tokens by
//! introspection); all of it over HTTP, so the shared JSON vectors drive it from any language.
//!
//! - `POST /oauth2/introspect` ([`MockServer::introspection_url`], also on the mTLS alias; both
//!   in the metadata, with `introspection_endpoint_auth_methods_supported`): RFC 7662. The
//!   caller authenticates exactly as at the token endpoint (any supported method; an assertion's
//!   `aud` may be the introspection URL called, the token URL or the issuer); without valid
//!   credentials `401 invalid_client`, without `token` `400 invalid_request`. Answers `200`
//!   `{"active": true, …claims, "token_type": "Bearer"}` for an active, unexpired, started opaque
//!   token minted here or a JWT that the current key signed and that is unexpired; else
//!   `{"active": false}`. Recorded in `GET /mock/requests` (path `/oauth2/introspect`, outcome
//!   "active", "inactive", "fault" or the error code).
//! - `POST /mock/keys/rotate` ([`MockServer::rotate_keys`]) → `{"kid"}`: a fresh ES256 key signs
//!   from now on and is the only key in the JWKS; tokens of the old key stop verifying here.
//! - `POST /mock/tokens` ([`MockServer::mint_tokens`]) → `{"token": first, "tokens": [all]}`.
//!   Body, every field optional (an empty body is `{}`):
//!   - `claims`: merged over the defaults `iss` (the issuer), `aud` ([`MockServer::api_audience`]),
//!     `sub` and `client_id` "svc-vectors", `scope` "payments.read", `iat` = now + `iat_in`
//!     (default 0), `exp` = now + `exp_in` (default 300), `nbf` = now + `nbf_in` (only when
//!     given), `jti` random; a claim given as `null` is removed. Offsets are integer seconds and
//!     may be negative.
//!   - `header`: merged over `{"alg": "ES256", "typ": "at+jwt", "kid": <current kid>}`, `null`
//!     removing a member; applied after `sign` set its `alg`/`kid`.
//!   - `sign`: "server" (default), "other_key" (a fresh ES256 key not in the JWKS, with a random
//!     `kid` unless `header.kid` is given), "none" (`alg` "none", empty signature: `h.p.`),
//!     "hs256_public_key" (`alg` "HS256", HMAC-SHA256 keyed with the server's public key as SPKI
//!     PEM text: 64-character lines, LF, a final newline).
//!   - `tamper`: "payload" (after signing, the payload is replaced by one whose `sub` is
//!     "attacker"; the signature stays) or "signature" (the bits of its first byte flipped).
//!   - `count` (1 to 10 000, default 1) tokens, each with its own `jti`; `distinct_kids: true`
//!     gives each its own random `kid` (meant for "other_key"; not with `header.kid`).
//!   - `opaque: true`: 32 random bytes, base64url, instead of a JWT; the server remembers the
//!     claims (the same defaults and overrides) and `active` (default true) for introspection,
//!     the last 100 000 of them. `header`, `sign`, `tamper` and `distinct_kids` do not apply.
//!
//!   An unknown field, `sign` or `tamper` value is a `400 invalid_request` naming it.
//! - `POST /mock/outage` ([`MockServer::set_outage`]) with `{"endpoint": "jwks" | "introspection"
//!   | "metadata", …}` and exactly one of `"status": n` (that status, body
//!   `{"error": "temporarily_unavailable", …}`), `"delay_ms": n` (the normal answer after n ms),
//!   `"drop_connection": true` (status and headers, then the connection drops), `"up": true`
//!   (restored) → `{"endpoint", "down": bool}`. "metadata" is both well-known paths. Lasts until
//!   `up` or reset.
//! - `GET /mock/stats` also counts `jwks_requests`, `introspection_requests` and
//!   `metadata_requests`: every request, whatever the answer (outage answers too). The protected
//!   API's own JWKS fetches count too: one at its first token, one at its first token after a
//!   rotation, and one for each token whose `kid` its keys lack. A test that counts the JWKS
//!   requests of its own verifier should not call `/api` meanwhile.
//!   `POST /mock/reset` zeroes them, ends outages and forgets opaque tokens; the key stays.
//!
//! ```no_run
//! # async fn demo() -> Result<(), m2m_auth_mock::MockError> {
//! use m2m_auth_mock::{Fault, MockConfig, MockServer};
//! let server = MockServer::start(MockConfig::default()).await?;
//! server.push_faults(vec![Fault::status(503).with_header("Retry-After", "1")]);
//! println!("token endpoint: {}", server.token_url());
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]

mod admin;
mod api;
mod auth_method;
mod basic_auth;
mod client_assertion;
mod client_auth;
mod client_cert_auth;
mod config;
mod connection;
mod discovery;
mod dn;
mod error;
mod fault_response;
mod faults;
mod forge;
mod form;
mod grant;
mod introspection;
mod issue;
mod jwk;
mod jws;
mod jwt;
mod mint;
mod oauth_error;
mod opaque;
mod outage;
mod recorder;
mod redis_server;
mod registered_client;
mod replay;
mod router;
mod server;
mod state;
pub mod testkeys;
mod tls;
mod token_endpoint;

pub use api::{ApiRequest, MAX_API_BODY_BYTES};
pub use auth_method::{
    ASSERTION_SIGNING_ALGS, CLIENT_SECRET_BASIC, CLIENT_SECRET_JWT, CLIENT_SECRET_POST,
    PRIVATE_KEY_JWT, SELF_SIGNED_TLS_CLIENT_AUTH, SUPPORTED_AUTH_METHODS, TLS_CLIENT_AUTH,
};
pub use client_assertion::{CLOCK_LEEWAY_SECS, MAX_ASSERTION_LIFETIME_SECS};
pub use config::MockConfig;
pub use error::MockError;
pub use faults::{Fault, RandomFault};
pub use outage::OutageEndpoint;
pub use redis_server::{RedisCluster, RedisSentinel, RedisServer, SENTINEL_SERVICE};
pub use registered_client::RegisteredClient;
pub use server::MockServer;
pub use state::{MAX_RECORDED_REQUESTS, MockStats, RecordedRequest};
