//! The receiving side: what a service that is called with an access token checks before it answers. The
//! [`Verifier`] (`verifier`) takes a JWT apart and checks its signature under strict algorithm rules (`jws`)
//! with the issuer's keys, fetched and cached (`jwks`), then the claims every token must match (`claims`); an
//! opaque token goes to the introspection endpoint (`introspect`); answers are remembered by the token's hash
//! (`remembered`); then the certificate binding, the required scopes and the route's `policy`. A rejection is
//! an RFC 6750 answer with its `WWW-Authenticate` value (`error`). `options` declares the settings the
//! bindings read.

mod bearer;
mod binding;
pub mod claims;
pub mod error;
mod introspect;
mod jwks;
pub mod jws;
pub mod options;
pub mod policy;
mod remembered;
mod verifier;

pub use bearer::bearer_token;
pub use binding::{certificate_der, forwarded_certificate};
pub use options::{VERIFIER_SETTINGS, VerifierOptions, find_verifier_setting};
pub use policy::Policy;
pub use verifier::{Verifier, VerifierBuilder};
