//! The native addon of the `m2m-auth` npm package. `node/index.js` and `node/testing.js` wrap it.

mod api;
mod client;
mod error;
mod events;
mod mock;

/// Marks error reasons that carry a JSON error record (see `error.rs`).
#[napi_derive::napi]
pub const ERROR_TAG: &str = error::TAG;

/// Whether a request to `b` may carry the credentials of a request to `a` (the same origin). The HTTP
/// integrations ask it on every redirect; the rule is the core's.
#[napi_derive::napi]
pub fn same_origin(a: String, b: String) -> bool {
    match (url::Url::parse(&a), url::Url::parse(&b)) {
        (Ok(a), Ok(b)) => m2m_auth::url_policy::same_origin(&a, &b),
        _ => false,
    }
}

/// Whether an API's answer says the access token it was sent is no good (401 with a Bearer `invalid_token`
/// challenge), so that the HTTP integrations drop it and replay the request once. The rule is the core's, so
/// that Node and Python decide alike.
#[napi_derive::napi]
pub fn token_rejected(status: u32, www_authenticate: Vec<String>) -> bool {
    let status = u16::try_from(status).unwrap_or(0);
    m2m_auth::challenge::token_rejected(status, www_authenticate.iter().map(String::as_str))
}
