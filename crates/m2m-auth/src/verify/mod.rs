//! The receiving side: what a service that is called with an access token checks before it answers. The
//! [`Verifier`] (`verifier`) takes the token apart and checks its signature under strict algorithm rules
//! (`jws`) with the issuer's keys, fetched and cached (`jwks`); then the claims every token must match
//! (`claims`), the certificate binding and the required scopes; a rejection is an RFC 6750 answer with its
//! `WWW-Authenticate` value (`error`). Still to come (issue 12): opaque tokens (introspection), per-route
//! policies, the bindings and the web framework integrations.

pub mod claims;
pub mod error;
mod jwks;
pub mod jws;
mod verifier;

pub use verifier::{Verifier, VerifierBuilder};
