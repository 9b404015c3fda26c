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
#![forbid(unsafe_code)]

mod assertion;
mod auth_method;
mod call;
pub mod challenge;
mod client;
mod config;
mod discovery;
mod endpoint;
pub mod env;
mod error;
pub mod events;
mod exchange;
mod fetch;
mod options;
mod params;
#[cfg(test)]
mod proptests;
mod proxy;
mod request;
mod retry;
mod secret;
mod signing_key;
mod slot;
mod stats;
mod tls;
mod token;
pub mod url_policy;
mod watch;

pub use auth_method::AuthMethod;
pub use call::{ApiRequest, ApiResponse, MAX_API_RESPONSE_BYTES};
pub use client::{MAX_OTHER_SLOTS, TokenClient};
pub use config::{
    DEFAULT_EXPIRY_SKEW, DEFAULT_LIFETIME, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT,
    TokenClientBuilder, secureauth_issuer, secureauth_token_url,
};
pub use error::{Error, ErrorKind, OAuthError, Result};
pub use events::{Event, EventHook, EventKind, EventLevel};
pub use options::{ClientOptions, seconds};
pub use params::TokenParams;
pub use retry::RetryPolicy;
pub use secret::SecretString;
pub use signing_key::{SigningAlg, SigningKey};
pub use stats::Stats;
pub use tls::{CaBundle, ClientCertificate};
pub use token::Token;
pub use watch::{TokenUpdate, TokenWatcher};

/// Extracts a readable message from a caught panic; the bindings use it for their own `catch_unwind`.
pub fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    client::panic_message(payload)
}
