//! What the client proves itself with, and how it keeps that secret: the client secret, private keys and the
//! client assertions they sign, client certificates and CA bundles, the methods that use them, and the
//! redactor that keeps the secret out of every text.

pub(crate) mod assertion;
pub(crate) mod auth_method;
pub(crate) mod redact;
pub(crate) mod secret;
pub(crate) mod signing_key;
pub(crate) mod tls;
