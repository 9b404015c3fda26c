//! HTTP: the transport every request of a client goes through (TLS settings, proxies, size caps), API calls
//! with the token, what a `401` says about the token, and where credentials may go.

pub(crate) mod call;
pub mod challenge;
pub(crate) mod proxy;
pub(crate) mod transport;
pub mod url_policy;
