//! m2m-auth: OAuth 2.0 client credentials (RFC 6749 §4.4) for services, jobs and backends.
//!
//! ```no_run
//! # async fn run() -> m2m_auth::Result<()> {
//! let client = m2m_auth::TokenClient::builder()
//!     .token_url("https://acme.us.connect.secureauth.com/acme/payments/oauth2/token")
//!     .client_id("my-service")
//!     .client_secret("from-your-secret-store")
//!     .scopes(["payments.read"])
//!     .build()?;
//! let token = client.token().await?; // cached; fetched again near expiry
//! println!("Authorization: Bearer {}", token.access_token());
//! # Ok(()) }
//! ```
//!
//! # The data path of a token request
//!
//! caller → binding (converts, releases the GIL / returns a Promise) → [`TokenClient`] (`client`) →
//! its slot for the parameters (`cache::slot`: a usable token is a hit, done; `cache::freshness` says what
//! usable means and when a refresh is due) → single flight (the first caller without a token starts the
//! fetch, the others join it) → with a shared cache (`cache::shared`: Redis or files), the fleet-wide single
//! flight: a token another process wrote is taken, or this process takes the lock and fetches, writing the
//! sealed entry for the others → `endpoint::attempts` (requests until one succeeds, with the retry rules of
//! `endpoint::retry`) → `endpoint` (the token URL, by `endpoint::discovery` when needed) →
//! `endpoint::request` (the form and client authentication by `credentials`) over `http::transport` (the
//! HTTP client: TLS, proxies, size caps) → `endpoint::response` (a token or a typed error) → stored in the
//! slot → mirrors told (`cache::watch`) → caller. Errors and events leave through
//! `credentials::redact`, which keeps the secret out of them.
//!
//! # Layout
//!
//! - `config`: the builder and the checked configuration, options as the bindings pass them, the
//!   environment reader, per-call parameters.
//! - `credentials`: the secret, private keys and client assertions, certificates, the redactor.
//! - `endpoint`: where token requests go and what goes on the wire, the answer's parsing, retries.
//! - `cache`: a slot per parameter set, the freshness rules, the watcher of the default token, stats, and the
//!   shared cache (`cache::shared`: the Redis and file stores, sealed entries, their names, the fleet-wide
//!   single flight).
//! - `http`: the HTTP transport, proxies, API calls with the token, challenges, where credentials may go.
//! - `verify`: the receiving side — the [`Verifier`] of access tokens (JWKS, algorithm rules, claims,
//!   opaque tokens by introspection, certificate binding, route [`Policy`]s, tokens remembered by hash, the
//!   fleet's keys and answers in the shared cache, RFC 6750 rejections), its settings declared once
//!   (`verify::VERIFIER_SETTINGS`).

#![forbid(unsafe_code)]

mod cache;
mod client;
mod config;
mod credentials;
mod endpoint;
mod error;
pub mod events;
mod http;
#[cfg(test)]
mod proptests;
mod token;
pub mod verify;

pub use cache::stats::Stats;
pub use cache::watch::{MirrorDrop, MirroredInvalidation, TokenUpdate, TokenWatcher};
pub use client::{MAX_OTHER_SLOTS, TokenClient};
pub use config::options::{ClientOptions, seconds};
pub use config::params::TokenParams;
pub use config::{
    DEFAULT_EXPIRY_SKEW, DEFAULT_LIFETIME, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT,
    MAX_DURATION, TokenClientBuilder, secureauth_issuer, secureauth_token_url,
};
pub use config::{env, settings};
pub use credentials::auth_method::AuthMethod;
pub use credentials::secret::SecretString;
pub use credentials::signing_key::{SigningAlg, SigningKey};
pub use credentials::tls::{CaBundle, ClientCertificate};
pub use endpoint::retry::RetryPolicy;
pub use error::{Error, ErrorKind, OAuthError, Result};
pub use events::{Event, EventHook, EventKind, EventLevel};
pub use http::call::{ApiRequest, ApiResponse, MAX_API_RESPONSE_BYTES};
pub use http::{challenge, url_policy};
pub use token::Token;
pub use verify::claims::Claims;
pub use verify::error::Rejection;
pub use verify::{Policy, Verifier, VerifierBuilder, VerifierOptions};

/// Extracts a readable message from a caught panic; the bindings use it for their own `catch_unwind`.
pub fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    client::panic_message(payload)
}
