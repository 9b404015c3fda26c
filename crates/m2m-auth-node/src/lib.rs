//! The native addon of the `m2m-auth` npm package. `node/index.js` and `node/testing.js` wrap it.

mod api;
mod client;
mod error;
mod events;
mod mock;
mod options;
pub mod verifier;

/// Marks error reasons that carry a JSON error record (see `error.rs`).
#[napi_derive::napi]
pub const ERROR_TAG: &str = error::TAG;

/// Every client setting as the core declares it (JSON text: [{name, node, env, kind, group, default, doc}]),
/// so that `index.js` knows which options take PEM or key text without a table of its own.
#[napi_derive::napi]
pub fn client_settings() -> String {
    let all: Vec<serde_json::Value> = m2m_auth::settings::CLIENT_SETTINGS
        .iter()
        .map(|s| {
            serde_json::json!({
                "name": s.name, "node": s.node, "env": s.env, "kind": format!("{:?}", s.kind),
                "group": format!("{:?}", s.group), "default": s.default, "doc": s.doc,
            })
        })
        .collect();
    serde_json::Value::from(all).to_string()
}

/// Whether to drop the token and send a request once more with a new one, after an API's answer (see
/// `m2m_auth::challenge::replay_with_new_token`): the core's rule for every integration.
#[napi_derive::napi]
pub fn replay_with_new_token(
    status: u32,
    www_authenticate: Vec<String>,
    answered_by_token_origin: bool,
    body_replayable: bool,
    already_replayed: bool,
) -> bool {
    m2m_auth::challenge::replay_with_new_token(
        u16::try_from(status).unwrap_or(0),
        www_authenticate.iter().map(String::as_str),
        answered_by_token_origin,
        body_replayable,
        already_replayed,
    )
}

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
