//! Discovery documents: RFC 8414 authorization server metadata (also served at the OpenID Connect
//! path) and the JWKS (RFC 7517) that verifies issued tokens.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::auth_method::ASSERTION_SIGNING_ALGS;
use crate::outage::{self, OutageEndpoint};
use crate::state::Shared;

/// The metadata document.
pub(crate) fn metadata(shared: &Shared) -> Value {
    let scopes: BTreeSet<&str> = shared
        .config
        .clients
        .iter()
        .flat_map(|c| c.scopes.iter().map(String::as_str))
        .collect();
    let mut doc = json!({
        "issuer": shared.issuer,
        "token_endpoint": shared.token_url(),
        "jwks_uri": format!("{}/jwks", shared.base_url),
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": shared.supported_methods(),
        "token_endpoint_auth_signing_alg_values_supported": ASSERTION_SIGNING_ALGS,
        // RFC 7662 §4 / RFC 8414 §2: the same client authentication as the token endpoint.
        "introspection_endpoint": shared.introspection_url(),
        "introspection_endpoint_auth_methods_supported": shared.supported_methods(),
        "introspection_endpoint_auth_signing_alg_values_supported": ASSERTION_SIGNING_ALGS,
        "scopes_supported": scopes,
        // Required by RFC 8414; this server has no authorization endpoint, so it supports none.
        "response_types_supported": [],
    });
    // RFC 8705 §5 and §3.3: where clients present certificates, and that tokens get bound to them.
    if let (Some(alias), Some(introspection_alias), Some(obj)) = (
        shared.mtls_token_url(),
        shared.mtls_introspection_url(),
        doc.as_object_mut(),
    ) {
        obj.insert(
            "mtls_endpoint_aliases".to_owned(),
            json!({"token_endpoint": alias, "introspection_endpoint": introspection_alias}),
        );
        obj.insert(
            "tls_client_certificate_bound_access_tokens".to_owned(),
            Value::Bool(true),
        );
    }
    doc
}

/// The JWKS document: the one current signing key (after a rotation, only the new one).
pub(crate) fn jwks(shared: &Shared) -> Value {
    json!({"keys": [shared.key().jwk()]})
}

/// Both metadata paths. Counted and subject to outages, as the JWKS is, because a verifier reads
/// them and must live through their failures.
pub(crate) async fn metadata_handler(State(shared): State<Arc<Shared>>) -> Response {
    shared.count_request(OutageEndpoint::Metadata);
    let outage = shared.outage(OutageEndpoint::Metadata);
    outage::answer(outage.as_ref(), async {
        Json(metadata(&shared)).into_response()
    })
    .await
}

pub(crate) async fn jwks_handler(State(shared): State<Arc<Shared>>) -> Response {
    shared.count_request(OutageEndpoint::Jwks);
    let outage = shared.outage(OutageEndpoint::Jwks);
    outage::answer(outage.as_ref(), async {
        Json(jwks(&shared)).into_response()
    })
    .await
}
