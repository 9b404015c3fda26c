//! `m2m-auth-mock`: a real, standards-conformant OAuth 2.0 authorization server for the client
//! credentials grant, bound to 127.0.0.1, for tests and demos of m2m-auth.
//!
//! It implements the token endpoint (RFC 6749 §4.4) with `client_secret_basic` and
//! `client_secret_post`, ES256-signed JWT access tokens (RFC 9068), JWKS, RFC 8414 metadata,
//! request counters and recording, fault injection, and an admin API under `/mock/`.
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
mod client_auth;
mod config;
mod discovery;
mod error;
mod fault_response;
mod faults;
mod form;
mod grant;
mod issue;
mod jwt;
mod oauth_error;
mod router;
mod server;
mod state;
mod token_endpoint;

pub use config::{
    CLIENT_SECRET_BASIC, CLIENT_SECRET_POST, MockConfig, RegisteredClient, SUPPORTED_AUTH_METHODS,
};
pub use error::MockError;
pub use faults::Fault;
pub use server::MockServer;
pub use state::{MAX_RECORDED_REQUESTS, MockStats, RecordedRequest};
