//! The receiving side (in progress): what a service that is called with an access token checks before it
//! answers. So far the pieces that need no network: compact JWS and JWK keys under strict algorithm rules
//! (`jws`), the claims every token must match (`claims`), and the RFC 6750 rejections with their
//! `WWW-Authenticate` values (`error`). The `Verifier` that fetches and caches the issuer's JWKS, introspects
//! opaque tokens and evaluates per-route policies builds on them.

pub mod claims;
pub mod error;
pub mod jws;
