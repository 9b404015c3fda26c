//! Discovery documents: RFC 8414 authorization server metadata (also served at the OpenID Connect
//! path) and the JWKS (RFC 7517) that verifies issued tokens.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use crate::config::SUPPORTED_AUTH_METHODS;
use crate::state::Shared;

/// The metadata document.
pub(crate) fn metadata(shared: &Shared) -> Value {
    let scopes: BTreeSet<&str> = shared
        .config
        .clients
        .iter()
        .flat_map(|c| c.scopes.iter().map(String::as_str))
        .collect();
    json!({
        "issuer": shared.issuer,
        "token_endpoint": shared.token_url(),
        "jwks_uri": format!("{}/jwks", shared.base_url),
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": SUPPORTED_AUTH_METHODS,
        "scopes_supported": scopes,
        // Required by RFC 8414; this server has no authorization endpoint, so it supports none.
        "response_types_supported": [],
    })
}

/// The JWKS document: the one current signing key.
pub(crate) fn jwks(shared: &Shared) -> Value {
    json!({"keys": [shared.key.jwk()]})
}

pub(crate) async fn metadata_handler(State(shared): State<Arc<Shared>>) -> Json<Value> {
    Json(metadata(&shared))
}

pub(crate) async fn jwks_handler(State(shared): State<Arc<Shared>>) -> Json<Value> {
    Json(jwks(&shared))
}
